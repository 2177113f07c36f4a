"""SlidingWindow's golden model (im2col on NHWC) against a plain loop, directly and through qonnx."""
import itertools

import numpy as np
import pytest
from qonnx.custom_op.registry import getCustomOp

from flow.ops.sliding_window import sliding_window


def naive_sliding_window(x, kernel, stride, pads, pad_value):
    """``out[n, oh, ow, (i*kw + j)*C + c]`` = input pixel ``(oh*sh + i - top, ow*sw + j - left)`` or the pad value."""
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
        out[n, oh, ow, (i * kw + j) * channels + c] = int(x[n, h, w, c]) if inside else pad_value
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
@pytest.mark.parametrize("pad_value", [-1, 0])
def test_sliding_window(kernel, stride, pads, pad_value):
    x = np.random.default_rng([*kernel, *stride, *pads]).integers(-3, 4, size=(2, 7, 5, 3))
    np.testing.assert_array_equal(sliding_window(x, kernel, stride, pads, pad_value),
                                  naive_sliding_window(x, kernel, stride, pads, pad_value))


@pytest.mark.parametrize("kernel, stride, pads", CASES[:4] + CASES[-2:])
def test_sliding_window_node(one_node, run, kernel, stride, pads):
    x = np.random.default_rng(3).choice([-1, 1], size=(1, 7, 5, 3))
    expected = naive_sliding_window(x, kernel, stride, pads, -1)
    model = one_node("SlidingWindow", {"x": x}, expected.shape, kernel=list(kernel), stride=list(stride),
                     pads=list(pads), pad_value=-1.0)
    assert getCustomOp(model.graph.node[0]).output_shape(model) == list(expected.shape)
    np.testing.assert_array_equal(run(model, {"x": x}), expected)
