"""A simulated board for the driver: PYNQ's ``Overlay`` and ``allocate`` stand-ins whose DMA hands the bytes the
driver sends to the RTL in Verilator (the rtlsim harness) and returns what the RTL sends back.

``signflow verify DIR --driver`` runs the board driver of ``DIR/deploy`` this way and compares its outputs
bit-exactly with ``signflow run``: packing, the host-side operations of io.json and the accelerator together.
"""
import json
import time
import types
from pathlib import Path

import numpy as np

from signflow.errors import UserError
from signflow.sim.rtlsim import build_harness, cycle_estimate, run_harness


class Buffer(np.ndarray):
    """What ``pynq.allocate`` returns, in host memory."""

    def freebuffer(self):
        pass


def allocate(shape, dtype):
    return np.zeros(shape, dtype).view(Buffer)


class SimulatedDMA:
    """The two channels of the AXI DMA in simple mode; the stream side is the build's RTL.

    ``graph``: the build's graph, for the cycle limit of the simulation (read from ``build_dir`` by default).
    """

    def __init__(self, build_dir, work_dir, graph=None):
        build_dir = Path(build_dir)
        if graph is None:
            from signflow.cli.run import built_graph

            graph = built_graph(build_dir)
        self.graph = graph
        self.io = json.loads((build_dir / "deploy" / "io.json").read_text())
        self.rtl, self.work = build_dir / "rtl", Path(work_dir)
        self.exe = build_harness(self.rtl, self.work / "obj_dir")
        self.sendchannel = types.SimpleNamespace(transfer=self._send, wait=lambda: None)
        self.recvchannel = types.SimpleNamespace(transfer=self._recv, wait=self._finish)
        self.receiving, self.sent, self.transfers = None, None, 0

    def _recv(self, buffer):
        self.receiving, self.sent = buffer, None

    def _send(self, buffer):
        if self.receiving is None:  # on the board the output would be lost
            raise UserError("the driver sent frames before it started the receive transfer")
        self.sent = bytes(np.asarray(buffer))

    def _finish(self):
        source, sink = self.io["input"], self.io["output"]
        step = source["dma_width"] // 8
        words = [int.from_bytes(self.sent[i:i + step], "little") for i in range(0, len(self.sent), step)]
        if any(word >> source["width"] for word in words):
            raise UserError("the driver set bits above the accelerator's input beat (the wrapper drops them)")
        frames = len(words) // source["beats"]
        _, out = run_harness(self.exe, self.rtl, self.work / "run", words, source["width"], frames * sink["beats"],
                             estimate=cycle_estimate(self.graph, frames))
        out_step = sink["dma_width"] // 8
        self.receiving[:] = np.frombuffer(b"".join(word.to_bytes(out_step, "little") for word in out), np.uint8)
        self.receiving, self.transfers = None, self.transfers + 1


def simulated_accelerator(build_dir, work_dir, graph=None):
    """The driver's ``Accelerator`` of ``build_dir/deploy`` on the simulated board."""
    from signflow.codegen.driver import load_driver

    deploy = Path(build_dir) / "deploy"
    if not (deploy / "io.json").is_file():
        raise UserError(f"{build_dir} has no board driver; run 'signflow build MODEL --out {build_dir}' through driver")
    driver = load_driver(deploy / "signflow_driver.py")
    overlay = types.SimpleNamespace(dma=SimulatedDMA(build_dir, work_dir, graph))
    return driver.Accelerator(deploy, overlay=overlay, allocate=allocate)


def verify_driver(graph, build_dir, x, work_dir):
    """Run ``x`` through the driver on the simulated board; returns figures; raises when any output differs
    from the reference."""
    from signflow.sim.fast import FastGraph

    accel = simulated_accelerator(build_dir, work_dir, graph)
    start = time.perf_counter()
    got = accel.infer(x)
    seconds = time.perf_counter() - start
    want = FastGraph(graph)(x)
    bad = [f for f in range(len(x)) if not np.array_equal(got[f], want[f])]
    if bad:
        raise UserError(f"the board driver's outputs differ from the reference on {len(bad)} of {len(x)} frames "
                        f"(first: frame {bad[0]}); 'signflow verify {build_dir}' checks the RTL alone")
    return dict(frames=len(x), mismatches=0, sim_seconds=round(seconds, 3))
