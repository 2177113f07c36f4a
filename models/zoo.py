"""The model zoo: binary networks described as layer lists, built by one class.

Convolutions are binary (weights +-1, no bias), followed by their activation
(which owns the BatchNorm); padding pads with -1 so every value on a binary
stream stays bipolar. Fully connected layers use plain sign; the last layer
outputs integer class scores times a constant scale.
"""
from dataclasses import asdict, dataclass, field

import brevitas.nn as qnn
import torch
from torch import nn

from signflow.errors import UserError
from signflow.models.activations import ACT_KINDS, DITHER_SCALES, SignAct, make_conv_activation
from signflow.models.kernels import ORIGINS, get_kernel, kernel_numbers, validate_kernel
from signflow.models.quant import BinaryAct, BinaryWeight, InputQuant


@dataclass
class ZooEntry:
    #: input shape (C, H, W) of the dataset the model is made for
    in_shape: tuple
    #: number of classes
    classes: int
    #: feature layers: ("conv", out_channels, kernel, pad) or ("pool", size)
    features: list
    #: hidden fully connected widths
    fc: list
    #: input bit width: 8 (signed fixed point) or 1 (sign of the input)
    in_bits: int = 8
    #: dataset the model is trained on by default
    dataset: str = "digits"


def _conv(*widths, k=3, pad=0):
    return [("conv", w, k, pad) for w in widths]


POOL = [("pool", 2)]

ZOO = {
    # FINN's CNV (CIFAR-10): 64,64,MP,128,128,MP,256,256, FC 512,512
    "cnv": ZooEntry((3, 32, 32), 10, _conv(64, 64) + POOL + _conv(128, 128) + POOL + _conv(256, 256),
                    [512, 512], dataset="cifar10"),
    # FINN's LFC / SFC / TFC (MNIST): three hidden layers, binary input
    "lfc": ZooEntry((1, 28, 28), 10, [], [1024] * 3, in_bits=1, dataset="mnist"),
    "sfc": ZooEntry((1, 28, 28), 10, [], [256] * 3, in_bits=1, dataset="mnist"),
    "tfc": ZooEntry((1, 28, 28), 10, [], [64] * 3, in_bits=1, dataset="mnist"),
    # BinaryNet-VGG (Courbariaux et al. 2016)
    "vgg": ZooEntry((3, 32, 32), 10, _conv(128, 128, pad=1) + POOL + _conv(256, 256, pad=1) + POOL
                    + _conv(512, 512, pad=1) + POOL, [1024, 1024], dataset="cifar10"),
    # small CNN for the bundled 8x8 digits: 8 -> 6 -> 4 -> pool 2
    "digits": ZooEntry((1, 8, 8), 10, _conv(32, 32) + POOL, [64], dataset="digits"),
}

MODEL_NAMES = sorted(ZOO)

#: where a conv's activation sits relative to the pool after it: DeSign's published code pools the
#: accumulator first (conv -> pool -> BN -> offset -> sign), FINN's CNV pools the signs (conv -> BN -> sign -> pool)
ORDERS = ("published", "finn")


def default_order(act):
    """DeSign and DySign follow the published DeSign code; plain sign keeps FINN's CNV."""
    return "finn" if act == "sign" else "published"


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model; saved beside its checkpoint."""
    #: zoo name
    model: str = "digits"
    #: conv activation: sign, design or dysign
    act: str = "sign"
    #: DeSign kernel: a name from signflow.models.kernels or a kernel file
    kernel: str = "design2x2"
    #: straight-through estimator: hardtanh or approx
    ste: str = "hardtanh"
    #: layer order around pools: published or finn (see ORDERS); None = the activation's default
    order: str = None
    #: DeSign offset: gamma (gamma_c * T, the published PyTorch code) or raw (T, the published TensorFlow code)
    dither_scale: str = "gamma"
    #: DeSign tiling origin: corner (top-left, the published PyTorch code) or centre (the TensorFlow code)
    dither_origin: str = "corner"
    #: input shape override (C, H, W); None keeps the zoo's
    in_shape: list = None
    #: number of classes override; None keeps the zoo's
    classes: int = None
    #: the kernel values actually used (filled in when built, so checkpoints are self-contained)
    kernel_values: list = field(default=None, repr=False)

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, doc):
        """A saved config; those written before ``order`` existed were trained in FINN's order."""
        return cls(**{"order": "finn", **doc})


