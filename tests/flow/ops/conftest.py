"""One-node qonnx graphs of signflow ops, for the op tests."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.basic import qonnx_make_model

from signflow.ops.base import DOMAIN


def one_node_model(op_type, inputs, out_shape, consts=(), **attrs):
    """A graph of one ``signflow.ops`` node: ``inputs`` (name -> array) fed at run time, ``consts`` as initializers."""
    consts = dict(consts)
    node = helper.make_node(op_type, list(inputs) + list(consts), ["y"], domain=DOMAIN, **attrs)
    graph = helper.make_graph(
        [node], "one_node",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, value.shape) for name, value in inputs.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))],
        [numpy_helper.from_array(np.asarray(value, np.float32), name) for name, value in consts.items()])
    return ModelWrapper(qonnx_make_model(graph))


def one_mvau(x, consts, mw, mh, pe, simd, input_mode, in_bits, output_mode, period, pool):
    """``(op, model)``: a folded MVAU as flow/transforms/to_hw.py makes it (ToMVAU, no sliding window in front),
    alone in a graph, fed ``x`` ``[N, (H, W,) MW]``; with the shapes AnnotateHW gives it (without the batch)."""
    from qonnx.custom_op.registry import getCustomOp

    pixel = tuple(x.shape[1:-1])
    model = one_node_model(
        "MVAU", {"x": x}, (len(x), *pixel, mh), consts=consts, MW=mw, MH=mh, PE=pe, SIMD=simd, input_mode=input_mode,
        in_bits=in_bits, output_mode=output_mode, period=list(period), pool=list(pool), channels=0,
        out_dtype="BINARY" if output_mode == "threshold" else "INT32")
    op = getCustomOp(model.graph.node[0])
    op.set_nodeattr("in_shape", [*pixel, mw])
    op.set_nodeattr("out_shape", [*pixel, mh])
    return op, model


def run_model(model, inputs):
    """Execute ``model`` through qonnx; returns its output ``y``."""
    return execute_onnx(model, {name: np.asarray(v, np.float32) for name, v in inputs.items()})["y"]


@pytest.fixture
def one_node():
    return one_node_model


@pytest.fixture
def run():
    return run_model
