"""cocotb bench of mvau: bit-exact against flow.ops.mvau.mvau under random idles and back-pressure, and
one weight word per cycle (NF*SF cycles per pixel) at full rate."""
import json
import math
import os

import cocotb
import numpy as np
import pytest

from signflow.ops.mvau import mvau
from signflow.packing import mvau_threshold_words, mvau_weight_words, pack, pack_words, unpack, write_memh
from tests.rtl.axis import VARIANTS, StreamSink, StreamSource, reset, run_bench

MIN_FRAMES = 2  # frames per variant (more for tiny frames, so the timing check spans >= 64 cycles)

# id -> (MW, MH, PE, SIMD, input_mode, in_bits, output_mode, (OUT_H, OUT_W), (PERIOD_H, PERIOD_W), (POOL_H, POOL_W))
CASES = {
    "bin_thr_conv": (32, 16, 4, 8, "binary", 1, "threshold", (3, 5), (2, 2), (1, 1)),
    "bin_thr_fc_odd": (18, 6, 3, 9, "binary", 1, "threshold", (1, 1), (1, 1), (1, 1)),
    "int_thr_conv": (27, 8, 2, 3, "int", 8, "threshold", (4, 3), (2, 2), (1, 1)),
    "bin_acc_fc": (64, 10, 5, 16, "binary", 1, "acc", (1, 1), (1, 1), (1, 1)),
    "int_acc_serial": (20, 6, 1, 1, "int", 4, "acc", (2, 3), (1, 1), (1, 1)),  # PE = SIMD = 1: no adder tree
    # NF = SF = 1: one output beat per cycle; the last row and column of a frame end mid-period
    "bin_thr_parallel": (10, 3, 3, 10, "binary", 1, "threshold", (5, 4), (3, 2), (1, 1)),
    # before a 2x2 OR pool: the phase follows the pooled pixel; odd map, periods 2x2 and 3x3
    "bin_thr_pool2x2": (18, 4, 2, 9, "binary", 1, "threshold", (5, 7), (2, 2), (2, 2)),
    "int_thr_pool2x2_p3x3": (12, 3, 3, 4, "int", 4, "threshold", (5, 7), (3, 3), (2, 2)),
}


def signed_bits(lo, hi):
    """Bits of a two's-complement value holding ``lo..hi``."""
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi < (1 << (bits - 1))):
        bits += 1
    return bits


