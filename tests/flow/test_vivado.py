"""The Vivado project (vivado_project step) and the bitstream step.

Vivado is not installed here. So the project is checked as far as open tools reach: the generated TCL is
parsed for the board's part, PS, clock, DMA widths and every file it adds (each must exist), and run in a
plain Tcl interpreter with logging stand-ins for Vivado's commands (valid Tcl, the calls in order); the Verilog
wrapper with the whole RTL passes Verilator's lint; and the wrapper is simulated in Verilator with
batches of frames as the DMA sends them, its output words and TLAST compared with the reference. The
bitstream step is checked for its one-line note without vivado, and with a stand-in vivado (not Vivado)
for how it runs the script, reads the reports and refuses a run that leaves no bitstream.
"""
import json
import os
import re
import stat
import subprocess
from xml.etree import ElementTree

import numpy as np
import pytest

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.cli import main
from signflow.cli.run import built_graph
from signflow.codegen.vivado import dma_width
from signflow.errors import UserError
from signflow.models.export import export_model
from signflow.sim.rtlsim import encode, reference
from signflow.tools import verilator
from signflow.vendor.vivado import run_vivado, utilization, worst_slack
from tests.helpers import random_model
from tests.rtl.axis import run_bench

STEPS = FRONT_END + ["rtl_codegen", "vivado_project"]


def build(out, act="design", **cfg):
    model = random_model("digits", act, seed=51)
    onnx = out.parent / f"{out.name}.onnx"
    export_model(model, model.in_shape, onnx)
    run_build(onnx, BuildConfig(output_dir=str(out), quiet=True, verify=False, steps=STEPS, **cfg))
    return out


@pytest.fixture(scope="module")
def digits_build(tmp_path_factory):
    """A DeSign digits build folded for 100k FPS (wider streams), through vivado_project."""
    return build(tmp_path_factory.mktemp("vivado") / "build", target_fps=100000)


def tcl_setting(text, name):
    match = re.search(rf"^set {name} (.*)$", text, re.M)
    assert match, f"no 'set {name}' in the script"
    return match.group(1).strip("{}")


def test_project_script_names_board_and_files(digits_build):
    vivado = digits_build / "vivado"
    text = (vivado / "make_project.tcl").read_text()
    design = json.loads((vivado / "design.json").read_text())
    assert tcl_setting(text, "part") == "xc7z020clg400-1"
    assert tcl_setting(text, "board_part") == "www.digilentinc.com:pynq-z1:part0:1.0"
    assert tcl_setting(text, "ps_kind") == "ps7" and tcl_setting(text, "clock_mhz") == "100.0"
    listed = re.findall(r"\{(src/[^}]+)\}", tcl_setting(text, "sources") + tcl_setting(text, "memory_files"))
    rtl = json.loads((digits_build / "rtl" / "design.json").read_text())
    wanted = rtl["sources"] + ["axis_batch_last.sv"] + sorted(p.name for p in (digits_build / "rtl").glob("*.mem"))
    assert sorted(listed) == sorted(f"src/{name}" for name in wanted)
    assert all((vivado / name).is_file() for name in listed + ["src/signflow_accel.v"])
    for side, key in (("input", "c_m_axis_mm2s_tdata_width"), ("output", "c_s_axis_s2mm_tdata_width")):
        width = design[side]["dma_width"]
        assert width in (8, 16, 32, 64, 128, 256, 512, 1024) and width >= design[side]["width"]
        assert f"CONFIG.{key} {{{width}}}" in text
    assert "create_bd_cell -type module -reference signflow_accel accel" in text
    assert "../deploy/signflow_top.bit" in text and "../deploy/signflow_top.hwh" in text


def test_zcu104_project_uses_the_ultrascale_ps(tmp_path):
    text = (build(tmp_path / "build", board="zcu104", clock_ns=4.0) / "vivado" / "make_project.tcl").read_text()
    assert tcl_setting(text, "part") == "xczu7ev-ffvc1156-2-e" and tcl_setting(text, "ps_kind") == "psu"
    assert tcl_setting(text, "clock_mhz") == "250.0"


