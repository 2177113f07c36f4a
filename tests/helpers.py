"""Shared test helpers: random zoo models with adversarial BatchNorm statistics."""
import numpy as np
import pytest
import torch

from signflow.models.zoo import ModelConfig, build_model


def randomize_batchnorm(model, seed=0):
    """Random running stats and affine params, including zero and negative gamma."""
    gen = torch.Generator().manual_seed(seed)
    for bn in model.modules():
        if isinstance(bn, torch.nn.modules.batchnorm._BatchNorm):
            n = bn.num_features
            bn.running_mean.copy_(torch.randn(n, generator=gen) * 3)
            bn.running_var.copy_(torch.rand(n, generator=gen) * 10 + 0.1)
            gamma = torch.randn(n, generator=gen)
            gamma[0] = 0.0
            gamma[1::3] = -gamma[1::3].abs()
            bn.weight.data.copy_(gamma)
            bn.bias.data.copy_(torch.randn(n, generator=gen))


def random_model(name, act, seed=0, **cfg):
    """A zoo model in eval mode with random weights and BatchNorm statistics."""
    torch.manual_seed(seed)
    model = build_model(ModelConfig(model=name, act=act, **cfg))
    with torch.no_grad():
        randomize_batchnorm(model, seed)
    return model.eval()


#: digits builds through the simulators: every kind in both layer orders, at the smallest folding (None) or
#: the demo's; the fast tier holds the default order of each kind and DeSign in FINN's order, the rest are slow
DIGITS_CASES = [("sign", "finn", None), ("design", "published", None), ("dysign", "published", 100000),
                ("design", "finn", 100000)] + [
    pytest.param(*case, marks=pytest.mark.slow) for case in
    [("sign", "finn", 100000), ("design", "published", 100000), ("dysign", "published", None),
     ("sign", "published", 100000), ("dysign", "finn", 100000)]]


def random_inputs(in_shape, n, seed=0):
    """Inputs on the model's input range [-1, 1]."""
    return np.random.default_rng(seed).uniform(-1, 1, (n, *in_shape)).astype(np.float32)


#: input shapes of brevitas_examples.bnn_pynq models
BNN_PYNQ_SHAPES = {"cnv_1w1a": (1, 3, 32, 32), "lfc_1w1a": (1, 1, 28, 28)}


def export_bnn_pynq(name, path, seed=0):
    """brevitas_examples' own ``name`` with random weights, exported unmodified to QONNX; returns the model."""
    import warnings

    from brevitas.export import export_qonnx
    from brevitas_examples.bnn_pynq.models import model_with_cfg

    torch.manual_seed(seed)
    model, _ = model_with_cfg(name, pretrained=False)
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_qonnx(model, torch.zeros(BNN_PYNQ_SHAPES[name]), str(path), dynamo=False)
    return model


def inner_mvau(design):
    """The first MVAU link of a design.json after the first layer (a layer whose corruption must be named)."""
    return next(link for link in design["links"] if link["op"] == "MVAU" and link["node"] != design["links"][0]["node"])


def assert_verify_names_layer(main, args, link, capsys):
    """``signflow verify ARGS`` fails with one line naming ``link``'s layer; returns that line."""
    assert main(["verify", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"layer '{link['node']}'" in err
    return err
