"""End to end through the HLS backend: the generated C++ compiled with g++ is bit-exact with the reference,
the TCL scripts name the board's part, clock and sources, and a missing Vitis HLS is one clear line.

Vitis HLS is not installed here, so hls_synth is checked up to running the scripts: the generated TCL is
parsed, the skip note is checked without vitis_hls, and with a stand-in vitis_hls on PATH the step runs
every script in the right folder and reads back the csynth.xml report each one leaves.
"""
import json
import os
import re
import stat

import pytest
import torch

from signflow.builder import FRONT_END, BuildConfig, run_build
from signflow.cli import main
from signflow.cli.run import built_graph
from signflow.errors import UserError
from signflow.models.export import export_model
from tests.helpers import DIGITS_CASES, assert_verify_names_layer, export_bnn_pynq, inner_mvau, random_model

HLS_STEPS = FRONT_END + ["hls_codegen", "csim"]
#: the C-sim's fast tier: DeSign and DySign in the published order; sign and FINN's order run through the RTL in
#: the fast tier (test_rtlsim) and through the C-sim in the slow one
# a pytest.param is a (named) tuple too: only the plain tuples of the fast tier are moved
CSIM_CASES = [case if type(case) is not tuple or case[1] == "published" else pytest.param(*case, marks=pytest.mark.slow)
              for case in DIGITS_CASES]


def build_hls(model_or_path, out, **cfg):
    """Export (when given a model) and build through csim on 64 frames; returns the report."""
    path = model_or_path
    if isinstance(model_or_path, torch.nn.Module):
        path = out.parent / f"{out.name}.onnx"
        export_model(model_or_path, model_or_path.in_shape, path)
    steps = cfg.pop("steps", HLS_STEPS)
    run_build(path, BuildConfig(output_dir=str(out), quiet=True, verify=False, csim_frames=64, steps=steps, **cfg))
    return json.loads((out / "report.json").read_text())


def assert_bit_exact(report, frames=64):
    assert report["status"] == "complete"
    assert report["csim"]["frames"] == frames and report["csim"]["mismatches"] == 0


@pytest.mark.sim
@pytest.mark.parametrize("act, order, fps", CSIM_CASES)
def test_digits_csim(act, order, fps, tmp_path):
    model = random_model("digits", act, seed=41, order=order)
    assert_bit_exact(build_hls(model, tmp_path / "build", target_fps=fps))


@pytest.mark.sim
@pytest.mark.slow  # a CNV-sized net in both orders (digits covers both in the fast tier)
@pytest.mark.parametrize("order", ["published", "finn"])
def test_cnv_design_csim(order, tmp_path):
    model = random_model("cnv", "design", seed=42, order=order)
    assert_bit_exact(build_hls(model, tmp_path / "build", target_fps=3000))


@pytest.mark.sim
@pytest.mark.slow  # LFC runs through the RTL in the fast tier
def test_bnn_pynq_lfc_csim(tmp_path):
    """brevitas_examples' LFC-1W1A, exported unmodified with random weights."""
    export_bnn_pynq("lfc_1w1a", tmp_path / "lfc.onnx", seed=6)
    assert_bit_exact(build_hls(tmp_path / "lfc.onnx", tmp_path / "build", target_fps=20000, input_low=0.0))


@pytest.fixture(scope="module")
def digits_build(tmp_path_factory):
    """A DySign digits build through hls_codegen (and csim), for the checks below that only read it."""
    out = tmp_path_factory.mktemp("hls") / "build"
    build_hls(random_model("digits", "dysign", seed=43), out, target_fps=100000, board="zcu104", clock_ns=5.0)
    return out


