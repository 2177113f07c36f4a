"""Lowering: NCHW convolutions and pools -> NHWC sliding window + matrix-vector form.

Each rewrite wraps its new NHWC nodes in transposes; the layout rewrites then
move the transposes through thresholds and cancel them in pairs, so the only
transpose left is the one at the input (done by the host).
"""
from onnx import helper
from qonnx.transformation.base import Transformation
from qonnx.util.basic import get_by_name

from signflow.graph import const, node_attr, node_error
from signflow.ops.base import make_node

TO_NHWC, TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def _insert_after(model, anchor, nodes):
    index = list(model.graph.node).index(anchor)
    for offset, node in enumerate(nodes):
        model.graph.node.insert(index + 1 + offset, node)


def _new_tensor(model, shape):
    name = model.make_new_valueinfo_name()
    model.set_tensor_shape(name, list(shape))
    return name


def _nhwc(shape):
    return [shape[0], shape[2], shape[3], shape[1]]


def _pad_node(model, conv):
    """The constant spatial Pad feeding ``conv`` as ``(pad node, [t, l, b, r], value)``, or ``(None, ...)``."""
    pad = model.find_producer(conv.input[0])
    if pad is None or pad.op_type != "Pad" or len(model.find_consumers(pad.output[0])) != 1:
        return None, [0, 0, 0, 0], 0.0
    pads = const(model, pad.input[1])
    if pads is None or node_attr(pad, "mode", b"constant") != b"constant":
        raise node_error(pad, "only constant padding with constant pad amounts is supported")
    pads = [int(p) for p in pads]  # (n, c, h, w) begins, then ends
    if pads[0] or pads[1] or pads[4] or pads[5]:
        raise node_error(pad, "only spatial padding is supported")
    value = float(const(model, pad.input[2])) if len(pad.input) > 2 and pad.input[2] else 0.0
    return pad, [pads[2], pads[3], pads[6], pads[7]], value


class LowerConv(Transformation):
    """``[Pad] -> Conv`` (NCHW) -> ``Transpose -> SlidingWindow -> MatMul -> Transpose``."""

    def apply(self, model):
        for conv in model.get_nodes_by_op_type("Conv"):
            _check_auto_pad(conv)
            if node_attr(conv, "group", 1) != 1 or any(d != 1 for d in node_attr(conv, "dilations", [1, 1])):
                raise node_error(conv, "grouped and dilated convolutions are not supported")
            pad, pads, value = _pad_node(model, conv)
            own = node_attr(conv, "pads", [0, 0, 0, 0])
            if any(own) and pad is not None:
                raise node_error(conv, "padding both in a Pad node and in the Conv is not supported")
            if any(own):
                pads = [own[0], own[1], own[2], own[3]]
            source = pad.input[0] if pad is not None else conv.input[0]
            weights = const(model, conv.input[1])  # Cout, Cin, kh, kw
            cout, cin, kh, kw = weights.shape
            if max(pads[0], pads[2]) >= kh or max(pads[1], pads[3]) >= kw:  # sliding_window.sv / .hpp
                raise node_error(pad if pad is not None else conv,
                                 f"padding {pads} (top, left, bottom, right) before a {kh}x{kw} convolution is not "
                                 "supported: the sliding-window cores pad each side by less than the kernel")
            in_shape = model.get_tensor_shape(source)
            out_shape = model.get_tensor_shape(conv.output[0])
            t_in = _new_tensor(model, _nhwc(in_shape))
            windows = _new_tensor(model, [*_nhwc(out_shape)[:3], kh * kw * cin])
            acc = _new_tensor(model, _nhwc(out_shape))
            w_name = model.make_new_valueinfo_name()
            model.set_initializer(w_name, weights.transpose(2, 3, 1, 0).reshape(kh * kw * cin, cout))
            nodes = [
                helper.make_node("Transpose", [source], [t_in], perm=TO_NHWC),
                make_node("SlidingWindow", [t_in], [windows], name=f"SlidingWindow_{conv.name}",
                          kernel=[kh, kw], stride=node_attr(conv, "strides", [1, 1]), pads=pads,
                          **({"pad_values": [value] * cin} if any(pads) else {})),
                helper.make_node("MatMul", [windows, w_name], [acc], name=f"MatMul_{conv.name}"),
                helper.make_node("Transpose", [acc], [conv.output[0]], perm=TO_NCHW),
            ]
            _insert_after(model, conv, nodes)
            model.graph.node.remove(conv)
            if pad is not None:
                model.graph.node.remove(pad)
            return model, True
        return model, False


