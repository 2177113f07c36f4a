"""The stitched accelerator as a list of stages, shared by the RTL and the HLS code generators.

Walking the HW layers in stream order, every layer gets a FIFO at its input, after a width
converter when its producer's beats are narrower or wider. Each stage names its core (the RTL
module; the HLS function of the same name), the core's parameters and memories, and the widths
of the streams around it. ``links`` describe every layer's output stream (design.json).
"""
import math
from dataclasses import dataclass, field

from qonnx.custom_op.registry import getCustomOp

from signflow.codegen.names import sanitize
from signflow.errors import UserError
from signflow.graph import node_error
from signflow.ops.base import DOMAIN
from signflow.ops.hw import Stream

#: nodes that do not change a stream inside the accelerator (NHWC flatten keeps the element order)
TRANSPARENT = ("Flatten", "Reshape")
#: FIFO depth between layers (beats); a power of two
DEFAULT_FIFO_DEPTH = 32


@dataclass
class Stage:
    """One core of the stitched design; its input is the previous stage's output (or the top's input)."""
    name: str
    module: str
    params: dict
    in_width: int
    out_width: int
    #: parameter -> (words, width) of a constant memory; no words: unused by this configuration
    memories: dict = field(default_factory=dict)
    #: the ONNX node of a layer stage (None for FIFOs and width converters)
    node: object = None


@dataclass
class Chain:
    top: str
    input: Stream
    output: Stream
    input_tensor: str
    output_tensor: str
    stages: list
    links: list

    @property
    def layers(self):
        return [stage for stage in self.stages if stage.node is not None]

    def design(self, sources):
        """The design description written as design.json next to the generated sources."""
        return dict(top=self.top, input=dict(tensor=self.input_tensor, **stream_doc(self.input),
                                             width=padded_width(self.input.width)),
                    output=dict(tensor=self.output_tensor, **stream_doc(self.output),
                                width=padded_width(self.output.width)),
                    links=self.links, sources=sources)


def padded_width(bits):
    """The top's AXI-Stream ports are whole bytes wide."""
    return 8 * math.ceil(bits / 8)


def stream_doc(stream):
    return dict(lanes=stream.lanes, bits=stream.bits, beats=stream.beats, signed=stream.is_signed)


def accelerator_chain(model):
    """The HW layers from the first to the last, in stream order; errors on anything else in between."""
    nodes = list(model.graph.node)
    hw = [i for i, n in enumerate(nodes) if n.domain == DOMAIN]
    if not hw:
        raise UserError("the graph has no HW layers; run the build through the to_hw step first")
    chain = []
    for node in nodes[hw[0]:hw[-1] + 1]:
        if node.domain == DOMAIN:
            if chain and model.find_producer(node.input[0]) not in (chain[-1][0], *_transparent_between(model, node)):
                raise node_error(node, "the HW layers must form a single chain")
            chain.append((node, getCustomOp(node)))
        elif node.op_type not in TRANSPARENT:
            raise node_error(node, "cannot sit between HW layers in the accelerator")
    return chain


def _transparent_between(model, node):
    producer = model.find_producer(node.input[0])
    return [producer] if producer is not None and producer.op_type in TRANSPARENT else []


def input_fifo_depth(op, node, minimum):
    """Depth of the FIFO in front of a layer: an MVAU reads its whole input vector during its first output
    fold, so it gets room for two vectors (and never stalls its producer for long); others ``minimum``."""
    stream = op.in_stream()
    if node.op_type == "MVAU":
        vector = stream.beats // op.pixels()
        return 2 ** math.ceil(math.log2(max(minimum, min(stream.beats, 2 * vector))))
    return minimum


def plan(model, top="signflow_top", fifo_depth=DEFAULT_FIFO_DEPTH):
    """The stages of the stitched design of ``model``'s HW layers (names sanitized and unique)."""
    top = sanitize(top)
    used = {top, "in0"}
    chain = accelerator_chain(model)
    stages, links = [], []
    previous = chain[0][1].in_stream()
    for node, op in chain:
        inst = sanitize(node.name, used)
        stream_in, stream_out = op.in_stream(), op.out_stream()
        if stream_in.width != previous.width:  # regroup the same bits into the layer's beat width
            if stream_in.beats * stream_in.width != previous.beats * previous.width:
                raise node_error(node, f"its input frame ({stream_in.beats} x {stream_in.width} bits) differs "
                                 f"from its producer's output ({previous.beats} x {previous.width} bits)")
            stages.append(Stage(sanitize(f"{inst}_dwc", used), "axis_width_converter",
                                dict(IN_WIDTH=previous.width, OUT_WIDTH=stream_in.width,
                                     FRAME_BITS=previous.beats * previous.width), previous.width, stream_in.width))
        stages.append(Stage(sanitize(f"{inst}_fifo", used), "axis_fifo",
                            dict(WIDTH=stream_in.width, DEPTH=input_fifo_depth(op, node, fifo_depth)),
                            stream_in.width, stream_in.width))
        module, params, memories = op.core(model)
        stages.append(Stage(inst, module, params, stream_in.width, stream_out.width, memories, node))
        links.append(dict(name=inst, node=node.name, op=node.op_type, tensor=node.output[0], **stream_doc(stream_out)))
        previous = stream_out
    stages.append(Stage(sanitize("out_fifo", used), "axis_fifo", dict(WIDTH=previous.width, DEPTH=fifo_depth),
                        previous.width, previous.width))
    return Chain(top, chain[0][1].in_stream(), previous, chain[0][0].input[0], chain[-1][0].output[0], stages, links)
