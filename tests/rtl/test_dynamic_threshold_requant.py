"""cocotb bench of dynamic_threshold_requant (combinational): for every input value of a small width, the
output equals the golden clip(shift_round(x, SHIFT), LO, HI) of flow.ops.dynamic_threshold, including the
values that round onto, past and away from each clip bound (ties to even on both sides)."""
import numpy as np
import cocotb
import pytest
from cocotb.triggers import Timer

from signflow.ops.dynamic_threshold import shift_round
from tests.rtl.axis import run_bench

TEST_MODULE = "tests.rtl.test_dynamic_threshold_requant"


def signed(value, bits):
    return value - (1 << bits) if value >> (bits - 1) else value


@cocotb.test()
async def run_test_requant(dut):
    in_bits, out_bits = int(dut.IN_BITS.value), int(dut.OUT_BITS.value)
    shift, lo, hi = (signed(int(getattr(dut, n).value), 32) for n in ("SHIFT", "LO", "HI"))
    values = np.arange(-(1 << (in_bits - 1)), 1 << (in_bits - 1))
    want = np.clip(shift_round(values, shift), lo, hi)
    for x, expected in zip(values.tolist(), want.tolist()):
        dut.in_value.value = x & ((1 << in_bits) - 1)
        await Timer(1, "ns")
        got = signed(int(dut.out_value.value), out_bits)
        assert got == expected, f"in {x}: out {got}, expected {expected} (shift {shift}, clip [{lo}, {hi}])"


@pytest.mark.parametrize("in_bits, shift, lo, hi, out_bits", [
    (10, -4, -8, 7, 4),  # ties at both bounds: -8.5 -> -8, 7.5 -> 8 -> clipped to 7
    (9, -1, -3, 5, 4),  # one bit dropped: ties to even
    (8, -5, 0, 15, 5),  # ReLU-like range, most inputs clip
    (8, 0, -100, 90, 8),  # no rounding
    (6, 3, -200, 150, 9),  # a left shift
    (12, -7, -20, 31, 7),  # few inputs inside the range, a bound that is odd
    (7, -2, 2, 2, 3),  # a single value
], ids=["s-4clip4", "s-1", "s-5relu", "s0", "s+3", "s-7", "single"])
def test_dynamic_threshold_requant(in_bits, shift, lo, hi, out_bits, tmp_path_factory):
    run_bench("dynamic_threshold_requant", {"IN_BITS": in_bits, "SHIFT": shift, "LO": lo, "HI": hi,
                                            "OUT_BITS": out_bits}, TEST_MODULE,
              tmp_path_factory.mktemp("dynamic_threshold_requant"))
