"""The notebooks run top to bottom against the test warehouse (executed as a user would)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from pedw.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["analyst_warehouse.ipynb", "brief_charts.ipynb"])
def test_notebook_executes_against_the_warehouse(pipeline, monkeypatch, name):
    settings, _ = pipeline
    monkeypatch.setenv("PEDW_WAREHOUSE", str(settings.warehouse_path))
    notebook = nbformat.read(PROJECT_ROOT / "notebooks" / name, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(PROJECT_ROOT)}},
    ).execute()
    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    ]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the notebook drew no chart"
