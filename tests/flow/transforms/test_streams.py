"""InsertDWC / InsertFIFO on a folded digits graph: the function is unchanged, a FIFO sits in front of every layer
(behind a width converter exactly where beat widths differ) and one after the last, the graph keeps its output
name, the estimate counts them, and the code generators refuse a graph without them."""
import json

import pytest
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from signflow.builder import BuildConfig, run_build
from signflow.builder.runner import latest_graph
from signflow.codegen.chain import plan
from signflow.errors import UserError
from signflow.estimate import estimate
from signflow.folding import search_folding
from signflow.models.export import export_model
from signflow.ops.stream import STREAM_OPS
from signflow.transforms.streams import InsertDWC, InsertFIFO
from tests.flow.transforms.builders import assert_same_outputs, inputs
from tests.helpers import random_model


@pytest.fixture(scope="module")
def folded(tmp_path_factory):
    """The digits DeSign graph after to_hw, folded for 20k FPS (wide MVAUs next to narrow windows)."""
    out = tmp_path_factory.mktemp("streams")
    model = random_model("digits", "design", seed=5)
    export_model(model, model.in_shape, out / "m.onnx")
    run_build(out / "m.onnx", BuildConfig(output_dir=str(out / "b"), quiet=True, verify=False,
                                          steps=["tidy", "streamline", "lower", "to_hw"]))
    graph = ModelWrapper(str(latest_graph(out / "b")))
    search_folding(graph, BuildConfig(target_fps=20000))
    return graph


def _shape(stream):
    return stream.lanes, stream.bits, stream.beats, stream.is_signed


def _layers(model):
    return [n for n in model.graph.node if n.domain.startswith("signflow") and n.op_type not in STREAM_OPS]


def test_fifos_and_converters_keep_the_function(folded):
    before = ModelWrapper(folded.model)
    after = ModelWrapper(folded.model).transform(InsertDWC()).transform(InsertFIFO(16))
    assert_same_outputs(before, after, inputs(before, n=6, low=0.0, high=16.0))
    assert after.graph.output[0].name == before.graph.output[0].name

    nodes = list(after.graph.node)
    layers = _layers(after)
    for layer in layers:  # FIFO right in front, or FIFO in front of a converter in front
        producer = after.find_producer(layer.input[0])
        assert producer.op_type == "StreamingFIFO" and producer.name == f"{layer.name}_fifo"
        fifo = getCustomOp(producer)
        assert _shape(fifo.in_stream()) == _shape(fifo.out_stream()) == _shape(getCustomOp(layer).in_stream())
        if layer.op_type == "MVAU":  # room for two input vectors
            beats = getCustomOp(layer).in_stream().beats // getCustomOp(layer).pixels()
            assert fifo.get_nodeattr("depth") >= min(2 * beats, getCustomOp(layer).in_stream().beats, 16)
        else:
            assert fifo.get_nodeattr("depth") == 16
    out_fifo = next(n for n in nodes if n.name == "out_fifo")  # behind the last layer, under its output name
    assert after.find_producer(out_fifo.input[0]).name == layers[-1].name
    assert out_fifo.output[0] == _layers(before)[-1].output[0]

    # a converter exactly where the producer's beats differ from the layer's
    converters = [n for n in nodes if n.op_type == "StreamingDataWidthConverter"]
    widths = [(getCustomOp(a).out_stream().width, getCustomOp(b).in_stream().width)
              for a, b in zip(_layers(before), _layers(before)[1:])]
    assert len(converters) == sum(given != wanted for given, wanted in widths) > 0
    for converter in converters:
        op = getCustomOp(converter)
        assert op.in_stream().width != op.out_stream().width
        assert op.in_stream().width * op.in_stream().beats == op.out_stream().width * op.out_stream().beats


def test_estimate_and_plan_read_them(folded):
    model = ModelWrapper(folded.model).transform(InsertDWC()).transform(InsertFIFO())
    est = estimate(model, BuildConfig())
    ops = [layer["op"] for layer in est["layers"]]
    assert "StreamingFIFO" in ops and "StreamingDataWidthConverter" in ops
    assert est["bottleneck_layer"] in {n.name for n in _layers(model)}
    fifo_luts = sum(layer["luts"] for layer in est["layers"] if layer["op"] in STREAM_OPS)
    assert 0 < fifo_luts < est["luts"]
    chain = plan(model)
    assert [s.module for s in chain.stages].count("axis_fifo") == len(_layers(model)) + 1
    assert [s.module for s in chain.stages].count("axis_width_converter") == ops.count("StreamingDataWidthConverter")
    assert json.dumps([link["node"] for link in chain.links]) == json.dumps([n.name for n in _layers(model)])


def test_a_graph_without_fifos_is_refused(folded):
    with pytest.raises(UserError, match=r"^node 'SlidingWindow_0' \(SlidingWindow\): has no input FIFO: .*fold step"):
        plan(ModelWrapper(folded.model))


def test_fifo_depth_must_be_a_power_of_two():
    with pytest.raises(UserError, match="FIFO depth 24 is not a power of two >= 2"):
        InsertFIFO(24)
