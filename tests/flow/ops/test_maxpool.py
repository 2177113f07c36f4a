"""BinaryMaxPool's golden model against a plain loop over every output element."""
import itertools

import numpy as np
import pytest

from flow.ops.maxpool import maxpool_nhwc


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
