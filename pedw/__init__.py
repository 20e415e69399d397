"""pedw: Productivity Ecosystems for Decent Work analytics pipeline.

Importing the package turns off every library's telemetry before any of them is
imported (see :mod:`pedw.offline`).
"""

from pedw.offline import disable_telemetry

disable_telemetry()

__version__ = "0.1.0"
