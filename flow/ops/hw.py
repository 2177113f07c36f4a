"""What every HW-layer op states: shapes, folding, cycles and an analytic resource estimate.

The resource model (docs/estimates.md) counts LUTs for compute, FFs for
pipeline registers, and maps each memory to LUTRAM or BRAM18 by size, in the
form of FINN-R's model (Blott et al., TRETS 2018).
"""
import math
from dataclasses import dataclass

import numpy as np

from signflow.ops.base import SignflowOp

#: BRAM18 aspect ratios: (depth, width)
BRAM18_SHAPES = [(512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1)]
#: memories up to this many bits, or shallower than LUTRAM_MAX_DEPTH, go to LUTRAM instead of BRAM
LUTRAM_MAX_BITS = 4096
LUTRAM_MAX_DEPTH = 128


def in_block_ram(depth, width):
    """Whether a ``depth x width`` memory goes to block RAM (else LUTs): the estimate counts it there, and the
    RTL asks synthesis for it (rom's BLOCK), as a vendor tool would for a deep, large memory."""
    return depth * width > LUTRAM_MAX_BITS and depth >= LUTRAM_MAX_DEPTH


def memory_cost(depth, width):
    """``(luts, brams18)`` of a ``depth x width`` ROM/RAM."""
    if depth * width == 0:
        return 0, 0
    if not in_block_ram(depth, width):
        return width * math.ceil(depth / 64), 0  # a LUT6 is a 64 x 1 RAM
    best = None
    for bram_depth, bram_width in BRAM18_SHAPES:
        count = math.ceil(depth / bram_depth) * math.ceil(width / bram_width)
        best = count if best is None else min(best, count)
    return 0, best


@dataclass(frozen=True)
class Memory:
    """A constant memory of a core: ``words`` of ``width`` bits (one ``$readmemh`` file in RTL). In HLS, a
    ``[len(words)]`` array; with ``lanes``, each of the word's ``lanes`` equal slices (lane 0 at the LSB) gets
    its own row of a ``[lanes][len(words)]`` array: one ROM per PE, of words narrow enough for ap_int.
    ``used=False``: a placeholder the core ignores in this configuration (no RTL file; zeros in HLS)."""
    words: list
    width: int
    lanes: int = None
    used: bool = True


@dataclass(frozen=True)
class Stream:
    """One side of an op's AXI-Stream: ``lanes`` elements of ``bits`` per beat, ``beats`` per frame."""
    lanes: int
    bits: int
    beats: int
    #: two's complement elements; None: signed when wider than one bit (accumulators, integer inputs)
    signed: bool = None

    @property
    def width(self):
        return self.lanes * self.bits

    @property
    def is_signed(self):
        return self.bits > 1 if self.signed is None else self.signed


def signed_width(low, high):
    """Bits of a two's complement integer holding every value in ``[low, high]``."""
    return max(int(low).bit_length(), int(high).bit_length()) + 1


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def window_dims(height, width, kernel, stride, pads=(0, 0, 0, 0)):
    """Output ``(OH, OW)`` of a window op (floor mode) with ``pads = (top, left, bottom, right)``."""
    (kh, kw), (sh, sw) = kernel, stride
    top, left, bottom, right = pads
    return (height + top + bottom - kh) // sh + 1, (width + left + right - kw) // sw + 1


class HWOp(SignflowOp):
    """Base of the HW-layer ops; subclasses add attributes and fill in the hooks below."""

    #: attributes every HW op carries (set by to_hw)
    HW_ATTRS = {
        # input tensor shape without the batch dimension (NHWC or [K])
        "in_shape": ("ints", False, []),
        # output tensor shape without the batch dimension
        "out_shape": ("ints", False, []),
    }

    def output_shape(self, model):
        return [1] + list(self.get_nodeattr("out_shape"))

    def folding(self):
        """This op's folding attributes and their values, e.g. ``{"PE": 4, "SIMD": 8}``."""
        return {}

    def folding_options(self):
        """Every legal folding, as dicts like ``folding()`` returns."""
        return [{}]

    def expected_cycles(self):
        """Cycles per frame in steady state (the initiation interval)."""
        raise NotImplementedError

    def resources(self):
        """Analytic estimate: ``{"luts": .., "ffs": .., "brams18": ..}``."""
        raise NotImplementedError

    def in_stream(self):
        """The input stream (lanes, element bits, beats per frame)."""
        raise NotImplementedError

    def out_stream(self):
        """The output stream (lanes, element bits, beats per frame)."""
        raise NotImplementedError

    def core(self, model):
        """``(module, parameters, memories)`` of this op's core: the RTL module in hw_templates/rtl and the HLS
        function of the same name in hw_templates/hls, with their parameters; memories map a file parameter
        (``WEIGHTS_FILE``) to its ``Memory``, in the HLS function's argument order.
        """
        raise NotImplementedError

    def pixels(self):
        """Output pixels per frame (1 for fully connected layers)."""
        shape = self.get_nodeattr("out_shape")
        return shape[0] * shape[1] if len(shape) == 3 else 1


class ChannelFoldedOp(HWOp):
    """An op that processes ``PE`` of its channels (the last dimension) per cycle."""

    def folding(self):
        return {"PE": self.get_nodeattr("PE")}

    def folding_options(self):
        return [{"PE": d} for d in divisors(self.get_nodeattr("in_shape")[-1])]


def encode_bits(passed, out_bits):
    """A boolean threshold result as bits (0/1) or bipolar (-1/+1) float32."""
    return np.where(passed, 1.0, 0.0 if out_bits else -1.0).astype(np.float32)
