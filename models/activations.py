"""Sign activations of signflow: plain sign, DeSign (dither) and DySign (dynamic).

Each takes the integer accumulator ``z`` of a binary conv (NCHW), owns the
BatchNorm that follows it, and returns bipolar values in {-1, +1} through a
Brevitas ``BipolarQuant``. See docs/architecture.md section 1 for the math.
"""
import math

import brevitas.nn as qnn
import numpy as np
import torch
from torch import nn

from signflow.errors import UserError
from signflow.models.kernels import ORIGINS, tile_kernel
from signflow.models.quant import BinaryAct, PowerOfTwoIntAct, PowerOfTwoIntWeight, PowerOfTwoUintAct

STE_KINDS = ("hardtanh", "approx")


class _ApproxSignGrad(torch.autograd.Function):
    """Identity forward; backward scales by ``max(0, 2 - 2|x|)`` (Bi-Real / ReCU style)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2.0 - 2.0 * x.abs()).clamp(min=0.0)


class BinarySign(nn.Module):
    """``sign(x)`` with sign(0) = +1 and a straight-through gradient.

    ``ste="hardtanh"``: gradient 1 on [-1, 1], 0 outside (Brevitas' clamped binary quant).
    ``ste="approx"``: gradient ``2 - 2|x|`` on [-1, 1].
    """

    def __init__(self, ste="hardtanh"):
        super().__init__()
        if ste not in STE_KINDS:
            raise UserError(f"unknown straight-through estimator '{ste}'; choose one of {', '.join(STE_KINDS)}")
        self.ste = ste
        self.quant = qnn.QuantIdentity(act_quant=BinaryAct)

    def forward(self, x):
        if self.ste == "approx" and self.training:
            x = _ApproxSignGrad.apply(x)
        return self.quant(x)


class SignAct(nn.Module):
    """Plain BNN activation: ``sign(BN(z))``."""

    def __init__(self, channels, ste="hardtanh", dims=2):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)
        self.sign = BinarySign(ste)

    def forward(self, z):
        return self.sign(self.bn(z))


#: how DeSign scales its offset: by the BatchNorm's gamma (the published PyTorch/ReCU code) or not (its TensorFlow code)
DITHER_SCALES = ("gamma", "raw")


class DitherSign(nn.Module):
    """DeSign: ``sign(BN(z)[n,c,h,w] - s_c * T[c mod F, (h + oh) mod kh, (w + ow) mod kw])``.

    ``s_c`` is gamma_c (``scale="gamma"``) or 1 (``"raw"``); ``(oh, ow)`` is the tiling origin's
    phase (``models.kernels.tile_offset``). The kernel ``T`` is fixed (designed offline), so the
    export shows a BatchNormalization followed by a constant tiled offset, which the flow folds
    into per-channel x per-phase integer thresholds.
    """

    def __init__(self, channels, kernel, ste="hardtanh", scale="gamma", origin="corner"):
        super().__init__()
        if scale not in DITHER_SCALES:
            raise UserError(f"unknown dither scale '{scale}'; choose one of {', '.join(DITHER_SCALES)}")
        if origin not in ORIGINS:
            raise UserError(f"unknown dither origin '{origin}'; choose one of {', '.join(ORIGINS)}")
        self.scale, self.origin = scale, origin
        self.bn = nn.BatchNorm2d(channels)
        self.register_buffer("kernel", torch.as_tensor(np.asarray(kernel, dtype=np.float32)))
        self.sign = BinarySign(ste)

    def tiled_kernel(self, height, width):
        """``T`` tiled over a ``[1, C, H, W]`` map (a constant: built from Python ints)."""
        tiled = tile_kernel(self.kernel.cpu().numpy(), self.bn.num_features, height, width, self.origin)
        return torch.from_numpy(np.ascontiguousarray(tiled))[None].to(self.kernel.device)

    def forward(self, z):
        height, width = int(z.shape[-2]), int(z.shape[-1])
        offset = self.tiled_kernel(height, width)
        if self.scale == "gamma":
            offset = self.bn.weight.view(1, -1, 1, 1) * offset
        return self.sign(self.bn(z) - offset)


class DynamicSign(nn.Module):
    """DySign: ``sign(BN(z) - t[n, c])`` with ``t = lam * (2 * sigmoid(MLP(stat(z))) - 1)``.

    Our reading of Zhang et al. (arXiv 2211.02292), see docs/dysign.md. The
    statistic is the channel sum of the integer accumulator scaled by the power
    of two at or above ``H*W`` (a mean the hardware computes with a shift). The
    MLP (C -> C/r -> C) has integer weights and activations with power-of-two
    scales, so it is exact in float32; its integer output indexes a lookup table
    of the bounded function, which is how it is exported and built in hardware.
    """

    def __init__(self, channels, reduction=4, bits=4, stat_bits=8, lam=1.0, ste="hardtanh"):
        super().__init__()
        hidden = max(channels // reduction, 2)
        self.bits = bits
        self.bn = nn.BatchNorm2d(channels)
        self.stat_quant = qnn.QuantIdentity(act_quant=PowerOfTwoIntAct, bit_width=stat_bits)
        self.fc1 = qnn.QuantLinear(channels, hidden, bias=False, weight_quant=PowerOfTwoIntWeight, weight_bit_width=bits)
        self.relu = qnn.QuantReLU(act_quant=PowerOfTwoUintAct, bit_width=bits)
        self.fc2 = qnn.QuantLinear(hidden, channels, bias=False, weight_quant=PowerOfTwoIntWeight, weight_bit_width=bits)
        self.out_quant = qnn.QuantIdentity(act_quant=PowerOfTwoIntAct, bit_width=bits)
        self.lam = nn.Parameter(torch.tensor(float(lam)))
        self.sign = BinarySign(ste)

    def code(self, z):
        """Quantized MLP output ``u`` (float values on an integer grid), shape [N, C]."""
        height, width = int(z.shape[-2]), int(z.shape[-1])
        shift = 2.0 ** -math.ceil(math.log2(height * width))
        stat = self.stat_quant(z.sum(dim=(2, 3)) * shift)
        return self.out_quant(self.fc2(self.relu(self.fc1(stat))))

    def threshold_table(self):
        """``lam * (2*sigmoid(k*scale) - 1)`` for every integer code ``k``, and the scale."""
        scale = float(self.out_quant.act_quant.scale())
        codes = torch.arange(-(2 ** (self.bits - 1)), 2 ** (self.bits - 1), dtype=torch.float32, device=self.lam.device)
        return self.lam.detach() * (2.0 * torch.sigmoid(codes * scale) - 1.0), scale

    def forward(self, z):
        u = self.code(z)
        if self.training:
            t = self.lam * (2.0 * torch.sigmoid(u) - 1.0)
        else:
            # A lookup of a constant table: exact in PyTorch and in the exported graph.
            table, scale = self.threshold_table()
            table = torch.tensor(table.tolist(), dtype=torch.float32, device=z.device)
            index = torch.round(u / scale) + float(2 ** (self.bits - 1))
            t = table[index.to(torch.int64)]
        return self.sign(self.bn(z) - t[:, :, None, None])


ACT_KINDS = ("sign", "design", "dysign")


def make_conv_activation(kind, channels, kernel=None, ste="hardtanh", dither_scale="gamma", dither_origin="corner"):
    """The activation after a binary conv, by kind name."""
    if kind == "sign":
        return SignAct(channels, ste)
    if kind == "design":
        return DitherSign(channels, kernel, ste, dither_scale, dither_origin)
    if kind == "dysign":
        return DynamicSign(channels, ste=ste)
    raise UserError(f"unknown activation '{kind}'; choose one of {', '.join(ACT_KINDS)}")
