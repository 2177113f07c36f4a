"""cocotb bench of dynamic_threshold: bit-exact against flow.ops.dynamic_threshold.dynamic_threshold (NHWC) under
random idles and back-pressure, frames whose codes change from frame to frame, and max(F, MLP) cycles per frame
at full rate (F = H*W*C/PE beats, MLP = (HID+1)*C/PE + 1 cycles)."""
import json
import os

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, ReadOnly

from signflow.ops.dynamic_threshold import dynamic_codes, dynamic_threshold
from signflow.packing import dynamic_threshold_memories, pack, unpack, write_memh
from tests.rtl.axis import VARIANTS, StreamSink, StreamSource, reset, run_bench

FRAMES = 6  # frames per variant
W_BITS = 4  # MLP weights in [-8, 7]

# a real layer's rescaling: q 8-bit signed, r 4-bit unsigned, u 4-bit signed (16 codes)
LAYER = {"stat_shift": -4, "q_min": -128, "q_max": 127, "r_shift": -3, "r_min": 0, "r_max": 15,
         "u_shift": -2, "u_min": -8, "u_max": 7}
# id -> (H, W, C, PE, HID, ACC_BITS, params)
CASES = {
    "h3w3c4pe2": (3, 3, 4, 2, 2, 8, LAYER),
    "h2w5c6pe3": (2, 5, 6, 3, 3, 10, LAYER),
    # one beat per pixel (G = 1), HID = 1 (the W2 pass is first and last), halves at shift -1
    "h2w2c4pe4": (2, 2, 4, 4, 1, 6, {"stat_shift": -1, "q_min": -16, "q_max": 15, "r_shift": -4, "r_min": 0,
                                     "r_max": 7, "u_shift": -1, "u_min": -4, "u_max": 3}),
}


