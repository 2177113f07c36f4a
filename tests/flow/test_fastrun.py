"""``signflow run`` equals execute_onnx exactly on the same graph, for whole batches."""
import numpy as np
import pytest

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.cli import main
from signflow.cli.run import built_graph
from signflow.models.export import export_model
from signflow.sim.fast import FastGraph
from signflow.sim.reference import run_graph
from tests.helpers import random_inputs, random_model


@pytest.fixture(scope="module", params=[("digits", "design", "published"), ("digits", "design", "finn"),
                                        ("digits", "dysign", "published"), ("digits", "sign", "published"),
                                        ("cnv", "design", "published"), ("lfc", "sign", "finn")])
def built(request, tmp_path_factory):
    name, act, order = request.param
    model = random_model(name, act, seed=21, order=order, **({"in_shape": [1, 9, 11]} if name == "digits" else {}))
    out = tmp_path_factory.mktemp("b")
    export_model(model, model.in_shape, out / "m.onnx")
    run_build(out / "m.onnx", BuildConfig(output_dir=str(out / "build"), quiet=True, verify=False, board="zcu104",
                                                           steps=FRONT_END))
    return model, out / "build"


def test_fast_equals_execute_onnx(built):
    model, build = built
    graph = built_graph(build)
    x = random_inputs(model.in_shape, 6, seed=2)
    np.testing.assert_array_equal(FastGraph(graph)(x), run_graph(graph, x))


def test_cli_run_writes_outputs(built, tmp_path, capsys):
    model, build = built
    x = random_inputs(model.in_shape, 300, seed=3)  # more than one chunk
    np.save(tmp_path / "x.npy", x)
    assert main(["run", str(build), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")]) == 0
    y = np.load(tmp_path / "y.npy")
    import torch
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(y, expected)


def test_cli_run_bad_input_shape(built, tmp_path, capsys):
    _, build = built
    np.save(tmp_path / "x.npy", np.zeros((2, 5), dtype=np.float32))
    code = main(["run", str(build), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "the model takes" in err and not (tmp_path / "y.npy").exists()


def test_cli_run_refuses_pickles(built, tmp_path, capsys):
    _, build = built
    np.save(tmp_path / "x.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    code = main(["run", str(build), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")])
    assert code == 2 and "cannot read input" in capsys.readouterr().err


def test_cli_run_without_build(tmp_path, capsys):
    code = main(["run", str(tmp_path), "--input", "x.npy", "--output", str(tmp_path / "y.npy")])
    assert code == 2 and "holds no build" in capsys.readouterr().err
