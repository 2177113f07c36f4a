"""SlidingWindow's golden model (im2col on NHWC) against a plain loop, directly and through qonnx, with uniform
and per-channel pad values; the core's pad parameters and memory."""
import itertools

import numpy as np
import pytest
from onnx import helper
from qonnx.custom_op.registry import getCustomOp

from signflow.ops.base import DOMAIN
from signflow.ops.sliding_window import sliding_window
from signflow.packing import pack_words


def naive_sliding_window(x, kernel, stride, pads, pad_values):
    """``out[n, oh, ow, (i*kw + j)*C + c]`` = input pixel ``(oh*sh + i - top, ow*sw + j - left)`` or channel
    ``c``'s pad value (``pad_values`` one per channel, or a scalar)."""
    pad_values = np.broadcast_to(pad_values, x.shape[-1])
    kh, kw = kernel
    sh, sw = stride
    top, left, bottom, right = pads
    batch, height, width, channels = x.shape
    oh_count = (height + top + bottom - kh) // sh + 1
    ow_count = (width + left + right - kw) // sw + 1
    out = np.zeros((batch, oh_count, ow_count, kh * kw * channels), dtype=x.dtype)
    for n, oh, ow, i, j, c in itertools.product(range(batch), range(oh_count), range(ow_count),
                                                range(kh), range(kw), range(channels)):
        h, w = oh * sh + i - top, ow * sw + j - left
        inside = 0 <= h < height and 0 <= w < width
        out[n, oh, ow, (i * kw + j) * channels + c] = int(x[n, h, w, c]) if inside else pad_values[c]
    return out


CASES = [  # kernel, stride, pads (top, left, bottom, right)
    ((3, 3), (1, 1), (1, 1, 1, 1)),
    ((3, 3), (2, 2), (1, 0, 2, 1)),
    ((2, 2), (2, 2), (0, 0, 0, 0)),
    ((2, 2), (1, 1), (0, 1, 1, 0)),
    ((1, 1), (1, 1), (0, 0, 0, 0)),
    ((1, 1), (2, 2), (0, 0, 0, 0)),
    ((3, 2), (1, 1), (2, 0, 0, 1)),
    ((3, 2), (2, 1), (1, 1, 0, 0)),
    ((3, 2), (2, 2), (0, 0, 0, 0)),
]


@pytest.mark.parametrize("kernel, stride, pads", CASES)
@pytest.mark.parametrize("pad_values", [-1, 0, [-1, 1, 1], [5, -7, 0]], ids=["m1", "0", "bipolar", "int"])
def test_sliding_window(kernel, stride, pads, pad_values):
    x = np.random.default_rng([*kernel, *stride, *pads]).integers(-3, 4, size=(2, 7, 5, 3))
    np.testing.assert_array_equal(sliding_window(x, kernel, stride, pads, pad_values),
                                  naive_sliding_window(x, kernel, stride, pads, pad_values))


@pytest.mark.parametrize("kernel, stride, pads", CASES[:4] + CASES[-2:])
@pytest.mark.parametrize("pad_values", [[-1, -1, -1], [1, -1, 1]], ids=["uniform", "per_channel"])
def test_sliding_window_node(one_node, run, kernel, stride, pads, pad_values):
    x = np.random.default_rng(3).choice([-1, 1], size=(1, 7, 5, 3))
    expected = naive_sliding_window(x, kernel, stride, pads, pad_values)
    model = one_node("SlidingWindow", {"x": x}, expected.shape, kernel=list(kernel), stride=list(stride),
                     pads=list(pads), pad_values=[float(v) for v in pad_values])
    assert getCustomOp(model.graph.node[0]).output_shape(model) == list(expected.shape)
    np.testing.assert_array_equal(run(model, {"x": x}), expected)


def window_op(channels, simd, bits, pad_values, pads=(1, 1, 1, 1)):
    """A 6x5 SlidingWindow with a 3x3 window, as to_hw and fold leave it."""
    values = {"pad_values": [float(v) for v in pad_values]} if pad_values else {}  # ONNX takes no empty list
    node = helper.make_node("SlidingWindow", ["x"], ["y"], domain=DOMAIN, kernel=[3, 3], pads=list(pads),
                            SIMD=simd, bits=bits, in_shape=[6, 5, channels], out_shape=[6, 5, 9 * channels], **values)
    return getCustomOp(node)


@pytest.mark.parametrize("simd", [1, 2, 36])  # 36: parallel window
@pytest.mark.parametrize("bits, value", [(1, 1), (8, -128), (4, 5)])
def test_core_uniform_pad_is_one_constant(simd, bits, value):
    _, params, memories = window_op(4, simd, bits, [value] * 4).core(None)
    assert params["PAD_VALUE"] == value & ((1 << bits) - 1) and params["PAD_PER_CHANNEL"] == 0
    assert not memories["PAD_VALUES_FILE"].used


@pytest.mark.parametrize("simd, lanes", [(1, 1), (2, 2), (36, 4)])
@pytest.mark.parametrize("bits, values", [(1, [0, 1, 1, 0]), (5, [-16, 15, 0, -1])])
def test_core_per_channel_pads_are_a_word_per_input_beat(simd, lanes, bits, values):
    _, params, memories = window_op(4, simd, bits, values).core(None)
    memory = memories["PAD_VALUES_FILE"]
    assert params["PAD_PER_CHANNEL"] == 1 and memory.used and memory.width == lanes * bits
    assert memory.words == pack_words([v & ((1 << bits) - 1) for v in values], lanes, bits)


def test_unpadded_window_needs_no_pad_values():
    _, params, memories = window_op(4, 2, 1, [], pads=(0, 0, 0, 0)).core(None)
    assert (params["PAD_VALUE"], params["PAD_PER_CHANNEL"]) == (0, 0) and not memories["PAD_VALUES_FILE"].used


def test_pad_values_must_match_the_channels():
    with pytest.raises(ValueError, match="3 pad_values for 4 channels"):
        window_op(4, 2, 1, [0, 0, 0]).core(None)


def test_per_channel_pads_cost_a_small_rom():
    uniform, per_channel = window_op(8, 2, 1, [0] * 8).resources(), window_op(8, 2, 1, [0, 1] * 4).resources()
    assert 0 < per_channel["luts"] - uniform["luts"] <= 2 * 1 and per_channel["ffs"] == uniform["ffs"]
    # parallel window: the padded pixel is a constant
    assert window_op(8, 72, 1, [0] * 8).resources() == window_op(8, 72, 1, [0, 1] * 4).resources()


def test_graph_saved_with_one_pad_value_still_loads(one_node, run):
    """Graphs saved before per-channel padding hold a scalar ``pad_value``: it pads every channel."""
    x = np.random.default_rng(3).integers(-3, 4, size=(1, 5, 4, 3))
    expected = naive_sliding_window(x, (3, 3), (1, 1), (1, 1, 1, 1), -1)
    model = one_node("SlidingWindow", {"x": x}, expected.shape, kernel=[3, 3], pads=[1, 1, 1, 1], pad_value=-1.0)
    np.testing.assert_array_equal(run(model, {"x": x}), expected)
    assert getCustomOp(model.graph.node[0]).pad_values(3).tolist() == [-1, -1, -1]
