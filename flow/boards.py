"""Boards the flow targets: FPGA part and the resources a design may use."""
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


def get_board(name):
    if name not in BOARDS:
        raise UserError(f"unknown board '{name}'; choose one of {', '.join(sorted(BOARDS))}")
    return BOARDS[name]
