"""The estimator reproduces a published textbook panel result, and its notebook runs."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from pedw.models.absorb import fe_ols
from pedw.settings import PROJECT_ROOT

pytestmark = pytest.mark.real_data

# Wooldridge, Introductory Econometrics, Example 14.1 (fixed effects, usual standard errors).
PUBLISHED = {"d88": (-0.080, 0.109), "d89": (-0.247, 0.133), "grant": (-0.252, 0.151),
             "grant_1": (-0.422, 0.210)}  # fmt: skip


def test_jtrain_fixed_effects_match_the_textbook(real_data):
    jtrain = pd.read_csv(real_data / "firm_panels" / "jtrain.csv")
    fit = fe_ols(jtrain, "lscrap", list(PUBLISHED), ["fcode"], vcov="iid")
    table = fit.table().set_index("term")
    assert (fit.n_obs, fit.absorbed["fcode"], fit.df_t) == (162, 54, 104)
    for term, (estimate, std_error) in PUBLISHED.items():
        assert round(table.loc[term, "estimate"], 3) == estimate
        assert round(table.loc[term, "std_error"], 3) == std_error


def test_the_estimator_notebook_executes(real_data):
    notebook = nbformat.read(PROJECT_ROOT / "notebooks" / "estimators.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(PROJECT_ROOT)}}).execute()  # fmt: skip
    outputs = [o for cell in notebook.cells if cell.cell_type == "code"
               for o in cell.get("outputs", [])]  # fmt: skip
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "-0.252" in text and "absorbed by the fixed effects" in text
