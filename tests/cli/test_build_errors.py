"""Bad input to the build: one line on stderr, exit 2, no folder that looks complete."""
import json

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from signflow.cli import main
from signflow.models.export import export_model
from tests.helpers import random_model


def run_cli(capsys, *args):
    code = main(["build", *map(str, args), "--quiet"])
    err = capsys.readouterr().err.strip()
    return code, err


def test_not_onnx(tmp_path, capsys):
    path = tmp_path / "x.onnx"
    path.write_bytes(b"definitely not protobuf \x00\xff" * 10)
    code, err = run_cli(capsys, path, "--out", tmp_path / "b")
    assert code == 2 and "is not a valid ONNX model" in err and len(err.splitlines()) == 1


def test_truncated(tmp_path, capsys):
    model = random_model("digits", "sign")
    path = tmp_path / "m.onnx"
    export_model(model, model.in_shape, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    code, err = run_cli(capsys, path, "--out", tmp_path / "b")
    assert code == 2 and "is not a valid ONNX model" in err and len(err.splitlines()) == 1


def test_unsupported_op_names_node(tmp_path, capsys):
    graph = helper.make_graph(
        [helper.make_node("Tanh", ["x"], ["y"], name="squash")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    path = tmp_path / "tanh.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    code, err = run_cli(capsys, path, "--out", tmp_path / "b")
    assert code == 2 and "node 'squash' has op type 'Tanh'" in err and "supported:" in err
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["status"] == "failed" and report["steps"][-1]["status"] == "failed"


def test_non_binary_hidden_weights(tmp_path, capsys):
    import brevitas.nn as qnn
    from brevitas.export import export_qonnx
    from brevitas.quant import Int8WeightPerTensorFixedPoint

    from signflow.models.quant import BinaryAct

    net = torch.nn.Sequential(qnn.QuantIdentity(act_quant=BinaryAct),
                              qnn.QuantLinear(16, 8, bias=False, weight_quant=Int8WeightPerTensorFixedPoint),
                              torch.nn.BatchNorm1d(8), qnn.QuantIdentity(act_quant=BinaryAct)).eval()
    path = tmp_path / "int8.onnx"
    export_qonnx(net, torch.zeros(1, 16), str(path), dynamo=False)
    code, err = run_cli(capsys, path, "--out", tmp_path / "b")
    assert code == 2 and "weights are not binary" in err and len(err.splitlines()) == 1


def test_unreachable_fps_cli(tmp_path, capsys):
    model = random_model("tfc", "sign")
    path = tmp_path / "m.onnx"
    export_model(model, model.in_shape, path)
    code, err = run_cli(capsys, path, "--out", tmp_path / "b", "--target-fps", "1e12")
    assert code == 2 and "not reachable" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("order", ["published", "finn"])
def test_step_check_names_first_differing_layer(order, tmp_path):
    """A corrupted threshold is caught by the per-step check, which names the layer's tensor."""
    from qonnx.core.modelwrapper import ModelWrapper

    from signflow.builder import BuildConfig, run_build
    from signflow.errors import UserError
    from signflow.sim.compare import check_equal
    from signflow.sim.reference import run_graph

    model = random_model("digits", "design", seed=4, order=order)
    path = tmp_path / "m.onnx"
    export_model(model, model.in_shape, path)
    run_build(path, BuildConfig(output_dir=str(tmp_path / "b"), quiet=True, steps=["tidy", "streamline"]))
    tidy = ModelWrapper(str(tmp_path / "b" / "intermediate" / "00_tidy.onnx"))
    streamlined = ModelWrapper(str(tmp_path / "b" / "intermediate" / "01_streamline.onnx"))
    node = streamlined.get_nodes_by_op_type("PixelThreshold")[1]
    thr = streamlined.get_initializer(node.input[1])
    streamlined.set_initializer(node.input[1], thr + 3)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8)).astype(np.float32)
    assert not np.array_equal(run_graph(tidy, x), run_graph(streamlined, x))
    # the exported layer tensor: the threshold's output, or (published order) that of its pool / channel flip
    exported = {out for n in tidy.graph.node for out in n.output}
    tensor = node.output[0]
    while tensor not in exported:
        tensor = streamlined.find_consumers(tensor)[0].output[0]
    with pytest.raises(UserError, match=f"first difference at node '[^']*' \\([A-Za-z]+\\), tensor '{tensor}'"):
        check_equal(tidy, streamlined, x, "streamline")


def _model(tmp_path, scratch):
    scratch("model.onnx")


def _symlinked_rtl(tmp_path, scratch):
    """An earlier build whose rtl/ was replaced by a link out of the folder."""
    import shutil

    scratch("model.onnx")
    scratch("build", "b")
    shutil.rmtree(tmp_path / "b" / "rtl")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "b" / "rtl").symlink_to(tmp_path / "elsewhere")


