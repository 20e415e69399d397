"""What every brief document shares (country briefs and the cross-country annex): the
Jinja environment over this folder's templates and their page styles (styles.html), and
atomic writes into a run's brief folder (the PDF is printed from the HTML by typeset.py)."""

from __future__ import annotations

import functools
import math
import os
import uuid
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent  # template.html, annex.html and the styles.html they include


def _number(value, pattern: str) -> str:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return "\u2013" if missing else pattern.format(value)


@functools.cache
def template(name: str) -> jinja2.Template:
    """Loaded and compiled once per process, shared by every document it builds."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["num"] = _number
    return environment.get_template(name)


def write_atomically(path: Path, write) -> None:
    """`write(temporary path)`, then the file renamed into place."""
    # A name of its own per write: two runs never write the same temporary file.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    write(temporary)
    os.replace(temporary, path)
