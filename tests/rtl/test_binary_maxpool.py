"""cocotb bench of binary_maxpool: pooled bits equal flow.ops.maxpool.maxpool_nhwc under idles and back-pressure."""

import cocotb
import numpy as np
import pytest

from flow.ops.maxpool import maxpool_nhwc
from flow.packing import pack_words
from tests.rtl.axis import check_variants, run_bench

TEST_MODULE = "tests.rtl.test_binary_maxpool"
FRAMES = 4
#: probability of a 1 in each frame: sparse frames make the OR take both values
DENSITIES = [0.08, 0.25, 0.5, 0.02]


@cocotb.test()
async def run_test_binary_maxpool(dut):
    names = ("IFM_H", "IFM_W", "C", "KH", "KW", "STRIDE_H", "STRIDE_W", "PE")
    p = {name: int(getattr(dut, name).value) for name in names}
    height, width, channels, pe = p["IFM_H"], p["IFM_W"], p["C"], p["PE"]
    kernel, stride = (p["KH"], p["KW"]), (p["STRIDE_H"], p["STRIDE_W"])
    rng = np.random.default_rng(sum(p.values()))
    x = np.stack([rng.random((height, width, channels)) < DENSITIES[f % len(DENSITIES)] for f in range(FRAMES)])
    x = x.astype(np.int64)
    golden = maxpool_nhwc(x.astype(np.float32), kernel, stride).astype(np.int64)
    assert 0 < golden.sum() < golden.size, "the test data should pool to both 0 and 1"
    words_in = pack_words(x.reshape(-1), pe, 1)
    words_out = pack_words(golden.reshape(-1), pe, 1)
    out_per_frame = len(words_out) // FRAMES

    await check_variants(dut, words_in, words_out, out_per_frame, height * width * channels // pe)

@pytest.mark.parametrize("ifm_h, ifm_w, c, k, s, pe", [
    (5, 7, 4, (2, 2), (2, 2), 2),   # odd sizes: the last row and column are discarded
    (6, 6, 3, (3, 3), (2, 2), 3),   # overlapping windows
    (4, 4, 8, (2, 2), (2, 2), 8),   # all channels in one beat
    (7, 5, 6, (3, 2), (1, 3), 2),   # rectangular window, overlapping rows, skipped columns
], ids=["5x7c4k2s2pe2", "6x6c3k3s2pe3", "4x4c8k2s2pe8", "7x5c6k3x2s1x3pe2"])
def test_binary_maxpool(ifm_h, ifm_w, c, k, s, pe, tmp_path_factory):
    parameters = {"IFM_H": ifm_h, "IFM_W": ifm_w, "C": c, "KH": k[0], "KW": k[1],
                  "STRIDE_H": s[0], "STRIDE_W": s[1], "PE": pe}
    build_dir = tmp_path_factory.mktemp("binary_maxpool")
    run_bench("binary_maxpool", parameters, TEST_MODULE, build_dir)
