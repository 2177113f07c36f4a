"""The published DeSign order, ``conv -> max-pool -> BN -> offset -> sign``, at the cost of FINN's order.

``max_i a_i >= t`` is ``OR_i (a_i >= t)`` when ``t`` is the same over the pool window, so the sign of a
pooled accumulator is thresholded *before* the pool, with the phase of the pooled pixel (the ``pool``
attribute of the threshold), and the binary max-pool ORs the bits, as in FINN's order.

Where the chain falls (negative gamma) the sign is ``max_i a_i <= t``, an AND over the window. Its
complement ``OR_i (a_i >= t + 1)`` is an OR again: the threshold emits the complemented bit, the pool ORs,
and a ``Mul`` by ``d_c = -1`` restores the value in the graph. The next binary layer absorbs that
``Mul`` in its weights (``AbsorbChannelFlips``), and its padding pads complemented channels with +1.

DySign needs the statistic of the pooled map, so its accumulator is max-pooled as integers
(``flow.transforms.dynamic``); the DySign unit buffers the pooled frame.
"""
import numpy as np
from onnx import helper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from signflow.graph import const, node_attr, node_error, node_label, single_consumer
from signflow.ops.base import make_node
from signflow.transforms.lower import TO_NHWC
from signflow.transforms.streamline import LINEAR_OPS, accumulator, affine_chain
from signflow.transforms.thresholds import fold_chain

#: ops through which a complemented channel reaches the weights of a fully connected layer unchanged
FLATTEN_OPS = ("Flatten", "Reshape")


def pool_window(model, pool):
    """``(ph, pw)`` of a max-pool the threshold can move before: stride = size, no padding, no dilation."""
    kernel = node_attr(pool, "kernel_shape", None)
    stride = node_attr(pool, "strides", [1, 1])  # ONNX: a missing stride is 1
    if kernel is None or len(kernel) != 2 or list(stride) != list(kernel) or any(node_attr(pool, "pads", [0] * 4)) \
            or node_attr(pool, "ceil_mode", 0) != 0 or any(d != 1 for d in node_attr(pool, "dilations", [1, 1])):
        raise node_error(pool, f"a max-pool before the sign (the published DeSign order) must have stride equal to "
                         f"its size, no padding, no dilation and floor mode (got kernel {kernel}, stride {stride}); "
                         "only then does thresholding before the pool give the same bits")
    return int(kernel[0]), int(kernel[1])


class MoveScalarMulPastMaxPool(Transformation):
    """``Mul(s > 0 scalar) -> MaxPool`` -> ``MaxPool -> Mul``: exact, as rounding ``s * a`` keeps the order."""

    def apply(self, model):
        for pool in model.get_nodes_by_op_type("MaxPool"):
            mul = model.find_producer(pool.input[0])
            scale = None if mul is None or mul.op_type != "Mul" else const(model, mul.input[1])
            if scale is None or scale.size != 1 or float(scale) <= 0 or \
                    len(model.find_consumers(mul.output[0])) != 1:
                continue
            pooled_in, pooled_out = mul.input[0], pool.output[0]
            moved = model.make_new_valueinfo_name()
            model.set_tensor_shape(moved, model.get_tensor_shape(pool.output[0]))
            pool.input[0], pool.output[0] = pooled_in, moved
            mul.input[0], mul.output[0] = moved, pooled_out
            nodes = list(model.graph.node)
            model.graph.node.remove(mul)
            model.graph.node.insert(nodes.index(pool), mul)
            return model, True
        return model, False


def pooled_layer(model, tensor):
    """``(layer, pool, chain)`` when ``tensor`` is ``layer -> MaxPool -> chain`` (chain may be empty), else None."""
    pool, chain = affine_chain(model, tensor)
    if pool is None or pool.op_type != "MaxPool":
        return None
    layer = model.find_producer(pool.input[0])
    if layer is None or layer.op_type not in LINEAR_OPS:
        return None
    for node in [layer, pool] + chain:  # the chain goes: nobody but the next node (the sign) may read it
        if len(model.find_consumers(node.output[0])) != 1:
            raise node_error(node, "this accumulator, pooled before its sign, has other readers; only the sign "
                             "may read it")
    return layer, pool, chain


def _absorbable(model, tensor):
    """Why the consumers of ``tensor`` cannot negate channels in their weights, or None when they all can."""
    for consumer in model.find_consumers(tensor) or []:
        node = consumer
        if node.op_type == "Pad":
            node = single_consumer(model, node.output[0])
        elif node.op_type in FLATTEN_OPS:
            node = single_consumer(model, node.output[0])
            node = node if node is not None and node.op_type == "MatMul" else None
        if node is None or node.op_type not in LINEAR_OPS or const(model, node.input[1]) is None:
            return f"'{consumer.name}' ({consumer.op_type})"
    if tensor in [o.name for o in model.graph.output]:
        return "the graph output"
    return None


