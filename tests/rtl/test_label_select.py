"""cocotb bench of label_select: the output index equals np.argmax (ties to the lowest index) under idles and
back-pressure."""

import cocotb
import numpy as np
import pytest

from signflow.packing import pack_words
from tests.rtl.axis import check_variants, run_bench

TEST_MODULE = "tests.rtl.test_label_select"
FRAMES = 80


def scores(rng, frames, num, bits):
    """Frames of signed scores: narrow ranges (many ties), all equal, the extremes, the full range."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    out = []
    for f in range(frames):
        kind = f % 5
        if kind == 0:  # many ties
            frame = rng.integers(-2, 2, num)
        elif kind == 1:  # all equal
            frame = np.full(num, rng.integers(lo, hi + 1))
        elif kind == 2:  # the extremes, maximum repeated
            frame = rng.choice([lo, hi], num)
        elif kind == 3:  # the full range
            frame = rng.integers(lo, hi + 1, num)
        else:  # everything at the minimum but a few tied maxima
            frame = np.full(num, lo)
            frame[rng.choice(num, min(2, num), replace=False)] = lo + 1
        out.append(np.clip(frame, lo, hi))
    return np.stack(out)


@cocotb.test()
async def run_test_label_select(dut):
    num, pe, bits = (int(getattr(dut, name).value) for name in ("NUM", "PE", "BITS"))
    rng = np.random.default_rng(num * 31 + pe * 7 + bits)
    x = scores(rng, FRAMES, num, bits)
    words_in = pack_words(x.reshape(-1), pe, bits)
    words_out = [int(i) for i in np.argmax(x, axis=1)]
    beats_per_frame = num // pe

    await check_variants(dut, words_in, words_out, 1, beats_per_frame)

@pytest.mark.parametrize("num, pe, bits", [(10, 1, 8), (10, 2, 5), (10, 5, 8), (7, 7, 3)],
                         ids=["num10pe1b8", "num10pe2b5", "num10pe5b8", "num7pe7b3"])
def test_label_select(num, pe, bits, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("label_select")
    run_bench("label_select", {"NUM": num, "PE": pe, "BITS": bits}, TEST_MODULE, build_dir)
