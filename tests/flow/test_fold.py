"""Folding meets the target FPS with legal PE / SIMD, and folding files round-trip."""
import json

import pytest
from qonnx.custom_op.registry import getCustomOp

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.errors import UserError
from signflow.folding import hw_ops
from signflow.ops.stream import STREAM_OPS
from signflow.models.export import export_model
from tests.helpers import random_model


@pytest.fixture(scope="module")
def cnv_onnx(tmp_path_factory):
    model = random_model("cnv", "design", seed=2)
    path = tmp_path_factory.mktemp("cnv") / "cnv.onnx"
    export_model(model, model.in_shape, path)
    return path


def build(path, out, **cfg):
    return run_build(path, BuildConfig(output_dir=str(out), quiet=True, verify=False, steps=FRONT_END, **cfg))


@pytest.mark.parametrize("fps", [1000, 10000])
def test_folding_meets_target(cnv_onnx, tmp_path, fps):
    model = build(cnv_onnx, tmp_path, target_fps=fps)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["estimate"]["bottleneck_cycles"] <= 1e9 / (10.0 * fps)
    for node, op in hw_ops(model):
        if node.op_type == "MVAU":
            assert op.get_nodeattr("MH") % op.get_nodeattr("PE") == 0
            assert op.get_nodeattr("MW") % op.get_nodeattr("SIMD") == 0
            channels, simd = op.get_nodeattr("channels"), op.get_nodeattr("SIMD")
            assert channels % simd == 0 or simd == op.get_nodeattr("MW")  # channels 0: fully connected
        if node.op_type == "SlidingWindow":  # its MVAU, behind the FIFO fold put in between
            consumer = model.find_consumers(node.output[0])[0]
            while consumer.op_type in STREAM_OPS:
                consumer = model.find_consumers(consumer.output[0])[0]
            assert op.get_nodeattr("SIMD") == getCustomOp(consumer).get_nodeattr("SIMD")


def test_higher_target_uses_more_parallelism(cnv_onnx, tmp_path):
    slow = json.loads(((build(cnv_onnx, tmp_path / "a", target_fps=1000)) and (tmp_path / "a/report.json")).read_text())
    fast = json.loads(((build(cnv_onnx, tmp_path / "b", target_fps=10000)) and (tmp_path / "b/report.json")).read_text())
    assert fast["estimate"]["bottleneck_cycles"] < slow["estimate"]["bottleneck_cycles"]
    assert fast["estimate"]["luts"] > slow["estimate"]["luts"]


def test_folding_file_round_trip(cnv_onnx, tmp_path):
    build(cnv_onnx, tmp_path / "a", target_fps=3000)
    folding = tmp_path / "a" / "folding.json"
    build(cnv_onnx, tmp_path / "b", folding_file=str(folding))
    a = json.loads((tmp_path / "a" / "report.json").read_text())["estimate"]
    b = json.loads((tmp_path / "b" / "report.json").read_text())["estimate"]
    assert a["layers"] == b["layers"]


def test_unreachable_fps_names_best(cnv_onnx, tmp_path):
    with pytest.raises(UserError, match=r"not reachable .* reaches \d+ FPS \(bottleneck"):
        build(cnv_onnx, tmp_path, target_fps=1e9)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "failed"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update({"no_such_layer": {"PE": 1}}), "no HW layer 'no_such_layer'"),
    (lambda d: d[next(k for k in d if k.startswith("MVAU"))].update({"PE": 7}), "is not a legal folding"),
    (lambda d: d.pop(next(iter(d))), "are missing"),
])
def test_mismatched_folding_file(cnv_onnx, tmp_path, edit, message):
    build(cnv_onnx, tmp_path / "a")
    doc = json.loads((tmp_path / "a" / "folding.json").read_text())
    edit(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(UserError, match=message):
        build(cnv_onnx, tmp_path / "b", folding_file=str(bad))
