"""Stream plumbing as graph nodes, once the folding fixes every stream's width (FINN's InsertDWC / InsertFIFO).

``InsertDWC`` puts a width converter where a layer's input beats are narrower or wider than its producer's
output beats; ``InsertFIFO`` then puts a FIFO in front of every layer and one after the last. Both keep the
graph's function (the nodes are identities) and its output name; the code generators read them.
"""
import math

from qonnx.transformation.base import Transformation

from signflow.codegen.chain import accelerator_chain
from signflow.errors import UserError
from signflow.graph import node_error
from signflow.ops.base import make_node
from signflow.ops.stream import STREAM_OPS

#: FIFO depth between layers (beats); a power of two
DEFAULT_FIFO_DEPTH = 32


def _layers(model):
    return [(node, op) for node, op in accelerator_chain(model) if node.op_type not in STREAM_OPS]


def _insert_before(model, consumer, op_type, name, stream, **attrs):
    """A stream node on ``consumer``'s first input, carrying ``stream`` elements (``lanes`` in and out)."""
    tensor = consumer.input[0]
    new = model.make_new_valueinfo_name()
    model.set_tensor_shape(new, model.get_tensor_shape(tensor))
    model.set_tensor_datatype(new, model.get_tensor_datatype(tensor))
    node = _stream_node(model, op_type, tensor, new, name, stream, **attrs)
    model.graph.node.insert(list(model.graph.node).index(consumer), node)
    consumer.input[0] = new


def _stream_node(model, op_type, source, output, name, stream, in_lanes=None, **attrs):
    shape = list(model.get_tensor_shape(source))[1:]
    return make_node(op_type, [source], [output], name, in_shape=shape, out_shape=shape,
                     in_lanes=in_lanes or stream.lanes, out_lanes=stream.lanes, bits=stream.bits,
                     elements=stream.beats * stream.lanes, signed=int(stream.is_signed),
                     out_dtype=model.get_tensor_datatype(source).name, **attrs)


class InsertDWC(Transformation):
    """A width converter in front of each layer whose input beat width differs from its producer's."""

    def apply(self, model):
        layers = _layers(model)
        for (_, producer), (node, op) in zip(layers, layers[1:]):
            given, wanted = producer.out_stream(), op.in_stream()
            if given.width == wanted.width:
                continue
            if given.beats * given.width != wanted.beats * wanted.width or given.bits != wanted.bits:
                raise node_error(node, f"its input frame ({wanted.beats} beats of {wanted.lanes} x {wanted.bits} "
                                 f"bits) is not its producer's output ({given.beats} beats of {given.lanes} x "
                                 f"{given.bits} bits) regrouped")
            _insert_before(model, node, "StreamingDataWidthConverter", f"{node.name}_dwc", wanted,
                           in_lanes=given.lanes)
        return model, False


def input_fifo_depth(op, node, minimum):
    """Depth of the FIFO in front of a layer: an MVAU reads its whole input vector during its first output
    fold, so it gets room for two vectors (and never stalls its producer for long); others ``minimum``."""
    stream = op.in_stream()
    if node.op_type == "MVAU":
        vector = stream.beats // op.pixels()
        return 2 ** math.ceil(math.log2(max(minimum, min(stream.beats, 2 * vector))))
    return minimum


class InsertFIFO(Transformation):
    """A FIFO in front of every layer (behind its width converter) and one after the last layer."""

    def __init__(self, depth=DEFAULT_FIFO_DEPTH):
        super().__init__()
        if depth < 2 or depth & (depth - 1):
            raise UserError(f"FIFO depth {depth} is not a power of two >= 2; choose e.g. 32")
        self.depth = depth

    def apply(self, model):
        layers = _layers(model)
        for node, op in layers:
            _insert_before(model, node, "StreamingFIFO", f"{node.name}_fifo", op.in_stream(),
                           depth=input_fifo_depth(op, node, self.depth))
        last, op = layers[-1]
        # the FIFO takes over the last layer's output name, so the graph's output keeps its name
        inner = model.make_new_valueinfo_name()
        model.set_tensor_shape(inner, model.get_tensor_shape(last.output[0]))
        model.set_tensor_datatype(inner, model.get_tensor_datatype(last.output[0]))
        fifo = _stream_node(model, "StreamingFIFO", inner, last.output[0], "out_fifo", op.out_stream(),
                            depth=self.depth)
        last.output[0] = inner
        model.graph.node.insert(list(model.graph.node).index(last) + 1, fifo)
        return model, False
