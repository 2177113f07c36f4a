"""The stitched accelerator as a list of stages, shared by the RTL and the HLS code generators.

The HW nodes in stream order: the layers, each behind its FIFO (and width converter) as the fold
step inserted them. Each stage names its core (the RTL module; the HLS function of the same name),
the core's parameters and memories, and the widths of the streams around it. ``links`` describe
every layer's output stream (design.json).
"""
import math
from dataclasses import dataclass, field

from qonnx.custom_op.registry import getCustomOp

from signflow.codegen.names import sanitize
from signflow.errors import UserError
from signflow.graph import node_error
from signflow.ops.base import DOMAIN
from signflow.ops.hw import Stream
from signflow.ops.stream import STREAM_OPS

#: nodes that do not change a stream inside the accelerator (NHWC flatten keeps the element order)
TRANSPARENT = ("Flatten", "Reshape")


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


def plan(model, top="signflow_top"):
    """The stages of the stitched design of ``model``'s HW nodes (names sanitized and unique): the layers and the
    FIFOs and width converters the fold step inserted (flow/transforms/streams.py)."""
    top = sanitize(top)
    used = {top, "in0"}
    chain = accelerator_chain(model)
    stages, links = [], []
    previous = chain[0][1].in_stream()
    for index, (node, op) in enumerate(chain):
        is_layer = node.op_type not in STREAM_OPS
        stream_in, stream_out = op.in_stream(), op.out_stream()
        if is_layer and (index == 0 or chain[index - 1][0].op_type != "StreamingFIFO"):
            raise node_error(node, "has no input FIFO: the graph was saved before FIFOs were graph nodes; "
                             "run the build again from the fold step")
        if stream_in.width != previous.width:
            raise node_error(node, f"takes {stream_in.width}-bit beats from a {previous.width}-bit stream; "
                             "run the build again from the fold step (it inserts the width converters)")
        inst = sanitize(node.name, used)
        module, params, memories = op.core(model)
        stages.append(Stage(inst, module, params, stream_in.width, stream_out.width, memories,
                            node if is_layer else None))
        if is_layer:
            links.append(dict(name=inst, node=node.name, op=node.op_type, tensor=node.output[0],
                              **stream_doc(stream_out)))
        previous = stream_out
    return Chain(top, chain[0][1].in_stream(), previous, chain[0][0].input[0], chain[-1][0].output[0], stages, links)
