"""The board driver (driver step) and the board package (package step).

No board here: ``pynq`` is replaced by the simulated board of flow/sim/board.py, whose DMA hands the bytes
the driver sends to the RTL in Verilator (the rtlsim harness of the build) and returns what the RTL sends
back. So the driver's
packing, its host-side operations and the accelerator are checked together, bit-exactly against the
Python reference (``signflow run``). The stand-in is not PYNQ: what it checks is the driver's use of
``allocate``, ``transfer`` and ``wait`` and the bytes it moves.
"""
import json
import sys
import types
import zipfile

import numpy as np
import onnx
import pytest

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.cli.run import built_graph
from signflow.codegen.bundle import package
from signflow.codegen.driver import generate, load_driver
from signflow.errors import StepSkipped, UserError
from signflow.models.export import export_model
from signflow.packing import pack as pack_word
from signflow.sim.board import SimulatedDMA, allocate
from signflow.sim.fast import FastGraph
from signflow.sim.rtlsim import reference
from tests.helpers import BNN_PYNQ_SHAPES, export_bnn_pynq, random_model

STEPS = FRONT_END + ["rtl_codegen", "vivado_project", "driver"]


def pynq_on_the_rtl(build, monkeypatch):
    """A stand-in ``pynq`` module (not PYNQ) on the simulated board of flow/sim/board.py."""
    def overlay(path):
        assert path.endswith("signflow_top.bit")
        return types.SimpleNamespace(dma=SimulatedDMA(build, build.parent / "board"))

    monkeypatch.setitem(sys.modules, "pynq", types.SimpleNamespace(Overlay=overlay, allocate=allocate))


def build(tmp_path, act, **cfg):
    model = random_model("digits", act, seed=61)
    out = tmp_path / "build"
    export_model(model, model.in_shape, tmp_path / "model.onnx")
    run_build(tmp_path / "model.onnx", BuildConfig(output_dir=str(out), quiet=True, verify=False, steps=STEPS, **cfg))
    return out, model


def infer_on_the_rtl(out, x, monkeypatch):
    """The driver's ``infer``, loading the bitstream through (a stand-in) ``pynq``; asserts it equals
    ``signflow run``; returns the driver module and its Accelerator."""
    pynq_on_the_rtl(out, monkeypatch)
    driver = load_driver(out / "deploy" / "signflow_driver.py")
    accel = driver.Accelerator(out / "deploy")
    assert np.array_equal(accel.infer(x), FastGraph(built_graph(str(out)))(x))
    return driver, accel


@pytest.mark.parametrize("act, fps, label_select", [("sign", None, True), ("design", 100000, False),
                                                    ("dysign", 30000, False)])
