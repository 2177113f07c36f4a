"""cocotb bench of mvau: bit-exact against the MVAU op's execution under random idles and back-pressure, and
one weight word per cycle (NF*SF cycles per pixel) at full rate. Each case is a one-node graph of an MVAU: its
parameters and memories are the op's ``core(model)``, as the code generator instantiates it."""
import json
import math
import os

import cocotb
import numpy as np
import pytest

from signflow.ops.mvau import mvau
from signflow.packing import pack, pack_words, unpack, write_memh
from tests.flow.ops.conftest import one_mvau, run_model
from tests.rtl.axis import VARIANTS, StreamSink, StreamSource, reset, run_bench

MIN_FRAMES = 2  # frames per variant (more for tiny frames, so the timing check spans >= 64 cycles)

# id -> (MW, MH, PE, SIMD, input_mode, in_bits, output_mode, (OUT_H, OUT_W), (PERIOD_H, PERIOD_W), (POOL_H, POOL_W))
CASES = {
    "bin_thr_conv": (32, 16, 4, 8, "binary", 1, "threshold", (3, 5), (2, 2), (1, 1)),
    "bin_thr_fc_odd": (18, 6, 3, 9, "binary", 1, "threshold", (1, 1), (1, 1), (1, 1)),
    "int_thr_conv": (27, 8, 2, 3, "int", 8, "threshold", (4, 3), (2, 2), (1, 1)),
    "bin_acc_fc": (64, 10, 5, 16, "binary", 1, "acc", (1, 1), (1, 1), (1, 1)),
    # PE = SIMD = 1: no adder tree; ACC_BITS is the op's acc_width, 9, the exact range of the sum (+-160), one
    # bit below mvau.sv's accumulator register (its NEED)
    "int_acc_serial": (20, 6, 1, 1, "int", 4, "acc", (2, 3), (1, 1), (1, 1)),
    # NF = SF = 1: one output beat per cycle; the last row and column of a frame end mid-period
    "bin_thr_parallel": (10, 3, 3, 10, "binary", 1, "threshold", (5, 4), (3, 2), (1, 1)),
    # before a 2x2 OR pool: the phase follows the pooled pixel; odd map, periods 2x2 and 3x3
    "bin_thr_pool2x2": (18, 4, 2, 9, "binary", 1, "threshold", (5, 7), (2, 2), (2, 2)),
    "int_thr_pool2x2_p3x3": (12, 3, 3, 4, "int", 4, "threshold", (5, 7), (3, 3), (2, 2)),
}


