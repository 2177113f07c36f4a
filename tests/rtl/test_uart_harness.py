"""cocotb bench of uart_harness (with uart_rx and uart_tx inside): a Python accelerator model on the stream side
and a UART model on the line; good frames bit-exact, wrong length / bad checksum / truncated frames answered with
the error frame, noise ignored, and a good frame goes through after each; for several beat shapes (one-byte
frames, beats of odd widths whose top byte is partly unused)."""
import os
import random

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from tests.rtl.axis import run_bench

CPB = 4
#: (IN_WIDTH, IN_BEATS, OUT_WIDTH, OUT_BEATS) per bench run; the run's shape comes in SIGNFLOW_UART_SHAPE
SHAPES = [(16, 3, 8, 2), (5, 1, 12, 1), (13, 7, 3, 4)]
IN_WIDTH, IN_BEATS, OUT_WIDTH, OUT_BEATS = (int(v) for v in os.environ.get("SIGNFLOW_UART_SHAPE", "16,3,8,2").split(","))
IB, OB = (IN_WIDTH + 7) // 8, (OUT_WIDTH + 7) // 8
IN_BYTES, OUT_BYTES = IN_BEATS * IB, OUT_BEATS * OB


def xor(data):
    value = 0
    for byte in data:
        value ^= byte
    return value


def request(payload, length=None):
    head = (len(payload) if length is None else length).to_bytes(2, "little")
    return bytes([0xA5]) + head + bytes(payload) + bytes([xor(head + bytes(payload))])


def model(beats):
    """The accelerator model: output beat k is (XOR of the input beats) + k * (their sum), to OUT_WIDTH bits."""
    mixed, total = xor(beats), sum(beats)
    return [(mixed + k * total) & ((1 << OUT_WIDTH) - 1) for k in range(OUT_BEATS)]


def beats_of(payload):
    """The beats the harness feeds from a payload: IB bytes each, little-endian, the bits above IN_WIDTH dropped."""
    return [int.from_bytes(payload[i:i + IB], "little") & ((1 << IN_WIDTH) - 1) for i in range(0, IN_BYTES, IB)]


async def send(dut, data):
    for byte in data:
        for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
            dut.uart_rx.value = bit
            await ClockCycles(dut.ap_clk, CPB)


async def receive(dut, count, timeout=20000):
    out = []
    for _ in range(count):
        waited = 0
        while True:
            await RisingEdge(dut.ap_clk)
            await ReadOnly()
            if not int(dut.uart_tx.value):
                break
            waited += 1
            assert waited < timeout, f"no reply byte after {out}"
        await ClockCycles(dut.ap_clk, CPB // 2)
        byte = 0
        for i in range(8):
            await ClockCycles(dut.ap_clk, CPB)
            byte |= int(dut.uart_tx.value) << i
        await ClockCycles(dut.ap_clk, CPB)
        assert int(dut.uart_tx.value) == 1, "no stop bit"
        out.append(byte)
    return bytes(out)


async def accelerator(dut):
    """Takes IN_BEATS beats (random ready), then offers the OUT_BEATS output beats (random valid)."""
    rng = random.Random(1)
    while True:
        beats = []
        await FallingEdge(dut.ap_clk)
        dut.m_axis_tvalid.value = 0
        while len(beats) < IN_BEATS:
            await FallingEdge(dut.ap_clk)
            ready = rng.random() < 0.7
            dut.s_axis_tready.value = int(ready)
            await ReadOnly()
            if ready and int(dut.s_axis_tvalid.value):
                beats.append(int(dut.s_axis_tdata.value))
        await FallingEdge(dut.ap_clk)
        dut.s_axis_tready.value = 0
        for word in model(beats):
            while True:
                await FallingEdge(dut.ap_clk)
                valid = rng.random() < 0.7
                dut.m_axis_tvalid.value = int(valid)
                dut.m_axis_tdata.value = word
                await ReadOnly()
                if valid and int(dut.m_axis_tready.value):
                    break


async def good_frame(dut, seed):
    payload = bytes(random.Random(seed).getrandbits(8) for _ in range(IN_BYTES))
    cocotb.start_soon(send(dut, request(payload)))
    reply = await receive(dut, OUT_BYTES + 4)
    out = b"".join(word.to_bytes(OB, "little") for word in model(beats_of(payload)))
    head = OUT_BYTES.to_bytes(2, "little")
    assert reply == bytes([0x5A]) + head + out + bytes([xor(head + out)]), f"reply {reply.hex()}"


@cocotb.test()
async def run_test_harness(dut):
    cocotb.start_soon(Clock(dut.ap_clk, 10, unit="ns").start())
    dut.uart_rx.value = 1
    dut.s_axis_tready.value = 0
    dut.m_axis_tvalid.value = 0
    dut.m_axis_tdata.value = 0
    dut.ap_rst_n.value = 0
    await ClockCycles(dut.ap_clk, 4)
    dut.ap_rst_n.value = 1
    cocotb.start_soon(accelerator(dut))
    for seed in range(3):
        await good_frame(dut, seed)
    payload = bytes(range(1, IN_BYTES + 1))
    bad = bytearray(request(payload))
    bad[-1] ^= 0x55
    cocotb.start_soon(send(dut, bytes(bad)))
    assert await receive(dut, 2) == b"\xee\x02"
    await good_frame(dut, 10)
    cocotb.start_soon(send(dut, request(payload + b"\xa5\x01", length=IN_BYTES + 2)))
    assert await receive(dut, 2) == b"\xee\x01"
    await good_frame(dut, 11)
    cocotb.start_soon(send(dut, request(payload)[:4]))
    assert await receive(dut, 2) == b"\xee\x03"
    await send(dut, b"\x00\x37\x5a")  # noise outside a frame
    await good_frame(dut, 12)


@pytest.mark.parametrize("shape", SHAPES, ids=["x".join(map(str, shape)) for shape in SHAPES])
def test_uart_harness(shape, tmp_path_factory):
    in_width, in_beats, out_width, out_beats = shape
    run_bench("uart_harness", {"CLKS_PER_BIT": CPB, "IN_WIDTH": in_width, "IN_BEATS": in_beats,
                               "OUT_WIDTH": out_width, "OUT_BEATS": out_beats, "TIMEOUT_CLKS": 40 * CPB},
              "tests.rtl.test_uart_harness", tmp_path_factory.mktemp("uart_harness"),
              extra_env={"SIGNFLOW_UART_SHAPE": ",".join(map(str, shape))})
