"""``signflow demo``: bad options are refused before minutes of training, and the demo writes only into a new or
empty folder or over an earlier demo's."""
import pytest

CASES = [
    ("no epochs", ["--epochs", "0"], "--epochs must be at least 1, not 0"),
    ("NaN target", ["--target-fps", "nan"], "target_fps must be a number > 0 (frames per second) or null, not nan"),
    ("negative target", ["--target-fps", "-5"], "target_fps must be a number > 0"),
    # folded from the untrained model's shapes, before training (it was refused after 15 epochs)
    ("unreachable target", ["--target-fps", "1e12"], "target 1e+12 FPS is not reachable at 100 MHz: the most "
     "parallel folding reaches"),
]


@pytest.mark.parametrize("extra, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_demo_refuses(extra, fragment, refused, tmp_path):
    refused(["demo", "--out", "demo"] + extra, fragment)
    assert not (tmp_path / "demo").exists()


def test_demo_does_not_write_into_a_folder_of_other_files(refused, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    refused(["demo", "--out", "mine"], "--out mine holds other files (notes.txt) and no earlier output of this "
                                       "command (no model.onnx); choose a new or empty folder")


def test_demo_out_of_a_file_names_it(refused, tmp_path):
    (tmp_path / "demo").write_text("mine")
    refused(["demo", "--out", "demo"], "cannot create output folder demo: demo is a file, not a folder; choose "
                                       "another path")
    assert (tmp_path / "demo").read_text() == "mine"
