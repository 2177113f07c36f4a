"""The published DeSign order (conv -> max-pool -> BN -> offset -> sign) on networks written directly with
Brevitas, not through the zoo: random layer stacks, both offset scales and origins, published 2-D and 3-D
kernels, negative and near-zero gamma, odd maps where the pool floors, -1 padding after a pooled layer.
Bit-exact with PyTorch after every front-end step; the HW graph holds no integer pool and no extra op."""
import json

import brevitas.nn as qnn
import numpy as np
import pytest
import torch
from qonnx.custom_op.registry import getCustomOp
from torch import nn

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.builder.runner import intermediate_path
from signflow.builder.steps import GRAPH_STEP_NAMES
from signflow.cli.run import built_graph
from signflow.errors import UserError
from signflow.graph import load_graph
from signflow.models.activations import SignAct
from signflow.models.export import export_model
from signflow.models.quant import BinaryWeight, InputQuant
from signflow.sim.fast import FastGraph
from signflow.sim.reference import run_graph
from signflow.transforms.to_hw import POOL_OPS
from tests.fuzz_nets import ConvSpec, FuzzNet, NetSpec
from tests.helpers import randomize_batchnorm


def PooledNet(in_shape, convs, act, kernel=None, binary_input=False, scale="gamma", origin="corner",  # noqa: N802
              classes=5):
    """3x3 convs as ``(channels, pad, pool)`` (each optionally padded with -1 before it and pooled before its
    activation), then one FC: the fuzzer's network (tests/fuzz_nets.py) in the published order."""
    layers = [ConvSpec(channels, 3, pad, pool, "published", act, kernel, scale, origin) for channels, pad, pool in convs]
    return FuzzNet(NetSpec(0, list(in_shape), binary_input, layers, classes=classes))


def pool_bits(node):
    return next((a.i for a in node.attribute if a.name == "bits"), 1)


def near_zero_gamma(model, seed):
    """On top of the shared adversarial BatchNorm: a few gammas of 1e-6 (thresholds far off the grid)."""
    randomize_batchnorm(model, seed)
    for bn in model.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.weight.data[2::5] = 1e-6 * torch.sign(torch.randn(len(bn.weight.data[2::5])))


