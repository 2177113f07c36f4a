"""DeSign / DySign activation semantics and gradients."""
import numpy as np
import pytest
import torch

from signflow.errors import UserError
from signflow.models.activations import BinarySign, DitherSign, DynamicSign, SignAct
from signflow.models.kernels import get_kernel
from tests.helpers import randomize_batchnorm


def _pair(kernel, channels=5):
    torch.manual_seed(0)
    dither, plain = DitherSign(channels, kernel), SignAct(channels)
    randomize_batchnorm(dither, seed=1)
    plain.bn.load_state_dict(dither.bn.state_dict())
    return dither.eval(), plain.eval()


def test_zero_kernel_equals_plain_sign():
    dither, plain = _pair(np.zeros((2, 3), dtype=np.float32))
    z = torch.randint(-9, 10, (3, 5, 7, 9)).float()
    assert torch.equal(dither(z), plain(z))


@pytest.mark.parametrize("name", ["design2x2", "threshold_3x3_symmetric_v1", "threshold_2x2_complement_v1", "bayer4"])
@pytest.mark.parametrize("hw", [(7, 9), (8, 8), (1, 5)])
def test_tiled_offset_follows_kernel_modulo(name, hw):
    kernel = get_kernel(name)
    channels = 6
    tiled = DitherSign(channels, kernel).tiled_kernel(*hw)[0].numpy()
    k3 = kernel if kernel.ndim == 3 else kernel[None]
    for c in range(channels):
        for h in range(hw[0]):
            for w in range(hw[1]):
                assert tiled[c, h, w] == k3[c % k3.shape[0], h % k3.shape[1], w % k3.shape[2]]


def test_design_is_sign_of_bn_minus_gamma_times_kernel():
    kernel = get_kernel("design2x2")
    dither, _ = _pair(kernel, channels=4)
    z = torch.randint(-9, 10, (2, 4, 5, 5)).float()
    bn = dither.bn(z)
    gamma = dither.bn.weight.view(1, -1, 1, 1)
    y = dither(z)
    for h in range(5):
        for w in range(5):
            expected = torch.where(bn[:, :, h, w] - gamma[:, :, 0, 0] * float(kernel[h % 2, w % 2]) >= 0, 1.0, -1.0)
            assert torch.equal(y[:, :, h, w], expected)


@pytest.mark.parametrize("ste", ["hardtanh", "approx"])
def test_gradients_flow_through_ste(ste):
    sign = BinarySign(ste).train()
    x = torch.tensor([-2.0, -0.5, 0.0, 0.25, 0.9, 1.5], requires_grad=True)
    sign(x).sum().backward()
    inside = (x.abs() <= 1).float()
    expected = inside if ste == "hardtanh" else inside * (2 - 2 * x.detach().abs())
    assert torch.allclose(x.grad, expected)


@pytest.mark.parametrize("module", [lambda: DitherSign(4, get_kernel("design2x2")), lambda: DynamicSign(4)])
def test_activation_gradients_reach_batchnorm(module):
    act = module().train()
    z = torch.randn(3, 4, 6, 6) * 0.5
    act(z).sum().backward()
    assert act.bn.weight.grad is not None and act.bn.weight.grad.abs().sum() > 0


def test_dysign_eval_lookup_equals_training_formula():
    """The exported table lookup computes the same thresholds as the sigmoid."""
    torch.manual_seed(0)
    act = DynamicSign(8)
    randomize_batchnorm(act)
    z = torch.randint(-30, 30, (4, 8, 5, 5)).float()
    act.eval()
    with torch.no_grad():
        u = act.code(z)
    table, scale = act.threshold_table()
    index = torch.round(u / scale).long() + 2 ** (act.bits - 1)
    assert torch.allclose(table[index], act.lam * (2 * torch.sigmoid(u) - 1), atol=1e-6)
    assert torch.equal(act(z), torch.where(act.bn(z) - table[index][:, :, None, None] >= 0, 1.0, -1.0))


def test_dysign_thresholds_depend_on_input():
    torch.manual_seed(0)
    act = DynamicSign(8).eval()
    low, high = torch.full((1, 8, 4, 4), -20.0), torch.full((1, 8, 4, 4), 20.0)
    assert not torch.equal(act.code(low), act.code(high))


def test_unknown_ste_is_a_user_error():
    with pytest.raises(UserError, match="unknown straight-through estimator 'relu'"):
        BinarySign("relu")
