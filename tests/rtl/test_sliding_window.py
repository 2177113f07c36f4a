"""cocotb bench of sliding_window: every output beat against the golden ``sliding_window`` (bit-exact),
under random input idles and output back-pressure, frames back to back, with uniform and per-channel pad
values; the plain variant also checks the steady-state cycles per frame against
``SlidingWindow.expected_cycles``' formula."""
import json
import os

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, ReadOnly

from signflow.ops.hw import window_dims
from signflow.ops.sliding_window import sliding_window
from signflow.packing import pack_words, write_memh
from tests.rtl.axis import VARIANTS, StreamSink, StreamSource, reset, run_bench

FRAMES = 2


def geometry(cfg):
    """(OH, OW, parallel-window flag, input lanes) of a case."""
    p = cfg["params"]
    oh, ow = window_dims(p["IFM_H"], p["IFM_W"], (p["KH"], p["KW"]), (p["STRIDE_H"], p["STRIDE_W"]),
                         (p["PAD_TOP"], p["PAD_LEFT"], p["PAD_BOTTOM"], p["PAD_RIGHT"]))
    parallel = p["SIMD"] == p["KH"] * p["KW"] * p["C"] and p["KH"] * p["KW"] > 1
    return oh, ow, parallel, p["C"] if parallel else p["SIMD"]


def expected_cycles(cfg):
    """Cycles per frame in steady state (the formula of ``SlidingWindow.expected_cycles``)."""
    p = cfg["params"]
    oh, ow, parallel, _ = geometry(cfg)
    if parallel:
        return max(p["IFM_H"] * p["IFM_W"], oh * ow)
    return max(p["IFM_H"] * p["IFM_W"] * p["C"], oh * ow * p["KH"] * p["KW"] * p["C"]) // p["SIMD"]


def stimulus(cfg, seed):
    """Random input frames and the golden output, both as packed stream words."""
    p, signed, frames = cfg["params"], cfg["signed"], cfg.get("frames", FRAMES)
    bits = p["BITS"]
    rng = np.random.default_rng(seed)
    low, high = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    x = rng.integers(low, high, size=(frames, p["IFM_H"], p["IFM_W"], p["C"]), dtype=np.int64)
    y = sliding_window(x, (p["KH"], p["KW"]), (p["STRIDE_H"], p["STRIDE_W"]),
                       (p["PAD_TOP"], p["PAD_LEFT"], p["PAD_BOTTOM"], p["PAD_RIGHT"]), cfg["pad_values"])
    _, _, _, in_lanes = geometry(cfg)
    return pack_words(x.reshape(-1), in_lanes, bits), pack_words(y.reshape(-1), p["SIMD"], bits)


def leading_pad_beats(cfg):
    """How many beats at the start of a frame are padding only (the module may emit them early)."""
    p = cfg["params"]
    marks = sliding_window(np.ones((1, p["IFM_H"], p["IFM_W"], p["C"]), dtype=np.int64), (p["KH"], p["KW"]),
                           (p["STRIDE_H"], p["STRIDE_W"]),
                           (p["PAD_TOP"], p["PAD_LEFT"], p["PAD_BOTTOM"], p["PAD_RIGHT"]), 0)
    beats = marks.reshape(-1, p["SIMD"]).any(axis=1)
    return int(np.argmax(beats)) if beats.any() else len(beats)


async def check_idle_after(dut, cfg, words_out, label, cycles=20):
    """After the last expected beat, with ready held high, the output may only run ahead into the next
    frame's leading padding-only beats (they need no input; ``words_out`` starts with them); anything else
    is a duplicated beat."""
    extra = []
    for _ in range(cycles):
        await FallingEdge(dut.ap_clk)
        dut.m_axis_tready.value = 1
        await ReadOnly()
        if int(dut.m_axis_tvalid.value):
            extra.append(int(dut.m_axis_tdata.value))
    await FallingEdge(dut.ap_clk)
    dut.m_axis_tready.value = 0
    allowed = leading_pad_beats(cfg)
    assert len(extra) <= allowed and extra == words_out[:len(extra)], \
        f"{label}: {len(extra)} beats beyond the expected frames ({allowed} leading padding beats allowed)"