def _out_is_a_file(tmp_path, scratch):
    scratch("model.onnx")
    (tmp_path / "b").write_text("mine")


def _foreign_folder(tmp_path, scratch):
    """A user's folder: a build would replace its deploy/ (a build's own output folder) with its own."""
    scratch("model.onnx")
    (tmp_path / "b" / "deploy").mkdir(parents=True)
    (tmp_path / "b" / "notes.txt").write_text("mine")


#: (id, setup, arguments after 'build', fragment): refused before anything is written
START_CASES = [
    ("missing model", None, ["nope.onnx"], "nope.onnx does not exist"),
    ("steps out of order", _model, ["model.onnx", "--steps", "estimate,tidy"],
     "--steps lists 'tidy' after 'estimate'; give each step once, in build order (tidy, streamline"),
    ("step twice", _model, ["model.onnx", "--steps", "tidy,tidy"], "--steps lists 'tidy' after 'tidy'"),
    ("rtlsim on a fresh folder", _model, ["model.onnx", "--steps", "rtlsim"],
     "step 'rtlsim' needs the output of 'rtl_codegen', which this build does not run or has not run"),
    ("estimate without fold", _model, ["model.onnx", "--steps", "tidy,streamline,lower,to_hw,estimate"],
     "step 'estimate' needs the output of 'fold'"),
    ("no steps", _model, ["model.onnx", "--steps", ",,,"], "--steps: steps must be a non-empty list of step names"),
    ("unknown step", _model, ["model.onnx", "--steps", "tidy,optimise"], "unknown steps ['optimise']"),
    ("resume without a build", _model, ["model.onnx", "--from-step", "estimate"],
     "cannot resume from 'estimate': b/report.json does not record which model b was built from"),
    ("symlinked rtl folder", _symlinked_rtl, ["model.onnx"], "'rtl' would write outside the output folder"),
    ("out is a file", _out_is_a_file, ["model.onnx"], "cannot create output folder b: b is a file, not a folder; choose "
     "another path"),
    ("folder of other files", _foreign_folder, ["model.onnx"],
     "output folder b holds other files (deploy, notes.txt) and no earlier output of this command (no report.json)"),
]


@pytest.mark.parametrize("setup, extra, fragment", [c[1:] for c in START_CASES], ids=[c[0] for c in START_CASES])
def test_build_refuses_before_it_starts(setup, extra, fragment, refused, scratch, tmp_path):
    if setup is not None:
        setup(tmp_path, scratch)
    refused(["build"] + extra + ["--out", "b", "--quiet"], fragment)
    assert not (tmp_path / "elsewhere").exists() or not any((tmp_path / "elsewhere").iterdir())


def test_resume_of_another_model_is_refused(refused, scratch, tmp_path, digits_run):
    scratch("build", "b")
    other = tmp_path / "other.onnx"
    export_model(random_model("digits", "sign"), [1, 8, 8], other)
    refused(["build", "other.onnx", "--out", "b", "--from-step", "estimate"],
            "cannot resume from 'estimate': b was built from another model")


def test_a_later_step_alone_points_at_from_step(refused, scratch, digits_run):
    scratch("build", "b")
    scratch("model.onnx")
    refused(["build", "model.onnx", "--out", "b", "--steps", "estimate"],
            "step 'estimate' needs the output of 'fold', which this build does not run or has not run; add 'fold' "
            "to --steps (or leave --steps out to run every step), or resume the build in b, which ran it, with "
            "--from-step estimate")


def test_from_step_with_steps_starting_there_resumes(scratch, tmp_path, monkeypatch, capsys):
    build = scratch("build", "b")
    scratch("model.onnx")
    monkeypatch.chdir(tmp_path)
    (build / "estimate.txt").unlink()
    code = main(["build", "model.onnx", "--out", "b", "--from-step", "estimate", "--steps", "estimate", "--quiet"])
    assert code == 0, capsys.readouterr().err
    report = json.loads((build / "report.json").read_text())
    assert report["status"] == "complete" and report["steps"][-1]["name"] == "estimate"
    assert "bottleneck" in (build / "estimate.txt").read_text()
