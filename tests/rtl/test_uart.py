"""cocotb benches of uart_rx and uart_tx (8N1): random bytes bit-exact, back to back; uart_rx ignores a start
glitch and drops a byte with a low stop bit; uart_tx holds the line high for a full stop bit between bytes."""
import random

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from tests.rtl.axis import run_bench


async def start(dut, line):
    cocotb.start_soon(Clock(dut.ap_clk, 10, unit="ns").start())
    if line:
        dut.rx.value = 1
    else:
        dut.i_valid.value = 0
        dut.i_data.value = 0
    dut.ap_rst_n.value = 0
    await ClockCycles(dut.ap_clk, 3)
    dut.ap_rst_n.value = 1
    await ClockCycles(dut.ap_clk, 3)


async def collect(dut, out):
    while True:
        await RisingEdge(dut.ap_clk)
        await ReadOnly()
        if int(dut.o_valid.value):
            out.append(int(dut.o_data.value))


@cocotb.test()
async def run_test_rx(dut):
    cpb = int(dut.CLKS_PER_BIT.value)
    await start(dut, line=True)
    got = []
    cocotb.start_soon(collect(dut, got))
    data = [random.Random(i).getrandbits(8) for i in range(20)]

    async def send(byte, stop=1):
        for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [stop]:
            await FallingEdge(dut.ap_clk)
            dut.rx.value = bit
            await ClockCycles(dut.ap_clk, cpb)

    for byte in data:
        await send(byte)
    await FallingEdge(dut.ap_clk)
    dut.rx.value = 0  # a glitch shorter than half a bit
    await ClockCycles(dut.ap_clk, 1)
    await FallingEdge(dut.ap_clk)
    dut.rx.value = 1
    await ClockCycles(dut.ap_clk, 3 * cpb)
    await send(0x3C, stop=0)  # framing error: dropped
    await FallingEdge(dut.ap_clk)
    dut.rx.value = 1
    await ClockCycles(dut.ap_clk, 12 * cpb)
    await send(0xC3)
    await ClockCycles(dut.ap_clk, 2 * cpb)
    assert got == data + [0xC3], f"received {got}"


@cocotb.test()
async def run_test_tx(dut):
    cpb = int(dut.CLKS_PER_BIT.value)
    await start(dut, line=False)
    data = [random.Random(100 + i).getrandbits(8) for i in range(10)]
    line = []

    async def watch():
        while True:
            await RisingEdge(dut.ap_clk)
            await ReadOnly()
            line.append(int(dut.tx.value))

    cocotb.start_soon(watch())
    for byte in data:
        while True:
            await FallingEdge(dut.ap_clk)
            dut.i_valid.value = 1
            dut.i_data.value = byte
            await ReadOnly()
            if int(dut.o_ready.value):
                break
    await FallingEdge(dut.ap_clk)
    dut.i_valid.value = 0
    await ClockCycles(dut.ap_clk, 12 * cpb)
    # decode the line: each bit exactly cpb cycles, at least a full stop bit before the next start
    got, base = [], line.index(0)
    for k in range(len(data)):
        if k:  # the next start bit: after at least a full stop bit
            stop = base + 9 * cpb
            base = line.index(0, stop)
            assert base - stop >= cpb, f"byte {k}: the stop bit lasts {base - stop} cycles"
        bits = [line[base + b * cpb: base + (b + 1) * cpb] for b in range(10)]
        assert all(len(set(b)) == 1 for b in bits), f"byte {k}: a bit does not last {cpb} cycles"
        assert bits[0][0] == 0 and bits[9][0] == 1, f"byte {k}: start/stop bits"
        got.append(sum(bits[1 + i][0] << i for i in range(8)))
    assert got == data


@pytest.mark.parametrize("module, test", [("uart_rx", "run_test_rx"), ("uart_tx", "run_test_tx")])
@pytest.mark.parametrize("cpb", [4, 7])
def test_uart(module, test, cpb, tmp_path_factory):
    run_bench(module, {"CLKS_PER_BIT": cpb}, "tests.rtl.test_uart", tmp_path_factory.mktemp(f"{module}_{cpb}"),
              extra_env={"COCOTB_TEST_FILTER": test})
