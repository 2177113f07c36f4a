"""Boards the flow targets: FPGA part and the resources a design may use."""
from dataclasses import dataclass

from models.errors import UserError


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


BOARDS = {
    "pynq-z1": Board("xc7z020clg400-1", 53200, 106400, 280, 220),
    "pynq-z2": Board("xc7z020clg400-1", 53200, 106400, 280, 220),
    "zcu104": Board("xczu7ev-ffvc1156-2-e", 230400, 460800, 624, 1728),
}


def get_board(name):
    if name not in BOARDS:
        raise UserError(f"unknown board '{name}'; choose one of {', '.join(sorted(BOARDS))}")
    return BOARDS[name]
