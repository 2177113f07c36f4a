"""Exported QONNX executed by qonnx equals the PyTorch model exactly."""
import numpy as np
import onnx
import pytest

from signflow.cli import main
from signflow.models.checkpoint import save_run
from signflow.models.export import check_export, export_model
from signflow.models.zoo import MODEL_NAMES
from tests.helpers import random_inputs, random_model

ACTS = ["sign", "design", "dysign"]


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "vgg" else n for n in MODEL_NAMES])
def test_export_bit_exact(name, act, tmp_path):
    model = random_model(name, act, seed=MODEL_NAMES.index(name))
    path = tmp_path / "m.onnx"
    export_model(model, model.in_shape, path)
    x = random_inputs(model.in_shape, 3, seed=1)
    assert check_export(model, path, x) == 0


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("kernel", ["design2x2", "threshold_3x3_symmetric_v1", "threshold_2x2_complement_v1", "bayer"])
def test_export_odd_feature_maps(act, kernel, tmp_path):
    """11x13 input: the digits CNN sees 9x11 and 7x9 maps, pools to 3x4."""
    model = random_model("digits", act, seed=3, kernel=kernel, in_shape=[1, 11, 13])
    path = tmp_path / "m.onnx"
    export_model(model, [1, 11, 13], path)
    assert check_export(model, path, random_inputs([1, 11, 13], 4, seed=2)) == 0


def test_design_exports_batchnorm_then_tiled_offset(tmp_path):
    model = random_model("digits", "design", kernel="design2x2", in_shape=[1, 9, 9])
    path = tmp_path / "m.onnx"
    export_model(model, [1, 9, 9], path)
    graph = onnx.load(path).graph
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    producers = {o: n for n in graph.node for o in n.output}
    subs = [n for n in graph.node if n.op_type == "Sub"]
    assert len(subs) == 2
    first = subs[0]
    assert producers[first.input[0]].op_type == "BatchNormalization"
    offset = consts[first.input[1]] if first.input[1] in consts else None
    assert offset is not None and offset.shape == (1, 32, 7, 7)
    gamma = model.features[1].bn.weight.detach().numpy()
    kernel = np.array([[0.6310, 0.6310], [0.9671, 0.9671]], dtype=np.float32)
    for h in range(7):
        for w in range(7):
            np.testing.assert_array_equal(offset[0, :, h, w], (gamma * kernel[h % 2, w % 2]).astype(np.float32))


def test_dysign_exports_integer_subgraph(tmp_path):
    model = random_model("digits", "dysign")
    path = tmp_path / "m.onnx"
    export_model(model, [1, 8, 8], path)
    ops = [n.op_type for n in onnx.load(path).graph.node]
    for op in ["ReduceSum", "Quant", "MatMul", "Relu", "Round", "Gather", "BipolarQuant"]:
        assert op in ops


def _saved_run(folder):
    from signflow.models.zoo import ModelConfig

    model = random_model("digits", "design")
    folder.mkdir()
    save_run(folder, model, ModelConfig(model="digits", act="design", in_shape=[1, 8, 8], classes=10,
                                        kernel_values=model.features[1].kernel.tolist()))
    return model


def test_export_cli_writes_checked_model(tmp_path, capsys):
    model = _saved_run(tmp_path / "run")
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "m.onnx")]) == 0
    x = random_inputs([1, 8, 8], 2, seed=9)
    assert check_export(model, tmp_path / "m.onnx", x) == 0


@pytest.mark.parametrize("problem", ["missing", "corrupt", "unwritable"])
def test_export_cli_errors(tmp_path, capsys, problem):
    out = tmp_path / "m.onnx"
    if problem != "missing":
        _saved_run(tmp_path / "run")
    if problem == "corrupt":
        (tmp_path / "run" / "checkpoint.pt").write_bytes(b"\x00garbage" * 50)
    if problem == "unwritable":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "m.onnx"
    code = main(["export", str(tmp_path / "run"), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and not out.exists()
    assert {"missing": "does not exist", "corrupt": "corrupt", "unwritable": "cannot create"}[problem] in err
