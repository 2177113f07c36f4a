"""Random binary networks written directly with Brevitas (not through the zoo), for the fuzzer (issue 12).

``random_spec(seed)`` draws a ``NetSpec`` from one integer seed; ``FuzzNet(spec)`` builds it; ``random_net(seed)``
does both and randomizes the BatchNorm statistics (negative, zero and near-zero gamma). ``spec.describe()`` is a
one-line summary for failure messages, and ``REPLAY`` says how to run one seed again.

A net: an 8-bit (``InputQuant``) or bipolar (``BinaryAct``) input; 1-4 binary convs of kernel 1-3, each optionally
padded with -1 before it and max-pooled 2x2 after it, either before its activation ("published":
conv -> pool -> activation) or after it ("finn": conv -> activation -> pool); each conv's activation is a sign
(BN + sign), DeSign (2-D or 3-D published kernel, offset scaled by gamma or raw, tiled from the corner or the
centre), DySign, or a bare sign; 0-2 hidden fully connected layers (BN + sign) and a final one, optionally scaled.
The build folds at the smallest design, for a target FPS, or from a random folding file (``random_folding``),
with FIFOs of 2, 4 or 32 beats between the layers.
"""
from dataclasses import dataclass, field

import brevitas.nn as qnn
import numpy as np
import torch
from torch import nn

from signflow.models.activations import BinarySign, DitherSign, DynamicSign, SignAct
from signflow.models.kernels import get_kernel
from signflow.models.quant import BinaryAct, BinaryWeight, InputQuant
from tests.helpers import randomize_batchnorm

#: how to run one seed again (the make target, or the test id with the seed range in the environment)
REPLAY = "replay: make fuzz SEED={seed} N=1 (or SIGNFLOW_FUZZ_SEEDS={seed} .venv/bin/python -m pytest " \
         "'tests/flow/test_fuzz.py::test_fuzz[{seed}]')"

#: DeSign kernels drawn: the two 2x2 designs, a 3x3 one, and 3-D published kernels (one 2-D kernel per channel)
DITHER_KERNELS = ["threshold_2x2_v1", "threshold_2x2_v2", "threshold_3x3_symmetric_v2",
                  "threshold_2x2x4_shifting_n1_right_v1", "threshold_3x3x2_complement_v1",
                  "threshold_3x3x4_shifted_1_right_v1"]
ACTS = ["sign", "design", "design", "dysign", "bare"]  # DeSign twice as often: it has the most variants
ORDERS = ("published", "finn")
#: target FPS drawn for the fold step (every one reachable for these small nets at 100 MHz)
TARGET_FPS = [2000, 20000, 100000, 200000]


@dataclass
class ConvSpec:
    """One binary conv: ``pad`` pixels of -1 before it, ``pool`` (0: none) placed by ``order``, then ``act``."""
    channels: int
    kernel: int = 3
    pad: int = 0
    pool: int = 0
    order: str = "published"
    act: str = "sign"
    dither: str = None  # DeSign kernel name
    scale: str = "gamma"
    origin: str = "corner"

    def describe(self):
        """e.g. ``conv3x3->8 pad1 pool2 sign`` (the published order) or ``conv3x3->8 pad1 sign pool2`` (FINN's)."""
        text = f"conv{self.kernel}x{self.kernel}->{self.channels}" + (f" pad{self.pad}" if self.pad else "")
        act = self.act if self.act != "design" else f"design({self.dither},{self.scale},{self.origin})"
        if not self.pool:
            return f"{text} {act}"
        pool = f"pool{self.pool}"
        return f"{text} {pool} {act}" if self.order == "published" else f"{text} {act} {pool}"


@dataclass
class NetSpec:
    seed: int
    in_shape: list
    binary_input: bool = False
    convs: list = field(default_factory=list)
    #: hidden fully connected widths
    fc: list = field(default_factory=list)
    classes: int = 5
    #: multiply the scores by 1/sqrt(fan-in), as the zoo does
    score_scale: bool = False
    #: folding: "smallest" (PE = SIMD = 1), "fps" (``target_fps``) or "random" (a random folding file)
    fold: str = "smallest"
    target_fps: float = None
    #: FIFO depth between layers (the build config's fifo_depth): shallow FIFOs stress the handshakes
    fifo_depth: int = 32

    def describe(self):
        """One line: the seed, the input, the layers and the folding."""
        c, h, w = self.in_shape
        parts = [f"in {c}x{h}x{w} {'bipolar' if self.binary_input else '8-bit'}"]
        parts += [conv.describe() for conv in self.convs]
        parts += [f"fc->{width} sign" for width in self.fc]
        parts.append(f"fc->{self.classes}" + (" scaled" if self.score_scale else ""))
        fold = {"smallest": "smallest folding", "fps": f"target {self.target_fps or 0:g} FPS",
                "random": "random folding file"}[self.fold]
        return f"seed {self.seed}: " + " | ".join(parts) + f" | {fold}, FIFOs of {self.fifo_depth}"


