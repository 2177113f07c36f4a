"""Every notebook in notebooks/ runs top to bottom in a fresh kernel (in a temporary folder), and each
reports its bit-exact checks."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert [path.name for path in NOTEBOOKS] == ["design_published.ipynb", "digits_end_to_end.ipynb",
                                                 "open_hardware.ipynb"]


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
    if path.stem == "open_hardware":  # placed, routed and packed, and the test set through the simulated harness
        assert "routed on LFE5U-85F: " in text and "PLL: 100.0 MHz from the 25 MHz oscillator" in text
        assert (tmp_path / "out" / "open_hardware" / "build" / "deploy" / "signflow_ecp5_top.bit").stat().st_size > 1e5
        assert "360 test images over the simulated UART" in text and "equal to PyTorch's (bit-exact)" in text
