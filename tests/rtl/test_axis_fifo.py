"""cocotb bench of axis_fifo: order preserved under random idles and back-pressure, latency, capacity and reset;
and a Yosys check that its memory maps to a RAM primitive."""
import json
import random
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import cocotb
import pytest
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from tests.rtl.axis import VARIANTS, StreamSink, StreamSource, reset, run_bench

#: cycles from an input beat to m_axis_tvalid on an empty FIFO (as the header of axis_fifo.sv says)
LATENCY = 2
RTL = Path(__file__).resolve().parents[2] / "hw_templates" / "rtl" / "axis_fifo.sv"


def capacity(dut):
    """Words held with the sink stalled: DEPTH in the memory and one in the output register."""
    return int(dut.DEPTH.value) + 1


async def offer(dut, word, valid=1, ready=0):
    """Drive one input beat (and the sink's ``ready``) for the coming rising edge; True when the beat will be
    accepted."""
    await FallingEdge(dut.ap_clk)
    dut.s_axis_tdata.value = word
    dut.s_axis_tvalid.value = valid
    dut.m_axis_tready.value = ready
    await ReadOnly()
    return bool(valid and int(dut.s_axis_tready.value))


async def fill(dut, words):
    """With the sink stalled, offer ``words`` one per cycle (then idle for LATENCY cycles); returns how many
    were accepted."""
    accepted = 0
    for word in words:
        accepted += await offer(dut, word)
    for _ in range(LATENCY):
        await offer(dut, 0, valid=0)
    return accepted


async def drain(dut, count):
    """Take ``count`` words with the sink always ready (asserting one comes every cycle); then the FIFO must
    be empty again."""
    words = []
    for _ in range(count):
        await FallingEdge(dut.ap_clk)
        dut.m_axis_tready.value = 1
        await ReadOnly()
        assert int(dut.m_axis_tvalid.value), f"no word in the cycle after word {len(words)}"
        words.append(int(dut.m_axis_tdata.value))
    await FallingEdge(dut.ap_clk)
    await ReadOnly()
    assert not int(dut.m_axis_tvalid.value), "valid after the last word"
    return words


def stored_words(dut, count, seed):
    width = int(dut.WIDTH.value)
    return [random.Random(seed + i).getrandbits(width) for i in range(count)]


@cocotb.test()
async def run_test_fifo(dut):
    width = int(dut.WIDTH.value)
    words = [random.Random(i).getrandbits(width) for i in range(200)]
    for name, (idle, backpressure) in VARIANTS.items():
        await reset(dut)
        source = StreamSource(dut, words, idle=idle)
        sink = StreamSink(dut, len(words), backpressure=backpressure)
        cocotb.start_soon(source.run())
        await sink.run()
        assert sink.words == words, f"{name}: words differ"
        if name == "plain":  # full throughput: one beat per cycle after the first
            assert sink.cycles[-1] - sink.cycles[0] == len(words) - 1


@cocotb.test()
async def run_test_latency(dut):
    """A beat accepted in cycle 0 is valid at the output in cycle LATENCY (sink ready throughout)."""
    await reset(dut)
    word = stored_words(dut, 1, seed=7)[0]
    assert await offer(dut, word, ready=1), "an empty FIFO refused a beat"
    assert not int(dut.m_axis_tvalid.value), "valid before any beat arrived"
    cycle = 0
    while True:
        cycle += 1
        await offer(dut, 0, valid=0, ready=1)
        if int(dut.m_axis_tvalid.value) or cycle > 2 * LATENCY:
            break
    assert cycle == LATENCY, f"output valid {cycle} cycles after the input beat, expected {LATENCY}"
    assert int(dut.m_axis_tdata.value) == word


@cocotb.test()
async def run_test_capacity(dut):
    """With the sink stalled exactly capacity() words go in, then s_axis_tready stays low; all come out in
    order, one per cycle."""
    await reset(dut)
    words = stored_words(dut, capacity(dut) + 4, seed=100)
    accepted = await fill(dut, words)
    assert accepted == capacity(dut), f"{accepted} words accepted with the sink stalled, expected {capacity(dut)}"
    assert not int(dut.s_axis_tready.value), "ready while full"
    assert await drain(dut, accepted) == words[:accepted]
    assert int(dut.s_axis_tready.value), "not ready once empty"


@cocotb.test()
async def run_test_reset(dut):
    """A reset empties a full FIFO: nothing valid after it, the full capacity free again, and only the words
    written after it come out."""
    await reset(dut)
    assert await fill(dut, stored_words(dut, capacity(dut), seed=200)) == capacity(dut)
    await FallingEdge(dut.ap_clk)
    dut.ap_rst_n.value = 0
    await RisingEdge(dut.ap_clk)
    await FallingEdge(dut.ap_clk)
    dut.ap_rst_n.value = 1
    await ReadOnly()
    assert not int(dut.m_axis_tvalid.value), "valid after reset"
    assert int(dut.s_axis_tready.value), "not ready after reset"
    words = stored_words(dut, capacity(dut), seed=300)
    assert await fill(dut, words) == capacity(dut)
    assert await drain(dut, capacity(dut)) == words


@pytest.mark.parametrize("width, depth", [(1, 2), (8, 16), (37, 64)])
def test_axis_fifo(width, depth, tmp_path_factory):
    run_bench("axis_fifo", {"WIDTH": width, "DEPTH": depth}, "tests.rtl.test_axis_fifo",
              tmp_path_factory.mktemp(f"fifo_{width}_{depth}"))


def test_axis_fifo_maps_to_ram(tmp_path):
    """Yosys synth_xilinx puts a 512 x 32 FIFO's memory into a RAM primitive, not WIDTH * DEPTH flip-flops."""
    width, depth = 32, 512
    yosys = shutil.which("yosys")
    if yosys is None:
        pytest.fail("yosys is not on PATH: install Debian's 'yosys' package (make does this when it can)")
    netlist = tmp_path / "netlist.json"
    script = (f"read_verilog -sv {RTL}; chparam -set WIDTH {width} -set DEPTH {depth} axis_fifo; "
              f"synth_xilinx -top axis_fifo; write_json {netlist}")
    done = subprocess.run([yosys, "-q", "-p", script], check=False, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, (done.stderr or done.stdout)[-2000:]
    # the cell-type histogram `stat` prints, read from the netlist as the synth_estimate step does
    cells = Counter(cell["type"] for cell in json.loads(netlist.read_text())["modules"]["axis_fifo"]["cells"].values())
    rams = {kind: n for kind, n in cells.items() if kind.startswith("RAM")}
    assert rams, f"no RAM primitive: {dict(cells)}"
    ffs = sum(n for kind, n in cells.items() if kind.startswith("FD"))
    # flops: both pointers, the valid bit and the registered ready; the output register too unless a block RAM
    # absorbs it
    pointer_bits = depth.bit_length()
    expected_ffs = 2 * pointer_bits + 2 + (0 if any(kind.startswith("RAMB") for kind in rams) else width)
    assert ffs <= expected_ffs < width * depth // 16, f"{ffs} flip-flops, expected <= {expected_ffs}: {dict(cells)}"
