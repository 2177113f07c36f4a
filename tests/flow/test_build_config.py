"""BuildConfig files, step selection and resuming, the three ways to start a build."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.cli import main
from signflow.errors import UserError
from signflow.models.export import export_model
from signflow.transforms.thresholds import chain_period, spatial_period
from tests.helpers import random_model

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory):
    model = random_model("digits", "design", seed=5)
    path = tmp_path_factory.mktemp("m") / "m.onnx"
    export_model(model, model.in_shape, path)
    return path


def test_yaml_and_json_configs(tmp_path):
    (tmp_path / "c.yaml").write_text("board: zcu104\ntarget_fps: 5000\nclock_ns: 5.0\n")
    (tmp_path / "c.json").write_text(json.dumps({"board": "pynq-z2", "verify": False}))
    cfg = BuildConfig.from_file(tmp_path / "c.yaml")
    assert (cfg.board, cfg.target_fps, cfg.clock_ns, cfg.part()) == ("zcu104", 5000, 5.0, "xczu7ev-ffvc1156-2-e")
    assert BuildConfig.from_file(tmp_path / "c.json").verify is False


def test_config_unknown_key(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"bord": "zcu104"}))
    with pytest.raises(UserError, match=r"unknown keys \['bord'\]"):
        BuildConfig.from_file(tmp_path / "c.json")


def test_unknown_board():
    with pytest.raises(UserError, match="unknown board 'pynq-z9'"):
        BuildConfig(board="pynq-z9").check()


def test_resume_from_step(onnx_path, tmp_path):
    run_build(onnx_path, BuildConfig(output_dir=str(tmp_path), quiet=True, steps=FRONT_END[:3]))
    assert not (tmp_path / "folding.json").exists()
    run_build(onnx_path, BuildConfig(output_dir=str(tmp_path), quiet=True, from_step="to_hw", target_fps=20000,
                                     steps=FRONT_END))
    report = json.loads((tmp_path / "report.json").read_text())
    assert [s["name"] for s in report["steps"]] == FRONT_END
    assert report["status"] == "complete" and (tmp_path / "folding.json").is_file()


def test_resume_without_earlier_steps(onnx_path, tmp_path):
    with pytest.raises(UserError, match="cannot resume from 'fold'"):
        run_build(onnx_path, BuildConfig(output_dir=str(tmp_path), quiet=True, from_step="fold"))


def test_unknown_step(onnx_path, tmp_path):
    with pytest.raises(UserError, match=r"unknown steps \['optimise'\]"):
        run_build(onnx_path, BuildConfig(output_dir=str(tmp_path), steps=["tidy", "optimise"]))


@pytest.mark.parametrize("launcher", [["-m", "signflow.build"], ["flow/build.py"]])
def test_python_entry_points(onnx_path, tmp_path, launcher):
    out = tmp_path / "b"
    done = subprocess.run([sys.executable, *launcher, str(onnx_path), "--out", str(out), "--quiet",
                           "--steps", ",".join(FRONT_END)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "bottleneck" in done.stdout and (out / "estimate.txt").is_file()


def test_cli_help_for_every_command(capsys):
    for command in ["train", "evaluate", "export", "build", "run", "design-kernel", "demo"]:
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: signflow " + command in capsys.readouterr().out


def test_periodic_offsets_are_found():
    kernel = np.arange(6, dtype=np.float32).reshape(2, 3)
    tiled = np.tile(kernel, (4, 3))[:7, :8]  # odd size, periods 2 and 3
    assert spatial_period(np.broadcast_to(tiled, (1, 4, 7, 8))) == (2, 3)


def test_non_periodic_offsets_are_refused():
    import onnx
    from onnx import helper
    from qonnx.core.modelwrapper import ModelWrapper

    offsets = np.random.default_rng(0).normal(size=(1, 2, 20, 20)).astype(np.float32)
    node = helper.make_node("Sub", ["a", "off"], ["b"], name="offset_sub")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("a", onnx.TensorProto.FLOAT, [1, 2, 20, 20])],
                              [helper.make_tensor_value_info("b", onnx.TensorProto.FLOAT, [1, 2, 20, 20])],
                              [onnx.numpy_helper.from_array(offsets, "off")])
    with pytest.raises(UserError, match="node 'offset_sub'.*not periodic"):
        chain_period(ModelWrapper(helper.make_model(graph)), [node])
