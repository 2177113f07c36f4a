"""C simulation of ``hw_templates/hls/width_converter.hpp``: the output beats are the input bits regrouped."""
import numpy as np
import pytest

from signflow.packing import write_memh
from tests.hls.csim import FORMS, build_driver, run_driver

FRAMES = 3
# name -> (IN_WIDTH, OUT_WIDTH, FRAME_BITS)
CASES = {
    "widen_8to32": (8, 32, 64),
    "narrow_32to8": (32, 8, 64),
    "narrow_6to4": (6, 4, 24),
    "widen_4to6": (4, 6, 24),
    "widen_1to9": (1, 9, 18),
    "narrow_9to1": (9, 1, 9),
    "narrow_8to3": (8, 3, 24),
    "equal_5to5": (5, 5, 10),
}


def regroup(words, in_width, out_width):
    """Words of ``in_width`` bits -> words of ``out_width`` bits over the same bit string (LSB first)."""
    bits = "".join(format(word, f"0{in_width}b")[::-1] for word in words)  # stream order, bit 0 first
    return [int(bits[i:i + out_width][::-1], 2) for i in range(0, len(bits), out_width)]


@pytest.fixture(scope="module", params=FORMS)
def driver(request, tmp_path_factory):
    cases = [{"IN_WIDTH": i, "OUT_WIDTH": o, "FRAME_BITS": f} for i, o, f in CASES.values()]
    return build_driver(tmp_path_factory, request.param, "width_converter", cases)


@pytest.mark.parametrize("case", list(CASES))
def test_width_converter(driver, case, tmp_path):
    in_width, out_width, frame_bits = CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    words = [int(rng.integers(0, 1 << in_width)) for _ in range(FRAMES * frame_bits // in_width)]
    words[0], words[1] = (1 << in_width) - 1, 1 << (in_width - 1)  # all ones, then the top bit alone
    write_memh(tmp_path / "in.memh", words, in_width)
    got = run_driver(driver, list(CASES).index(case), tmp_path, FRAMES)
    expected = regroup(words, in_width, out_width)
    assert len(expected) == FRAMES * frame_bits // out_width
    assert got == expected
