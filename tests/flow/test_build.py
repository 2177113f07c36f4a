"""The build is bit-exact with PyTorch after every step, for every zoo model and activation kind."""
import json

import numpy as np
import pytest
import torch

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.builder.runner import intermediate_path
from signflow.builder.steps import GRAPH_STEP_NAMES
from signflow.cli.run import built_graph
from signflow.graph import load_graph
from signflow.models.export import export_model
from signflow.models.zoo import ORDERS
from signflow.sim.fast import FastGraph
from signflow.sim.reference import run_graph
from tests.helpers import BNN_PYNQ_SHAPES, export_bnn_pynq, random_inputs, random_model, randomize_batchnorm

ACTS = ["sign", "design", "dysign"]
FAST_MODELS = ["digits", "tfc", "sfc", "lfc", "cnv"]


def build_and_compare(model, tmp_path, samples=2, **cfg):
    onnx_path = tmp_path / "model.onnx"
    export_model(model, model.in_shape, onnx_path)
    out = tmp_path / "build"
    run_build(onnx_path, BuildConfig(output_dir=str(out), quiet=True, verify=False, steps=FRONT_END, **cfg))
    x = random_inputs(model.in_shape, samples, seed=7)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    for name in GRAPH_STEP_NAMES:
        graph = load_graph(intermediate_path(out, name))
        got = run_graph(graph, x)
        assert np.array_equal(got, expected), f"step {name} differs from PyTorch"
    assert np.array_equal(FastGraph(graph)(x), expected), "signflow run's executor differs from PyTorch"
    return out


#: the MLPs have no pool, so the order does not change them
ZOO_CASES = [(name, act, order) for name in FAST_MODELS for act in ACTS
             for order in (ORDERS if name in ("digits", "cnv") else ["finn"])]


@pytest.mark.parametrize("name, act, order", ZOO_CASES)
def test_every_step_bit_exact(name, act, order, tmp_path):
    # zcu104: CNV with DySign frame buffers exceeds the xc7z020 BRAM budget
    build_and_compare(random_model(name, act, seed=11, order=order), tmp_path, board="zcu104")


@pytest.mark.slow
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("act", ACTS)
def test_vgg_every_step_bit_exact(act, order, tmp_path):
    # BinaryNet-VGG's 14 Mbit of weights exceed even the zcu104's BRAM: check exactness only
    build_and_compare(random_model("vgg", act, seed=12, order=order), tmp_path, samples=1, enforce_budget=False)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("act", ACTS)
def test_odd_feature_maps_bit_exact(act, order, tmp_path):
    # 13x11 -> 11x9 -> 9x7 -> pooled 4x3 (the last row and column dropped), a 3x3 kernel
    model = random_model("digits", act, seed=13, kernel="threshold_3x3_symmetric_v2", in_shape=[1, 13, 11],
                         order=order, dither_origin="centre")
    build_and_compare(model, tmp_path, samples=8)


class ScaledSignNet(torch.nn.Module):
    """Convs on an input binarized by brevitas_examples' ``CommonActQuant`` at 1 bit, with scaled signs:
    the input's sign and the hidden ones at power-of-two scales other than 1, a pool after a sign."""

    def __init__(self, in_scale, hidden_scale):
        import brevitas.nn as qnn
        from brevitas_examples.bnn_pynq.models.common import CommonActQuant, CommonWeightQuant

        super().__init__()
        self.in_shape = [2, 11, 11]

        def sign(scale):
            return qnn.QuantIdentity(act_quant=CommonActQuant, bit_width=1, min_val=-scale, max_val=scale)

        def conv(cin, cout):
            return qnn.QuantConv2d(cin, cout, 3, bias=False, weight_quant=CommonWeightQuant, weight_bit_width=1)

        self.body = torch.nn.Sequential(
            sign(in_scale), conv(2, 4), torch.nn.BatchNorm2d(4), sign(hidden_scale), torch.nn.MaxPool2d(2),
            conv(4, 4), torch.nn.BatchNorm2d(4), sign(hidden_scale), torch.nn.Flatten(),
            qnn.QuantLinear(4 * 2 * 2, 3, bias=False, weight_quant=CommonWeightQuant, weight_bit_width=1))

    def forward(self, x):
        return self.body(x)


@pytest.mark.parametrize("in_scale, hidden_scale", [(1.0, 1.0), (2.0, 0.5), (0.5, 4.0)])
def test_scaled_bipolar_input_and_hidden_signs(in_scale, hidden_scale, tmp_path):
    """Issue 12 item 8: a 1-bit scaled input quantizer feeding a conv was refused in to_hw ("node '' (Mul)")."""
    torch.manual_seed(2)
    model = ScaledSignNet(in_scale, hidden_scale)
    randomize_batchnorm(model, seed=2)
    build_and_compare(model.eval(), tmp_path, samples=16)


@pytest.mark.parametrize("name", list(BNN_PYNQ_SHAPES))
def test_brevitas_bnn_pynq_examples(name, tmp_path):
    """brevitas_examples' own CNV / LFC, exported unmodified with random weights."""
    shape = BNN_PYNQ_SHAPES[name]
    onnx_path = tmp_path / "model.onnx"
    model = export_bnn_pynq(name, onnx_path, seed=3)
    out = tmp_path / "build"
    run_build(onnx_path, BuildConfig(output_dir=str(out), quiet=True, verify=False, input_low=0.0, steps=FRONT_END))
    x = np.random.default_rng(0).uniform(0, 1, (2, *shape[1:])).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    final = built_graph(out)
    np.testing.assert_array_equal(run_graph(final, x), expected)
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "complete" and report["estimate"]["bottleneck_cycles"] > 0
