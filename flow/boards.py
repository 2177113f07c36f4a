"""Boards the flow targets: FPGA part and the resources a design may use."""
import re
from dataclasses import dataclass

from signflow.errors import UserError


@dataclass(frozen=True)
class Board:
    #: FPGA part: a Xilinx part number (Zynq boards) or a Lattice ECP5 device such as LFE5U-85F
    part: str
    #: LUTs on the device (6-input on Xilinx, 4-input on ECP5)
    luts: int
    #: flip-flops on the device
    ffs: int
    #: 18 Kb block RAMs on the device (two per BRAM36; an ECP5 EBR is one)
    brams18: int
    #: DSP slices (ECP5: 18x18 multipliers) on the device
    dsps: int
    #: processing system: "ps7" (Zynq-7000) or "psu" (Zynq UltraScale+); "" on ECP5 boards
    ps_kind: str = ""
    #: Vivado board part (board files give the DDR and MIO presets), used when installed
    board_part: str = ""
    #: "zynq" (Vivado project, bitstream, PYNQ driver) or "ecp5" (Yosys, nextpnr and ecppack: steps pnr, bitstream)
    family: str = "zynq"
    #: ECP5 package, as nextpnr-ecp5 names it
    package: str = ""
    #: the board oscillator: its pin and frequency (ECP5 boards; the PLL derives the build's clock from it)
    clock_pin: str = ""
    clock_mhz: float = 0.0
    #: the UART of the board harness, from the FPGA's side: the pin it receives on and the one it sends on
    uart_rx_pin: str = ""
    uart_tx_pin: str = ""


BOARDS = {
    "pynq-z1": Board("xc7z020clg400-1", 53200, 106400, 280, 220, "ps7", "www.digilentinc.com:pynq-z1:part0:1.0"),
    "pynq-z2": Board("xc7z020clg400-1", 53200, 106400, 280, 220, "ps7", "tul.com.tw:pynq-z2:part0:1.0"),
    "zcu104": Board("xczu7ev-ffvc1156-2-e", 230400, 460800, 624, 1728, "psu", "xilinx.com:zcu104:part0:1.1"),
    # Lattice ECP5 boards, built with open tools only (an 85F OrangeCrab is one more line). ULX3S: the UART is
    # its FT231X USB-serial (FPGA receives on M1 = ftdi_txd, sends on L4 = ftdi_rxd). OrangeCrab has no USB-UART
    # (its USB goes to the FPGA): the harness uses feather header pins 0 (N17, FPGA sends) and 1 (M18, FPGA
    # receives) for a 3.3 V USB-serial adapter.
    "ulx3s": Board("LFE5U-85F", 83640, 83640, 208, 156, family="ecp5", package="CABGA381", clock_pin="G2",
                   clock_mhz=25.0, uart_rx_pin="M1", uart_tx_pin="L4"),
    "orangecrab": Board("LFE5U-25F", 24288, 24288, 56, 28, family="ecp5", package="CSFBGA285", clock_pin="A9",
                        clock_mhz=48.0, uart_rx_pin="M18", uart_tx_pin="N17"),
}
FAMILIES = ("zynq", "ecp5")


#: a Xilinx part number: family, device, package, speed grade (and temperature), e.g. xc7z020clg400-1,
#: xczu7ev-ffvc1156-2-e, xcu250-figd2104-2L-e; nothing else may reach the TCL scripts
PART_PATTERN = re.compile(r"x[a-z][a-z0-9]*(-[a-z0-9]+)*", re.IGNORECASE)
#: a Vivado board part, vendor:board:component:version
BOARD_PART_PATTERN = re.compile(r"[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[0-9][0-9.]*")
PS_KINDS = ("ps7", "psu")


#: a Lattice ECP5 device (LFE5U, LFE5UM, LFE5UM5G; 12k to 85k LUTs) and a package name
ECP5_PART_PATTERN = re.compile(r"LFE5U(M|M5G)?-(12|25|45|85)F")
PACKAGE_PATTERN = re.compile(r"[A-Z]+[0-9]+")
PIN_PATTERN = re.compile(r"[A-Z]+[0-9]+")


def nextpnr_device(part):
    """nextpnr-ecp5's device flag of an ECP5 part: LFE5U-85F -> --85k, LFE5UM5G-45F -> --um5g-45k."""
    match = ECP5_PART_PATTERN.fullmatch(part)
    variant = f"u{match.group(1).lower()}-" if match.group(1) else ""
    return f"--{variant}{match.group(2)}k"


def is_part(value):
    """True when ``value`` is a string shaped like a Xilinx part number."""
    return isinstance(value, str) and len(value) <= 40 and PART_PATTERN.fullmatch(value) is not None


def check_board(board):
    """``board`` if its part, board part and PS kind (ECP5: device, package, clock pin) are what the generated
    scripts may hold; else a UserError."""
    if board.family not in FAMILIES:
        raise UserError(f"board family must be one of {', '.join(FAMILIES)}, not {board.family!r:.80}")
    if board.family == "ecp5":
        if not ECP5_PART_PATTERN.fullmatch(board.part):
            raise UserError(f"ECP5 device must be like LFE5U-85F, not {board.part!r:.80}")
        pins = (board.clock_pin, board.uart_rx_pin, board.uart_tx_pin)
        if not PACKAGE_PATTERN.fullmatch(board.package) or not all(PIN_PATTERN.fullmatch(pin) for pin in pins) \
                or not 1 <= board.clock_mhz <= 400:
            raise UserError(f"ECP5 board needs a package like CABGA381, pins like G2 (clock, UART rx, UART tx) and a "
                            f"clock of 1..400 MHz, not {board.package!r:.20}, {pins!r:.60}, {board.clock_mhz!r:.20}")
        return board
    if not is_part(board.part):
        raise UserError(f"FPGA part must be a Xilinx part number like xc7z020clg400-1, not {board.part!r:.80}")
    if board.board_part and not BOARD_PART_PATTERN.fullmatch(board.board_part):
        raise UserError(f"board part must be vendor:board:component:version, not {board.board_part!r:.80}")
    if board.ps_kind not in PS_KINDS:
        raise UserError(f"processing system must be one of {', '.join(PS_KINDS)}, not {board.ps_kind!r:.80}")
    return board


def get_board(name):
    if not isinstance(name, str) or name not in BOARDS:
        if not isinstance(name, str) or not name.isprintable() or len(name) > 40:
            raise UserError(f"unknown board {name!r:.60}; choose one of {', '.join(sorted(BOARDS))}")
        raise UserError(f"unknown board '{name}'; choose one of {', '.join(sorted(BOARDS))}")
    return BOARDS[name]