def frames_per_variant(name):
    mw, mh, pe, simd, _, _, _, (oh, ow), _, _ = CASES[name]
    return max(MIN_FRAMES, 1 + math.ceil(64 / (oh * ow * (mh // pe) * (mw // simd))))


def make_case(name):
    """Deterministic data of a case: parameters, weights, thresholds and input frames for all variants."""
    mw, mh, pe, simd, input_mode, in_bits, output_mode, (oh, ow), period, pool = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    params = {"input_mode": input_mode, "output_mode": output_mode, "period": list(period), "pool": list(pool)}
    weights = rng.integers(0, 2, size=(mw, mh))
    frames = frames_per_variant(name) * len(VARIANTS)
    shape = (frames, mw) if (oh, ow) == (1, 1) else (frames, oh, ow, mw)
    if input_mode == "binary":
        x = rng.integers(0, 2, size=shape)
        lo, hi = 0, mw  # popcount range
    else:
        x = rng.integers(-(1 << (in_bits - 1)), 1 << (in_bits - 1), size=shape)
        lo, hi = -mw * (1 << (in_bits - 1)), mw * (1 << (in_bits - 1))
    thresholds = None
    if output_mode == "threshold":
        # mostly values the accumulator takes (so equality is hit), some below the minimum / above the maximum
        reached = mvau(x, weights, None, {**params, "output_mode": "acc"}).reshape(-1, mh).astype(np.int64)
        if input_mode == "binary":
            reached = (reached + mw) // 2  # popcount domain
        phases = period[0] * period[1]
        picks = reached[rng.integers(0, len(reached), size=(mh, phases)), np.arange(mh)[:, None]]
        thresholds = picks + rng.integers(-1, 2, size=(mh, phases))
        kind = rng.random((mh, phases))
        thresholds = np.where(kind < 0.1, lo - rng.integers(0, 4, size=(mh, phases)), thresholds)
        thresholds = np.where(kind > 0.9, hi + 1 + rng.integers(0, 4, size=(mh, phases)), thresholds)
        acc_bits = signed_bits(min(lo, thresholds.min()), max(hi, thresholds.max()))
    else:
        acc_bits = signed_bits(lo, hi) + (2 if input_mode == "int" else 0)  # exact, or sign-extended
    hw = {"MW": mw, "MH": mh, "PE": pe, "SIMD": simd, "INPUT_MODE": int(input_mode == "int"),
          "IN_BITS": in_bits, "OUTPUT_MODE": int(output_mode == "acc"), "ACC_BITS": acc_bits,
          "OUT_H": oh, "OUT_W": ow, "PERIOD_H": period[0], "PERIOD_W": period[1], "POOL_H": pool[0],
          "POOL_W": pool[1]}
    return hw, params, weights, thresholds, x


def expected_beats(hw, params, weights, thresholds, x):
    """Output words of the frames ``x``: per pixel NF beats of PE lanes."""
    out = mvau(x, weights, thresholds, params).astype(np.int64).reshape(-1, hw["PE"])
    bits = hw["ACC_BITS"] if hw["OUTPUT_MODE"] else 1
    return [pack(row, bits) for row in out]


@cocotb.test()
async def run_test_mvau(dut):
    name = os.environ["MVAU_CASE"]
    hw, params, weights, thresholds, x = make_case(name)
    nf, sf = hw["MH"] // hw["PE"], hw["MW"] // hw["SIMD"]
    pixels = hw["OUT_H"] * hw["OUT_W"]
    assert int(dut.MW.value) == hw["MW"] and int(dut.ACC_BITS.value) == hw["ACC_BITS"]
    bits = hw["ACC_BITS"] if hw["OUTPUT_MODE"] else 1
    count = frames_per_variant(name)
    for index, (variant, (idle, backpressure)) in enumerate(VARIANTS.items()):
        frames = x[index * count:(index + 1) * count]
        words = pack_words(frames.reshape(-1), hw["SIMD"], hw["IN_BITS"])
        expected = expected_beats(hw, params, weights, thresholds, frames)
        await reset(dut)
        source = StreamSource(dut, words, idle=idle, seed=10 + index)
        sink = StreamSink(dut, len(expected), backpressure=backpressure, seed=20 + index)
        cocotb.start_soon(source.run())
        await sink.run(timeout_cycles=50 * len(words) * nf + 1000)
        for beat, (got, want) in enumerate(zip(sink.words, expected)):
            if got != want:
                raise AssertionError(
                    f"{name}/{variant}: beat {beat} (pixel {beat // nf}, nf {beat % nf}): got "
                    f"{unpack(got, hw['PE'], bits, signed=bits > 1).tolist()}, "
                    f"want {unpack(want, hw['PE'], bits, signed=bits > 1).tolist()}")
        if variant == "plain":
            # steady state: last beat of frame 1 to last beat of the last frame; one weight word per cycle
            per_frame = pixels * nf
            measured = sink.cycles[-1] - sink.cycles[per_frame - 1]
            ideal = (count - 1) * pixels * nf * sf
            # pipeline latency: input beats accepted from cycle 0; first output beat SF - 1 + 3 + clog2(SIMD) later
            latency = sf + 2 + math.ceil(math.log2(hw["SIMD"]))
            dut._log.info("%s: %d cycles for %d frames (ideal %d); first output beat at cycle %d (expected %d)",
                          name, measured, count - 1, ideal, sink.cycles[0], latency)
            assert abs(measured - ideal) <= ideal // 100 + 2, f"{name}: {measured} cycles, ideal {ideal}"
            assert sink.cycles[0] == latency, f"{name}: first output at cycle {sink.cycles[0]}, expected {latency}"


@pytest.mark.rtlsim
@pytest.mark.parametrize("name", list(CASES))
def test_mvau(name, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp(f"mvau_{name}")
    hw, _, weights, thresholds, _ = make_case(name)
    parameters = dict(hw)
    write_memh(build_dir / "weights.memh", mvau_weight_words(weights, hw["PE"], hw["SIMD"]), hw["PE"] * hw["SIMD"])
    # Verilator -G takes string parameters as quoted literals
    parameters["WEIGHTS_FILE"] = json.dumps(str(build_dir / "weights.memh"))
    if thresholds is not None:
        write_memh(build_dir / "thresholds.memh", mvau_threshold_words(thresholds, hw["PE"], hw["ACC_BITS"]),
                   hw["PE"] * hw["ACC_BITS"])
        parameters["THRESHOLDS_FILE"] = json.dumps(str(build_dir / "thresholds.memh"))
    run_bench("mvau", parameters, "tests.rtl.test_mvau", build_dir, extra_env={"MVAU_CASE": name})