@pytest.mark.sim
def test_wrapper_passes_lint(digits_build):
    src = digits_build / "vivado" / "src"
    design = json.loads((digits_build / "vivado" / "design.json").read_text())
    command, env = verilator()
    done = subprocess.run([*command, "--lint-only", "-Wall", "-Wno-DECLFILENAME", "-Wno-UNUSEDPARAM",
                           "--top-module", "signflow_accel", *design["sources"]], cwd=src, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.sim
@pytest.mark.slow  # about 80 s of Verilator; the wrapper's lint stays in the fast tier
def test_wrapper_streams_batches_with_tlast(digits_build, tmp_path):
    """The wrapper in Verilator, fed as the DMA feeds it: batches of 3, 1 and 4 frames, TLAST on each
    batch's last beat; every output word equals the reference and TLAST marks each batch's last word."""

    graph = built_graph(digits_build)
    design = json.loads((digits_build / "vivado" / "design.json").read_text())
    batches = [3, 1, 4]
    x = np.random.default_rng(5).uniform(-1, 1, [sum(batches)] + graph.get_tensor_shape(graph.graph.input[0].name)[1:])
    ctx = reference(graph, x.astype(np.float32))
    words_in = encode(ctx[design["input"]["tensor"]], design["input"])
    words_out = encode(ctx[design["output"]["tensor"]], design["output"])
    ends = np.cumsum(batches)
    last_in = [int((i + 1) % design["input"]["beats"] == 0 and (i + 1) // design["input"]["beats"] in ends)
               for i in range(len(words_in))]
    last_out = [int((i + 1) % design["output"]["beats"] == 0 and (i + 1) // design["output"]["beats"] in ends)
                for i in range(len(words_out))]
    data = tmp_path / "bench.json"
    data.write_text(json.dumps(dict(words_in=words_in, last_in=last_in, words_out=words_out, last_out=last_out)))
    src = digits_build / "vivado" / "src"
    run_bench("signflow_accel", {}, "tests.rtl.accel_bench", tmp_path / "sim",
              sources=[src / name for name in design["sources"]], extra_env={"SIGNFLOW_ACCEL_BENCH": str(data)},
              run_dir=src)
    cases = ElementTree.parse(tmp_path / "sim" / "results.xml").getroot().iter("testcase")
    assert [(case.get("name"), case.find("failure")) for case in cases] == [("run_accel_batches", None)]


def test_too_wide_stream_is_refused():
    assert dma_width(24, "input") == 32 and dma_width(8, "output") == 8
    with pytest.raises(UserError, match="1032 bits wide, more than the AXI DMA's 1024; fold the first layer"):
        dma_width(1032, "input")


def test_missing_vivado_is_one_line(digits_build, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert main(["build", str(digits_build.parent / "build.onnx"), "--out", str(digits_build), "--target-fps",
                 "100000", "--steps", ",".join(STEPS + ["bitstream"]), "--from-step", "bitstream", "--quiet"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("bitstream: vivado is not on PATH, so bitstream was skipped")
    assert "docker compose run" in err[0] and "make_project.tcl" in err[0]
    report = json.loads((digits_build / "report.json").read_text())
    assert report["status"] == "complete" and report["steps"][-1]["status"] == "skipped"


UTILIZATION = """| Site Type | Used | Fixed | Prohibited | Available | Util% |
+-----------+------+-------+------------+-----------+-------+
| Slice LUTs*             | 1234 |     0 |          0 |     53200 |  2.32 |
|   LUT as Logic          | 1200 |     0 |          0 |     53200 |  2.26 |
| Slice Registers         | 2345 |     0 |          0 |    106400 |  2.20 |
| Block RAM Tile | 3.5 | 0 | 0 | 140 | 2.50 |
| DSPs | 0 | 0 | 0 | 220 | 0.00 |
"""
TIMING = """    WNS(ns)      TNS(ns)  TNS Failing Endpoints
    -------      -------  ---------------------
      1.234        0.000                      0
"""


def fake_vivado(tmp_path, monkeypatch, body):
    """A stand-in ``vivado`` on PATH running ``body`` (sh) after checking its arguments."""
    fake = tmp_path / "bin" / "vivado"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text('#!/bin/sh\n[ "$1 $2 $5 $6" = "-mode batch -source make_project.tcl" ] || exit 3\n'
                    '[ -f make_project.tcl ] || exit 4\n' + body)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")


def test_bitstream_step_runs_the_script_and_reads_reports(digits_build, tmp_path, monkeypatch):
    (tmp_path / "util.txt").write_text(UTILIZATION)
    (tmp_path / "timing.txt").write_text(TIMING)
    fake_vivado(tmp_path, monkeypatch, 'echo "signflow: [1/4] project"\nmkdir -p reports ../deploy\n'
                f'cp {tmp_path}/util.txt reports/utilization.txt\ncp {tmp_path}/timing.txt reports/timing.txt\n'
                'echo bits > ../deploy/signflow_top.bit\necho hwh > ../deploy/signflow_top.hwh\n')
    figures = run_vivado(digits_build, quiet=True)
    assert figures == {"tool": "vivado", "part": "xc7z020clg400-1", "bitstream": "deploy/signflow_top.bit",
                       "luts": 1234, "ffs": 2345, "brams18": 7, "dsps": 0, "wns_ns": 1.234}
    assert "signflow: [1/4] project" in (digits_build / "vivado" / "vivado.log").read_text()


def test_failed_vivado_run_leaves_no_bitstream(digits_build, tmp_path, monkeypatch):
    (digits_build / "deploy").mkdir(exist_ok=True)
    (digits_build / "deploy" / "signflow_top.bit").write_text("an earlier run's bitstream")
    fake_vivado(tmp_path, monkeypatch, "echo 'ERROR: [Place 30-640] placement failed'\nexit 1\n")
    with pytest.raises(UserError, match=r"Vivado did not produce the bitstream \(exit code 1\); see .*vivado.log"):
        run_vivado(digits_build, quiet=True)
    assert not (digits_build / "deploy" / "signflow_top.bit").exists()


def test_report_parsers():
    assert utilization(UTILIZATION) == {"luts": 1234, "ffs": 2345, "brams18": 7, "dsps": 0}
    assert worst_slack(TIMING) == 1.234 and worst_slack("no timing here\n") is None


VIVADO_COMMANDS = ("create_project get_board_parts set_property current_project add_files get_files "
                   "update_compile_order create_bd_design create_bd_cell apply_bd_automation get_bd_pins "
                   "get_bd_intf_pins connect_bd_intf_net connect_bd_net get_bd_cells assign_bd_address "
                   "validate_bd_design save_bd_design make_wrapper current_fileset launch_runs wait_on_run "
                   "get_property get_runs open_run report_utilization report_timing_summary").split()


@pytest.mark.parametrize("board_files", [False, True])
def test_project_script_runs_in_tcl(digits_build, tmp_path, board_files):
    """The script in a plain Tcl interpreter (not Vivado) whose Vivado commands are logging stand-ins: it
    must be valid Tcl, make the calls a project needs in order, and copy the bitstream and handoff that a
    Vivado run leaves into deploy/."""
    import shutil
    import tkinter

    work = tmp_path / "vivado"
    shutil.copytree(digits_build / "vivado", work)
    impl = work / "project" / "signflow.runs" / "impl_1"
    handoff = work / "project" / "signflow.gen" / "sources_1" / "bd" / "signflow" / "hw_handoff"
    for folder, name in ((impl, "signflow_wrapper.bit"), (handoff, "signflow.hwh")):
        folder.mkdir(parents=True)
        (folder / name).write_text(name)
    tcl = tkinter.Tcl()
    tcl.eval("set ::calls {}")
    answers = {"get_board_parts": "$args" if board_files else "", "get_property": "100%",
               "get_bd_cells": "rst_ps_fclk0", "make_wrapper": "signflow_wrapper.v"}
    for command in VIVADO_COMMANDS:
        tcl.eval(f"proc {command} args {{ lappend ::calls [concat {command} $args]; return \"{answers.get(command, '')}\" }}")
    tcl.eval(f"cd {{{work}}}; source make_project.tcl")
    calls = [tcl.splitlist(call) for call in tcl.splitlist(tcl.eval("set ::calls"))]
    names = [call[0] for call in calls]
    assert ("create_project", "-force", "signflow", "project", "-part", "xc7z020clg400-1") in calls
    assert any(c[:2] == ("set_property", "board_part") for c in calls) == board_files
    assert ("create_bd_cell", "-type", "module", "-reference", "signflow_accel", "accel") in calls
    assert names.count("apply_bd_automation") == 4 and names.index("launch_runs") > names.index("save_bd_design")
    dma = next(c for c in calls if c[0] == "set_property" and "CONFIG.c_include_sg" in c[2])
    assert "CONFIG.c_m_axis_mm2s_tdata_width" in dma[2]
    assert (tmp_path / "deploy" / "signflow_top.bit").read_text() == "signflow_wrapper.bit"
    assert (tmp_path / "deploy" / "signflow_top.hwh").read_text() == "signflow.hwh"


def test_steps_out_of_order_say_what_to_run(tmp_path):
    from signflow.boards import get_board
    from signflow.codegen.vivado import generate

    with pytest.raises(UserError, match=r"no RTL in .*rtl: run the rtl_codegen step first"):
        generate(tmp_path, get_board("pynq-z1"), 10.0)
    with pytest.raises(UserError, match=r"no .*make_project.tcl: run the vivado_project step first"):
        run_vivado(tmp_path)
