"""The fuzzer (issue 12): random binary networks written with Brevitas (tests/fuzz_nets.py), each exported to
QONNX, built through the front end (every graph step verified by the runner) and run with ``signflow run``:
bit-exact with PyTorch on random inputs. Every tenth seed also goes through Verilator (with random input
stalls and output back-pressure) and the HLS C simulation.

The test id is the seed. The default tier runs ``FAST_SEEDS`` (the one multiple of ten among them through the
simulators), the slow tier 300 more (``SLOW_SEEDS``, from 0). ``SIGNFLOW_FUZZ_SEEDS`` ("17", "0:300" = 300
seeds from 0, or "3,8,21") replaces both with its seeds, none of them marked slow: ``make fuzz SEED=17 N=1``
replays one. ``SIGNFLOW_FUZZ_LOG=file.jsonl`` appends a line per net (seed, description, outcome, seconds).

A net signflow refuses with a one-line error naming a node (a documented unsupported feature, in a graph step)
passes but is counted: more than a quarter of refused nets (of those one process ran) fails the module, as the
generator would then mostly make unsupported nets.
"""
import json
import os
import re
import time

import numpy as np
import pytest
import torch

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.builder.runner import intermediate_path
from signflow.builder.steps import GRAPH_STEP_NAMES
from signflow.cli import main
from signflow.errors import UserError
from signflow.graph import load_graph
from signflow.models.export import export_model
from signflow.sim.fast import FastGraph
from signflow.sim.compare import first_difference
from signflow.sim.reference import run_graph
from tests.fuzz_nets import (REPLAY, ConvSpec, FuzzNet, NetSpec, folding_summary, random_folding, random_inputs,
                             random_net)

#: the default tier: front end and ``signflow run`` (10: also Verilator and C-sim)
FAST_SEEDS = [4, 6, 9, 12, 14, 10]
#: the slow tier: 300 more
SLOW_SEEDS = [seed for seed in range(310) if seed not in FAST_SEEDS][:300]
SIM_STEPS = ["rtl_codegen", "rtlsim", "hls_codegen", "csim"]
SAMPLES = 64
#: a refusal: one line naming the node and its op type (``signflow.graph.node_error``)
REFUSAL = re.compile(r"^(node '[^']+'|the unnamed node producing '[^']+') \(\w+\): ")


def parse_seeds(text):
    """``"17"``, ``"0:300"`` (count from start) or ``"3,8,21"``."""
    text = text.strip()
    if ":" in text:
        start, count = (int(part or 0) for part in text.split(":"))
        return list(range(start, start + count))
    return [int(part) for part in text.split(",") if part.strip()]


def seed_params():
    chosen = os.environ.get("SIGNFLOW_FUZZ_SEEDS")
    slow = [] if chosen else SLOW_SEEDS
    for seed in parse_seeds(chosen) if chosen else sorted(FAST_SEEDS + SLOW_SEEDS):
        marks = [pytest.mark.rtlsim] if seed % 10 == 0 else []
        yield pytest.param(seed, marks=marks + [pytest.mark.slow] * (seed in slow), id=str(seed))


@pytest.fixture(scope="module")
def tally():
    """Nets run and refused in this process; more than a quarter refused fails the module."""
    counts = {"nets": 0, "refused": []}
    yield counts
    nets, refused = counts["nets"], counts["refused"]
    assert nets < 4 or len(refused) * 4 <= nets, (
        f"{len(refused)} of {nets} fuzzed nets were refused (more than a quarter): the generator "
        f"(tests/fuzz_nets.py) makes mostly unsupported nets; e.g. " + "; ".join(refused[:3]))


def log(seed, spec, outcome, seconds, detail=""):
    path = os.environ.get("SIGNFLOW_FUZZ_LOG")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps(dict(seed=seed, net=spec.describe(), outcome=outcome, seconds=round(seconds, 2),
                                         detail=detail)) + "\n")


def build(spec, path, out, sim):
    """Build ``path`` into ``out`` as ``spec`` says (through the simulators when ``sim``)."""
    rng = np.random.default_rng([12, spec.seed, 3])
    cfg = dict(output_dir=str(out), quiet=True, board="zcu104", enforce_budget=False, seed=spec.seed,
               fifo_depth=spec.fifo_depth)
    if spec.fold == "fps":
        cfg["target_fps"] = spec.target_fps
    if sim:
        cfg.update(rtlsim_frames=16, csim_frames=16, rtlsim_stall=round(float(rng.uniform(0.1, 0.5)), 2),
                   rtlsim_backpressure=round(float(rng.uniform(0.1, 0.6)), 2))
    steps = FRONT_END + (SIM_STEPS if sim else [])
    if spec.fold == "random":  # up to to_hw, then a random legal folding of its layers, resumed from fold
        run_build(path, BuildConfig(steps=FRONT_END[:FRONT_END.index("fold")], **cfg))
        folding = out.parent / "folding.json"
        folding.write_text(json.dumps(random_folding(load_graph(intermediate_path(out, "to_hw")), spec.seed)))
        cfg.update(from_step="fold", folding_file=str(folding))
    run_build(path, BuildConfig(steps=steps, **cfg))
    return json.loads((out / "report.json").read_text())


