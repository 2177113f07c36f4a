"""Declarative Brevitas quantizers shared by the model zoo.

Binary quantizers use a constant scale of 1 so exported weights and
activations are exactly +-1 (QONNX ``BipolarQuant``). Integer quantizers use
power-of-two scales so every product and sum stays exact in float32, which is
what makes the exported graph bit-exact with integer hardware.
"""
from brevitas.core.restrict_val import RestrictValueType
from brevitas.core.scaling import ScalingImplType
from brevitas.quant import (
    Int8ActPerTensorFixedPoint,
    Int8WeightPerTensorFixedPoint,
    SignedBinaryActPerTensorConst,
    SignedBinaryWeightPerTensorConst,
    Uint8ActPerTensorFixedPoint,
)


class BinaryWeight(SignedBinaryWeightPerTensorConst):
    """Weights in {-1, +1}, scale fixed at 1.

    >>> import brevitas.nn as qnn
    >>> qnn.QuantLinear(4, 2, bias=False, weight_quant=BinaryWeight).quant_weight().value.abs().unique().tolist()
    [1.0]
    """
    scaling_const = 1.0


class BinaryAct(SignedBinaryActPerTensorConst):
    """Activations in {-1, +1}: sign with sign(0) = +1, hard-tanh straight-through gradient."""
    scaling_const = 1.0


class InputQuant(Int8ActPerTensorFixedPoint):
    """Signed 8-bit input on [-1, 1 - 2^-7]: scale is the constant 2^-7."""
    scaling_impl_type = ScalingImplType.CONST
    restrict_scaling_type = RestrictValueType.POWER_OF_TWO
    min_val = -1.0
    max_val = 1.0 - 2.0 ** -7
    scaling_const = 1.0


class PowerOfTwoIntAct(Int8ActPerTensorFixedPoint):
    """Signed integer activation with a learned power-of-two scale (bit width set by the user)."""


class PowerOfTwoUintAct(Uint8ActPerTensorFixedPoint):
    """Unsigned integer activation (a quantized ReLU) with a learned power-of-two scale."""


class PowerOfTwoIntWeight(Int8WeightPerTensorFixedPoint):
    """Signed integer weights with a power-of-two scale (bit width set by the user)."""
