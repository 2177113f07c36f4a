"""signflow board driver: runs a signflow accelerator on a PYNQ board (copied into a build's deploy/).

    from signflow_driver import Accelerator
    accel = Accelerator("deploy")          # loads deploy/<top>.bit with its .hwh
    scores = accel.infer(images)           # float inputs as the model takes them -> the model's outputs
    raw = accel.execute(ints)              # the accelerator's own integer input (NHWC) -> integer output

Needs numpy and, on the board, the ``pynq`` package. ``io.json`` (written by the build) holds the stream
layout and the few host-side operations before and after the accelerator (input scaling and quantization,
layout, output scale). Stream layout: each beat carries ``lanes`` elements of ``bits`` bits, lane 0 in the
lowest bits, in the low bits of a ``dma_width``-bit little-endian word; frames are NHWC, channel innermost.
"""
import json
from pathlib import Path

import numpy as np

#: the AXI DMA's largest transfer in simple mode (bytes; its length register is 26 bits wide)
DMA_MAX_BYTES = (1 << 26) - 1


def pack(values, stream):
    """Integer elements ``[frames, ...]`` (NHWC) -> the DMA bytes of their beats."""
    lanes, bits, width = stream["lanes"], stream["bits"], stream["dma_width"]
    values = np.asarray(values, dtype=np.int64).reshape(-1, lanes)
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if stream["signed"] else (0, (1 << bits) - 1)
    if values.size and (values.min() < low or values.max() > high):
        raise ValueError(f"input values must lie in [{low}, {high}] ({bits}-bit {'signed' if stream['signed'] else 'unsigned'})")
    beats = np.zeros((len(values), width // 8), dtype=np.uint8)
    if bits in (8, 16, 32, 64):  # whole-byte elements: their little-endian bytes, lane after lane
        beats[:, :lanes * bits // 8] = values.astype(f"<i{bits // 8}").view(np.uint8).reshape(len(values), -1)
        return beats.reshape(-1)
    bit_planes = (values[:, :, None] >> np.arange(bits)) & 1  # [beats, lanes, bits], two's complement
    beat_bits = np.zeros((len(values), width), dtype=np.uint8)
    beat_bits[:, :lanes * bits] = bit_planes.reshape(len(values), -1)
    return np.packbits(beat_bits, axis=1, bitorder="little").reshape(-1)


def unpack(data, stream, frames):
    """The DMA bytes of ``frames`` output frames -> integer elements ``[frames, beats * lanes]``."""
    lanes, bits, width = stream["lanes"], stream["bits"], stream["dma_width"]
    beats = np.asarray(data, dtype=np.uint8).reshape(frames * stream["beats"], width // 8)
    beat_bits = np.unpackbits(beats, axis=1, bitorder="little")[:, :lanes * bits].reshape(-1, lanes, bits)
    values = (beat_bits.astype(np.int64) << np.arange(bits)).sum(axis=2)
    if stream["signed"]:
        values = np.where(values >= 1 << (bits - 1), values - (1 << bits), values)
    return values.reshape(frames, -1)


def _quant(x, scale, zeropt, bitwidth, signed, narrow, rounding_mode):
    """QONNX Quant: clip(round(x / scale + zeropt)) - zeropt, times scale."""
    bitwidth = int(np.asarray(bitwidth))
    low = -(1 << (bitwidth - 1)) + int(narrow) if signed else 0
    high = (1 << (bitwidth - 1)) - 1 if signed else (1 << bitwidth) - 1 - int(narrow)
    rounding = {"ROUND": np.round, "FLOOR": np.floor, "CEIL": np.ceil, "ROUND_TO_ZERO": np.trunc}[rounding_mode]
    return (np.clip(rounding(x / scale + zeropt), low, high) - zeropt) * scale


HOST_OPS = {
    "Mul": lambda x, op: x * np.asarray(op["value"], np.float32),
    "Div": lambda x, op: x / np.asarray(op["value"], np.float32),
    "Add": lambda x, op: x + np.asarray(op["value"], np.float32),
    "Sub": lambda x, op: x - np.asarray(op["value"], np.float32),
    "Quant": lambda x, op: _quant(x, *(np.asarray(op[k], np.float32) for k in ("scale", "zeropt", "bitwidth")),
                                  op["signed"], op["narrow"], op["rounding_mode"]),
    "BipolarQuant": lambda x, op: np.where(x >= 0, 1.0, -1.0) * np.asarray(op["scale"], np.float32),
    "Transpose": lambda x, op: np.transpose(x, op["perm"]),
    "Reshape": lambda x, op: x.reshape([len(x)] + list(op["shape"][1:])),
    "Flatten": lambda x, op: x.reshape(len(x), -1),
}


def run_host_ops(x, ops):
    """The host-side operations of io.json, on a batch, in float32 (as the reference runs them)."""
    x = np.asarray(x, dtype=np.float32)
    for op in ops:
        x = HOST_OPS[op["op"]](x, op).astype(np.float32)
    return x


class Accelerator:
    """The accelerator of a build's ``deploy/`` folder on the board."""

    def __init__(self, folder=".", overlay=None, allocate=None):
        """``overlay`` and ``allocate``: stand-ins for PYNQ's (``signflow verify --driver`` simulates the board
        with them); by default the bitstream is loaded with ``pynq``."""
        folder = Path(folder)
        self.io = json.loads((folder / "io.json").read_text())
        if overlay is None or allocate is None:
            import pynq

            overlay = overlay or pynq.Overlay(str(folder / self.io["bitfile"]))
            allocate = allocate or pynq.allocate
        self.overlay, self._allocate = overlay, allocate
        self.dma = self.overlay.dma

    def execute(self, x):
        """Integer input ``[frames, ...]`` in the accelerator's NHWC layout -> integer output ``[frames, ...]``."""
        x = np.asarray(x)
        frames = len(x)
        source, sink = self.io["input"], self.io["output"]
        in_frame, out_frame = (s["beats"] * s["dma_width"] // 8 for s in (source, sink))
        step = max(1, DMA_MAX_BYTES // max(in_frame, out_frame))
        out = []
        for start in range(0, frames, step):
            chunk = x[start:start + step]
            send = self._allocate(shape=(len(chunk) * in_frame,), dtype=np.uint8)
            recv = self._allocate(shape=(len(chunk) * out_frame,), dtype=np.uint8)
            send[:] = pack(chunk, source)
            # receive first: the output stream may start before the input transfer ends
            self.dma.recvchannel.transfer(recv)
            self.dma.sendchannel.transfer(send)
            self.dma.sendchannel.wait()
            self.dma.recvchannel.wait()
            out.append(unpack(np.array(recv), sink, len(chunk)))
            send.freebuffer()
            recv.freebuffer()
        return np.concatenate(out).reshape([frames] + list(self.io["output_shape"][1:]))

    def infer(self, x):
        """Inputs as the model takes them -> the model's outputs (host operations around ``execute``)."""
        wanted = list(self.io["input_shape"][1:])
        if list(np.shape(x)[1:]) != wanted:
            raise ValueError(f"input has shape {list(np.shape(x))}; the model takes [N, {', '.join(map(str, wanted))}]")
        ints = run_host_ops(x, self.io["pre"])
        return run_host_ops(self.execute(np.rint(ints).astype(np.int64)), self.io["post"])