def conv_activation(spec):
    if spec.act == "bare":  # a sign with no BatchNorm: threshold 0
        return BinarySign()
    if spec.act == "design":
        return DitherSign(spec.channels, get_kernel(spec.dither), scale=spec.scale, origin=spec.origin)
    if spec.act == "dysign":
        return DynamicSign(spec.channels)
    return SignAct(spec.channels)


class FuzzNet(nn.Module):
    """The network a ``NetSpec`` describes; ``in_shape`` as the exporter and the tests expect."""

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        self.in_shape = list(spec.in_shape)
        channels, height, width = spec.in_shape
        self.input_quant = qnn.QuantIdentity(act_quant=BinaryAct if spec.binary_input else InputQuant)
        layers = []
        for conv in spec.convs:
            if conv.pad:
                layers.append(nn.ConstantPad2d(conv.pad, -1.0))
            layers.append(qnn.QuantConv2d(channels, conv.channels, conv.kernel, bias=False, weight_quant=BinaryWeight))
            height, width = height + 2 * conv.pad - conv.kernel + 1, width + 2 * conv.pad - conv.kernel + 1
            if min(height, width) < 1 or (conv.pool and min(height, width) < conv.pool):
                raise ValueError(f"{spec.describe()}: the map shrinks to {height}x{width} at {conv.describe()}")
            pool = [nn.MaxPool2d(conv.pool)] if conv.pool else []
            if conv.order == "published":
                layers += pool + [conv_activation(conv)]
            else:
                layers += [conv_activation(conv)] + pool
            if conv.pool:
                height, width = height // conv.pool, width // conv.pool
            channels = conv.channels
        self.features = nn.Sequential(*layers)
        fc_layers, width_in = [], channels * height * width
        for width_out in spec.fc:
            fc_layers += [qnn.QuantLinear(width_in, width_out, bias=False, weight_quant=BinaryWeight),
                          SignAct(width_out, dims=1)]
            width_in = width_out
        fc_layers.append(qnn.QuantLinear(width_in, spec.classes, bias=False, weight_quant=BinaryWeight))
        self.classifier = nn.Sequential(*fc_layers)
        self.score_scale = 1.0 / width_in ** 0.5 if spec.score_scale else None

    def forward(self, x):
        x = self.classifier(torch.flatten(self.features(self.input_quant(x)), 1))
        return x * self.score_scale if self.score_scale is not None else x


def random_spec(seed):
    """A random, valid ``NetSpec``: maps never shrink below a conv's kernel; a pool is skipped below 2 pixels."""
    rng = np.random.default_rng([12, seed])  # 12: the issue; keeps these draws apart from other seeded streams
    channels, height, width = int(rng.integers(1, 4)), int(rng.integers(7, 13)), int(rng.integers(7, 13))
    spec = NetSpec(seed, [channels, height, width], binary_input=bool(rng.random() < 0.4))
    for _ in range(int(rng.integers(1, 5))):
        kernel = int(rng.integers(1, 4))
        # pads below the kernel size (the sliding-window cores need them: a 1x1 conv is padded once in about
        # 30 times, which signflow refuses by name)
        pad = int(rng.random() < 0.4) * int(rng.integers(1, kernel)) if kernel > 1 else int(rng.random() < 0.03)
        if min(height, width) + 2 * pad < kernel:
            kernel = min(height, width) + 2 * pad
        if kernel < 1:
            break
        height, width = height + 2 * pad - kernel + 1, width + 2 * pad - kernel + 1
        pool = 2 if rng.random() < 0.5 and min(height, width) >= 2 else 0
        act = str(rng.choice(ACTS))
        conv = ConvSpec(int(rng.integers(2, 11)), kernel, pad, pool, str(rng.choice(ORDERS)), act)
        if act == "design":
            conv.dither = str(rng.choice(DITHER_KERNELS))
            conv.scale, conv.origin = str(rng.choice(["gamma", "raw"])), str(rng.choice(["corner", "centre"]))
        if pool:
            height, width = height // pool, width // pool
        spec.convs.append(conv)
    spec.fc = [int(rng.integers(3, 25)) for _ in range(int(rng.integers(0, 3)))]
    spec.classes = int(rng.integers(2, 11))
    spec.score_scale = bool(rng.random() < 0.3)
    spec.fold = str(rng.choice(["smallest", "fps", "random"]))
    if spec.fold == "fps":
        spec.target_fps = float(rng.choice(TARGET_FPS))
    spec.fifo_depth = int(rng.choice([2, 4, 32, 32]))
    return spec


