"""StreamingMaxPool's golden model against a plain loop over every output element; the op on bits and on
integers (streams, estimate, core parameters), and under its old name."""
import itertools

import numpy as np
import pytest
from onnx import helper
from qonnx.custom_op.registry import getCustomOp

from signflow.ops.base import DOMAIN
from signflow.ops.maxpool import StreamingMaxPool, maxpool_nhwc


def naive_maxpool(x, kernel, stride):
    """Floor mode, no padding: the max of each ``kh x kw`` window."""
    kh, kw = kernel
    sh, sw = stride
    batch, height, width, channels = x.shape
    oh_count, ow_count = (height - kh) // sh + 1, (width - kw) // sw + 1
    out = np.zeros((batch, oh_count, ow_count, channels), dtype=x.dtype)
    for n, oh, ow, c in itertools.product(range(batch), range(oh_count), range(ow_count), range(channels)):
        out[n, oh, ow, c] = max(int(x[n, oh * sh + i, ow * sw + j, c]) for i in range(kh) for j in range(kw))
    return out


@pytest.mark.parametrize("kernel, stride", [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((3, 3), (1, 1)), ((2, 3), (1, 2))])
@pytest.mark.parametrize("height, width", [(7, 5), (6, 8), (3, 3)])
@pytest.mark.parametrize("values", [(0, 1), (-1, 1)], ids=["bits", "bipolar"])
def test_maxpool(kernel, stride, height, width, values):
    rng = np.random.default_rng([*kernel, *stride, height, width])
    # mostly the low value, so that windows of all-low values occur
    x = rng.choice(values, p=[0.8, 0.2], size=(2, height, width, 4)).astype(np.float32)
    got = maxpool_nhwc(x, kernel, stride)
    assert got.shape == (2, (height - kernel[0]) // stride[0] + 1, (width - kernel[1]) // stride[1] + 1, 4)
    np.testing.assert_array_equal(got, naive_maxpool(x, kernel, stride))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_maxpool_integer_bipolar(dtype):
    """Integer streams too: a window of all -1 pools to -1."""
    x = np.random.default_rng(5).choice([-1, 1], p=[0.8, 0.2], size=(2, 7, 5, 4)).astype(dtype)
    x[0, :2, :2, 0] = -1
    np.testing.assert_array_equal(maxpool_nhwc(x, (2, 2), (2, 2)), naive_maxpool(x, (2, 2), (2, 2)))


@pytest.mark.parametrize("op_type", ["StreamingMaxPool", "BinaryMaxPool"])
def test_maxpool_node(one_node, run, op_type):
    """Through qonnx, and under the name of graphs saved before integers (``BinaryMaxPool``)."""
    x = np.random.default_rng(2).integers(-100, 100, size=(1, 7, 5, 4))
    expected = naive_maxpool(x, (2, 2), (2, 2))
    model = one_node(op_type, {"x": x}, expected.shape, kernel=[2, 2], stride=[2, 2], bits=8)
    assert isinstance(getCustomOp(model.graph.node[0]), StreamingMaxPool)
    np.testing.assert_array_equal(run(model, {"x": x}), expected)


def maxpool_op(**attrs):
    node = helper.make_node("StreamingMaxPool", ["x"], ["y"], domain=DOMAIN, kernel=[2, 2], stride=[2, 2],
                            in_shape=[16, 16, 32], out_shape=[8, 8, 32], **attrs)
    return getCustomOp(node)


@pytest.mark.parametrize("pe", [1, 4, 32])
def test_integer_streams_and_estimate(pe):
    bits_op, int_op = maxpool_op(PE=pe), maxpool_op(PE=pe, bits=12)
    assert (bits_op.in_stream().bits, bits_op.out_stream().bits) == (1, 1)
    assert (int_op.in_stream().width, int_op.out_stream().width) == (12 * pe, 12 * pe)
    assert int_op.in_stream().is_signed and int_op.out_stream().beats == 8 * 8 * 32 // pe
    assert int_op.expected_cycles() == bits_op.expected_cycles() == 16 * 16 * 32 // pe
    # wider lanes: the row of partial maxima, the comparators and the registers grow with the width
    costs = [maxpool_op(PE=pe, bits=bits).resources() for bits in (1, 2, 4, 12)]
    assert all(a["luts"] < b["luts"] and a["ffs"] < b["ffs"] for a, b in zip(costs, costs[1:]))
    assert costs[0]["ffs"] == 30 + 2 * pe and costs[-1]["ffs"] == 30 + 2 * pe * 12


def test_core_parameters():
    _, params, memories = maxpool_op(PE=4, bits=9).core(None)
    assert params == dict(IFM_H=16, IFM_W=16, C=32, KH=2, KW=2, STRIDE_H=2, STRIDE_W=2, PE=4, BITS=9)
    assert memories == {}
