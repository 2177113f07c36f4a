"""cocotb bench of pixel_phase: with `advance` raised in random cycles, `phase` always equals
(h mod PERIOD_H) * PERIOD_W + (w mod PERIOD_W) of the current pixel, and `next_phase` that of the next one,
over several frames."""
import random

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge

from tests.rtl.axis import reset, run_bench

TEST_MODULE = "tests.rtl.test_pixel_phase"
FRAMES = 3


def phase(pixel, height, width, period_h, period_w):
    h, w = divmod(pixel % (height * width), width)
    return (h % period_h) * period_w + w % period_w


@cocotb.test()
async def run_test_pixel_phase(dut):
    height, width, period_h, period_w = (int(getattr(dut, n).value) for n in ("H", "W", "PERIOD_H", "PERIOD_W"))
    rng = random.Random(height * 7 + width)
    dut.advance.value = 0
    await reset(dut)
    pixel = 0
    while pixel < FRAMES * height * width:
        advance = rng.random() < 0.6
        dut.advance.value = int(advance)
        await ReadOnly()
        args = (height, width, period_h, period_w)
        assert int(dut.phase.value) == phase(pixel, *args), f"pixel {pixel}: phase {int(dut.phase.value)}"
        assert int(dut.next_phase.value) == phase(pixel + 1, *args), f"pixel {pixel}: next phase"
        await RisingEdge(dut.ap_clk)
        pixel += advance


@pytest.mark.parametrize("height, width, period_h, period_w",
                         [(1, 1, 1, 1), (5, 7, 2, 2), (3, 4, 3, 3), (6, 5, 1, 3), (4, 9, 4, 1)],
                         ids=["1x1p1x1", "5x7p2x2", "3x4p3x3", "6x5p1x3", "4x9p4x1"])
def test_pixel_phase(height, width, period_h, period_w, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("pixel_phase")
    run_bench("pixel_phase", {"H": height, "W": width, "PERIOD_H": period_h, "PERIOD_W": period_w}, TEST_MODULE,
              build_dir)
