"""cocotb bench of axis_width_converter: the output bit stream equals the input bit stream, frame by frame,
under idles and back-pressure."""

import cocotb
import numpy as np
import pytest

from tests.rtl.axis import check_variants, run_bench

TEST_MODULE = "tests.rtl.test_axis_width_converter"
#: output beats per variant, at least (whole frames, 3 or more)
MIN_BEATS = 400


def slices(frame, frame_bits, width):
    """A frame (an int of ``frame_bits`` bits) as beats of ``width`` bits, LSB first."""
    return [(frame >> lo) & ((1 << width) - 1) for lo in range(0, frame_bits, width)]


@cocotb.test()
async def run_test_axis_width_converter(dut):
    in_width, out_width, frame_bits = (int(getattr(dut, n).value) for n in ("IN_WIDTH", "OUT_WIDTH", "FRAME_BITS"))
    out_per_frame = frame_bits // out_width
    frames_count = max(3, -(-MIN_BEATS // out_per_frame))
    rng = np.random.default_rng(in_width * 1000 + out_width)
    frames = [int.from_bytes(rng.bytes(-(-frame_bits // 8)), "little") & ((1 << frame_bits) - 1)
              for _ in range(frames_count)]
    frames[0], frames[1] = (1 << frame_bits) - 1, 1 << (frame_bits - 1)  # all ones; one bit at the top
    words_in = [word for frame in frames for word in slices(frame, frame_bits, in_width)]
    words_out = [word for frame in frames for word in slices(frame, frame_bits, out_width)]

    await check_variants(dut, words_in, words_out, out_per_frame, max(frame_bits // in_width, out_per_frame))

@pytest.mark.parametrize("in_width, out_width, frame_bits", [(8, 3, 24), (6, 4, 12), (16, 64, 128), (5, 5, 10),
                                                             (4, 6, 12)],
                         ids=["8to3f24", "6to4f12", "16to64f128", "5to5f10", "4to6f12"])
def test_axis_width_converter(in_width, out_width, frame_bits, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("axis_width_converter")
    parameters = {"IN_WIDTH": in_width, "OUT_WIDTH": out_width, "FRAME_BITS": frame_bits}
    run_bench("axis_width_converter", parameters, TEST_MODULE, build_dir)
