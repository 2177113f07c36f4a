"""The graph helpers the transformations share."""
import warnings

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.basic import qonnx_make_model

from signflow.graph import execute_nodes, node_attr, node_error


def test_execute_nodes_runs_standard_ops_without_shape_warnings():
    nodes = [helper.make_node("Mul", ["x", "s"], ["y"], name="scale"), helper.make_node("Relu", ["y"], ["z"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor("s", TensorProto.FLOAT, [1], [-2.0])],
                              value_info=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = ModelWrapper(qonnx_make_model(graph))
    x = np.array([[1, -1, 0, 3]], np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = execute_nodes(model, nodes, {"x": x}, "z")
    np.testing.assert_array_equal(got, [[0, 2, 0, 0]])
    assert not caught, [str(w.message) for w in caught]


def test_node_attr_reads_lists_as_lists_and_defaults_when_absent():
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], ceil_mode=0)
    assert node_attr(node, "kernel_shape", None) == [2, 2]
    assert node_attr(node, "ceil_mode", 1) == 0
    assert node_attr(node, "strides", "absent") == "absent"


def test_graph_saved_under_the_old_domain_loads_and_runs(tmp_path):
    """Graphs saved before the package was named signflow hold ops in domain ``flow.ops``."""
    from qonnx.core.onnx_exec import execute_onnx

    from signflow.graph import load_graph
    from signflow.ops.base import DOMAIN

    node = helper.make_node("StreamingMaxPool", ["x"], ["y"], domain="flow.ops", kernel=[2, 2], stride=[2, 2],
                            bits=1, in_shape=[4, 4, 2], out_shape=[2, 2, 2])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 4, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 2, 2])])
    path = tmp_path / "old.onnx"
    ModelWrapper(qonnx_make_model(graph)).save(str(path))
    model = load_graph(path)
    assert [n.domain for n in model.graph.node] == [DOMAIN] == ["signflow.ops"]
    x = np.zeros((1, 4, 4, 2), np.float32)
    x[0, 1, 2, 1] = 1
    expected = np.zeros((1, 2, 2, 2), np.float32)
    expected[0, 0, 1, 1] = 1
    np.testing.assert_array_equal(execute_onnx(model, {"x": x})["y"], expected)


def test_an_unnamed_node_is_named_by_its_output():
    unnamed = helper.make_node("Mul", ["x", "s"], ["scaled"])
    assert str(node_error(unnamed, "feeds a layer")) == "the unnamed node producing 'scaled' (Mul): feeds a layer"
    named = helper.make_node("Mul", ["x", "s"], ["scaled"], name="m")
    assert str(node_error(named, "feeds a layer")) == "node 'm' (Mul): feeds a layer"
