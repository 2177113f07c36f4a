"""``signflow train`` refuses a folder that holds a run (unless --resume or --force) and never writes over its
--kernel file."""
import json

import numpy as np
import pytest

OLD = b"an earlier run, must survive\n"
TRAIN = ["--epochs", 1, "--no-progress", "--threads", 1]


def _kernel_file(folder, name):
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(np.full((2, 2), 0.5).tolist()))
    return path


# (name, setup(run folder) -> (extra argv, the file that must keep its bytes))
CASES = {
    "folder holds checkpoint.pt": lambda out: ([], _write(out / "checkpoint.pt")),
    "folder holds config.json": lambda out: ([], _write(out / "config.json")),
}


def _write(path):
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(OLD)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_existing_run_refused(cli, tmp_path, case):
    out = tmp_path / "run"
    extra, kept = CASES[case](out)
    code, _, err = cli("train", "--out", out, *TRAIN, *extra)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert str(out) in err and "--force" in err, err
    assert kept.read_bytes() == OLD
    assert sorted(p.name for p in out.iterdir()) == [kept.name]


def test_kernel_file_in_out_never_overwritten(cli, tmp_path):
    out = tmp_path / "run"
    kernel = _kernel_file(out, "config.json")
    before = kernel.read_bytes()
    code, _, err = cli("train", "--act", "design", "--kernel", kernel, "--out", out, "--force", *TRAIN)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "config.json" in err and "--force" in err, err
    assert kernel.read_bytes() == before


def test_force_replaces_and_resume_continues(cli, tmp_path):
    out = tmp_path / "run"
    _write(out / "checkpoint.pt")
    code, _, err = cli("train", "--out", out, "--force", *TRAIN)
    assert code == 0, err
    assert (out / "checkpoint.pt").read_bytes() != OLD
    assert json.loads((out / "config.json").read_text())["metrics"]["epochs"] == 1
    # its own earlier output: --resume continues the run without --force
    code, _, err = cli("train", "--out", out, "--resume", "--epochs", 2, "--no-progress", "--threads", 1)
    assert code == 0, err
    assert json.loads((out / "config.json").read_text())["metrics"]["epochs"] == 2


def test_empty_folder_needs_no_force(cli, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    code, _, err = cli("train", "--out", out, *TRAIN)
    assert code == 0, err
    assert (out / "checkpoint.pt").is_file()
