"""cocotb bench of pixel_phase: with `advance` raised in random cycles, `phase` always equals the golden
flow.ops.threshold.phase_index of the current pixel (its pooled pixel's phase with a pool), and `next_phase`
that of the next one, over several frames."""
import random

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge

from signflow.ops.threshold import phase_index
from tests.rtl.axis import reset, run_bench

TEST_MODULE = "tests.rtl.test_pixel_phase"
FRAMES = 3


@cocotb.test()
async def run_test_pixel_phase(dut):
    height, width, period_h, period_w, pool_h, pool_w = (
        int(getattr(dut, n).value) for n in ("H", "W", "PERIOD_H", "PERIOD_W", "POOL_H", "POOL_W"))
    phases = phase_index(height, width, (period_h, period_w), (pool_h, pool_w)).reshape(-1).tolist()
    rng = random.Random(height * 7 + width)
    dut.advance.value = 0
    await reset(dut)
    pixel = 0
    while pixel < FRAMES * height * width:
        advance = rng.random() < 0.6
        dut.advance.value = int(advance)
        await ReadOnly()
        want, want_next = phases[pixel % len(phases)], phases[(pixel + 1) % len(phases)]
        assert int(dut.phase.value) == want, f"pixel {pixel}: phase {int(dut.phase.value)}, expected {want}"
        assert int(dut.next_phase.value) == want_next, f"pixel {pixel}: next phase {int(dut.next_phase.value)}"
        await RisingEdge(dut.ap_clk)
        pixel += advance


@pytest.mark.parametrize("height, width, period_h, period_w, pool_h, pool_w", [
    (1, 1, 1, 1, 1, 1),
    (5, 7, 2, 2, 1, 1),
    (3, 4, 3, 3, 1, 1),
    (6, 5, 1, 3, 1, 1),
    (4, 9, 4, 1, 1, 1),
    (5, 7, 2, 2, 2, 2),  # odd map: the last row and column are a pooled pixel's first, dropped by the pool
    (5, 7, 3, 3, 2, 2),
    (7, 8, 2, 3, 3, 2),  # rectangular pool, and a period that ends mid-row
], ids=["1x1p1x1", "5x7p2x2", "3x4p3x3", "6x5p1x3", "4x9p4x1", "5x7p2x2pool2x2", "5x7p3x3pool2x2",
        "7x8p2x3pool3x2"])
def test_pixel_phase(height, width, period_h, period_w, pool_h, pool_w, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("pixel_phase")
    run_bench("pixel_phase", {"H": height, "W": width, "PERIOD_H": period_h, "PERIOD_W": period_w,
                              "POOL_H": pool_h, "POOL_W": pool_w}, TEST_MODULE, build_dir)
