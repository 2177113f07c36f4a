"""The board harness of a build in Verilator behind a pseudo-terminal: what a host sees on the board's USB-UART,
without the board. The board top (flow/codegen/harness.py) runs with a UART model on the host side
(hw_templates/sim/uart_board.cpp) that bridges the pty to the top's uart_rx and uart_tx.

    with SerialBoard("B", "work") as board:             # B: a build folder through rtl_codegen
        accel = Accelerator(board.port, "B", baud=board.baud)
        scores = accel.infer(images)

The simulated clock runs 8 cycles per bit (``clock_mhz`` 8 at 1 Mbaud) so a frame takes little wall time; the
framing, the accelerator and its cycle behaviour are the board's.
"""
import os
import subprocess
import tty
from pathlib import Path

from signflow.codegen.harness import write_harness
from signflow.errors import UserError
from signflow.templates import template_path
from signflow.tools import VERILATOR_BUILD, verilator


def build_board_sim(build_dir, work_dir, clock_mhz, baud):
    """Compile the board top of ``build_dir`` with the host-side UART model into ``work_dir``; returns the
    executable."""
    work_dir = Path(work_dir).resolve()  # the simulation runs in rtl/ (its memory files)
    work_dir.mkdir(parents=True, exist_ok=True)
    top, sources = write_harness(build_dir, clock_mhz, baud, folder=work_dir / "board")
    command, env = verilator()
    done = subprocess.run(command + [*VERILATOR_BUILD, "-O2", "--top-module", top, "--Mdir", "obj", *sources,
                                     str(template_path("sim", "uart_board.cpp"))],
                          cwd=work_dir, env=env, capture_output=True, text=True)
    exe = work_dir / "obj" / f"V{top}"
    if done.returncode != 0 or not exe.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UserError(f"Verilator could not build the board simulation: {' | '.join(tail)}")
    return exe


class SerialBoard:
    """The simulated board of ``build_dir`` while the context is open: ``port`` is the pty's name for pyserial,
    ``baud`` the harness's rate. The simulation ends when the context closes or after ``max_seconds``."""

    def __init__(self, build_dir, work_dir, clock_mhz=8, baud=1_000_000, max_seconds=600):
        self.build_dir, self.baud = Path(build_dir), baud
        self.exe = build_board_sim(build_dir, work_dir, clock_mhz, baud)
        self.clocks_per_bit = round(clock_mhz * 1_000_000 / baud)
        self.max_seconds, self.sim, self.port = max_seconds, None, None

    def __enter__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        # the memory files are read relative to rtl/ ($readmemh)
        self.sim = subprocess.Popen([str(self.exe), str(self.master), str(self.clocks_per_bit),
                                     str(self.max_seconds)], cwd=self.build_dir / "rtl", pass_fds=(self.master,))
        self.port = os.ttyname(self.slave)
        return self

    def __exit__(self, *exc):
        self.sim.kill()
        self.sim.wait()
        os.close(self.master)
        os.close(self.slave)