@cocotb.test()
async def run_test_sliding_window(dut):
    cfg = json.loads(os.environ["SLIDING_WINDOW_CASE"])
    frames, timing = cfg.get("frames", FRAMES), None
    for index, (name, (idle, backpressure)) in enumerate(VARIANTS.items()):
        words_in, words_out = stimulus(cfg, seed=100 + index)
        per_frame = len(words_out) // frames
        await reset(dut)
        source = StreamSource(dut, words_in, idle=idle, seed=10 + index)
        sink = StreamSink(dut, len(words_out), backpressure=backpressure, seed=20 + index)
        feeding = cocotb.start_soon(source.run())
        await sink.run(timeout_cycles=50 * len(words_out) + 1000)
        await feeding  # unused trailing rows/columns may still be entering
        for beat, (got, want) in enumerate(zip(sink.words, words_out)):
            assert got == want, (f"{cfg['name']}/{name}: beat {beat} (frame {beat // per_frame}, "
                                 f"beat {beat % per_frame}) got {got:#x}, want {want:#x}")
        await check_idle_after(dut, cfg, words_out, f"{cfg['name']}/{name}")
        if name == "plain":
            expected = expected_cycles(cfg)
            measured = sink.cycles[2 * per_frame - 1] - sink.cycles[per_frame - 1]
            latency = sink.cycles[0]
            dut._log.info(f"{cfg['name']}: cycles/frame {measured} (expected {expected}), "
                          f"first beat at cycle {latency}, frame 1 done at cycle {sink.cycles[per_frame - 1]}")
            timing = measured, expected
    measured, expected = timing  # checked after the data of every variant
    assert abs(measured - expected) <= 0.05 * expected + 4, \
        f"{cfg['name']}: {measured} cycles per frame, expected about {expected}"


def case(name, ifm, c, kernel, stride, pads, bits, simd, pad_values=0, signed=False):
    """A bench case; ``pad_values``: one value, or one per channel (signed values on signed streams)."""
    (h, w), (kh, kw), (sh, sw) = ifm, kernel, stride
    top, left, bottom, right = pads
    values = [int(v) for v in np.broadcast_to(pad_values, c)]
    patterns = [v & ((1 << bits) - 1) for v in values]  # the pad values as bit patterns
    per_channel = len(set(patterns)) > 1
    params = {"IFM_H": h, "IFM_W": w, "C": c, "KH": kh, "KW": kw, "STRIDE_H": sh, "STRIDE_W": sw,
              "PAD_TOP": top, "PAD_LEFT": left, "PAD_BOTTOM": bottom, "PAD_RIGHT": right, "BITS": bits,
              "SIMD": simd, "PAD_VALUE": 0 if per_channel else patterns[0], "PAD_PER_CHANNEL": int(per_channel)}
    return pytest.param({"name": name, "params": params, "signed": signed, "pad_values": values}, id=name)


CASES = [
    case("5x7c4k3_simd2", (5, 7), 4, (3, 3), (1, 1), (0, 0, 0, 0), bits=1, simd=2),
    case("6x6c2k3_pad1_simd1", (6, 6), 2, (3, 3), (1, 1), (1, 1, 1, 1), bits=1, simd=1),
    case("8x8c3k3_int8_simd3", (8, 8), 3, (3, 3), (1, 1), (0, 0, 0, 0), bits=8, simd=3, signed=True),
    case("8x8c3k3_int8_pad_simd3", (8, 8), 3, (3, 3), (1, 1), (1, 2, 2, 1), bits=8, simd=3,
         pad_values=-128, signed=True),
    case("7x5c2k2s2_simd2", (7, 5), 2, (2, 2), (2, 2), (0, 0, 0, 0), bits=4, simd=2),
    case("6x5c2k3_pad1_parallel", (6, 5), 2, (3, 3), (1, 1), (1, 1, 1, 1), bits=1, simd=18),
    # per-channel pads (channels complemented into the next layer): bits, SIMD-folded over 3 channel groups
    case("5x7c6k3_pad1_simd2_bits_per_channel", (5, 7), 6, (3, 3), (1, 1), (1, 1, 1, 1), bits=1, simd=2,
         pad_values=[0, 1, 1, 1, 0, 1]),
    case("7x5c3k3s2_int6_pad_simd1_per_channel", (7, 5), 3, (3, 3), (2, 1), (1, 2, 2, 0), bits=6, simd=1,
         pad_values=[-32, 31, -1], signed=True),
    case("5x7c3k3_pad1_parallel_per_channel", (5, 7), 3, (3, 3), (1, 1), (1, 1, 1, 1), bits=1, simd=27,
         pad_values=[1, 0, 1]),
]


@pytest.mark.parametrize("cfg", CASES)
def test_sliding_window(cfg, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp(f"sliding_window_{cfg['name']}")
    parameters = dict(cfg["params"])
    if parameters["PAD_PER_CHANNEL"]:
        p, lanes = parameters, geometry(cfg)[3]
        write_memh(build_dir / "pad_values.memh",
                   pack_words([v & ((1 << p["BITS"]) - 1) for v in cfg["pad_values"]], lanes, p["BITS"]),
                   lanes * p["BITS"])
        parameters["PAD_VALUES_FILE"] = json.dumps(str(build_dir / "pad_values.memh"))  # a quoted string for -G
    run_bench("sliding_window", parameters, "tests.rtl.test_sliding_window", build_dir,
              extra_env={"SLIDING_WINDOW_CASE": json.dumps(cfg)})
