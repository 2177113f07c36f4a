"""``signflow run`` and ``signflow verify``: bad builds and bad inputs refused in one line, exit 2, no traceback,
nothing written (no output file, no simulation folder, report.json untouched)."""
import json

import numpy as np
import pytest


def _array(name, value):
    def setup(tmp_path, scratch):
        np.save(tmp_path / name, value)
    return setup


def _npz_as_npy(tmp_path, scratch):
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 1, 8, 8), np.float32))
    (tmp_path / "x.npz").rename(tmp_path / "x.npy")


def _not_numpy(tmp_path, scratch):
    (tmp_path / "x.npy").write_text("1, 2, 3")


def _failed_build(tmp_path, scratch):
    report = tmp_path / "build" / "report.json"
    doc = json.loads(report.read_text())
    doc["status"] = "failed"
    doc["steps"][-1]["status"] = "failed"
    report.write_text(json.dumps(doc))


def _no_report(tmp_path, scratch):
    (tmp_path / "build" / "report.json").unlink()


FRAME = (1, 8, 8)
#: (id, setup, fragment of the error line); the input is x.npy, the build a copy of the digits build
INPUT_CASES = [
    ("no input file", None, "cannot read input x.npy"),
    ("not an .npy", _not_numpy, "cannot read input x.npy"),
    (".npz renamed .npy", _npz_as_npy, "input x.npy is an .npz archive, not an .npy array"),
    ("wrong shape", _array("x.npy", np.zeros((2, 3, 5), np.float32)),
     "input x.npy has shape [2, 3, 5]; the model takes [N, 1, 8, 8]"),
    ("one frame without batch axis", _array("x.npy", np.zeros(FRAME, np.float32)),
     "input x.npy has shape [1, 8, 8]; the model takes [N, 1, 8, 8]"),
    ("no frames", _array("x.npy", np.zeros((0, *FRAME), np.float32)), "input x.npy holds no frames"),
    ("NaN", _array("x.npy", np.full((2, *FRAME), np.nan, np.float32)),
     "input x.npy holds NaN or infinite values (first at frame 0)"),
    ("inf in frame 1", _array("x.npy", np.stack([np.zeros(FRAME), np.full(FRAME, np.inf)]).astype(np.float32)),
     "input x.npy holds NaN or infinite values (first at frame 1)"),
    ("complex", _array("x.npy", np.zeros((2, *FRAME), np.complex64)), "input x.npy holds complex64 values"),
    ("strings", _array("x.npy", np.full((2, *FRAME), "a")), "input x.npy holds <U1 values"),
]
BUILD_CASES = [
    ("no build", None, "nothere holds no build; run 'signflow build MODEL --out nothere' first"),
    ("failed build", _failed_build, "the build in build is not complete (failed at hls_codegen)"),
    ("no report", _no_report, "build holds no build"),
]


def _prepare(setup, tmp_path, scratch):
    scratch("build")
    if setup is not None:
        setup(tmp_path, scratch)


@pytest.mark.parametrize("setup, fragment", [c[1:] for c in INPUT_CASES], ids=[c[0] for c in INPUT_CASES])
@pytest.mark.parametrize("command", ["run", "verify"])
def test_bad_inputs(command, setup, fragment, refused, scratch, tmp_path):
    _prepare(setup, tmp_path, scratch)
    argv = [command, "build", "--input", "x.npy"] + (["--output", "y.npy"] if command == "run" else [])
    refused(argv, fragment)


@pytest.mark.parametrize("setup, fragment", [c[1:] for c in BUILD_CASES], ids=[c[0] for c in BUILD_CASES])
@pytest.mark.parametrize("command", ["run", "verify"])
def test_bad_builds(command, setup, fragment, refused, scratch, tmp_path, digits_run):
    _prepare(setup, tmp_path, scratch)
    folder = "nothere" if setup is None else "build"
    extra = ["--output", "y.npy"] if command == "run" else []
    refused([command, folder, "--input", digits_run / "frames.npy"] + extra, fragment)


#: (id, arguments after 'verify build', fragment)
VERIFY_OPTIONS = [
    ("stall of 1", ["--stall", "1"], "--stall must be in [0, 1), not 1.0"),
    ("negative back-pressure", ["--backpressure", "-0.5"], "--backpressure must be in [0, 1), not -0.5"),
    ("no frames", ["--frames", "0"], "--frames must be at least 1"),
    ("stall with C-sim", ["--csim", "--stall", "0.5"], "--stall, --backpressure and --trace apply to the RTL"),
]


@pytest.mark.parametrize("extra, fragment", [c[1:] for c in VERIFY_OPTIONS], ids=[c[0] for c in VERIFY_OPTIONS])
def test_verify_options(extra, fragment, refused, scratch):
    scratch("build")
    refused(["verify", "build"] + extra, fragment)


def test_verify_needs_the_generated_rtl(refused, scratch, tmp_path):
    scratch("build")
    for folder in ("rtl", "hls"):
        (tmp_path / "build" / folder / "design.json").unlink()
    refused(["verify", "build"], "build has no generated RTL; run 'signflow build MODEL --out build' through rtl_codegen")
    refused(["verify", "build", "--csim"], "build has no generated HLS")


def test_run_never_overwrites(refused, scratch, tmp_path, digits_run):
    scratch("build")
    (tmp_path / "y.npy").write_text("mine")
    frames = digits_run / "frames.npy"
    refused(["run", "build", "--input", frames, "--output", "y.npy"], "output file y.npy already exists; give --force")
    refused(["run", "build", "--input", frames, "--output", "build/report.json", "--force"],
            "output file build/report.json is also an input of this command")
