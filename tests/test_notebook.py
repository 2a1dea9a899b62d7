"""The quickstart notebook runs top to bottom with the real model."""

import pytest
from conftest import REPO

pytestmark = pytest.mark.e2e


def test_the_quickstart_notebook_executes_without_errors():
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(REPO / "examples" / "quickstart.ipynb", as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3").execute(cwd=str(REPO / "examples"))
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    markdown = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert any("Wang Yi" in m and "**Sources**" in m for m in markdown)
    assert any("every quote sits at its offsets" in o.get("text", "") for o in outputs)
