"""Fast reference execution of a built graph on whole batches.

``execute_onnx`` runs one sample at a time and builds an onnxruntime session
per node per call. Here each standard node gets one session (with a free batch
dimension) and each custom op runs its numpy golden model on the whole batch,
so the arithmetic is the same and only the overhead is gone.
"""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper
from qonnx.custom_op.registry import getCustomOp, is_custom_op

from signflow.errors import UserError
from signflow.graph import load_graph, node_label
from signflow.ops.mvau import dot_thresholds
from signflow.ops.stream import STREAM_OPS
from signflow.ops.threshold import per_pixel_thresholds

#: samples per chunk: bounds memory on big test sets
CHUNK = 1024


class FastGraph:
    """A graph prepared for batch execution: ``FastGraph(model)(x) -> y``."""

    def __init__(self, model, fuse=True):
        """``fuse``: run each sliding window + MVAU as one convolution (the window's own tensor is then skipped)."""
        self.model = load_graph(model)
        self.fuse = fuse
        self.consts = {i.name: onnx.numpy_helper.to_array(i) for i in self.model.graph.initializer}
        self.fused = set()  # sliding windows computed inside their MVAU's convolution
        self.steps = [self._prepare(node) for node in self.model.graph.node]
        self.input = self.model.graph.input[0].name
        self.output = self.model.graph.output[0].name
        self.in_shape = list(self.model.get_tensor_shape(self.input))[1:]

    def _prepare(self, node):
        if self.fuse and node.op_type == "SlidingWindow" and self._window_feeds_mvau(node):
            self.fused.add(node.output[0])
            return lambda ctx: None
        if node.op_type in STREAM_OPS:  # identities: their output is their input
            source, output = node.input[0], node.output[0]
            if source in self.fused:
                self.fused.add(output)
                return lambda ctx: None
            return lambda ctx: ctx.__setitem__(output, ctx[source])
        if node.op_type == "MVAU" and node.input[0] in self.fused:
            return self._conv_mvau(node)
        if is_custom_op(node.domain, node.op_type):
            op = getCustomOp(node)
            return lambda ctx: op.execute_node(ctx, self.model.graph)
        session = self._session(node)
        names = [i for i in node.input if i and i not in self.consts]

        def run(ctx):
            outs = session.run(list(node.output), {n: ctx[n] for n in names})
            ctx.update(zip(node.output, outs))
        return run

    def _window_feeds_mvau(self, node):
        consumers = self.model.find_consumers(node.output[0]) or []
        while len(consumers) == 1 and consumers[0].op_type in STREAM_OPS:
            consumers = self.model.find_consumers(consumers[0].output[0]) or []
        return len(consumers) == 1 and consumers[0].op_type == "MVAU"

    def _window_of(self, mvau):
        producer = self.model.find_producer(mvau.input[0])
        while producer.op_type in STREAM_OPS:
            producer = self.model.find_producer(producer.input[0])
        return producer

    def _conv_mvau(self, node):
        """Sliding window + MVAU as one convolution (exact: integer sums in float32)."""
        import torch
        import torch.nn.functional as F

        window = getCustomOp(self._window_of(node))
        mvau = getCustomOp(node)
        kh, kw = window.get_nodeattr("kernel")
        top, left, bottom, right = window.get_nodeattr("pads")
        channels = window.get_nodeattr("in_shape")[-1]
        binary = mvau.get_nodeattr("input_mode") == "binary"
        bits = self.consts[node.input[1]]  # (kh, kw, C) x MH
        source = window.onnx_node.input[0]
        stride = tuple(window.get_nodeattr("stride"))
        # binary: (2x - 1).(2w - 1) = x.(4w - 2) - sum(2w - 1), with x in bits (padding bits included)
        scale = 2.0 if binary else 1.0
        pad_values = torch.tensor(window.pad_values(channels), dtype=torch.float32)
        bipolar = 2 * bits.reshape(kh, kw, channels, -1).transpose(3, 2, 0, 1) - 1
        weight = torch.from_numpy(scale * bipolar).float().contiguous(memory_format=torch.channels_last)
        offset = bipolar.sum(axis=(1, 2, 3)).astype(np.float32) if binary else np.zeros(bits.shape[1], np.float32)
        if mvau.get_nodeattr("output_mode") == "threshold":
            oh, ow, _ = mvau.get_nodeattr("out_shape")
            thr = dot_thresholds(self.consts[node.input[2]], mvau.get_nodeattr("input_mode"), bits.shape[0])
            limit = torch.from_numpy(per_pixel_thresholds(thr, oh, ow, mvau.get_nodeattr("period"), "NHWC",
                                                              mvau.get_nodeattr("pool")) + offset)
        else:
            limit = None

        def run(ctx):
            x = torch.from_numpy(np.ascontiguousarray(ctx[source], dtype=np.float32))  # NHWC
            if any((top, left, bottom, right)):  # padded per channel
                n, height, width, _ = x.shape
                padded = pad_values.expand(n, height + top + bottom, width + left + right, channels).clone()
                padded[:, top:top + height, left:left + width] = x
                x = padded
            with torch.no_grad():  # channels-last convolution: no layout copies
                out = F.conv2d(x.permute(0, 3, 1, 2), weight, stride=stride).permute(0, 2, 3, 1)
                out = (out - torch.from_numpy(offset)) if limit is None else torch.ge(out, limit).float()
            ctx[node.output[0]] = out.contiguous().numpy()
        return run

    def _session(self, node):
        """One onnxruntime session for ``node``, batch dimension left free, constants baked in."""
        inputs, inits = [], []
        for name in node.input:
            if not name:
                continue
            if name in self.consts:
                inits.append(onnx.numpy_helper.from_array(self.consts[name], name))
            else:
                shape = self.model.get_tensor_shape(name)
                inputs.append(helper.make_tensor_value_info(name, self._elem_type(name), ["batch"] + list(shape[1:])))
        outputs = [helper.make_tensor_value_info(o, self._elem_type(o), None) for o in node.output]
        graph = helper.make_graph([node], "node", inputs, outputs, inits)
        if node.op_type in ("Reshape",):  # a fixed shape with batch 1 -> let the batch dimension free
            shape = self.consts[node.input[1]].copy()
            shape[0] = 0 if shape[0] == 1 else shape[0]  # 0: copy the batch dimension
            graph.initializer[[i.name for i in graph.initializer].index(node.input[1])].CopyFrom(
                onnx.numpy_helper.from_array(shape, node.input[1]))
        opset = [o for o in self.model.model.opset_import if o.domain in ("", "ai.onnx")]
        proto = helper.make_model(graph, opset_imports=opset)
        proto.ir_version = 8
        try:
            return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
        except Exception as err:
            raise UserError(f"{node_label(node)} ({node.op_type}) cannot run in batch mode: {str(err).splitlines()[0]}")

    def _elem_type(self, name):
        info = self.model.get_tensor_valueinfo(name)
        elem = info.type.tensor_type.elem_type if info is not None else 0
        return elem or onnx.TensorProto.FLOAT

    def run_context(self, x):
        """Every tensor of the graph on the batch ``x`` (one chunk), by name."""
        ctx = dict(self.consts)
        ctx[self.input] = np.ascontiguousarray(x, dtype=np.float32)
        for step in self.steps:
            step(ctx)
        return ctx

    def __call__(self, x):
        x = np.ascontiguousarray(x, dtype=np.float32)
        if list(x.shape[1:]) != self.in_shape:
            raise UserError(f"input has shape {list(x.shape)}; the model takes [N, {', '.join(map(str, self.in_shape))}]")
        outs = []
        for start in range(0, len(x), CHUNK):
            ctx = dict(self.consts)
            ctx[self.input] = x[start:start + CHUNK]
            for step in self.steps:
                step(ctx)
            outs.append(ctx[self.output])
        return np.concatenate(outs) if outs else np.zeros((0,), np.float32)