class ThresholdBeforePool(Transformation):
    """``layer -> MaxPool -> affine chain -> BipolarQuant`` ->
    ``layer -> PixelThreshold(pool) -> MaxPool [-> Mul(d)]``; ``d`` restores complemented channels."""

    def apply(self, model):
        for act in model.get_nodes_by_op_type("BipolarQuant"):
            found = pooled_layer(model, act.input[0])
            if found is None:
                continue
            layer, pool, chain = found
            window = pool_window(model, pool)
            bound, channels = accumulator(model, layer)
            direction, thr, period = fold_chain(model, chain, bound, channels, layer.op_type == "Conv",
                                                node_label(act))
            # falling channels: y = a <= -thr, emitted as its complement a >= 1 - thr
            thr = np.where(direction[:, None] > 0, thr, 1 - thr).astype(np.float32)
            flipped = direction < 0
            blocker = _absorbable(model, act.output[0]) if flipped.any() else None
            if blocker is not None:
                raise node_error(pool, f"channels {np.flatnonzero(flipped)[:8].tolist()} of this pooled sign fall "
                                 f"with the accumulator (negative BatchNorm gamma): their max-pool is an AND, which "
                                 f"the next binary Conv or fully connected layer absorbs, but they feed {blocker}")
            thr_name = model.make_new_valueinfo_name()
            model.set_initializer(thr_name, thr)
            bits = model.make_new_valueinfo_name()
            model.set_tensor_shape(bits, model.get_tensor_shape(layer.output[0]))
            index = list(model.graph.node).index(pool)
            model.graph.node.insert(index, make_node(
                "PixelThreshold", [layer.output[0], thr_name], [bits], name=f"Threshold_{act.name}",
                period=list(period), pool=list(window)))
            pool.input[0] = bits
            if flipped.any():
                pooled = model.make_new_valueinfo_name()
                model.set_tensor_shape(pooled, model.get_tensor_shape(pool.output[0]))
                sign = model.make_new_valueinfo_name()
                model.set_initializer(sign, np.where(flipped, -1.0, 1.0).astype(np.float32).reshape(1, -1, 1, 1))
                model.graph.node.insert(index + 2, helper.make_node(
                    "Mul", [pooled, sign], [act.output[0]], name=f"ChannelFlip_{act.name}"))
                pool.output[0] = pooled
            else:
                pool.output[0] = act.output[0]
            for old in chain + [act]:
                model.graph.node.remove(old)
            return model, True
        return model, False


def channel_flips(model, node):
    """The ``[C]`` signs of a ``Mul`` by a per-channel +-1 constant ``[1, C, 1, 1]``, or None."""
    if node.op_type != "Mul":
        return None
    value = const(model, node.input[1])
    if value is None or value.ndim != 4 or value.shape[0] != 1 or value.shape[2:] != (1, 1) or \
            not np.all(np.abs(value) == 1):
        return None
    return value.reshape(-1)


class AbsorbChannelFlips(Transformation):
    """``Mul(d) -> Transpose -> SlidingWindow -> MatMul`` and ``Mul(d) -> Flatten -> MatMul``: the signs ``d``
    go into the weight rows of each channel (and into its padding value); the ``Mul`` disappears.

    Runs after ``LowerConv`` (which turns ``Pad -> Conv`` into a sliding window with per-channel padding).
    """

    def apply(self, model):
        for mul in model.get_nodes_by_op_type("Mul"):
            signs = channel_flips(model, mul)
            if signs is None:
                continue
            consumers = model.find_consumers(mul.output[0]) or []
            for consumer in consumers:
                self._absorb(model, mul, consumer, signs)
                consumer.input[list(consumer.input).index(mul.output[0])] = mul.input[0]
            model.graph.node.remove(mul)
            return model, True
        return model, False

    @staticmethod
    def _absorb(model, mul, consumer, signs):
        channels = signs.size
        if consumer.op_type == "Transpose" and node_attr(consumer, "perm", None) == TO_NHWC:
            window = single_consumer(model, consumer.output[0])
            matmul = single_consumer(model, window.output[0]) if window is not None else None
            if window is None or window.op_type != "SlidingWindow" or matmul is None or matmul.op_type != "MatMul":
                raise node_error(mul, "internal error: a channel flip before a convolution that is not lowered")
            op = getCustomOp(window)
            if op.get_nodeattr("pad_values"):  # a complemented channel pads with the complement of its pad
                op.set_nodeattr("pad_values", [float(v * s) for v, s in zip(op.get_nodeattr("pad_values"), signs)])
            row_signs = np.tile(signs, const(model, matmul.input[1]).shape[0] // channels)  # rows (i, j, c)
        elif consumer.op_type in FLATTEN_OPS:
            matmul = single_consumer(model, consumer.output[0])
            _, c, h, w = model.get_tensor_shape(mul.output[0])
            row_signs = np.repeat(signs, h * w)  # NCHW flatten: rows (c, h, w)
        else:
            raise node_error(consumer, "internal error: a channel flip reached a node that cannot absorb it")
        weights = const(model, matmul.input[1])
        name = model.make_new_valueinfo_name()
        model.set_initializer(name, (weights * row_signs[:, None]).astype(np.float32))
        matmul.input[1] = name
