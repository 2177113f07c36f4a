"""C simulation of ``hw_templates/hls/sliding_window.hpp`` against ``flow.ops.sliding_window.sliding_window``."""
import numpy as np
import pytest

from flow.ops.sliding_window import sliding_window
from tests.hls.csim import FORMS, assert_beats_equal, build_driver, run_driver, write_beats

FRAMES = 2
# name -> (H, W, C, (KH, KW), (SH, SW), (top, left, bottom, right), BITS, SIMD, pad_value)
CASES = {
    "5x7c4k3_simd2": (5, 7, 4, (3, 3), (1, 1), (0, 0, 0, 0), 1, 2, 0),
    "6x6c2k3_pad1_simd1": (6, 6, 2, (3, 3), (1, 1), (1, 1, 1, 1), 1, 1, 0),
    "8x8c3_int8_s2_pad_m128": (8, 8, 3, (3, 3), (2, 2), (1, 1, 1, 1), 8, 3, -128),
    "7x6c2k2x3_s3x2_asym_pad": (7, 6, 2, (2, 3), (3, 2), (1, 2, 0, 1), 4, 1, 5),
    "6x5c2k3_pad1_parallel": (6, 5, 2, (3, 3), (1, 1), (1, 1, 1, 1), 1, 18, 1),
}


def config(case):
    h, w, c, (kh, kw), (sh, sw), (top, left, bottom, right), bits, simd, pad = CASES[case]
    return {"IFM_H": h, "IFM_W": w, "C": c, "KH": kh, "KW": kw, "STRIDE_H": sh, "STRIDE_W": sw, "PAD_TOP": top, "PAD_LEFT": left,
                "PAD_BOTTOM": bottom, "PAD_RIGHT": right, "BITS": bits, "SIMD": simd, "PAD_VALUE": pad & ((1 << bits) - 1)}


@pytest.fixture(scope="module", params=FORMS)
def driver(request, tmp_path_factory):
    return build_driver(tmp_path_factory, request.param, "sliding_window", [config(case) for case in CASES])


@pytest.mark.parametrize("case", list(CASES))
def test_sliding_window(driver, case, tmp_path):
    h, w, c, kernel, stride, pads, bits, simd, pad = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    low, high = (0, 2) if bits == 1 else (-(1 << (bits - 1)), 1 << (bits - 1))
    x = rng.integers(low, high, (FRAMES, h, w, c))
    in_lanes = c if simd == kernel[0] * kernel[1] * c else simd
    write_beats(tmp_path / "in.memh", x, in_lanes, bits)
    golden = sliding_window(x, kernel, stride, pads, pad)
    got = run_driver(driver, list(CASES).index(case), tmp_path, FRAMES)
    assert_beats_equal(got, golden, simd, bits)