@pytest.mark.sim
def test_tcl_names_part_clock_and_sources(digits_build):
    hls = digits_build / "hls"
    design = json.loads((hls / "design.json").read_text())
    layers = [link["name"] for link in design["links"]]
    assert design["tcl"] == [f"{name}.tcl" for name in layers] + ["signflow_top.tcl"]
    for script in design["tcl"]:
        text = (hls / script).read_text()
        top = re.search(r"^set_top (\S+)$", text, re.M).group(1)
        assert script == f"{top}.tcl"
        assert re.search(r"^set_part \{(\S+)\}$", text, re.M).group(1) == "xczu7ev-ffvc1156-2-e"
        assert float(re.search(r"^create_clock -period (\S+) ", text, re.M).group(1)) == 5.0
        sources = re.findall(r"^add_files (\S+) -cflags \"[^\"]*-Iinclude", text, re.M)
        assert sources == ([f"{top}.cpp"] if top in layers else ["signflow_top.cpp"] + [f"{n}.cpp" for n in layers])
        assert all((hls / source).is_file() for source in sources)
        assert re.search(rf"^void {top}\(", "\n".join((hls / s).read_text() for s in sources), re.M)
        assert "csynth_design" in text and "export_design -format ip_catalog" in text
    # every header the sources include is in include/
    for source in hls.glob("*.cpp"):
        for header in re.findall(r'#include "([^"]+)"', source.read_text()):
            assert (hls / header).is_file() or (hls / "include" / header).is_file() or header.startswith("signflow_csim")


@pytest.mark.sim
def test_top_chains_layers_under_dataflow(digits_build):
    design = json.loads((digits_build / "hls" / "design.json").read_text())
    top = (digits_build / "hls" / "signflow_top.cpp").read_text()
    assert "#pragma HLS DATAFLOW" in top
    calls = re.findall(r"^    (\w+)\((\w+), (\w+)\);$", top, re.M)
    assert [name for name, _, _ in calls] == [link["name"] for link in design["links"]]
    for (_, _, sink), (_, source, _) in zip(calls, calls[1:]):  # each layer reads its producer (maybe resized)
        assert source == sink or source.endswith("_dwc_out")


