"""cocotb bench of a generated accelerator wrapper (vivado/src/signflow_accel.v) fed as the AXI DMA feeds it.

The words, TLAST bits and expected outputs come from the JSON file named by ``SIGNFLOW_ACCEL_BENCH``
(written by tests/flow/test_vivado.py from the Python reference); every output word and its TLAST must match.
"""
import json
import os
from pathlib import Path

import cocotb

from tests.rtl.axis import StreamSink, StreamSource, reset


@cocotb.test()
async def run_accel_batches(dut):
    data = json.loads(Path(os.environ["SIGNFLOW_ACCEL_BENCH"]).read_text())
    dut.s_axis_tlast.value = 0
    await reset(dut)
    cocotb.start_soon(StreamSource(dut, data["words_in"], lasts=data["last_in"], idle=0.2).run())
    sink = StreamSink(dut, len(data["words_out"]), backpressure=0.3)
    await sink.run()
    for index, (got, want) in enumerate(zip(sink.words, data["words_out"])):
        assert got == want, f"word {index} is {got:#x}, expected {want:#x}"
    assert sink.lasts == data["last_out"], "TLAST is not on the last word of each batch (and only there)"