def mlp_cycles(c, pe, hid):
    """Cycles the MLP sequencer needs per frame (its initiation interval): HID+1 passes of C/PE, one idle."""
    return (hid + 1) * (c // pe) + 1


def make_case(name):
    """Deterministic data of a case: weights, thresholds, directions and FRAMES * len(VARIANTS) frames."""
    h, w, c, pe, hid, acc_bits, params = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    w1 = rng.integers(-8, 8, size=(c, hid))
    w2 = rng.integers(-8, 8, size=(hid, c))
    direction = rng.choice([-1, 1], size=c)
    codes = params["u_max"] - params["u_min"] + 1
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    # thresholds over the whole accumulator range and a little beyond; a few far outside (always / never)
    thr = rng.integers(lo - 2, hi + 4, size=(c, codes))
    far = rng.random((c, codes))
    thr = np.where(far < 0.05, lo - 1000, np.where(far > 0.95, hi + 1000, thr))
    # a pool of frames with different per-channel means and spreads; pick frames that reach new codes first
    pool = []
    for _ in range(400):
        scale = hi * rng.choice([1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1])
        mean = rng.uniform(-scale, scale, size=c)
        spread = rng.uniform(0, hi / 2)
        frame = np.round(mean + rng.uniform(-spread, spread, size=(h, w, c)))
        extreme = rng.random((h, w, c))  # some full-scale values
        frame = np.where(extreme < 0.03, lo, np.where(extreme > 0.97, hi, frame))
        pool.append(np.clip(frame, lo, hi).astype(np.int64))
    pool = np.stack(pool)
    pool_codes = dynamic_codes(pool.sum(axis=(1, 2)), w1, w2, params)
    seen, chosen = set(), []
    while len(chosen) < FRAMES * len(VARIANTS):
        gains = [len({(ch, int(k)) for ch, k in enumerate(pool_codes[i])} - seen) if i not in chosen else -1
                 for i in range(len(pool))]
        best = int(np.argmax(gains))
        if gains[best] <= 0:  # every reachable code seen: the rest at random
            best = int(rng.choice([i for i in range(len(pool)) if i not in chosen]))
        chosen.append(best)
        seen |= {(ch, int(k)) for ch, k in enumerate(pool_codes[best])}
    # round robin to the variants, so each variant sees many codes
    order = [chosen[v + len(VARIANTS) * f] for v in range(len(VARIANTS)) for f in range(FRAMES)]
    return {"hw": (h, w, c, pe, hid, acc_bits), "params": params, "w1": w1, "w2": w2, "thr": thr,
            "direction": direction, "frames": pool[order], "codes": pool_codes[order]}


class InputMonitor:
    """Records the cycle of every accepted input beat, counted like StreamSink counts (one per falling edge)."""

    def __init__(self, dut):
        self.dut, self.cycles = dut, []

    async def run(self):
        cycle = 0
        while True:
            await FallingEdge(self.dut.ap_clk)
            await ReadOnly()
            if int(self.dut.s_axis_tvalid.value) and int(self.dut.s_axis_tready.value):
                self.cycles.append(cycle)
            cycle += 1


@cocotb.test()
async def run_test_dynamic_threshold(dut):
    name = os.environ["DYNAMIC_THRESHOLD_CASE"]
    case = make_case(name)
    h, w, c, pe, hid, acc_bits = case["hw"]
    groups = c // pe
    per_frame = h * w * groups
    assert int(dut.C.value) == c and int(dut.ACC_BITS.value) == acc_bits
    for index, (variant, (idle, backpressure)) in enumerate(VARIANTS.items()):
        frames = case["frames"][index * FRAMES:(index + 1) * FRAMES]
        codes = case["codes"][index * FRAMES:(index + 1) * FRAMES]
        expected_bits = dynamic_threshold(frames, case["w1"], case["w2"], case["thr"], case["direction"],
                                          case["params"], layout="NHWC")
        words = [pack(beat, acc_bits) for beat in frames.reshape(-1, pe)]
        expected = [pack(beat, 1) for beat in expected_bits.astype(np.int64).reshape(-1, pe)]
        await reset(dut)
        source = StreamSource(dut, words, idle=idle, seed=10 + index)
        sink = StreamSink(dut, len(expected), backpressure=backpressure, seed=20 + index)
        monitor = InputMonitor(dut)
        monitor_task = cocotb.start_soon(monitor.run())
        cocotb.start_soon(source.run())
        await sink.run(timeout_cycles=100 * len(words) + 10_000)
        monitor_task.cancel()
        for beat, (got, want) in enumerate(zip(sink.words, expected)):
            if got != want:
                frame, rest = divmod(beat, per_frame)
                pixel, group = divmod(rest, groups)
                raise AssertionError(
                    f"{name}/{variant}: frame {frame} pixel {pixel} group {group} (codes {codes[frame].tolist()}): "
                    f"got {unpack(got, pe, 1).tolist()}, want {unpack(want, pe, 1).tolist()}")
        dut._log.info("%s/%s: %d frames bit-exact, codes per frame %s", name, variant, FRAMES, codes.tolist())
        if variant == "plain":
            mlp = mlp_cycles(c, pe, hid)
            ideal = max(per_frame, mlp)
            starts = [sink.cycles[f * per_frame] for f in range(FRAMES)]
            measured = (starts[-1] - starts[1]) / (FRAMES - 2)  # steady state: after the first frame
            latency = sink.cycles[0] - monitor.cycles[per_frame - 1]  # last input beat -> first output beat
            dut._log.info("%s: %.2f cycles per frame (max(F=%d, MLP=%d) = %d; MLP budget 2*C*HID/PE = %d); "
                          "frame starts %s; latency last input beat -> first output beat %d cycles "
                          "(first input -> first output %d)", name, measured, per_frame, mlp, ideal,
                          2 * c * hid // pe, starts, latency, sink.cycles[0] - monitor.cycles[0])
            assert abs(measured - ideal) <= 0.1 * ideal + 3, f"{name}: {measured} cycles per frame, ideal {ideal}"
            assert latency == (hid + 1) * groups + 11, f"{name}: latency {latency}"


@pytest.mark.rtlsim
@pytest.mark.parametrize("name", list(CASES))
def test_dynamic_threshold(name, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp(f"dynamic_threshold_{name}")
    case = make_case(name)
    h, w, c, pe, hid, acc_bits = case["hw"]
    p = case["params"]
    codes = case["codes"]
    assert len(np.unique(codes)) >= 4 and all(len(np.unique(codes[:, ch])) >= 2 for ch in range(c)), codes
    parameters = {"H": h, "W": w, "C": c, "PE": pe, "ACC_BITS": acc_bits, "HID": hid, "W_BITS": W_BITS,
                  "SUM_BITS": acc_bits + int(np.ceil(np.log2(h * w))),
                  "STAT_SHIFT": p["stat_shift"], "Q_MIN": p["q_min"], "Q_MAX": p["q_max"],
                  "R_SHIFT": p["r_shift"], "R_MIN": p["r_min"], "R_MAX": p["r_max"],
                  "U_SHIFT": p["u_shift"], "U_MIN": p["u_min"], "U_MAX": p["u_max"]}
    memories = dynamic_threshold_memories(case["w1"], case["w2"], case["thr"], case["direction"], pe, W_BITS,
                                          acc_bits)
    for stem, (words, width) in memories.items():
        path = build_dir / f"{stem}.memh"
        write_memh(path, words, width)
        # Verilator -G takes string parameters as quoted literals
        parameters[f"{stem.upper()}_FILE"] = json.dumps(str(path))
    run_bench("dynamic_threshold", parameters,
              "tests.rtl.test_dynamic_threshold", build_dir, extra_env={"DYNAMIC_THRESHOLD_CASE": name})