def build_front_end(model, tmp_path, samples=16, seed=0):
    """Export, build the front end, compare every step with PyTorch; returns the HW graph."""
    path = tmp_path / "model.onnx"
    export_model(model, model.in_shape, path)
    out = tmp_path / "build"
    run_build(path, BuildConfig(output_dir=str(out), quiet=True, verify=False, steps=FRONT_END, board="zcu104",
                                enforce_budget=False))
    x = np.random.default_rng(seed).uniform(-1, 1, (samples, *model.in_shape)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    graphs = {name: load_graph(intermediate_path(out, name)) for name in GRAPH_STEP_NAMES}
    for name, graph in graphs.items():
        np.testing.assert_array_equal(run_graph(graph, x), expected, err_msg=f"step {name} differs from PyTorch")
    return graphs


KERNELS = ["threshold_2x2_v2", "threshold_2x2_v1", "threshold_2x2x4_shifting_n1_right_v1", "threshold_3x3_symmetric_v2"]
#: (in_shape, convs as (channels, pad, pool)), odd maps where the pool floors
STACKS = [
    ((1, 9, 9), [(8, 0, 2)]),                         # 7x7 -> 3x3
    ((2, 13, 11), [(6, 0, 2), (10, 1, 0)]),           # a pooled layer, then -1 padding
    ((3, 15, 15), [(4, 0, 0), (12, 0, 2), (8, 1, 2)]),
    ((1, 12, 10), [(9, 1, 3)]),                       # pool 3: 12x10 -> 4x3
]


@pytest.mark.parametrize("case", range(8))
def test_random_brevitas_nets_published_order(case, tmp_path):
    rng = np.random.default_rng(case)
    in_shape, convs = STACKS[case % len(STACKS)]
    kernel = KERNELS[case % len(KERNELS)]
    torch.manual_seed(case)
    model = PooledNet(in_shape, convs, "design", kernel, binary_input=bool(case % 2),
                      scale=["gamma", "raw"][case // 2 % 2], origin=["corner", "centre"][case // 4 % 2])
    with torch.no_grad():
        near_zero_gamma(model, case)
    hw = build_front_end(model, tmp_path, seed=int(rng.integers(100)))["fold"]
    ops = [node.op_type for node in hw.graph.node]
    # thresholds stay inside the MVAUs, pools stay binary, channel flips are absorbed
    assert ops.count("MVAU") == len(convs) + 1 and "PixelThreshold" not in ops
    assert not any(node.name.startswith("ChannelFlip") for node in hw.graph.node)
    assert all(pool_bits(node) == 1 for node in hw.graph.node if node.op_type in POOL_OPS)


@pytest.mark.parametrize("act", ["sign", "dysign", "bare"])
def test_other_kinds_published_order(act, tmp_path):
    torch.manual_seed(3)
    model = PooledNet((2, 11, 13), [(8, 0, 2), (6, 1, 0)], act)
    with torch.no_grad():
        near_zero_gamma(model, 3)
    build_front_end(model, tmp_path)


def test_complemented_channels_are_absorbed(tmp_path):
    """Every gamma negative: every channel pools as an AND; the next layer takes the complement."""
    torch.manual_seed(4)
    model = PooledNet((1, 10, 10), [(6, 0, 2), (4, 1, 2)], "design", "threshold_2x2_v2")
    with torch.no_grad():
        randomize_batchnorm(model, 4)
        for bn in model.modules():
            if isinstance(bn, nn.BatchNorm2d):
                bn.weight.data = -bn.weight.data.abs() - 0.1
    graphs = build_front_end(model, tmp_path)
    flips = [n for n in graphs["streamline"].graph.node if n.name.startswith("ChannelFlip")]
    complemented = graphs["streamline"].get_initializer(flips[0].input[1]).ravel() < 0
    assert complemented.sum() >= 4  # the others are constant channels (they never or always pass)
    windows = [n for n in graphs["fold"].graph.node if n.op_type == "SlidingWindow"]
    # the complemented channels are padded with +1 (bit 1) instead of -1 (bit 0)
    assert getCustomOp(windows[1]).get_nodeattr("pad_values") == complemented.astype(float).tolist()


class PoolOut(nn.Module):
    """conv -> pool -> BN -> sign as the network's output: nothing after it can absorb a complement."""

    def __init__(self, stride=2):
        super().__init__()
        self.in_shape = [1, 6, 6]
        self.quant = qnn.QuantIdentity(act_quant=InputQuant)
        self.conv = qnn.QuantConv2d(1, 3, 3, bias=False, weight_quant=BinaryWeight)
        self.pool = nn.MaxPool2d(2, stride=stride)
        self.act = SignAct(3)

    def forward(self, x):
        return torch.flatten(self.act(self.pool(self.conv(self.quant(x)))), 1)


def _build_refused(model, tmp_path):
    path = tmp_path / "model.onnx"
    export_model(model, model.in_shape, path)
    out = tmp_path / "build"
    with pytest.raises(UserError) as err:
        run_build(path, BuildConfig(output_dir=str(out), quiet=True, steps=FRONT_END))
    assert not (out / "intermediate" / "01_streamline.onnx").exists()
    return str(err.value)


def test_overlapping_pool_before_sign_is_refused(tmp_path):
    message = _build_refused(PoolOut(stride=1).eval(), tmp_path)
    assert "(MaxPool)" in message and "stride equal to its size" in message and "\n" not in message


def test_complement_without_a_next_layer_is_refused(tmp_path):
    model = PoolOut().eval()
    with torch.no_grad():
        model.act.bn.weight.data = torch.tensor([1.0, -1.0, 0.5])
    message = _build_refused(model, tmp_path)
    assert "(MaxPool)" in message and "channels [1]" in message and "negative BatchNorm gamma" in message


@pytest.mark.rtlsim
@pytest.mark.parametrize("binary_input", [False, True])
def test_published_order_through_rtl_and_csim(binary_input, tmp_path):
    """A complemented, padded, pooled stack with a 3-D kernel, through Verilator (with stalls and
    back-pressure) and the HLS C simulation, bit-exact with the reference."""
    torch.manual_seed(5)
    model = PooledNet((2, 11, 13), [(6, 0, 2), (8, 1, 2)], "design",
                      "threshold_2x2x4_shifting_n1_right_v1", binary_input=binary_input)
    with torch.no_grad():
        near_zero_gamma(model, 5)
    path = tmp_path / "model.onnx"
    export_model(model, model.in_shape, path)
    out = tmp_path / "build"
    run_build(path, BuildConfig(output_dir=str(out), quiet=True, target_fps=200000, rtlsim_frames=24,
                                rtlsim_stall=0.3, rtlsim_backpressure=0.4, csim_frames=24,
                                steps=FRONT_END + ["rtl_codegen", "rtlsim", "hls_codegen", "csim"]))
    report = json.loads((out / "report.json").read_text())
    assert report["rtlsim"]["mismatches"] == 0 and report["rtlsim"]["frames"] == 24
    assert report["csim"]["mismatches"] == 0 and report["csim"]["frames"] == 24
    x = np.random.default_rng(1).uniform(-1, 1, (50, *model.in_shape)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(FastGraph(built_graph(out))(x), expected)  # signflow run's executor
