"""cocotb bench of axis_fifo: order preserved under random idles and back-pressure."""
import random

import cocotb
import pytest

from tests.rtl.axis import VARIANTS, StreamSink, StreamSource, reset, run_bench


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


@pytest.mark.parametrize("width, depth", [(1, 2), (8, 16), (37, 64)])
def test_axis_fifo(width, depth, tmp_path_factory):
    run_bench("axis_fifo", {"WIDTH": width, "DEPTH": depth}, "tests.rtl.test_axis_fifo",
              tmp_path_factory.mktemp(f"fifo_{width}_{depth}"))
