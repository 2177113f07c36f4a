"""cocotb bench of maxpool: pooled bits (BITS = 1) and signed integers (BITS > 1) equal
flow.ops.maxpool.maxpool_nhwc under idles and back-pressure."""

import cocotb
import numpy as np
import pytest

from signflow.ops.maxpool import maxpool_nhwc
from signflow.packing import pack_words
from tests.rtl.axis import check_variants, run_bench

TEST_MODULE = "tests.rtl.test_maxpool"
FRAMES = 4
#: probability of a 1 in each frame of bits: sparse frames make the OR take both values
DENSITIES = [0.08, 0.25, 0.5, 0.02]


def frames(rng, shape, bits):
    """Random input frames: sparse bits, or signed integers over the whole range (extremes included)."""
    if bits == 1:
        return np.stack([rng.random(shape) < DENSITIES[f % len(DENSITIES)] for f in range(FRAMES)]).astype(np.int64)
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    x = rng.integers(low, high + 1, (FRAMES, *shape))
    x[0, 0, 0, 0], x[1, 0, 0, 0] = low, high
    x[2] = np.minimum(x[2], -1)  # a frame of negative values only: the max is no OR
    return x


@cocotb.test()
async def run_test_maxpool(dut):
    names = ("IFM_H", "IFM_W", "C", "KH", "KW", "STRIDE_H", "STRIDE_W", "PE", "BITS")
    p = {name: int(getattr(dut, name).value) for name in names}
    height, width, channels, pe, bits = p["IFM_H"], p["IFM_W"], p["C"], p["PE"], p["BITS"]
    kernel, stride = (p["KH"], p["KW"]), (p["STRIDE_H"], p["STRIDE_W"])
    rng = np.random.default_rng(sum(p.values()))
    x = frames(rng, (height, width, channels), bits)
    golden = maxpool_nhwc(x, kernel, stride)
    assert len(np.unique(golden)) > 1, "the test data should pool to more than one value"
    words_in = pack_words(x.reshape(-1), pe, bits)
    words_out = pack_words(golden.reshape(-1), pe, bits)
    out_per_frame = len(words_out) // FRAMES

    await check_variants(dut, words_in, words_out, out_per_frame, height * width * channels // pe)


@pytest.mark.parametrize("ifm_h, ifm_w, c, k, s, pe, bits", [
    (5, 7, 4, (2, 2), (2, 2), 2, 1),   # odd sizes: the last row and column are discarded
    (6, 6, 3, (3, 3), (2, 2), 3, 1),   # overlapping windows
    (4, 4, 8, (2, 2), (2, 2), 8, 1),   # all channels in one beat
    (7, 5, 6, (3, 2), (1, 3), 2, 1),   # rectangular window, overlapping rows, skipped columns
    (5, 7, 4, (2, 2), (2, 2), 2, 8),   # integers (accumulators before DySign), odd sizes
    (7, 5, 6, (3, 3), (2, 1), 3, 5),   # integers, overlapping windows in both directions
    (6, 7, 2, (2, 3), (2, 3), 1, 2),   # 2-bit integers, one lane
], ids=["5x7c4k2s2pe2", "6x6c3k3s2pe3", "4x4c8k2s2pe8", "7x5c6k3x2s1x3pe2", "5x7c4k2s2pe2b8",
        "7x5c6k3s2x1pe3b5", "6x7c2k2x3s2x3pe1b2"])
def test_maxpool(ifm_h, ifm_w, c, k, s, pe, bits, tmp_path_factory):
    parameters = {"IFM_H": ifm_h, "IFM_W": ifm_w, "C": c, "KH": k[0], "KW": k[1],
                  "STRIDE_H": s[0], "STRIDE_W": s[1], "PE": pe, "BITS": bits}
    build_dir = tmp_path_factory.mktemp("maxpool")
    run_bench("maxpool", parameters, TEST_MODULE, build_dir)