def frames_per_variant(name):
    mw, mh, pe, simd, _, _, _, (oh, ow), _, _ = CASES[name]
    return max(MIN_FRAMES, 1 + math.ceil(64 / (oh * ow * (mh // pe) * (mw // simd))))


def make_case(name):
    """Deterministic case: the MVAU op, its one-node graph, the input frames of all variants and their golden
    output (the graph's execution)."""
    mw, mh, pe, simd, input_mode, in_bits, output_mode, (oh, ow), period, pool = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    params = {"input_mode": input_mode, "output_mode": output_mode, "period": list(period), "pool": list(pool)}
    weights = rng.integers(0, 2, size=(mw, mh))
    frames = frames_per_variant(name) * len(VARIANTS)
    pixel = () if (oh, ow) == (1, 1) else (oh, ow)
    if input_mode == "binary":
        x = rng.integers(0, 2, size=(frames, *pixel, mw))
        lo, hi = 0, mw  # popcount range
    else:
        x = rng.integers(-(1 << (in_bits - 1)), 1 << (in_bits - 1), size=(frames, *pixel, mw))
        lo, hi = -mw * (1 << (in_bits - 1)), mw * (1 << (in_bits - 1))
    consts = {"w": weights}
    if output_mode == "threshold":
        # mostly values the accumulator takes (so equality is hit), some below the minimum / above the maximum.
        # The flow's thresholds stay within lo..hi + 1 (flow/transforms/thresholds.py: accumulator values and
        # max + 1, as popcounts in binary mode); these go up to 3 below and 4 above, to check that a threshold
        # beyond the reachable range compares always / never true. They still fit the op's ACC_BITS (checked below).
        reached = mvau(x, weights, None, {**params, "output_mode": "acc"}).reshape(-1, mh).astype(np.int64)
        if input_mode == "binary":
            reached = (reached + mw) // 2  # popcount domain
        phases = period[0] * period[1]
        picks = reached[rng.integers(0, len(reached), size=(mh, phases)), np.arange(mh)[:, None]]
        thresholds = picks + rng.integers(-1, 2, size=(mh, phases))
        kind = rng.random((mh, phases))
        thresholds = np.where(kind < 0.1, lo - rng.integers(0, 4, size=(mh, phases)), thresholds)
        thresholds = np.where(kind > 0.9, hi + 1 + rng.integers(0, 4, size=(mh, phases)), thresholds)
        consts["t"] = thresholds
    op, model = one_mvau(x, consts, mw, mh, pe, simd, input_mode, in_bits, output_mode, period, pool)
    if output_mode == "threshold":  # mvau_threshold_words would wrap a threshold ACC_BITS cannot hold
        acc_bits = op.acc_width()
        assert -(1 << (acc_bits - 1)) <= thresholds.min() and thresholds.max() < 1 << (acc_bits - 1)
    return op, model, x, run_model(model, {"x": x}).astype(np.int64)


def expected_beats(op, golden):
    """Output words of the golden frames: per pixel NF beats of PE lanes."""
    stream = op.out_stream()
    return [pack(row, stream.bits) for row in golden.reshape(-1, stream.lanes)]


@cocotb.test()
async def run_test_mvau(dut):
    name = os.environ["MVAU_CASE"]
    op, model, x, golden = make_case(name)
    _, hw, _ = op.core(model)
    nf, sf = hw["MH"] // hw["PE"], hw["MW"] // hw["SIMD"]
    assert int(dut.MW.value) == hw["MW"] and int(dut.ACC_BITS.value) == hw["ACC_BITS"]
    source_stream, sink_stream = op.in_stream(), op.out_stream()
    bits = sink_stream.bits
    count = frames_per_variant(name)
    for index, (variant, (idle, backpressure)) in enumerate(VARIANTS.items()):
        frames = x[index * count:(index + 1) * count]
        words = pack_words(frames.reshape(-1), source_stream.lanes, source_stream.bits)
        expected = expected_beats(op, golden[index * count:(index + 1) * count])
        assert len(words) == count * source_stream.beats and len(expected) == count * sink_stream.beats
        await reset(dut)
        source = StreamSource(dut, words, idle=idle, seed=10 + index)
        sink = StreamSink(dut, len(expected), backpressure=backpressure, seed=20 + index)
        cocotb.start_soon(source.run())
        await sink.run(timeout_cycles=50 * len(words) * nf + 1000)
        for beat, (got, want) in enumerate(zip(sink.words, expected)):
            if got != want:
                raise AssertionError(
                    f"{name}/{variant}: beat {beat} (pixel {beat // nf}, nf {beat % nf}): got "
                    f"{unpack(got, hw['PE'], bits, signed=sink_stream.is_signed).tolist()}, "
                    f"want {unpack(want, hw['PE'], bits, signed=sink_stream.is_signed).tolist()}")
        if variant == "plain":
            # steady state: last beat of frame 1 to last beat of the last frame; one weight word per cycle
            per_frame = sink_stream.beats  # pixels * NF
            measured = sink.cycles[-1] - sink.cycles[per_frame - 1]
            ideal = (count - 1) * op.expected_cycles()  # pixels * NF * SF per frame
            # pipeline latency: input beats accepted from cycle 0; first output beat SF - 1 + 3 + WEIGHTS_BLOCK +
            # max(1, clog2(SIMD)) later (SIMD = 1 keeps one tree level; block RAM weights get one more register)
            latency = sf + 2 + int(dut.WEIGHTS_BLOCK.value) + max(1, math.ceil(math.log2(hw["SIMD"])))
            dut._log.info("%s: %d cycles for %d frames (ideal %d); first output beat at cycle %d (expected %d)",
                          name, measured, count - 1, ideal, sink.cycles[0], latency)
            assert abs(measured - ideal) <= ideal // 100 + 2, f"{name}: {measured} cycles, ideal {ideal}"
            assert sink.cycles[0] == latency, f"{name}: first output at cycle {sink.cycles[0]}, expected {latency}"


#: cases also run with both memories in block RAM (the flow picks it for large memories only): the weights
#: then take one more register before the adder tree
BLOCK_CASES = ["bin_thr_conv", "int_acc_serial"]


@pytest.mark.rtlsim
@pytest.mark.parametrize("name, block", [(name, 0) for name in CASES] + [(name, 1) for name in BLOCK_CASES])
def test_mvau(name, block, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp(f"mvau_{name}_{block}")
    op, model, _, _ = make_case(name)
    module, params, memories = op.core(model)
    parameters = dict(params)
    if block:
        parameters.update(WEIGHTS_BLOCK=1, THRESHOLDS_BLOCK=1)
    for param, memory in memories.items():  # as flow/codegen/rtl.py writes them
        if memory.used:  # else the core ignores the file (the thresholds in acc mode): the module's default stays
            path = build_dir / f"{param.lower().replace('_file', '')}.memh"
            write_memh(path, memory.words, memory.width)
            parameters[param] = json.dumps(str(path))  # Verilator -G takes string parameters as quoted literals
    run_bench(module, parameters, "tests.rtl.test_mvau", build_dir, extra_env={"MVAU_CASE": name})
