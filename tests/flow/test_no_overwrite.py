"""Commands never overwrite what they read, and replace an existing output only with --force; atomic writes
honour the umask."""
import os
import stat

import numpy as np
import pytest

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.builder.runner import latest_graph
from signflow.cli import main
from signflow.files import atomic_path, refuse_overwrite
from signflow.errors import UserError
from signflow.models.checkpoint import save_run
from signflow.models.export import export_model
from signflow.models.zoo import ModelConfig
from tests.helpers import random_inputs, random_model

OLD = b"earlier bytes, must survive\n"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A saved training run, a complete build of it and an input batch: what the commands read."""
    root = tmp_path_factory.mktemp("work")
    model = random_model("digits", "design", seed=4)
    (root / "run").mkdir()
    save_run(root / "run", model, ModelConfig(model="digits", act="design", in_shape=[1, 8, 8], classes=10,
                                              kernel_values=model.features[1].kernel.tolist()))
    export_model(model, model.in_shape, root / "m.onnx")
    run_build(root / "m.onnx", BuildConfig(output_dir=str(root / "build"), quiet=True, verify=False,
                                           board="zcu104", steps=FRONT_END))
    np.save(root / "x.npy", random_inputs(model.in_shape, 3, seed=5))
    return root


def _existing(tmp_path):
    target = tmp_path / "existing.out"
    target.write_bytes(OLD)
    return target


def _existing_json(tmp_path):
    target = tmp_path / "existing.json"
    target.write_bytes(OLD)
    return target


KERNEL = ["design-kernel", "--num-images", "2", "--filters", "1", "--top", "1"]

# (name, argv builder(work, tmp_path) -> (argv, the file that must keep its bytes))
CASES = {
    "run --output is --input": lambda w, t: (["run", w / "build", "--input", w / "x.npy", "--output", w / "x.npy"],
                                             w / "x.npy"),
    "run --output is the build's graph": lambda w, t: (["run", w / "build", "--input", w / "x.npy", "--output",
                                                        latest_graph(w / "build")], latest_graph(w / "build")),
    "run --output is report.json": lambda w, t: (["run", w / "build", "--input", w / "x.npy", "--output",
                                                  w / "build" / "report.json"], w / "build" / "report.json"),
    "run --output exists": lambda w, t: (["run", w / "build", "--input", w / "x.npy", "--output", _existing(t)],
                                         t / "existing.out"),
    "export --out is the checkpoint": lambda w, t: (["export", w / "run", "--out", w / "run" / "checkpoint.pt"],
                                                    w / "run" / "checkpoint.pt"),
    "export --out is the config (via ..)": lambda w, t: (["export", w / "run", "--out",
                                                          w / "build" / ".." / "run" / "config.json"],
                                                         w / "run" / "config.json"),
    "export --out exists": lambda w, t: (["export", w / "run", "--out", _existing(t)], t / "existing.out"),
    "design-kernel --out exists": lambda w, t: (KERNEL + ["--out", _existing_json(t)], t / "existing.json"),
    "design-kernel --ranking exists": lambda w, t: (KERNEL + ["--ranking", _existing_json(t)], t / "existing.json"),
}
INPUT_CASES = {name for name in CASES if " is " in name}


# an input is refused even with --force; an existing output only without it (test_force_replaces)
@pytest.mark.parametrize("case, force", [(case, False) for case in CASES] + [(case, True) for case in sorted(INPUT_CASES)],
                         ids=[case for case in CASES] + [f"{case} --force" for case in sorted(INPUT_CASES)])
def test_refused_in_one_line_and_file_unchanged(work, tmp_path, capsys, case, force):
    argv, kept = CASES[case](work, tmp_path)
    before = kept.read_bytes()
    capsys.readouterr()
    code = main([str(arg) for arg in argv] + (["--force"] if force else []))
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert kept.name in err and "--force" in err, err
    assert kept.read_bytes() == before
    assert not list(kept.parent.glob(".*.part"))


@pytest.mark.parametrize("case", [name for name in CASES if name not in INPUT_CASES])
def test_force_replaces(work, tmp_path, capsys, case):
    argv, target = CASES[case](work, tmp_path)
    assert main([str(arg) for arg in argv] + ["--force"]) == 0, capsys.readouterr().err
    assert target.read_bytes() != OLD
    if target.suffix == ".out" and argv[0] == "run":
        assert np.load(target).shape[0] == 3


def test_new_output_needs_no_force(work, tmp_path):
    assert main(["run", str(work / "build"), "--input", str(work / "x.npy"), "--output", str(tmp_path / "y.npy")]) == 0
    assert np.load(tmp_path / "y.npy").shape[0] == 3


@pytest.mark.parametrize("command", ["run", "export", "design-kernel", "train"])
def test_force_is_documented(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "--force" in capsys.readouterr().out


def test_refuse_overwrite_helper(tmp_path):
    source = tmp_path / "in.npy"
    source.write_bytes(OLD)
    os.link(source, tmp_path / "hard.npy")
    (tmp_path / "soft.npy").symlink_to(source)
    for alias in (source, tmp_path / "hard.npy", tmp_path / "soft.npy", tmp_path / "sub" / ".." / "in.npy"):
        with pytest.raises(UserError, match="never overwritten"):
            refuse_overwrite(alias, [None, source], force=True)
    with pytest.raises(UserError, match="--force"):
        refuse_overwrite(tmp_path / "hard.npy")
    assert refuse_overwrite(tmp_path / "new.npy", [source]) == tmp_path / "new.npy"
    assert refuse_overwrite(source, force=True) == source


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664), (0o000, 0o666)])
def test_atomic_path_honours_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        for name in ("new.txt", "replaced.txt"):
            target = tmp_path / name
            if name == "replaced.txt":
                target.write_text("old")
                os.chmod(target, 0o600)
            with atomic_path(target) as tmp:
                tmp.write_text("new")
            assert stat.S_IMODE(target.stat().st_mode) == mode, name
            assert target.read_text() == "new"
        assert os.umask(mask) == mask  # reading the umask did not change it
    finally:
        os.umask(old)
