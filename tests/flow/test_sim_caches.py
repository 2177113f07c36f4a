"""The simulators' build caches: a truncated csim object or binary, or a truncated Verilator binary, left by an
interrupted build or a full disk, is detected and rebuilt, and the results stay bit-exact."""
import json

import numpy as np
import pytest
import torch

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.cli.run import built_graph
from signflow.models.export import export_model
from signflow.sim import csim, rtlsim
from tests.helpers import random_inputs, random_model

pytestmark = pytest.mark.sim


def build(out, steps, **cfg):
    model = random_model("digits", "design", seed=71)
    path = out.parent / f"{out.name}.onnx"
    export_model(model, model.in_shape, path)
    run_build(path, BuildConfig(output_dir=str(out), quiet=True, verify=False, steps=FRONT_END + steps,
                                target_fps=100000, **cfg))
    graph = built_graph(out)
    return graph, random_inputs(model.in_shape, 8, seed=9)


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 3])
    return len(data)


@pytest.mark.slow  # two C-sim builds (about 60 s); the Verilator cache case stays in the fast tier
def test_truncated_csim_object_and_binary_are_rebuilt(tmp_path):
    out = tmp_path / "build"
    graph, x = build(out, ["hls_codegen", "csim"], csim_frames=8)
    sim_dir = tmp_path / "csim"
    first = []
    csim.simulate(graph, out / "hls", x, sim_dir, outputs=first)
    objects = sorted((sim_dir / "obj").glob("*.o"))
    assert objects and not list((sim_dir / "obj").glob(".*.tmp-*"))
    victim = objects[len(objects) // 2]
    size = truncate(victim)
    again = []
    csim.simulate(graph, out / "hls", x, sim_dir, outputs=again)
    assert victim.stat().st_size == size and csim._intact(victim)
    np.testing.assert_array_equal(np.array(again), np.array(first))
    # the binary alone
    exe = sim_dir / "obj" / "csim"
    truncate(exe)
    third = []
    csim.simulate(graph, out / "hls", x, sim_dir, outputs=third)
    assert csim._intact(exe, "".join(f"{o.name}\n" for o in csim_objects(sim_dir, objects)))
    np.testing.assert_array_equal(np.array(third), np.array(first))


def csim_objects(sim_dir, objects):
    """The objects in link order (as build_csim records them): the sources' order, not sorted."""
    stamp = (sim_dir / "obj" / "csim.sha256").read_text().split("\n")[1:]
    names = [name for name in stamp if name]
    assert sorted(names) == sorted(o.name for o in objects)
    return [sim_dir / "obj" / name for name in names]


def test_truncated_verilator_binary_is_rebuilt(tmp_path):
    out = tmp_path / "build"
    graph, x = build(out, ["rtl_codegen"])
    sim_dir = tmp_path / "sim"
    first = []
    rtlsim.simulate(graph, out / "rtl", x, sim_dir, outputs=first)
    top = json.loads((out / "rtl" / "design.json").read_text())["top"]
    exe = sim_dir / "obj_dir" / f"V{top}"
    size = truncate(exe)
    again = []
    rtlsim.simulate(graph, out / "rtl", x, sim_dir, outputs=again)
    assert exe.stat().st_size == size
    assert not list(sim_dir.glob(".obj_dir.tmp-*"))
    np.testing.assert_array_equal(np.array(again), np.array(first))
    with torch.no_grad():  # and both are the reference's
        ctx = rtlsim.reference(graph, x)
    design = json.loads((out / "rtl" / "design.json").read_text())
    np.testing.assert_array_equal(np.array(first).ravel(), np.rint(ctx[design["output"]["tensor"]]).ravel())


def test_broken_harness_binary_is_one_clear_line(tmp_path):
    """A harness that cannot be run names what to delete instead of an empty reason."""
    from signflow.errors import UserError

    exe = tmp_path / "obj_dir" / "Vtop"
    exe.parent.mkdir()
    exe.write_bytes(b"\x7fELF\x02\x01\x01")
    exe.chmod(0o755)
    with pytest.raises(UserError) as info:
        rtlsim.run_harness(exe, tmp_path, tmp_path / "run", [1], 8, 1, max_cycles=10)
    message = str(info.value)
    assert message.startswith("the RTL simulation failed: ") and len(message) > len("the RTL simulation failed: ")
    assert "\n" not in message
