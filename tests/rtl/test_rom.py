"""cocotb bench of rom: with `en` raised in random cycles and random addresses, `data` is the word of the
address taken at the last enabled edge (registered read), in both BLOCK settings and with no file (zeros)."""
import json
import os
import random

import cocotb
import pytest
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from signflow.packing import write_memh
from tests.rtl.axis import run_bench

TEST_MODULE = "tests.rtl.test_rom"


@cocotb.test()
async def run_test_rom(dut):
    from cocotb.clock import Clock

    depth, width = int(dut.DEPTH.value), int(dut.WIDTH.value)
    words = json.loads(os.environ["ROM_WORDS"])
    rng = random.Random(depth * 31 + width)
    cocotb.start_soon(Clock(dut.ap_clk, 10, unit="ns").start())
    dut.en.value, dut.addr.value = 1, 0
    await RisingEdge(dut.ap_clk)
    want = words[0]
    for cycle in range(4 * depth + 20):
        await FallingEdge(dut.ap_clk)
        en, addr = rng.random() < 0.7, rng.randrange(depth)
        dut.en.value, dut.addr.value = int(en), addr
        await ReadOnly()
        assert int(dut.data.value) == want, f"cycle {cycle}: data {int(dut.data.value):#x}, expected {want:#x}"
        await RisingEdge(dut.ap_clk)
        if en:
            want = words[addr]


@pytest.mark.parametrize("depth, width, block, with_file", [
    (1, 1, 0, True),
    (5, 7, 0, True),  # depth not a power of two
    (200, 36, 1, True),
    (16, 70, 1, False),  # no file: zeros
], ids=["1x1", "5x7", "200x36block", "16x70zero"])
def test_rom(depth, width, block, with_file, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("rom")
    rng = random.Random(depth)
    words = [rng.getrandbits(width) for _ in range(depth)]
    write_memh(build_dir / "words.memh", words, width)
    run_bench("rom", {"DEPTH": depth, "WIDTH": width, "BLOCK": block, "FILE": json.dumps(str(build_dir / "words.memh") if with_file else "")},
              TEST_MODULE, build_dir, extra_env={"ROM_WORDS": json.dumps(words if with_file else [0] * depth)})
