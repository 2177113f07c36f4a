"""C simulation of ``hw_templates/hls/sliding_window.hpp`` against ``flow.ops.sliding_window.sliding_window``,
with uniform and per-channel pad values."""
import numpy as np
import pytest

from signflow.ops.sliding_window import sliding_window
from signflow.packing import pack_words, write_memh
from tests.hls.csim import FORMS, assert_beats_equal, build_driver, run_driver, write_beats

FRAMES = 2
# name -> (H, W, C, (KH, KW), (SH, SW), (top, left, bottom, right), BITS, SIMD, pad value or one per channel)
CASES = {
    "5x7c4k3_simd2": (5, 7, 4, (3, 3), (1, 1), (0, 0, 0, 0), 1, 2, 0),
    "6x6c2k3_pad1_simd1": (6, 6, 2, (3, 3), (1, 1), (1, 1, 1, 1), 1, 1, 0),
    "8x8c3_int8_s2_pad_m128": (8, 8, 3, (3, 3), (2, 2), (1, 1, 1, 1), 8, 3, -128),
    "7x6c2k2x3_s3x2_asym_pad": (7, 6, 2, (2, 3), (3, 2), (1, 2, 0, 1), 4, 1, 5),
    "6x5c2k3_pad1_parallel": (6, 5, 2, (3, 3), (1, 1), (1, 1, 1, 1), 1, 18, 1),
    # per-channel pads (complemented channels absorbed by the next layer): bits, and integers
    "5x7c4k3_pad1_simd2_bits_per_channel": (5, 7, 4, (3, 3), (1, 1), (1, 1, 1, 1), 1, 2, [0, 1, 1, 0]),
    "7x5c6k3_s2_pad_simd2_int5_per_channel": (7, 5, 6, (3, 3), (2, 1), (1, 0, 2, 1), 5, 2, [-16, 15, 0, -1, 3, 7]),
    "5x7c3k3_pad1_parallel_per_channel": (5, 7, 3, (3, 3), (1, 1), (1, 1, 1, 1), 1, 27, [1, 0, 1]),
}


def pad_patterns(case):
    """The two's complement bit patterns of the pad values of every channel."""
    c, bits, pad = CASES[case][2], CASES[case][6], CASES[case][8]
    return [int(v) & ((1 << bits) - 1) for v in np.broadcast_to(pad, c)]


def in_lanes(case):
    _, _, c, (kh, kw), _, _, _, simd, _ = CASES[case]
    return c if simd == kh * kw * c else simd


def config(case):
    h, w, c, (kh, kw), (sh, sw), (top, left, bottom, right), bits, simd, pad = CASES[case]
    per_channel = len(set(pad_patterns(case))) > 1
    return {"IFM_H": h, "IFM_W": w, "C": c, "KH": kh, "KW": kw, "STRIDE_H": sh, "STRIDE_W": sw, "PAD_TOP": top,
            "PAD_LEFT": left, "PAD_BOTTOM": bottom, "PAD_RIGHT": right, "BITS": bits, "SIMD": simd,
            "PAD_VALUE": 0 if per_channel else pad_patterns(case)[0], "PAD_PER_CHANNEL": int(per_channel)}


@pytest.fixture(scope="module", params=FORMS)
def driver(request, tmp_path_factory):
    return build_driver(tmp_path_factory, request.param, "sliding_window", [config(case) for case in CASES])


@pytest.mark.parametrize("case", list(CASES))
def test_sliding_window(driver, case, tmp_path):
    h, w, c, kernel, stride, pads, bits, simd, pad = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    low, high = (0, 2) if bits == 1 else (-(1 << (bits - 1)), 1 << (bits - 1))
    x = rng.integers(low, high, (FRAMES, h, w, c))
    write_beats(tmp_path / "in.memh", x, in_lanes(case), bits)
    if config(case)["PAD_PER_CHANNEL"]:
        write_memh(tmp_path / "pad_values.memh", pack_words(pad_patterns(case), in_lanes(case), bits),
                   in_lanes(case) * bits)
    golden = sliding_window(x, kernel, stride, pads, pad)
    got = run_driver(driver, list(CASES).index(case), tmp_path, FRAMES)
    assert_beats_equal(got, golden, simd, bits)
