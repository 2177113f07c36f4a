"""cocotb bench of mvau_dot: with random inputs, weights and `en`, `sum` is the golden dot product
(flow.ops.mvau.mvau_dot: as a popcount in binary mode) of the inputs taken LEVELS enabled edges earlier."""
import random

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from signflow.ops.mvau import mvau_dot
from tests.rtl.axis import run_bench

TEST_MODULE = "tests.rtl.test_mvau_dot"


def pack(values, bits):
    return sum((int(v) & ((1 << bits) - 1)) << (i * bits) for i, v in enumerate(values))


def golden(x, w, signed):
    """The step's sum as mvau_dot.sv gives it: the popcount of matches, or the signed sum."""
    dot = int(mvau_dot(np.array([x]), np.array(w)[:, None], "int" if signed else "binary")[0, 0])
    return dot if signed else (dot + len(x)) // 2


@cocotb.test()
async def run_test_mvau_dot(dut):
    simd, in_bits, signed = int(dut.SIMD.value), int(dut.IN_BITS.value), bool(int(dut.SGN.value))
    levels, width = int(dut.LEVELS.value), int(dut.TW.value)
    assert levels == max(1, (simd - 1).bit_length()), f"LEVELS {levels} for SIMD {simd}"  # SIMD 1 keeps one
    rng = random.Random(simd * 13 + in_bits)
    cocotb.start_soon(Clock(dut.ap_clk, 10, unit="ns").start())
    pipe = [None] * levels
    for cycle in range(200):
        await FallingEdge(dut.ap_clk)
        lo, hi = (-(1 << (in_bits - 1)), (1 << (in_bits - 1)) - 1) if signed else (0, 1)
        x = [rng.randint(lo, hi) for _ in range(simd)]
        w = [rng.randint(0, 1) for _ in range(simd)]
        en = rng.random() < 0.7
        dut.x.value, dut.w.value, dut.en.value = pack(x, in_bits), pack(w, 1), int(en)
        await ReadOnly()
        want = pipe[-1]
        if want is not None:
            got = int(dut.sum.value)
            if signed and got >> (width - 1):
                got -= 1 << width
            assert got == want, f"cycle {cycle}: sum {got}, expected {want}"
        await RisingEdge(dut.ap_clk)
        if en:
            pipe = [golden(x, w, signed)] + pipe[:-1]


@pytest.mark.parametrize("simd, in_bits, sgn", [
    (1, 1, 0),
    (7, 1, 0),  # an odd SIMD: a value passes a level unpaired
    (64, 1, 0),
    (5, 8, 1),  # signed 8-bit inputs, -128 included
    (3, 2, 1),
], ids=["bin1", "bin7", "bin64", "int5x8", "int3x2"])
def test_mvau_dot(simd, in_bits, sgn, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("mvau_dot")
    run_bench("mvau_dot", {"SIMD": simd, "IN_BITS": in_bits, "SGN": sgn}, TEST_MODULE, build_dir)
