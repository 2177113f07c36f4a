"""A build folder never passes off an earlier build's files as current: a rebuild removes what its steps will
write again, `run` and `verify` refuse a build that did not complete, and `--from-step` refuses another model."""
import json

import numpy as np
import pytest

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.cli import main
from signflow.errors import UserError
from signflow.models.export import export_model
from tests.helpers import random_model

STEPS = FRONT_END + ["rtl_codegen"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stale")
    paths = {}
    for name, seed in (("a", 1), ("b", 2)):
        model = random_model("digits", "sign", seed=seed)
        paths[name] = folder / f"{name}.onnx"
        export_model(model, model.in_shape, paths[name])
    return paths


def build(path, out, **cfg):
    return run_build(path, BuildConfig(output_dir=str(out), quiet=True, verify=False, **{"steps": STEPS, **cfg}))


def cli(capsys, *args):
    code = main([*map(str, args)])
    return code, capsys.readouterr().err.strip()


def test_a_failed_rebuild_leaves_nothing_of_the_old_build_usable(models, tmp_path, capsys):
    out = tmp_path / "b"
    build(models["a"], out)
    assert (out / "rtl" / "design.json").is_file() and (out / "estimate.txt").is_file()
    with pytest.raises(UserError, match="not reachable"):
        build(models["b"], out, target_fps=1e9)
    # what fold and the later steps wrote for model a is gone; the earlier graphs are model b's
    assert not (out / "rtl").exists() and not (out / "estimate.txt").exists() and not (out / "folding.json").exists()
    assert not list((out / "intermediate").glob("*_fold.onnx"))
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "failed" and report["source"]["model"].endswith("b.onnx")
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 8, 8), np.float32))
    for command in (["run", out, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy"], ["verify", out]):
        code, err = cli(capsys, *command)
        assert code == 2 and len(err.splitlines()) == 1, err
        assert f"the build in {out} is not complete (failed at fold)" in err
    assert not (tmp_path / "y.npy").exists()


def test_from_step_refuses_another_model(models, tmp_path):
    out = tmp_path / "b"
    build(models["a"], out)
    with pytest.raises(UserError, match=r"cannot resume from 'estimate': .* was built from another model"):
        build(models["b"], out, from_step="estimate")
    build(models["a"], out, from_step="estimate")  # the same model continues
    assert json.loads((out / "report.json").read_text())["status"] == "complete"


def test_a_folding_file_in_the_folder_survives_a_rebuild_from_fold(models, tmp_path):
    out = tmp_path / "b"
    build(models["a"], out, target_fps=20000)
    folding = json.loads((out / "folding.json").read_text())
    build(models["a"], out, from_step="fold", folding_file=str(out / "folding.json"))
    assert json.loads((out / "folding.json").read_text()) == folding
    assert (out / "rtl" / "design.json").is_file()


def test_verify_csim_of_a_build_without_hls(models, tmp_path, capsys):
    out = tmp_path / "b"
    build(models["a"], out)  # through rtl_codegen: no hls/
    code, err = cli(capsys, "verify", out, "--csim")
    assert code == 2 and f"{out} has no generated HLS; run 'signflow build MODEL --out {out}' through hls_codegen" in err


def test_a_folder_without_a_report_is_refused(models, tmp_path, capsys):
    out = tmp_path / "b"
    build(models["a"], out)
    (out / "report.json").unlink()
    code, err = cli(capsys, "verify", out)
    assert code == 2 and f"{out} holds no build" in err
    with pytest.raises(UserError, match="does not record which model"):
        build(models["a"], out, from_step="estimate")
