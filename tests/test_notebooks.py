"""Every notebook in notebooks/ runs top to bottom in a fresh kernel (in a temporary folder), and each
reports its bit-exact checks."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert [path.name for path in NOTEBOOKS] == ["design_published.ipynb", "digits_end_to_end.ipynb"]


@pytest.mark.sim
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []))
    if path.stem == "digits_end_to_end":
        assert "every prediction equal to PyTorch's (bit-exact)" in text
        assert (tmp_path / "out" / "notebook" / "build" / "deploy" / "signflow_driver.py").is_file()
    if path.stem == "design_published":
        assert "threshold_2x2_v2 [[1, 1], [3, 3]]: rank" in text
        assert "then OR-pool: equal to the published order on every pixel" in text
        assert "published order: every prediction equal to PyTorch's (bit-exact)" in text