class LowerMaxPool(Transformation):
    """``MaxPool`` (NCHW, bits or accumulators) -> ``Transpose -> StreamingMaxPool -> Transpose``."""

    def apply(self, model):
        for pool in model.get_nodes_by_op_type("MaxPool"):
            _check_auto_pad(pool)
            if any(node_attr(pool, "pads", [0, 0, 0, 0])) or node_attr(pool, "ceil_mode", 0) != 0:
                raise node_error(pool, "padded or ceil-mode max-pooling is not supported")
            kernel = node_attr(pool, "kernel_shape", None)
            in_shape = model.get_tensor_shape(pool.input[0])
            out_shape = model.get_tensor_shape(pool.output[0])
            t_in, pooled = _new_tensor(model, _nhwc(in_shape)), _new_tensor(model, _nhwc(out_shape))
            nodes = [
                helper.make_node("Transpose", [pool.input[0]], [t_in], perm=TO_NHWC),
                make_node("StreamingMaxPool", [t_in], [pooled], name=f"StreamingMaxPool_{pool.name}",
                          kernel=kernel, stride=node_attr(pool, "strides", [1, 1])),  # ONNX's default
                helper.make_node("Transpose", [pooled], [pool.output[0]], perm=TO_NCHW),
            ]
            _insert_after(model, pool, nodes)
            model.graph.node.remove(pool)
            return model, True
        return model, False


#: per-pixel ops that work in either layout (the threshold ops take a data_layout attribute)
LAYOUT_OPS = ("PixelThreshold", "DynamicThreshold", "StreamingMaxPool", "SlidingWindow")


class MoveTransposePastThreshold(Transformation):
    """``Transpose(to NCHW) -> threshold (NCHW)`` -> ``threshold (NHWC) -> Transpose(to NCHW)``."""

    def apply(self, model):
        for node in list(model.graph.node):
            if node.op_type not in ("PixelThreshold", "DynamicThreshold") or _layout(node) != "NCHW":
                continue
            trans = model.find_producer(node.input[0])
            if trans is None or trans.op_type != "Transpose" or node_attr(trans, "perm", None) != TO_NCHW:
                continue
            if len(model.find_consumers(trans.output[0])) != 1:
                continue
            out_shape = model.get_tensor_shape(node.output[0])
            moved = _new_tensor(model, out_shape)
            for consumer in model.find_consumers(node.output[0]) or []:
                for i, name in enumerate(consumer.input):
                    if name == node.output[0]:
                        consumer.input[i] = moved
            _replace_graph_output(model, node.output[0], moved)
            node.input[0] = trans.input[0]
            model.set_tensor_shape(node.output[0], _nhwc(out_shape))
            get_by_name(node.attribute, "data_layout") or node.attribute.append(helper.make_attribute("data_layout", "NHWC"))
            get_by_name(node.attribute, "data_layout").s = b"NHWC"
            model.graph.node.remove(trans)
            _insert_after(model, node, [helper.make_node("Transpose", [node.output[0]], [moved], perm=TO_NCHW)])
            return model, True
        return model, False


def _layout(node):
    attr = get_by_name(node.attribute, "data_layout")
    return attr.s.decode() if attr is not None else "NCHW"


def _replace_graph_output(model, old, new):
    for out in model.graph.output:
        if out.name == old:
            out.name = new
            # the graph output carries the tensor's shape now; a second entry for it would be ambiguous
            for info in [v for v in model.graph.value_info if v.name == new]:
                model.graph.value_info.remove(info)


def _check_auto_pad(node):
    """ONNX's implicit padding is not read: refuse it (VALID is no padding)."""
    auto_pad = node_attr(node, "auto_pad", "NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    if auto_pad not in ("NOTSET", "VALID"):
        raise node_error(node, f"auto_pad {auto_pad} is not supported; export the model with explicit pads")


class CancelTransposes(Transformation):
    """Two transposes that undo each other -> nothing."""

    def apply(self, model):
        for first in model.get_nodes_by_op_type("Transpose"):
            consumers = model.find_consumers(first.output[0]) or []
            if len(consumers) != 1 or consumers[0].op_type != "Transpose":
                continue
            second = consumers[0]
            p, q = node_attr(first, "perm", None), node_attr(second, "perm", None)
            if [p[i] for i in q] != list(range(len(p))):
                continue
            for consumer in model.find_consumers(second.output[0]) or []:
                for i, name in enumerate(consumer.input):
                    if name == second.output[0]:
                        consumer.input[i] = first.input[0]
            _replace_graph_output(model, second.output[0], first.input[0])
            model.graph.node.remove(first)
            model.graph.node.remove(second)
            return model, True
        return model, False


class FlattenNHWC(Transformation):
    """``Transpose(to NCHW) -> Flatten -> MatMul`` -> ``Flatten -> MatMul`` with rows in (h, w, c) order."""

    def apply(self, model):
        for flat in list(model.graph.node):
            if flat.op_type not in ("Flatten", "Reshape"):
                continue
            trans = model.find_producer(flat.input[0])
            consumers = model.find_consumers(flat.output[0]) or []
            if trans is None or trans.op_type != "Transpose" or node_attr(trans, "perm", None) != TO_NCHW:
                continue
            if len(consumers) != 1 or consumers[0].op_type != "MatMul":
                continue
            n, c, h, w = model.get_tensor_shape(trans.output[0])
            matmul = consumers[0]
            weights = const(model, matmul.input[1])
            reordered = weights.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(c * h * w, -1)
            name = model.make_new_valueinfo_name()
            model.set_initializer(name, reordered)
            matmul.input[1] = name
            flat.input[0] = trans.input[0]
            model.graph.node.remove(trans)
            return model, True
        return model, False
