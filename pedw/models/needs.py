"""What a firm-level model cannot do without.

A firm file need only hold the key and the size (docs/sources.md): a cross-section without
sales, sector or wage bill still loads. A model whose variables a catalog does not provide is
then not estimable, and says so in models.status, naming the firm-file column it lacks,
instead of failing its step on an empty sample.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from pedw.models.ledger import ModelLedger

# The firm-file column (or source) a model variable is built from, for the reason given.
SOURCE_OF = {
    "log_labour_productivity": "value_added",
    "labour_productivity": "value_added",
    "log_mean_wage": "wage_bill",
    "wage_bill": "wage_bill",
    "log_sales": "sales",
    "sector": "sector",
    "sector_log_labour_productivity": "sector, or the catalog no sector source",
    "national_human_capital": "the catalog no PWT human capital",
}


def missing_measures(frame: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """Columns of `columns` that `frame` lacks or holds no value of."""
    return [c for c in dict.fromkeys(columns) if c not in frame or frame[c].isna().all()]


def estimable(
    frame: pd.DataFrame, model_id: str, columns: Iterable[str], ledger: ModelLedger | None
) -> bool:
    """Whether `frame` has a value of every column the model needs; if not, the model is
    recorded in `ledger` as not run, with each missing variable and where it comes from."""
    missing = missing_measures(frame, columns)
    if missing and ledger is not None:
        lacking = "; ".join(
            f"{column} is empty (the firm files have no {SOURCE_OF.get(column, column)})"
            for column in missing
        )
        ledger.not_run(model_id, f"not estimable with this catalog: {lacking}")
    return not missing
