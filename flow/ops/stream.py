"""The stream plumbing between HW layers, as graph nodes (FINN's StreamingFIFO and StreamingDataWidthConverter).

Both pass every element through unchanged: their golden model is the identity. They exist so the estimate,
the budget check and the code generators see them (flow/transforms/streams.py inserts them after folding).
Resource models fitted to Yosys synth_xilinx of axis_fifo and axis_width_converter (docs/estimates.md).
"""
import math

import numpy as np

from signflow.ops.hw import HWOp, Stream, in_block_ram, memory_cost

#: the op types of this module: identities on the elements, skipped where only layers count
STREAM_OPS = ("StreamingFIFO", "StreamingDataWidthConverter")


class _PassThrough(HWOp):
    """An identity on the stream's elements; only the beats differ between input and output."""

    def get_nodeattr_types(self):
        return {
            **self.HW_ATTRS,
            # elements per input beat and per output beat (equal for a FIFO)
            "in_lanes": ("i", True, 1),
            "out_lanes": ("i", True, 1),
            # bits per element, elements per frame, two's complement elements
            "bits": ("i", True, 1),
            "elements": ("i", True, 1),
            "signed": ("i", False, 0),
            # qonnx datatype of the stream
            "out_dtype": ("s", False, "BINARY"),
        }

    def execute_node(self, context, graph):
        node = self.onnx_node
        context[node.output[0]] = np.asarray(context[node.input[0]], dtype=np.float32)

    def _stream(self, lanes):
        elements = self.get_nodeattr("elements")
        return Stream(lanes, self.get_nodeattr("bits"), elements // lanes, bool(self.get_nodeattr("signed")))

    def in_stream(self):
        return self._stream(self.get_nodeattr("in_lanes"))

    def out_stream(self):
        return self._stream(self.get_nodeattr("out_lanes"))

    def expected_cycles(self):
        return max(self.in_stream().beats, self.out_stream().beats)


class StreamingFIFO(_PassThrough):
    """A FIFO of ``depth`` beats in front of a layer (axis_fifo: ``depth`` words and an output register)."""

    def get_nodeattr_types(self):
        # words in the FIFO's memory; a power of two >= 2
        return {**super().get_nodeattr_types(), "depth": ("i", True, 32)}

    def resources(self):
        depth, width = self.get_nodeattr("depth"), self.in_stream().width
        addr = int(math.log2(depth))
        if in_block_ram(depth, width):
            luts, brams = memory_cost(depth, width)
        else:  # simple dual-port LUTRAM: a RAM32M (4 LUTs) holds 32 x 6 bits, a RAM64M 64 x 3
            luts, brams = math.ceil(depth / 32) * math.ceil(width / 6) * 4, 0
        # pointers with their full/empty bit, output register and valid
        return {"luts": luts + 2 * addr + 8, "ffs": width + 2 * (addr + 1) + 3, "brams18": brams}

    def core(self, model):
        return "axis_fifo", dict(WIDTH=self.in_stream().width, DEPTH=self.get_nodeattr("depth")), {}


class StreamingDataWidthConverter(_PassThrough):
    """Regroups the same bits into beats of another width (axis_width_converter)."""

    def capacity(self):
        """Bits of axis_width_converter's shift buffer."""
        w_in, w_out = self.in_stream().width, self.out_stream().width
        return w_in + w_out + max(w_in, w_out) - 1

    def resources(self):
        cap = self.capacity()
        # a two-way select per buffer bit (shift out, or land the input above the count), the count
        return {"luts": 2 * cap + 8, "ffs": cap + math.ceil(math.log2(cap + 1)) + 1, "brams18": 0}

    def core(self, model):
        w_in, w_out = self.in_stream().width, self.out_stream().width
        return "axis_width_converter", dict(IN_WIDTH=w_in, OUT_WIDTH=w_out,
                                            FRAME_BITS=self.get_nodeattr("elements") * self.get_nodeattr("bits")), {}