@pytest.mark.sim
def test_missing_vitis_hls_is_one_line(digits_build, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert main(["build", str(digits_build.parent / "build.onnx"), "--out", str(digits_build), "--board", "zcu104",
                 "--target-fps", "100000", "--steps", ",".join(HLS_STEPS[:-1] + ["hls_synth"]),
                 "--from-step", "hls_synth", "--quiet"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("hls_synth: vitis_hls is not on PATH")
    assert "docker compose run" in err[0] and "vitis_hls -f" in err[0]
    report = json.loads((digits_build / "report.json").read_text())
    assert report["status"] == "complete" and report["steps"][-1] == {**report["steps"][-1], "status": "skipped"}
    assert report["notes"]["hls_synth"] == err[0][len("hls_synth: "):]


CSYNTH = """<?xml version="1.0" encoding="UTF-8"?>
<profile><PerformanceEstimates><SummaryOfTimingAnalysis><EstimatedClockPeriod>4.2</EstimatedClockPeriod>
</SummaryOfTimingAnalysis><SummaryOfOverallLatency><Best-caseLatency>%s</Best-caseLatency>
<Interval-min>%s</Interval-min></SummaryOfOverallLatency></PerformanceEstimates>
<AreaEstimates><Resources><BRAM_18K>1</BRAM_18K><DSP>0</DSP><FF>%s</FF><LUT>%s</LUT></Resources></AreaEstimates>
</profile>
"""


@pytest.mark.sim
def test_hls_synth_runs_every_script(digits_build, tmp_path, monkeypatch):
    """A stand-in vitis_hls (not Vitis) that checks it is run on an existing script in the HLS folder and
    leaves a csynth.xml where Vitis HLS writes it; the step must run each script and report its figures."""
    fake = tmp_path / "bin" / "vitis_hls"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n[ \"$1\" = -f ] && [ -f \"$2\" ] || exit 1\ntop=${2%.tcl}\n"
                    "mkdir -p ${top}_prj/solution/syn/report\n"
                    f"n=$(wc -c < $2)\nprintf '{CSYNTH}' $n $n $n $n > ${{top}}_prj/solution/syn/report/${{top}}_csynth.xml\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    from signflow.vendor.vitis_hls import synthesize

    figures = synthesize(digits_build / "hls", digits_build)
    design = json.loads((digits_build / "hls" / "design.json").read_text())
    assert sorted(figures["layers"]) == sorted(link["name"] for link in design["links"])
    size = (digits_build / "hls" / "signflow_top.tcl").stat().st_size
    assert figures["top"] == {"luts": size, "ffs": size, "brams18": 1, "dsps": 0, "latency_cycles": size,
                              "interval_cycles": size, "clock_ns": 4.2}


@pytest.mark.sim
def test_corrupted_weights_are_caught_and_named(tmp_path, capsys):
    out = tmp_path / "build"
    build_hls(random_model("digits", "design", seed=44), out, target_fps=100000)
    design = json.loads((out / "hls" / "design.json").read_text())
    victim = inner_mvau(design)
    source = out / "hls" / f"{victim['name']}.cpp"
    text = source.read_text()
    start = text.index("_weights[")
    body = text[start:text.index("};", start)]
    source.write_text(text.replace(body, re.sub(r"0x([0-9a-f]+)ULL", lambda m: f"0x{m.group(1)[::-1]}1ULL", body)))
    assert "C simulation differs" in assert_verify_names_layer(main, [str(out), "--csim", "--frames", "8"], victim, capsys)


@pytest.mark.sim
def test_verify_csim_command(digits_build, capsys):
    assert main(["verify", str(digits_build), "--csim", "--frames", "70", "--seed", "5"]) == 0
    assert "70 frames bit-exact in C simulation" in capsys.readouterr().out
    assert json.loads((digits_build / "report.json").read_text())["csim"]["frames"] == 70
    assert main(["verify", str(digits_build), "--csim", "--stall", "0.2"]) == 2
    assert "apply to the RTL simulation" in capsys.readouterr().err


def test_verify_csim_without_a_build(tmp_path, capsys):
    assert main(["verify", str(tmp_path), "--csim"]) == 2
    assert f"{tmp_path} holds no build; run 'signflow build MODEL --out {tmp_path}' first" in capsys.readouterr().err


def test_words_wider_than_vitis_allows_are_refused():
    """AP_INT_MAX_W covers the widest word (a width converter holds both sides; MVAU memories split per PE),
    and a word beyond Vitis HLS's 4096 bits is refused with the layer's name."""
    from signflow.codegen.chain import Chain, Stage
    from signflow.codegen.hls import max_width
    from signflow.ops.hw import Memory, Stream

    def chain(*stages):
        return Chain("top", Stream(1, 8, 1), Stream(1, 8, 1), "x", "y", list(stages), [])

    mvau = Stage("MVAU_0", "mvau", {}, 2304, 64, {"WEIGHTS_FILE": Memory([0], 64 * 2304, 64)}, node=object())
    assert max_width(chain(mvau)) == 3072
    assert max_width(chain(Stage("dwc", "axis_width_converter", {}, 800, 300))) == 2048
    assert max_width(chain(Stage("fifo", "axis_fifo", {}, 8, 8))) == 1024
    wide = Stage("SlidingWindow_3", "sliding_window", {}, 512, 4608, node=object())
    with pytest.raises(UserError, match=r"^'SlidingWindow_3' needs 4608-bit words, more than the 4096 Vitis HLS "
                                        r"allows; build with a lower --target-fps"):
        max_width(chain(mvau, wide))


def test_generated_names_are_sanitized(tmp_path):
    """A top name from the user reaches C++ and TCL only as an identifier."""

    from signflow.codegen.hls import generate

    out = tmp_path / "build"
    build_hls(random_model("digits", "sign", seed=46), out, steps=FRONT_END)
    graph = built_graph(out)
    design = generate(graph, out, "xc7z020clg400-1", 10.0, top='my top"; exec rm -rf {/}')
    assert design["top"] == "my_top_exec_rm_rf"
    assert (out / "hls" / "my_top_exec_rm_rf.tcl").read_text().count("set_top my_top_exec_rm_rf\n") == 1