def adversarial_batchnorm(model, seed, x):
    """BatchNorm statistics as training would leave them, made adversarial, in every BatchNorm (2-D and 1-D).

    Gamma and beta come from the shared ``randomize_batchnorm`` (zero and negative gamma), beta scaled down;
    layer after layer, the running mean is a random quantile (25-75 %) of the accumulator on ``x`` and the
    variance about the accumulator's, so that most channels are not constant; a DeSign channel's beta also
    takes its offset's mean (as training would). Then a few gammas become +-1e-6 (thresholds far off the
    integer grid). Layers of fewer than 4 channels keep no constant channel (zero or near-zero gamma): the
    next layers would see almost nothing vary.

    No exact ties at the BatchNorm (beta 0, a mean the accumulator takes): PyTorch's fused eval BatchNorm
    gives -6e-8 where ONNX's gives 0, so the exported graph itself differs from PyTorch there. Ties of the
    sign itself (sign(0) = +1) come from the bare signs on even fan-ins and the inputs' exact zeros."""
    randomize_batchnorm(model, seed)
    gen = torch.Generator().manual_seed(seed)
    for layer in [layer for layer in list(model.features) + list(model.classifier) if hasattr(layer, "bn")]:
        bn, seen = layer.bn, []
        hook = bn.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
        model(x)
        hook.remove()
        z = seen[0].transpose(0, 1).reshape(bn.num_features, -1)  # [C, samples x pixels]
        n, gamma, beta = bn.num_features, bn.weight.data, bn.bias.data
        quantile = torch.rand(n, generator=gen) * 0.5 + 0.25
        bn.running_mean.copy_(torch.stack([torch.quantile(z[c], quantile[c]) for c in range(n)]))
        bn.running_var.copy_(z.var(1) * (torch.rand(n, generator=gen) * 1.5 + 0.5) + 0.1)
        beta.mul_(0.3)
        if n < 4:
            gamma[0] = float(torch.rand((), generator=gen)) + 0.2
        else:
            gamma[2::5] = 1e-6 * torch.sign(torch.randn(len(gamma[2::5]), generator=gen))
        if isinstance(layer, DitherSign):
            kernel = layer.kernel.reshape(-1, *layer.kernel.shape[-2:])
            offset = kernel.mean((1, 2))[torch.arange(n) % len(kernel)]
            beta += offset * (gamma if layer.scale == "gamma" else 1.0)


def random_net(seed):
    """``(spec, model)``: the seed's net in eval mode, with random weights and adversarial BatchNorm."""
    spec = random_spec(seed)
    torch.manual_seed(seed)
    model = FuzzNet(spec).eval()
    with torch.no_grad():
        for dysign in (m for m in model.modules() if isinstance(m, DynamicSign)):
            dysign.lam.fill_(float(torch.empty(()).uniform_(0.2, 3.0)))
        adversarial_batchnorm(model, seed, torch.from_numpy(random_inputs(spec, 32, seed, stream=4)))
    return spec, model


def random_inputs(spec, n, seed, stream=1):
    """``n`` inputs on [-1, 1]: uniform, plus a few with exact zeros (sign(0) = +1), the ends of the range and
    halfway points of the 8-bit grid (rounding ties)."""
    rng = np.random.default_rng([12, seed, stream])
    x = rng.uniform(-1, 1, (n, *spec.in_shape)).astype(np.float32)
    special = np.array([0.0, -1.0, 1.0, 0.5 / 128, -0.5 / 128, 1.5 / 128, -2.5 / 128, 1 - 2 ** -8], np.float32)
    picks = rng.random(x.shape) < 0.15
    x[picks] = rng.choice(special, size=int(picks.sum()))
    return x


def random_folding(graph, seed):
    """A random legal folding of every HW layer of ``graph`` (as a folding file holds); a sliding window mostly
    takes its MVAU's SIMD, sometimes another legal one (a width converter then regroups the stream)."""
    from signflow.folding import hw_ops

    rng = np.random.default_rng([12, seed, 2])
    doc = {}
    ops = hw_ops(graph)
    for node, op in ops:
        if op.folding() and node.op_type != "SlidingWindow":
            options = op.folding_options()
            doc[node.name] = options[int(rng.integers(len(options)))]
    for node, op in ops:
        if node.op_type == "SlidingWindow":
            consumer = graph.find_consumers(node.output[0])[0]
            options = op.folding_options()
            simd = doc.get(consumer.name, {}).get("SIMD")
            matching = [o for o in options if o["SIMD"] == simd]
            if not matching or rng.random() >= 0.75:
                matching = [options[int(rng.integers(len(options)))]]
            doc[node.name] = matching[0]
    return doc


def folding_summary(graph):
    """``{layer: folding}`` of a folded graph, for messages."""
    from signflow.folding import hw_ops

    return {node.name: op.folding() for node, op in hw_ops(graph) if op.folding()}