def refused_in_graph_step(out, message):
    """The refusal is allowed: one line naming a node, raised by a graph step (not a check or a simulation)."""
    report = json.loads((out / "report.json").read_text())
    failed = [s["name"] for s in report.get("steps", []) if s.get("status") == "failed"]
    return bool(failed) and failed[-1] in GRAPH_STEP_NAMES and "\n" not in message and \
        REFUSAL.match(message) is not None and "internal error" not in message


def localize(out, x, expected):
    """Which step first differs from PyTorch on ``x`` (the qonnx executor on each saved graph), and whether the
    fast executor differs from the reference executor on the final graph."""
    differ = np.flatnonzero(np.any(signflow_run_fast(out, x).reshape(len(x), -1) != expected.reshape(len(x), -1),
                                   axis=1))
    bad = differ[:4]
    notes = [f"{len(differ)} of {len(x)} samples differ (e.g. {bad.tolist()})"]
    if not len(differ):
        return notes[0]
    tidied = load_graph(intermediate_path(out, "tidy"))
    for name in GRAPH_STEP_NAMES:
        path = intermediate_path(out, name)
        if not path.is_file():
            continue
        graph = load_graph(path)
        got = run_graph(graph, x[bad])
        if not np.array_equal(got.reshape(expected[bad].shape), expected[bad]):
            where = "the export itself" if name == "tidy" else \
                f"first difference from the tidied graph at {first_difference(tidied, graph, x[bad])}"
            notes.append(f"first step differing from PyTorch: {name} (qonnx executor; {where})")
            break
    else:
        notes.append("every saved graph matches PyTorch under the qonnx executor: signflow run's executor differs")
    return "; ".join(notes)


def signflow_run_fast(out, x):
    from signflow.cli.run import built_graph

    return FastGraph(built_graph(out))(x)


@pytest.mark.parametrize("seed", seed_params())
def test_fuzz(seed, tmp_path, tally):
    spec, model = random_net(seed)
    sim = seed % 10 == 0
    what = f"{spec.describe()}; {REPLAY.format(seed=seed)}"
    print(what)
    path, out = tmp_path / "model.onnx", tmp_path / "build"
    start = time.perf_counter()
    export_model(model, model.in_shape, path)
    tally["nets"] += 1
    try:
        report = build(spec, path, out, sim)
    except UserError as err:
        message = str(err)
        if not refused_in_graph_step(out, message):
            log(seed, spec, "failed", time.perf_counter() - start, message)
            raise AssertionError(f"{what}\nthe build failed: {message}") from err
        tally["refused"].append(f"seed {seed}: {message}")
        log(seed, spec, "refused", time.perf_counter() - start, message)
        return
    except Exception as err:  # a crash is a failure too, with the seed to replay it
        log(seed, spec, "crashed", time.perf_counter() - start, f"{type(err).__name__}: {err}")
        raise AssertionError(f"{what}\nthe build crashed: {type(err).__name__}: {err}") from err
    x = random_inputs(spec, SAMPLES, seed)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.save(tmp_path / "x.npy", x)
    assert main(["run", str(out), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")]) == 0
    got = np.load(tmp_path / "y.npy")
    if not np.array_equal(got, expected):
        detail = localize(out, x, expected)
        log(seed, spec, "differs", time.perf_counter() - start, detail)
        folding = folding_summary(load_graph(intermediate_path(out, "fold")))
        pytest.fail(f"{what}\nsignflow run differs from PyTorch: {detail}\nfolding: {folding}", pytrace=False)
    if sim:
        for key in ("rtlsim", "csim"):
            assert report[key]["mismatches"] == 0 and report[key]["frames"] == 16, f"{what}\n{key}: {report[key]}"
    log(seed, spec, "exact", time.perf_counter() - start, "rtlsim+csim" if sim else "")


def test_padding_not_below_the_kernel_is_refused(tmp_path):
    """A 1x1 conv padded by 1 (the generator makes one now and then): the sliding-window cores pad each side by
    less than the kernel, so lower refuses it in one line naming the Pad, before any simulator is reached."""
    spec = NetSpec(-1, [1, 7, 7], convs=[ConvSpec(4, kernel=1, pad=1, act="sign")], classes=3)
    torch.manual_seed(0)
    model = FuzzNet(spec).eval()
    path, out = tmp_path / "model.onnx", tmp_path / "build"
    export_model(model, model.in_shape, path)
    with pytest.raises(UserError) as err:
        run_build(path, BuildConfig(output_dir=str(out), quiet=True, steps=FRONT_END))
    message = str(err.value)
    assert refused_in_graph_step(out, message), message
    assert "(Pad)" in message and "1x1 convolution" in message
