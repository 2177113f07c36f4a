"""Boards the flow targets: FPGA part and the resources a design may use."""
import re
from dataclasses import dataclass

from signflow.errors import UserError


@dataclass(frozen=True)
class Board:
    #: Xilinx part number
    part: str
    #: LUTs on the device
    luts: int
    #: flip-flops on the device
    ffs: int
    #: 18 Kb block RAMs on the device (two per BRAM36)
    brams18: int
    #: DSP slices on the device
    dsps: int
    #: processing system: "ps7" (Zynq-7000) or "psu" (Zynq UltraScale+)
    ps_kind: str
    #: Vivado board part (board files give the DDR and MIO presets), used when installed
    board_part: str


BOARDS = {
    "pynq-z1": Board("xc7z020clg400-1", 53200, 106400, 280, 220, "ps7", "www.digilentinc.com:pynq-z1:part0:1.0"),
    "pynq-z2": Board("xc7z020clg400-1", 53200, 106400, 280, 220, "ps7", "tul.com.tw:pynq-z2:part0:1.0"),
    "zcu104": Board("xczu7ev-ffvc1156-2-e", 230400, 460800, 624, 1728, "psu", "xilinx.com:zcu104:part0:1.1"),
}


#: a Xilinx part number: family, device, package, speed grade (and temperature), e.g. xc7z020clg400-1,
#: xczu7ev-ffvc1156-2-e, xcu250-figd2104-2L-e; nothing else may reach the TCL scripts
PART_PATTERN = re.compile(r"x[a-z][a-z0-9]*(-[a-z0-9]+)*", re.IGNORECASE)
#: a Vivado board part, vendor:board:component:version
BOARD_PART_PATTERN = re.compile(r"[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[0-9][0-9.]*")
PS_KINDS = ("ps7", "psu")


def is_part(value):
    """True when ``value`` is a string shaped like a Xilinx part number."""
    return isinstance(value, str) and len(value) <= 40 and PART_PATTERN.fullmatch(value) is not None


def check_board(board):
    """``board`` if its part, board part and PS kind are what the TCL scripts may hold; else a UserError."""
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