@pytest.mark.sim
def test_driver_on_the_rtl_equals_the_reference(act, fps, label_select, tmp_path, monkeypatch):
    """With --label-select the output beat (a 4-bit class index) is padded to an 8-bit DMA word."""
    out, model = build(tmp_path, act, target_fps=fps, label_select=label_select)
    x = np.random.default_rng(7).uniform(-1, 1, [12] + list(model.in_shape)).astype(np.float32)
    driver, accel = infer_on_the_rtl(out, x, monkeypatch)
    with pytest.raises(ValueError, match=r"input has shape \[12, 8, 8\]; the model takes \[N, 1, 8, 8\]"):
        accel.infer(x[:, 0])
    graph = built_graph(str(out))
    io = json.loads((out / "deploy" / "io.json").read_text())
    ints = reference(graph, x)[io["input"]["tensor"]]
    monkeypatch.setattr(driver, "DMA_MAX_BYTES", 5 * io["input"]["beats"] * io["input"]["dma_width"] // 8)
    assert np.array_equal(accel.execute(ints), reference(graph, x)[io["output"]["tensor"]])
    assert accel.dma.transfers == 1 + 3  # one batch, then chunks of 5, 5 and 2 frames


@pytest.mark.sim
@pytest.mark.parametrize("name, fps", [("lfc_1w1a", 20000), pytest.param("cnv_1w1a", 3000, marks=pytest.mark.slow)])
def test_driver_runs_bnn_pynq_models(name, fps, tmp_path, monkeypatch):
    """brevitas_examples' LFC (input binarized on the host: BipolarQuant, then (x + 1) / 2) and CNV (8-bit RGB
    in 24-bit beats, padded to 32-bit DMA words), exported unmodified with random weights."""
    export_bnn_pynq(name, tmp_path / "model.onnx", seed=8)
    out = tmp_path / "build"
    run_build(tmp_path / "model.onnx", BuildConfig(output_dir=str(out), quiet=True, verify=False, steps=STEPS,
                                                   target_fps=fps))
    x = np.random.default_rng(9).uniform(-1, 1, [4] + list(BNN_PYNQ_SHAPES[name][1:])).astype(np.float32)
    infer_on_the_rtl(out, x, monkeypatch)


@pytest.mark.parametrize("lanes, bits, signed, dma_width", [(3, 8, True, 32), (3, 8, False, 32), (10, 11, True, 128),
                                                             (1, 1, False, 8), (5, 7, False, 64), (3, 16, True, 64)])
def test_pack_and_unpack_agree_with_the_stream_layout(lanes, bits, signed, dma_width):
    """The driver's vectorized packing against flow.packing (lane 0 at the LSB), word by word."""
    driver = load_driver()
    stream = dict(lanes=lanes, bits=bits, signed=signed, dma_width=dma_width, beats=4)
    low, high = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    values = np.random.default_rng(bits).integers(low, high, (3, 4 * lanes))
    data = driver.pack(values, stream)
    expected = b"".join(pack_word(row, bits).to_bytes(dma_width // 8, "little") for row in values.reshape(-1, lanes))
    assert data.tobytes() == expected
    assert np.array_equal(driver.unpack(data, stream, 3), values)
    with pytest.raises(ValueError, match=f"input values must lie in \\[{low}, {high - 1}\\]"):
        driver.pack(values + high, stream)


def test_unsupported_node_outside_the_accelerator_is_named(tmp_path):
    out, _ = build(tmp_path, "sign")
    graph = built_graph(str(out))
    last = graph.graph.output[0].name
    graph.graph.node.append(onnx.helper.make_node("Sigmoid", [last], ["probs"], name="Sigmoid_0"))
    graph.graph.output[0].name = "probs"
    with pytest.raises(UserError, match=r"node 'Sigmoid_0' \(Sigmoid\) lies outside the accelerator and the driver "
                                        r"cannot run it"):
        generate(graph, out)


def test_package_waits_for_the_bitstream_then_zips(tmp_path):
    out, _ = build(tmp_path, "sign")
    with pytest.raises(StepSkipped, match="no signflow_top.bit, signflow_top.hwh in .* run the bitstream step"):
        package(out)
    assert not (out / "deploy.zip").exists()
    for name in ("signflow_top.bit", "signflow_top.hwh"):  # stand-ins for Vivado's outputs
        (out / "deploy" / name).write_text(name)
    figures = package(out)
    with zipfile.ZipFile(out / "deploy.zip") as archive:
        assert sorted(archive.namelist()) == sorted(f"deploy/{n}" for n in figures["files"])
        assert archive.read("deploy/io.json") == (out / "deploy" / "io.json").read_bytes()
    assert sorted(figures["files"]) == ["io.json", "signflow_driver.py", "signflow_top.bit", "signflow_top.hwh"]


def test_steps_out_of_order_say_what_to_run(tmp_path):
    out, _ = build(tmp_path, "sign")
    graph = built_graph(str(out))
    (out / "vivado" / "design.json").unlink()
    with pytest.raises(UserError, match=r"no .*vivado/design.json: run the vivado_project step first"):
        generate(graph, out)
    (out / "deploy" / "io.json").unlink()
    with pytest.raises(UserError, match=r"no .*deploy/io.json: run the driver step first"):
        package(out)


@pytest.mark.sim
def test_verify_driver_command(tmp_path, capsys):
    """`signflow verify DIR --driver`: the board driver on the simulated board, against `signflow run`; a wrong
    output scale in io.json is caught."""
    from signflow.cli import main

    out, _ = build(tmp_path, "design")
    assert main(["verify", str(out), "--driver", "--frames", "9"]) == 0
    assert "9 frames bit-exact through the board driver and the RTL (simulated DMA)" in capsys.readouterr().out
    assert json.loads((out / "report.json").read_text())["driver"]["frames"] == 9
    io = json.loads((out / "deploy" / "io.json").read_text())
    io["post"][-1]["value"] = 2 * np.asarray(io["post"][-1]["value"]).item()
    (out / "deploy" / "io.json").write_text(json.dumps(io))
    assert main(["verify", str(out), "--driver", "--frames", "9"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the board driver's outputs differ from the reference on" in err[0]
