"""HW layers: MatMul (+ threshold) -> MVAU, binary streams carried as bits, shapes annotated."""
import numpy as np
from onnx import helper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from signflow.graph import const, node_error, single_consumer
from signflow.ops.base import DOMAIN, make_node

#: ops whose output is a binary stream
BINARY_SOURCES = ("PixelThreshold", "DynamicThreshold", "BipolarQuant")
#: ops that pass a stream's element type through
#: HW max-pools (of bits, or of accumulators before a DySign unit in the published DeSign order)
POOL_OPS = ("StreamingMaxPool",)
PASS_THROUGH = ("SlidingWindow", *POOL_OPS, "Transpose", "Flatten", "Reshape")


def stream_kind(model, tensor):
    """``("binary", 1)`` or ``("int", bits)`` for the stream ``tensor``; errors on anything else."""
    node = model.find_producer(tensor)
    while node is not None and node.op_type in PASS_THROUGH:
        node = model.find_producer(node.input[0])
    if node is not None and (node.op_type in BINARY_SOURCES or
                             node.op_type == "MVAU" and getCustomOp(node).get_nodeattr("output_mode") == "threshold"):
        return "binary", 1
    if node is not None and node.op_type == "Quant" and float(const(model, node.input[1])) == 1.0:
        return "int", int(const(model, node.input[3]))
    raise node_error(node or model.find_consumers(tensor)[0], "feeds a layer but is neither a binary nor an integer stream")


class ToMVAU(Transformation):
    """``MatMul(+-1 weights) [-> PixelThreshold]`` -> ``MVAU`` (threshold or accumulator output)."""

    def apply(self, model):
        for matmul in model.get_nodes_by_op_type("MatMul"):
            weights = const(model, matmul.input[1])
            if weights is None or not np.all(np.abs(weights) == 1):
                continue
            mode, bits = stream_kind(model, matmul.input[0])
            mw, mh = weights.shape
            channels = _window_channels(model, model.find_producer(matmul.input[0]))
            w_name = model.make_new_valueinfo_name()
            model.set_initializer(w_name, ((weights + 1) / 2).astype(np.float32))
            thr_node = single_consumer(model, matmul.output[0])
            attrs = dict(MW=mw, MH=mh, input_mode=mode, in_bits=bits, channels=channels)
            if thr_node is not None and thr_node.op_type == "PixelThreshold":
                thr = const(model, thr_node.input[1])
                if mode == "binary":  # acc = 2p - MW: acc >= t <=> p >= ceil((t + MW) / 2)
                    thr = np.ceil((thr + mw) / 2)
                t_name = model.make_new_valueinfo_name()
                model.set_initializer(t_name, thr.astype(np.float32))
                node = make_node("MVAU", [matmul.input[0], w_name, t_name], [thr_node.output[0]],
                                 name=f"MVAU_{matmul.name}", output_mode="threshold",
                                 period=getCustomOp(thr_node).get_nodeattr("period"),
                                 pool=getCustomOp(thr_node).get_nodeattr("pool"), **attrs)
                model.graph.node.remove(thr_node)
            else:
                node = make_node("MVAU", [matmul.input[0], w_name], [matmul.output[0]], name=f"MVAU_{matmul.name}",
                                 output_mode="acc", out_dtype="INT32", **attrs)
            model.graph.node.insert(list(model.graph.node).index(matmul), node)
            model.graph.node.remove(matmul)
            return model, True
        return model, False


def _window_channels(model, source):
    """Input channels of the sliding window ``source``; 0 when the layer is fully connected."""
    if source is not None and source.op_type == "SlidingWindow":
        return model.get_tensor_shape(source.input[0])[-1]
    return 0


