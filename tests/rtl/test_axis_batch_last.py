"""cocotb bench of axis_batch_last around an accelerator emulated in Python: every output beat is the one the
emulator produced, in order; m_axis_tlast is high exactly on the last beat of each batch's last frame; the
input is held exactly while DEPTH frames are in flight (and that stall happens for small DEPTH)."""
import random

import cocotb
import pytest
from cocotb.triggers import FallingEdge, ReadOnly

from tests.rtl.axis import StreamSource, reset, run_bench

TEST_MODULE = "tests.rtl.test_axis_batch_last"
TIMEOUT_CYCLES = 200_000


def params(dut):
    return {name: int(getattr(dut, name).value) for name in ("IN_W", "OUT_W", "IN_BEATS", "OUT_BEATS", "DEPTH")}


def frame_output(frame_index, beats, out_beats, out_w):
    """The emulated accelerator's output frame: a hash of the input frame, its index and the beat index."""
    acc = frame_index * 0x9E3779B1
    for k, word in enumerate(beats):
        acc = (acc * 0x01000193 + word * (k + 7)) & 0xFFFFFFFF
    return [((acc + j * 0x85EBCA6B) * 0xC2B2AE35 >> 7) & ((1 << out_w) - 1) for j in range(out_beats)]


def make_batches(rng, p, frames):
    """Input words, their tlast bits and the expected output words and tlast bits. Batches of random sizes,
    the first of one frame; one batch has its TLAST mid-frame, one on two beats of its last frame."""
    sizes = [1]
    while sum(sizes) < frames or len(sizes) < 6:
        sizes.append(rng.choice([1, 2, rng.randint(3, 6), rng.randint(5, min(3 * p["DEPTH"] + 2, 24))]))
    words, lasts, out_words, out_lasts = [], [], [], []
    frame_index = 0
    for b, size in enumerate(sizes):
        for f in range(size):
            beats = [rng.getrandbits(p["IN_W"]) for _ in range(p["IN_BEATS"])]
            tlast = [0] * p["IN_BEATS"]
            end = f == size - 1
            if end and b == 2:  # TLAST in the middle of the frame
                tlast[(p["IN_BEATS"] - 1) // 2] = 1
            elif end and b == 3:  # TLAST on the first and the last beat
                tlast[0] = tlast[-1] = 1
            elif end:
                tlast[-1] = 1
            words += beats
            lasts += tlast
            out = frame_output(frame_index, beats, p["OUT_BEATS"], p["OUT_W"])
            out_words += out
            out_lasts += [int(end and j == p["OUT_BEATS"] - 1) for j in range(p["OUT_BEATS"])]
            frame_index += 1
    return sizes, words, lasts, out_words, out_lasts


class Accelerator:
    """Emulates the accelerator on acc_in / acc_out: takes input beats under random back-pressure and, once a
    frame of IN_BEATS beats is complete, emits its OUT_BEATS output beats with random idles. It alternates
    between holding its output (until up to DEPTH + 3 frames are pending, or for a while) and draining, so the
    flag FIFO fills up. It also checks the input-side pass-through and stall every cycle."""

    def __init__(self, dut, p, rng, idle, backpressure):
        self.dut, self.p, self.rng, self.idle, self.backpressure = dut, p, rng, idle, backpressure
        self.pending = []      # output frames whose input is complete and whose output is not
        self.partial = []      # beats of the input frame being received
        self.frames_in = 0
        self.out_beat = 0      # next beat of pending[0] to emit
        self.valid = False     # acc_out_tvalid as driven
        self.stalls = 0        # cycles the full flag FIFO held a valid input the accelerator would take
        self.max_pending = 0

    def _new_hold(self):
        self.holding = True
        self.hold_target = self.rng.randint(1, self.p["DEPTH"] + 3)
        self.hold_left = self.rng.randint(0, 3 * self.hold_target * self.p["IN_BEATS"] + 10)

    async def run(self):
        dut, p, rng = self.dut, self.p, self.rng
        self._new_hold()
        while True:
            await FallingEdge(dut.ap_clk)
            # output: hold, or drain the pending frames; valid and data stay while not taken
            if self.holding:
                self.hold_left -= 1
                if len(self.pending) >= self.hold_target or self.hold_left <= 0:
                    self.holding = False
            elif not self.pending or rng.random() < 0.02:
                self._new_hold()
            if not self.valid and self.pending and not self.holding and rng.random() >= self.idle:
                self.valid = True
            dut.acc_out_tvalid.value = int(self.valid)
            if self.pending:
                dut.acc_out_tdata.value = self.pending[0][self.out_beat]
            # input: random back-pressure, never more than DEPTH + 3 pending frames
            ready = len(self.pending) < p["DEPTH"] + 3 and rng.random() >= self.backpressure
            dut.acc_in_tready.value = int(ready)
            await ReadOnly()

            s_valid, s_ready = int(dut.s_axis_tvalid.value), int(dut.s_axis_tready.value)
            full = len(self.pending) == p["DEPTH"]
            assert len(self.pending) <= p["DEPTH"], f"{len(self.pending)} frames in flight, DEPTH {p['DEPTH']}"
            assert int(dut.acc_in_tvalid.value) == int(s_valid and not full), "acc_in_tvalid"
            assert s_ready == int(ready and not full), f"s_axis_tready {s_ready}, full {full}, ready {ready}"
            assert int(dut.acc_in_tdata.value) == int(dut.s_axis_tdata.value), "acc_in_tdata"
            assert int(dut.m_axis_tvalid.value) == int(self.valid), "m_axis_tvalid"
            assert int(dut.acc_out_tready.value) == int(dut.m_axis_tready.value), "acc_out_tready"
            if s_valid and ready and full:
                self.stalls += 1

            if ready and int(dut.acc_in_tvalid.value):
                self.partial.append(int(dut.acc_in_tdata.value))
                if len(self.partial) == p["IN_BEATS"]:
                    self.pending.append(frame_output(self.frames_in, self.partial, p["OUT_BEATS"], p["OUT_W"]))
                    self.frames_in += 1
                    self.partial = []
                    self.max_pending = max(self.max_pending, len(self.pending))
            if self.valid and int(dut.acc_out_tready.value):
                self.valid = False
                self.out_beat += 1
                if self.out_beat == p["OUT_BEATS"]:
                    self.out_beat = 0
                    self.pending.pop(0)


async def collect(dut, count, rng, backpressure):
    """Accept ``count`` beats on m_axis under random back-pressure; returns [(tdata, tlast), ...]."""
    beats, cycle = [], 0
    while len(beats) < count:
        await FallingEdge(dut.ap_clk)
        ready = rng.random() >= backpressure
        dut.m_axis_tready.value = int(ready)
        await ReadOnly()
        if ready and int(dut.m_axis_tvalid.value):
            assert int(dut.m_axis_tdata.value) == int(dut.acc_out_tdata.value), "m_axis_tdata"
            beats.append((int(dut.m_axis_tdata.value), int(dut.m_axis_tlast.value)))
        cycle += 1
        assert cycle < TIMEOUT_CYCLES, f"timeout: {len(beats)} of {count} beats"
    await FallingEdge(dut.ap_clk)
    dut.m_axis_tready.value = 0
    return beats


async def run_case(dut, frames, seed, idle, backpressure):
    p = params(dut)
    rng = random.Random(seed * 1000 + sum(p.values()))
    sizes, words, lasts, out_words, out_lasts = make_batches(rng, p, frames)
    dut.s_axis_tlast.value = 0
    dut.acc_in_tready.value = 0
    dut.acc_out_tvalid.value = 0
    dut.acc_out_tdata.value = 0
    await reset(dut)
    acc = Accelerator(dut, p, random.Random(rng.random()), idle, backpressure)
    cocotb.start_soon(acc.run())
    cocotb.start_soon(StreamSource(dut, words, lasts=lasts, idle=idle, seed=rng.random()).run())
    got = await collect(dut, len(out_words), random.Random(rng.random()), backpressure)
    for index, ((data, last), want, want_last) in enumerate(zip(got, out_words, out_lasts)):
        frame = index // p["OUT_BEATS"]
        assert data == want, f"beat {index} (frame {frame}) is {data:#x}, expected {want:#x}"
        assert last == want_last, f"beat {index} (frame {frame}): tlast {last}, expected {want_last}"
    assert acc.frames_in == len(out_words) // p["OUT_BEATS"] and not acc.pending and not acc.partial
    dut._log.info("batches %s; %d stall cycles, up to %d frames in flight", sizes, acc.stalls, acc.max_pending)
    return acc


@cocotb.test()
async def run_test_smooth(dut):
    """Few idles and little back-pressure."""
    await run_case(dut, frames=60, seed=1, idle=0.0, backpressure=0.1)


@cocotb.test()
async def run_test_stress(dut):
    """Random idles and back-pressure everywhere; with a small DEPTH the full FIFO must hold the input."""
    acc = await run_case(dut, frames=200, seed=2, idle=0.3, backpressure=0.35)
    if params(dut)["DEPTH"] <= 4:
        assert acc.stalls > 0, "the flag FIFO never held the input"
        assert acc.max_pending == params(dut)["DEPTH"]


@pytest.mark.rtlsim
@pytest.mark.parametrize("in_w, out_w, in_beats, out_beats, depth",
                         [(8, 8, 1, 1, 2), (16, 4, 5, 3, 4), (3, 10, 2, 7, 64)],
                         ids=["w8b1d2", "w16to4b5to3d4", "w3to10b2to7d64"])
def test_axis_batch_last(in_w, out_w, in_beats, out_beats, depth, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("axis_batch_last")
    run_bench("axis_batch_last", {"IN_W": in_w, "OUT_W": out_w, "IN_BEATS": in_beats, "OUT_BEATS": out_beats,
                                  "DEPTH": depth}, TEST_MODULE, build_dir)
