"""The trend audit against the outsider's LP attack, over many store secrets.

For each secret `sha256("salt<i>")`, the demo warehouse's cells and trends go through
disclosure control again (pedw.disclosure), and the attack of
tests/test_disclosure.py::trend_bracketing runs on what would be released: the published
cells to their rounding, the released trends, the published counts as year weights (a
withheld year's as their mean). Prints, per secret, the trends withheld and the suppressed
cells bracketed within the protection with the true value inside; then the totals.

    .venv/bin/python bench/trend_audit.py WAREHOUSE [SECRETS]

(WAREHOUSE: a published demo warehouse, e.g. the one `make demo` builds; SECRETS: 12.)
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pedw  # noqa: F401  (telemetry off)
from pedw.disclosure.cells import cell_perturbation, protect_cells, released_cells
from pedw.disclosure.rules import DisclosureRule
from pedw.disclosure.trends import protect_trends, released_trends, trend_perturbation
from pedw.warehouse import connect_read_only
from tests.test_disclosure import trend_bracketing


def main(warehouse: str, secrets: int = 12) -> None:
    rule = DisclosureRule()
    con = connect_read_only(Path(warehouse))
    try:
        panel = con.execute("SELECT * FROM marts.enterprise_panel").df()
        cells = con.execute("SELECT * FROM models.sme_gap_cells").df()
        trends = con.execute("SELECT * FROM models.sme_gap_trend").df()
        origin = con.execute("SELECT min(year) FROM marts.enterprise_panel").fetchone()[0]
    finally:
        con.close()
    truth = {(c, y, s): g for c, y, s, g in cells[["country", "year", "size_class", "productivity_gap"]].itertuples(index=False)}  # fmt: skip
    protected = protect_cells(cells, panel, rule)
    broken, withheld = 0, []
    for i in range(secrets):
        salt = hashlib.sha256(f"salt{i}".encode()).hexdigest()
        shown = released_cells(protected, rule, cell_perturbation(panel, salt, rule))
        noise = trend_perturbation(panel, salt, rule)
        decided = protect_trends(trends, protected, rule, shown, noise)
        attacked, recovered = trend_bracketing(shown, released_trends(decided, rule, noise), truth, origin)  # fmt: skip
        withheld.append(int((decided["status"] != "published").sum()))
        broken += bool(recovered)
        print(f"secret {i}: {withheld[-1]} of {len(decided)} trends withheld, "
              f"{attacked} cells attacked, bracketed: {recovered}", flush=True)  # fmt: skip
    print(f"secrets with a cell bracketed within {rule.protection}: {broken} of {secrets}; "
          f"trends withheld on average: {sum(withheld) / secrets:.1f}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 12)
