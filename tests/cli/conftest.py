"""Shared by the per-command error tables: a refusal runner and a trained, exported and generated digits run.

``refused(argv, fragment)`` runs ``signflow ARGV`` in-process in a scratch folder and asserts what every
refusal promises: exit status 2, exactly one line on stderr (``signflow COMMAND: error: ...``) holding
``fragment``, no traceback, and nothing written or removed in the folder.
"""
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import signflow.cli


def _listing(folder):
    """Every path under ``folder`` with its size and modification time (what a refusal may not change)."""
    return {str(p.relative_to(folder)): (p.is_dir(), p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in Path(folder).rglob("*")}


@pytest.fixture
def refused(tmp_path, capsys, monkeypatch):
    """``call(argv, fragment)``: the refusal checks above; returns the error line."""
    monkeypatch.chdir(tmp_path)

    def call(argv, fragment):
        before = _listing(tmp_path)
        capsys.readouterr()
        code = signflow.cli.main([str(arg) for arg in argv])
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert code == 2, f"exit {code}, stderr: {err!r}"
        assert len(lines) == 1 and "Traceback" not in err, f"not one line: {err!r}"
        assert lines[0].startswith(f"signflow {argv[0]}: error: "), lines[0]
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
        assert _listing(tmp_path) == before, "the refusal changed the folder"
        return lines[0]
    return call


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """A DeSign digits run trained for one epoch, its QONNX export, and a build through RTL and HLS codegen
    (read-only for the tests: copy what a test changes)."""
    root = tmp_path_factory.mktemp("digits_run")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        for argv in (["train", "--model", "digits", "--act", "design", "--epochs", "1", "--out", "run",
                      "--no-progress"],
                     ["export", "run", "--out", "model.onnx"],
                     ["build", "model.onnx", "--out", "build", "--quiet", "--no-verify", "--steps",
                      "tidy,streamline,lower,to_hw,fold,estimate,rtl_codegen,hls_codegen"]):
            assert signflow.cli.main(argv) == 0, argv
    finally:
        os.chdir(cwd)
    np.save(root / "frames.npy", np.zeros((2, 1, 8, 8), np.float32))
    return root


@pytest.fixture
def scratch(digits_run, tmp_path):
    """``copy(name)``: a copy of the run's ``name`` (folder or file) in the test's folder, to break."""
    def copy(name, as_name=None):
        source, target = digits_run / name, tmp_path / (as_name or name)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
        return target
    return copy
