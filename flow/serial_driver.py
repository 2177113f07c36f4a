"""Host driver for the UART board harness (ECP5 boards: hw_templates/rtl/uart_harness.sv, flow/codegen/harness.py),
with the PYNQ driver's interface:

    from signflow.serial_driver import Accelerator
    accel = Accelerator("/dev/ttyUSB0", "B")   # B: a build folder (its harness's baud rate), or its io.json
    scores = accel.infer(images)          # float inputs as the model takes them -> the model's outputs
    raw = accel.execute(ints)             # the accelerator's integer input (NHWC) -> integer output

One frame per request: [0xA5, LEN lo, LEN hi, payload, XOR of LEN and payload] -> [0x5A, LEN lo, LEN hi, output,
XOR] or an error reply [0xEE, CODE]. The payload is packed, and the replies unpacked, by the PYNQ driver's
pack/unpack (hw_templates/driver/signflow_driver.py) with a DMA word of the beat's width; its host operations
run around the accelerator. ``port``: anything pyserial's ``serial_for_url`` opens (a device, ``loop://``, a pty),
or an open serial-like object. Every failure is a one-line UserError.
"""
import json
from pathlib import Path

import numpy as np

from signflow.codegen.driver import load_driver, stream_io
from signflow.errors import UserError

_pynq = load_driver()  # pack, unpack, run_host_ops: the PYNQ driver's, not a copy
ERRORS = {1: "wrong length", 2: "bad checksum", 3: "truncated frame (timeout)"}


def checksum(data):
    value = 0
    for byte in data:
        value ^= byte
    return value


def frame(payload):
    """The request frame of ``payload`` bytes."""
    head = len(payload).to_bytes(2, "little")
    return bytes([0xA5]) + head + bytes(payload) + bytes([checksum(head + bytes(payload))])


def io_description(source):
    """io.json's contents from an io.json file or a build folder (deploy/io.json, else rtl/design.json and the
    build's graph); the streams get ``dma_width`` = the beat width (the harness sends whole bytes per beat)."""
    source = Path(source)
    if source.is_dir() and (source / "deploy" / "io.json").is_file():
        source = source / "deploy" / "io.json"
    if source.is_file():
        try:
            io = json.loads(source.read_text())
        except ValueError as err:
            raise UserError(f"cannot read {source}: {err}")
    elif (source / "rtl" / "design.json").is_file():
        from signflow.cli.run import built_graph

        io = stream_io(built_graph(source), json.loads((source / "rtl" / "design.json").read_text()))
    else:
        raise UserError(f"{source} is neither an io.json nor a build folder with rtl/design.json")
    for side in ("input", "output"):
        io[side] = {**io[side], "dma_width": (io[side]["width"] + 7) // 8 * 8}
    return io


DEFAULT_BAUD = 115200


def routed_baud(source):
    """The baud rate the harness of the build folder ``source`` was placed and routed with, else the default."""
    try:
        return int(json.loads((Path(source) / "report.json").read_text())["pnr"]["uart_baud"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_BAUD


class Accelerator:
    """The accelerator behind the UART harness. ``baud``: default, the rate the build's harness was routed with."""

    def __init__(self, port, io_json_or_build_dir, baud=None, timeout=2.0):
        self.io = io_description(io_json_or_build_dir)
        baud = baud or routed_baud(io_json_or_build_dir)
        if isinstance(port, str):
            import serial

            try:
                self.port = serial.serial_for_url(port, baudrate=baud, timeout=timeout)
            except (serial.SerialException, ValueError) as err:
                raise UserError(f"cannot open serial port {port}: {err}")
        else:
            self.port = port
        self.timeout = timeout
        self.in_bytes, self.out_bytes = (s["beats"] * s["dma_width"] // 8 for s in (self.io["input"], self.io["output"]))

    def _read(self, count, what):
        data = self.port.read(count)
        if len(data) != count:
            raise UserError(f"timeout: the board sent {len(data)} of {count} bytes of {what} within {self.timeout} s")
        return data

    def _exchange(self, payload):
        self.port.reset_input_buffer()
        self.port.write(frame(payload))
        self.port.flush()
        head = self._read(1, "the reply header")
        if head[0] == 0xEE:
            code = self._read(1, "the error code")[0]
            raise UserError(f"the board refused the frame: {ERRORS.get(code, f'error code {code:#04x}')}")
        if head[0] != 0x5A:
            raise UserError(f"noise on the line: the reply starts with {head[0]:#04x}, not 0x5a")
        size = self._read(2, "the reply length")
        length = int.from_bytes(size, "little")
        if length != self.out_bytes:
            raise UserError(f"wrong length: the board replies {length} bytes, the build's output frame is {self.out_bytes}")
        data = self._read(length + 1, "the reply")
        if checksum(size + data[:-1]) != data[-1]:
            raise UserError("bad checksum in the board's reply")
        return data[:-1]

    def execute(self, x):
        """Integer input ``[frames, ...]`` in the accelerator's NHWC layout -> integer output ``[frames, ...]``."""
        x = np.asarray(x)
        source, sink = self.io["input"], self.io["output"]
        data = _pynq.pack(x, source)
        out = [self._exchange(bytes(data[f * self.in_bytes:(f + 1) * self.in_bytes])) for f in range(len(x))]
        values = _pynq.unpack(np.frombuffer(b"".join(out), np.uint8), sink, len(x))
        return values.reshape([len(x)] + list(self.io["output_shape"][1:]))

    def infer(self, x):
        """Inputs as the model takes them -> the model's outputs (host operations around ``execute``)."""
        wanted = list(self.io["input_shape"][1:])
        if list(np.shape(x)[1:]) != wanted:
            raise UserError(f"input has shape {list(np.shape(x))}; the model takes [N, {', '.join(map(str, wanted))}]")
        ints = _pynq.run_host_ops(x, self.io["pre"])
        return _pynq.run_host_ops(self.execute(np.rint(ints).astype(np.int64)), self.io["post"])

    def close(self):
        self.port.close()