class BinaryStreamsAsBits(Transformation):
    """Bipolar streams (-1/+1) -> bits (0/1): thresholds emit bits, padding becomes bit 0, input signs converted."""

    def apply(self, model):
        for node in model.graph.node:
            if node.op_type in ("PixelThreshold", "DynamicThreshold"):
                getCustomOp(node).set_nodeattr("out_bits", 1)
                getCustomOp(node).set_nodeattr("out_dtype", "BINARY")
            elif node.op_type == "SlidingWindow" and stream_kind(model, node.input[0])[0] == "binary":
                op = getCustomOp(node)
                values = op.get_nodeattr("pad_values")
                if any(abs(v) != 1.0 for v in values):
                    raise node_error(node, f"binary stream padded with {sorted(set(values) - {-1.0, 1.0})}; "
                                     "only -1 padding (+1 on a complemented channel) keeps it binary")
                if values:
                    op.set_nodeattr("pad_values", [(v + 1) / 2 for v in values])  # -1 -> bit 0, +1 -> bit 1
        for sign in model.get_nodes_by_op_type("BipolarQuant"):  # host-side input binarization
            bits = model.make_new_valueinfo_name()
            shifted = model.make_new_valueinfo_name()
            one, half = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
            model.set_initializer(one, np.float32(1.0))
            model.set_initializer(half, np.float32(0.5))
            for consumer in model.find_consumers(sign.output[0]) or []:
                consumer.input[list(consumer.input).index(sign.output[0])] = bits
            index = list(model.graph.node).index(sign)
            model.graph.node.insert(index + 1, helper.make_node("Add", [sign.output[0], one], [shifted],
                                                                name=f"ToBits_{sign.name}_add"))
            model.graph.node.insert(index + 2, helper.make_node("Mul", [shifted, half], [bits],
                                                                name=f"ToBits_{sign.name}_mul"))
        return model, False


class AnnotateHW(Transformation):
    """Record each HW op's input/output shapes and element widths as attributes (for folding and codegen)."""

    def apply(self, model):
        for node in model.graph.node:
            if node.domain != DOMAIN:
                continue
            op = getCustomOp(node)
            op.set_nodeattr("in_shape", model.get_tensor_shape(node.input[0])[1:])
            op.set_nodeattr("out_shape", model.get_tensor_shape(node.output[0])[1:])
            if node.op_type == "SlidingWindow":  # its elements are its MVAU's inputs
                op.set_nodeattr("bits", getCustomOp(single_consumer(model, node.output[0])).get_nodeattr("in_bits"))
            if node.op_type in ("PixelThreshold", "DynamicThreshold"):
                producer = accumulator_producer(model, node.input[0])
                if producer is not None:  # same element width on the stream
                    op.set_nodeattr("acc_bits", getCustomOp(producer).acc_width())
            if node.op_type in POOL_OPS and accumulator_producer(model, node.input[0]) is not None:
                # a max-pool of accumulators (DySign in the published DeSign order)
                op.set_nodeattr("bits", getCustomOp(accumulator_producer(model, node.input[0])).acc_width())
            if node.op_type == "DynamicThreshold":
                op.set_nodeattr("hidden", int(const(model, node.input[1]).shape[1]))
        return model, False


def accumulator_producer(model, tensor):
    """The MVAU whose accumulators reach ``tensor``, directly or through a max-pool, or None."""
    node = model.find_producer(tensor)
    while node is not None and node.op_type in POOL_OPS:
        node = model.find_producer(node.input[0])
    if node is None or node.op_type != "MVAU" or getCustomOp(node).get_nodeattr("output_mode") != "acc":
        return None
    return node


#: host-side ops after the scores that keep their order when their constant is positive
ORDER_KEEPING = ("Mul", "Add", "Sub", "Div")


class AppendLabelSelect(Transformation):
    """Final ``MVAU (scores) -> order-keeping host ops`` -> ``MVAU -> LabelSelect``; the output is the class index."""

    def apply(self, model):
        last = [n for n in model.graph.node if n.op_type == "MVAU"][-1]
        if getCustomOp(last).get_nodeattr("output_mode") != "acc":
            raise node_error(last, "label select needs integer scores from the last layer")
        tail, tensor = [], last.output[0]
        while tensor != model.graph.output[0].name:
            node = single_consumer(model, tensor)
            constant = None if node is None else const(model, node.input[1])
            if node is None or node.op_type not in ORDER_KEEPING or constant is None or \
                    (node.op_type in ("Mul", "Div") and np.any(constant <= 0)) or constant.size != 1:
                raise node_error(node or last, "label select needs the scores' post-processing to keep their order "
                                 "(scalar Add/Sub, positive Mul/Div)")
            tail.append(node)
            tensor = node.output[0]
        output = model.graph.output[0]
        mvau = getCustomOp(last)
        node = make_node("LabelSelect", [last.output[0]], [output.name], name="LabelSelect_0",
                         NUM=mvau.get_nodeattr("MH"), PE=1, BITS=mvau.acc_width())
        for old in tail:
            model.graph.node.remove(old)
        model.graph.node.append(node)
        model.set_tensor_shape(output.name, [model.get_tensor_shape(last.output[0])[0], 1])
        return model, False
