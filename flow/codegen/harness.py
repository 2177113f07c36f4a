"""The board harness of a build for ECP5 boards: ``<build>/board/`` with a top that takes frames over a UART,
streams them through the accelerator ``signflow_top`` and sends the outputs back (framing:
hw_templates/rtl/uart_harness.sv). rtl/ is not touched: the board top and its sources list are separate.

    top, sources = write_harness("B", clock_mhz=25, baud=115200)   # ULX3S: 25 MHz oscillator, FTDI UART

``sources``: absolute paths, the accelerator's (rtl/, as design.json lists them) then uart_rx, uart_tx,
uart_harness and the board top (board/); the memory files stay in rtl/ ($readmemh reads them from there).
"""
import json
import shutil
from pathlib import Path

from signflow.codegen.render import render
from signflow.errors import UserError
from signflow.templates import template_path

BOARD_TOP = "signflow_board_top"
UART_MODULES = ("uart_rx.sv", "uart_tx.sv", "uart_harness.sv")


def clocks_per_bit(clock_mhz, baud):
    """Clock cycles per UART bit; refuses a baud rate the clock cannot time within 2%."""
    if not (isinstance(clock_mhz, (int, float)) and isinstance(baud, (int, float)) and clock_mhz > 0 and baud > 0):
        raise UserError(f"clock ({clock_mhz!r:.20} MHz) and baud rate ({baud!r:.20}) must be positive numbers")
    cycles = round(clock_mhz * 1e6 / baud)
    if cycles < 4 or abs(clock_mhz * 1e6 / cycles - baud) > 0.02 * baud:
        raise UserError(f"a {clock_mhz} MHz clock cannot time {baud} baud (needs at least 4 clocks per bit "
                        "within 2%); pick a lower baud rate")
    return cycles


def write_harness(build_dir, clock_mhz, baud):
    """Write ``build_dir/board/`` (the board top, the UART modules, sources.json); returns ``(top, sources)``."""
    build_dir = Path(build_dir)
    rtl_dir = build_dir / "rtl"
    try:
        design = json.loads((rtl_dir / "design.json").read_text())
        ports = {side: (int(design[side]["width"]), int(design[side]["beats"])) for side in ("input", "output")}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f"no usable {rtl_dir / 'design.json'} ({type(err).__name__}): run the rtl_codegen step first")
    cpb = clocks_per_bit(clock_mhz, baud)
    board = build_dir / "board"
    board.mkdir(exist_ok=True)
    for name in UART_MODULES:
        shutil.copy(template_path("rtl", name), board / name)
    (board / f"{BOARD_TOP}.sv").write_text(render(template_path("rtl", "board_top.sv.template").read_text(), {
        "TOP": BOARD_TOP, "ACCEL": design["top"], "CLOCK_MHZ": clock_mhz, "BAUD": baud, "CLKS_PER_BIT": cpb,
        "IN_WIDTH": ports["input"][0], "IN_BEATS": ports["input"][1],
        "OUT_WIDTH": ports["output"][0], "OUT_BEATS": ports["output"][1]}))
    sources = [str((rtl_dir / s).resolve()) for s in design["sources"]]
    sources += [str((board / n).resolve()) for n in UART_MODULES + (f"{BOARD_TOP}.sv",)]
    (board / "sources.json").write_text(json.dumps({
        "top": BOARD_TOP, "clock_mhz": clock_mhz, "baud": baud, "clks_per_bit": cpb,
        "input": design["input"], "output": design["output"],
        "sources": [f"../rtl/{s}" for s in design["sources"]] + list(UART_MODULES) + [f"{BOARD_TOP}.sv"]},
        indent=1) + "\n")
    return BOARD_TOP, sources
