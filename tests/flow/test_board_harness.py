"""The UART board harness end to end in Verilator: the board top of flow/codegen/harness.py with a UART model on
the host side (signflow.sim.serial_board) behind a pty, and the pyserial host driver (signflow.serial_driver)
talking to it: bit-exact with `signflow run` on the digits test set, and bad frames refused and recovered from."""
import time

import numpy as np
import pytest

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.errors import UserError
from signflow.models.data import load_dataset
from signflow.models.export import export_model
from signflow.sim.serial_board import SerialBoard
from tests.helpers import random_model

pytestmark = pytest.mark.rtlsim
BAUD = 1_000_000  # at 8 clocks per bit: fast in simulation


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    base = tmp_path_factory.mktemp("board")
    model = random_model("digits", "design", seed=2)
    export_model(model, model.in_shape, base / "digits.onnx")
    build = base / "b"
    run_build(base / "digits.onnx", BuildConfig(output_dir=str(build), quiet=True, verify=False, target_fps=100000,
                                                steps=FRONT_END + ["rtl_codegen"]))
    with SerialBoard(build, base / "sim", clock_mhz=8, baud=BAUD, max_seconds=300) as sim:
        yield model, build, sim.port


def test_driver_bit_exact_on_the_test_set(board):
    from signflow.cli.run import built_graph
    from signflow.serial_driver import Accelerator
    from signflow.sim.fast import FastGraph

    model, build, port = board
    x, _ = load_dataset("digits", "test")
    accel = Accelerator(port, build, baud=BAUD, timeout=10)
    start = time.perf_counter()
    got = accel.infer(x)
    seconds = time.perf_counter() - start
    want = FastGraph(built_graph(build))(x)
    assert len(x) == 360 and np.array_equal(got, want), "the board harness's outputs differ from signflow run"
    print(f"{len(x)} frames in {seconds:.1f} s")
    accel.close()


def test_bad_frames_and_recovery(board):
    from signflow.serial_driver import Accelerator, checksum, frame

    model, build, port = board
    accel = Accelerator(port, build, baud=BAUD, timeout=10)
    payload = bytes(range(accel.in_bytes))
    bad_chk = bytearray(frame(payload))
    bad_chk[-1] ^= 0xFF
    accel.port.write(bytes(bad_chk))
    assert accel.port.read(2) == b"\xee\x02"
    short = bytes([0xA5]) + (3).to_bytes(2, "little") + b"\x01\x02\x03" + bytes([checksum(b"\x03\x00\x01\x02\x03")])
    accel.port.write(short)
    assert accel.port.read(2) == b"\xee\x01"
    accel.port.write(frame(payload)[:10])  # truncated: the idle gap ends it
    assert accel.port.read(2) == b"\xee\x03"
    accel.port.write(b"\x00\x13\x37")  # noise outside a frame is ignored
    # and a good frame still goes through
    ints = np.zeros([1] + [accel.io["input"]["beats"] * accel.io["input"]["lanes"]], np.int64)
    assert accel.execute(ints).shape[0] == 1
    accel.close()


def test_driver_errors_are_one_line(board):
    """Without a board: pyserial's loop:// echoes the request, which the driver names as noise; an empty line
    is a timeout."""
    from signflow.serial_driver import Accelerator

    _, build, _ = board
    accel = Accelerator("loop://", build, baud=BAUD, timeout=0.2)
    with pytest.raises(UserError, match="noise on the line: the reply starts with 0xa5"):
        accel.execute(np.zeros((1, accel.io["input"]["beats"] * accel.io["input"]["lanes"]), np.int64))
    accel.port.read(10000)
    with pytest.raises(UserError, match="timeout: the board sent 0 of 1 bytes"):
        accel._read(1, "the reply header")