class BinaryNet(nn.Module):
    """A binary network built from a ``ZooEntry`` and a ``ModelConfig``."""

    def __init__(self, entry, cfg, kernel):
        super().__init__()
        self.in_shape = list(cfg.in_shape)
        channels, height, width = cfg.in_shape
        if entry.in_bits == 8:
            self.input_quant = qnn.QuantIdentity(act_quant=InputQuant)
        else:
            self.input_quant = BinaryInput()
        layers = []
        features = list(entry.features)
        for index, spec in enumerate(features):
            if spec[0] == "pool":
                if cfg.order == "finn" or index == 0 or features[index - 1][0] != "conv":
                    layers.append(nn.MaxPool2d(spec[1]))
                height, width = height // spec[1], width // spec[1]
                continue
            _, out_ch, k, pad = spec
            if pad:
                layers.append(nn.ConstantPad2d(pad, -1.0))
            layers.append(qnn.QuantConv2d(channels, out_ch, k, bias=False, weight_quant=BinaryWeight))
            channels, height, width = out_ch, height + 2 * pad - k + 1, width + 2 * pad - k + 1
            pooled = cfg.order == "published" and index + 1 < len(features) and features[index + 1][0] == "pool"
            if pooled:  # the published order: the activation sees the pooled accumulator
                layers.append(nn.MaxPool2d(features[index + 1][1]))
            if height < 1 or width < 1 or (pooled and min(height, width) < features[index + 1][1]):
                raise UserError(f"input shape {list(cfg.in_shape)} is too small for model '{cfg.model}'")
            layers.append(make_conv_activation(cfg.act, out_ch, kernel, cfg.ste, cfg.dither_scale, cfg.dither_origin))
        self.features = nn.Sequential(*layers)
        fc_layers, width_in = [], channels * height * width
        for width_out in entry.fc:
            fc_layers += [qnn.QuantLinear(width_in, width_out, bias=False, weight_quant=BinaryWeight),
                          SignAct(width_out, cfg.ste, dims=1)]
            width_in = width_out
        fc_layers.append(qnn.QuantLinear(width_in, cfg.classes, bias=False, weight_quant=BinaryWeight))
        self.classifier = nn.Sequential(*fc_layers)
        # Integer scores are large; a constant scale keeps the softmax in range.
        self.register_buffer("score_scale", torch.tensor(1.0 / width_in ** 0.5))

    def forward(self, x):
        x = self.features(self.input_quant(x))
        return self.classifier(torch.flatten(x, 1)) * self.score_scale


class BinaryInput(nn.Module):
    """Binary first-layer input: ``sign(x)`` (FINN's 1-bit LFC input)."""

    def __init__(self):
        super().__init__()
        self.quant = qnn.QuantIdentity(act_quant=BinaryAct)

    def forward(self, x):
        return self.quant(x)


def _is_count(value, top):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= top


def check_field_types(cfg):
    """Each ``ModelConfig`` field of the type it must have (a config.json may have been edited): one line naming
    the field, what it must be and what it holds."""
    def refuse(name, wanted):
        raise UserError(f"model config '{name}' must be {wanted}, not {getattr(cfg, name)!r:.60}")

    for name in ("model", "act", "kernel", "ste", "dither_scale", "dither_origin"):
        if not isinstance(getattr(cfg, name), str):
            refuse(name, "a name (a string)")
    if cfg.order is not None and not isinstance(cfg.order, str):
        refuse("order", "a name (a string) or null")
    if cfg.in_shape is not None and not (isinstance(cfg.in_shape, (list, tuple)) and len(cfg.in_shape) == 3
                                         and all(_is_count(v, 4096) for v in cfg.in_shape)):
        refuse("in_shape", "[channels, height, width] of integers in 1..4096, or null")
    if cfg.classes is not None and not _is_count(cfg.classes, 100000):
        refuse("classes", "an integer in 1..100000, or null")
    if cfg.kernel_values is not None:
        validate_kernel(kernel_numbers(cfg.kernel_values, "model config", "'kernel_values'"), "model config")


def build_model(cfg):
    """Build the zoo model ``cfg.model``; fills in ``cfg``'s defaults and kernel values."""
    check_field_types(cfg)
    if cfg.model not in ZOO:
        raise UserError(f"unknown model '{cfg.model}'; choose one of {', '.join(MODEL_NAMES)}")
    if cfg.act not in ACT_KINDS:
        raise UserError(f"unknown activation '{cfg.act}'; choose one of {', '.join(ACT_KINDS)}")
    cfg.order = cfg.order or default_order(cfg.act)
    for value, known, what in ((cfg.order, ORDERS, "layer order"), (cfg.dither_scale, DITHER_SCALES, "dither scale"),
                               (cfg.dither_origin, ORIGINS, "dither origin")):
        if value not in known:
            raise UserError(f"unknown {what} '{value}'; choose one of {', '.join(known)}")
    entry = ZOO[cfg.model]
    cfg.in_shape = list(cfg.in_shape or entry.in_shape)
    cfg.classes = cfg.classes or entry.classes
    kernel = None
    if cfg.act == "design":
        kernel = get_kernel(cfg.kernel) if cfg.kernel_values is None else torch.tensor(cfg.kernel_values).numpy()
        cfg.kernel_values = kernel.tolist()
    return BinaryNet(entry, cfg, kernel)
