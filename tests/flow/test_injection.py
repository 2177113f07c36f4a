"""Values that reach TCL, C++ or Verilog (part, board, clock, names, paths) are checked for what they may be and
quoted where they are emitted: a hostile value is one line on stderr and exit 2, never a script."""
import dataclasses
import json

import pytest

from signflow.boards import get_board
from signflow.cli import main
from signflow.codegen import hls, vivado
from signflow.codegen.names import comment_text, tcl_word
from signflow.codegen.render import TemplateError, render
from signflow.errors import UserError

#: TCL metacharacters, a line break, path traversal, unicode look-alikes and invisible characters
HOSTILE = [
    "xc7z020clg400-1} ; exec touch PWNED ; set x {",
    "xc7z020clg400-1]",
    "[exec touch PWNED]",
    "$env(HOME)",
    'xc7z020clg400-1"',
    "xc7z020clg400-1\\",
    "xc7z020clg400-1\nexec touch PWNED",
    "xc7z020clg400-1;",
    "xc7z020clg400-1 ",
    "../../etc/passwd",
    "xc7z020clg400-1/../x",
    "x\u0441" + "7z020clg400-1",  # a Cyrillic es
    "xc7z020clg400-1\u202e",  # right-to-left override
    "xc7z020clg400-1\x00",
]
BOARDS = "orangecrab, pynq-z1, pynq-z2, ulx3s, zcu104"
PART_WANTED = "a Xilinx part number like xc7z020clg400-1 (letters, digits and '-') or null"


def shown(value):
    text = repr(value)
    assert len(text) <= 60  # shown whole
    return f"{text} ({type(value).__name__})"


def board_error(value):
    if value.isprintable() and len(value) <= 40:  # short and printable: quoted as is
        return f"unknown board '{value}'; choose one of {BOARDS}"
    return f"board must be one of the boards {BOARDS}, not {shown(value)}"


def yaml_line(key, value):
    return f"{key}: {json.dumps(value)}\n"  # JSON strings are YAML strings


#: (config key, how the error ends for a hostile value)
FILE_FIELDS = {
    "fpga_part": lambda v: f"fpga_part must be {PART_WANTED}, not {shown(v)}",
    "board": board_error,
    "clock_ns": lambda v: f"clock_ns must be a number of ns in [0.1, 1000], not {shown(v)}",
    "target_fps": lambda v: f"target_fps must be a number > 0 (frames per second) or null, not {shown(v)}",
}
#: (flag, config key, how the error ends)
FLAG_FIELDS = [
    ("--board", "board", board_error),
    ("--clock-ns", "clock_ns", lambda v: f"clock_ns must be a number of ns in [0.1, 1000], not {shown(v)}"),
    ("--target-fps", "target_fps", lambda v: f"target_fps must be a number > 0 (frames per second) or null, "
                                             f"not {shown(v)}"),
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a PWNED file would land here
    (tmp_path / "m.onnx").write_bytes(b"")  # never read: the config is refused first
    yield tmp_path
    assert not list(tmp_path.rglob("PWNED"))


def run_cli(capsys, workdir, *args):
    code = main(["build", str(workdir / "m.onnx"), "--out", str(workdir / "out"), "--quiet", *args])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert not (workdir / "out").exists()  # nothing written, let alone a folder that looks complete
    return code, captured.err.rstrip("\n")


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("key", sorted(FILE_FIELDS))
def test_hostile_config_value(workdir, capsys, key, value):
    path = workdir / "c.yaml"
    path.write_text(yaml_line(key, value))
    code, err = run_cli(capsys, workdir, "--config", str(path))
    assert code == 2
    assert err == f"signflow build: error: build config {path}: {FILE_FIELDS[key](value)}"


@pytest.mark.parametrize("value", [v for v in HOSTILE if "\x00" not in v], ids=range(len(HOSTILE) - 1))
@pytest.mark.parametrize("flag, key, message", FLAG_FIELDS, ids=[f[0] for f in FLAG_FIELDS])
def test_hostile_flag(workdir, capsys, flag, key, message, value):
    code, err = run_cli(capsys, workdir, flag, value)
    assert code == 2
    assert err == f"signflow build: error: {flag}: {message(value)}"


@pytest.mark.parametrize("value", ["../tidy", "tidy;", "tidy\n", "[tidy]", "t\u0456dy"])
def test_hostile_step_names(workdir, capsys, value):
    path = workdir / "c.yaml"
    path.write_text(yaml_line("from_step", value))
    code, err = run_cli(capsys, workdir, "--config", str(path))
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"signflow build: error: build config {path}: from_step must be one of the steps tidy, ")
    assert err.endswith(f", or null, not {shown(value)}")
    path.write_text(yaml_line("steps", ["tidy", value]))
    code, err = run_cli(capsys, workdir, "--config", str(path))
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"signflow build: error: build config {path}: unknown steps [{value!r}]; steps are tidy, ")


@pytest.mark.parametrize("key", ["output_dir", "folding_file"])
@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\x1bb", "a\u2028b", ""])
def test_paths_with_control_characters(workdir, capsys, key, value):
    path = workdir / "c.yaml"
    path.write_text(yaml_line(key, value))
    code, err = run_cli(capsys, workdir, "--config", str(path))
    what = "folder path" if key == "output_dir" else "file path"
    tail = "" if key == "output_dir" else " or null"
    assert code == 2
    assert err == (f"signflow build: error: build config {path}: {key} must be a {what} (a non-empty string without "
                   f"control characters){tail}, not {shown(value)}")


# what is emitted for valid values: each once, quoted


def fake_rtl(out, top="signflow_top", sources=("signflow_top.sv",)):
    rtl = out / "rtl"
    rtl.mkdir(parents=True)
    for name in sources:
        if "/" not in name:
            (rtl / name).write_text("module signflow_top; endmodule\n")
    (rtl / "design.json").write_text(json.dumps({"top": top, "sources": list(sources),
                                                 "input": {"width": 8, "beats": 4}, "output": {"width": 8, "beats": 1}}))
    return out


@pytest.mark.parametrize("board, clock_ns, mhz", [("pynq-z1", 10.0, "100.0"), ("zcu104", 4, "250.0")])
def test_vivado_script_holds_each_value_once_quoted(tmp_path, board, clock_ns, mhz):
    spec = get_board(board)
    vivado.generate(fake_rtl(tmp_path), spec, clock_ns, jobs=2)
    text = (tmp_path / "vivado" / "make_project.tcl").read_text()
    assert text.count(spec.part) == 1 and f"\nset part {{{spec.part}}}\n" in text
    assert text.count(spec.board_part) == 1 and f"\nset board_part {{{spec.board_part}}}\n" in text
    assert f"\nset ps_kind {{{spec.ps_kind}}}\n" in text
    assert text.count(f"set clock_mhz {mhz}\n") == 1 and text.count(mhz) == 1
    assert "\nset sources [list {src/signflow_top.sv} {src/axis_batch_last.sv}" in text


def test_hls_script_holds_each_value_once_quoted():
    text = hls._tcl("conv_0", ["conv_0.cpp"], "xczu7ev-ffvc1156-2-e", 4.0)
    assert text.count("xczu7ev-ffvc1156-2-e") == 1 and "\nset_part {xczu7ev-ffvc1156-2-e}\n" in text
    assert text.count("create_clock -period 4 -name default\n") == 1
    assert hls._tcl("t", ["t.cpp"], "xc7z020clg400-1", 2.5).count("-period 2.5 ") == 1


def tcl_interp():
    tkinter = pytest.importorskip("tkinter")
    try:
        return tkinter.Tcl()
    except tkinter.TclError as err:
        pytest.skip(f"no Tcl interpreter: {err}")


@pytest.mark.parametrize("value", [v for v in HOSTILE if "\x00" not in v] + ["", "a b", "{", "}", "#x", "\t"])
def test_tcl_word_reads_back_unchanged(value):
    interp = tcl_interp()
    interp.eval("proc exec {args} {error injected}")  # a command substitution would fail loudly
    assert interp.eval("set x " + tcl_word(value)) == value
    assert interp.eval(f"llength [list {tcl_word(value)}]") == "1"


def test_hls_script_runs_in_tcl_with_the_values():
    interp = tcl_interp()
    seen = {}
    for command in ("open_project", "set_top", "add_files", "open_solution", "set_part", "create_clock",
                    "csynth_design", "export_design", "exit"):
        interp.createcommand(command, lambda *args, command=command: seen.setdefault(command, []).append(args) and "")
    interp.eval(hls._tcl("conv_0", ["conv_0.cpp"], "xczu7ev-ffvc1156-2-e", 4.0))
    assert seen["set_part"] == [("xczu7ev-ffvc1156-2-e",)]
    assert seen["create_clock"] == [("-period", "4", "-name", "default")]
    assert seen["add_files"] == [("conv_0.cpp", "-cflags", "-std=c++14 -Iinclude")]


# the code generators and tools refuse hostile values themselves (not only behind the config)


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_codegen_refuses_hostile_parts(tmp_path, value):
    with pytest.raises(UserError, match="FPGA part must be a Xilinx part number like xc7z020clg400-1, not "):
        hls.generate(None, tmp_path, value, 10.0)
    assert not (tmp_path / "hls").exists()
    with pytest.raises(UserError, match="FPGA part must be a Xilinx part number"):
        hls._tcl("t", ["t.cpp"], value, 10.0)
    fake_rtl(tmp_path)
    with pytest.raises(UserError, match="FPGA part must be a Xilinx part number"):
        vivado.generate(tmp_path, dataclasses.replace(get_board("pynq-z1"), part=value), 10.0)
    with pytest.raises(UserError, match="board part must be vendor:board:component:version"):
        vivado.generate(tmp_path, dataclasses.replace(get_board("pynq-z1"), board_part=value), 10.0)
    assert not (tmp_path / "vivado").exists()


@pytest.mark.parametrize("clock_ns", [float("nan"), float("inf"), -1.0, 0.0, 1e-300, "10", True, None])
def test_codegen_refuses_bad_clocks(tmp_path, clock_ns):
    with pytest.raises(UserError, match="clock period must be a number of ns in"):
        hls._tcl("t", ["t.cpp"], "xc7z020clg400-1", clock_ns)
    with pytest.raises(UserError, match="clock period must be a number of ns in"):
        vivado.generate(fake_rtl(tmp_path), get_board("pynq-z1"), clock_ns)


@pytest.mark.parametrize("top, sources, message", [
    ("signflow_top} ; exec touch PWNED ; set x {", ["signflow_top.sv"], "top must be an identifier"),
    ("top\nexec", ["signflow_top.sv"], "top must be an identifier"),
    ("signflow_top", ["../../etc/passwd"], "source must be a plain file name"),
    ("signflow_top", ["a b.sv"], "source must be a plain file name"),
    ("signflow_top", ["..sv"], "source must be a plain file name"),
])
def test_vivado_refuses_a_hostile_rtl_design(tmp_path, top, sources, message):
    with pytest.raises(UserError, match=message):
        vivado.generate(fake_rtl(tmp_path, top, sources), get_board("pynq-z1"), 10.0)
    assert not (tmp_path / "vivado").exists()


def test_vivado_run_removes_only_its_own_outputs(tmp_path, monkeypatch):
    import signflow.vendor.vivado as vendor

    monkeypatch.setattr(vendor, "vendor_tool", lambda *args: "/bin/false")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "b" / "vivado").mkdir(parents=True)
    (tmp_path / "b" / "vivado" / "make_project.tcl").write_text("")
    (tmp_path / "b" / "vivado" / "design.json").write_text(json.dumps(
        {"top": "signflow_top", "part": "xc7z020clg400-1", "bitstream": "../../victim.txt", "hwh": "../deploy/x.hwh"}))
    with pytest.raises(UserError, match=r"bitstream must be \.\./deploy/signflow_top\.bit, not '\.\./\.\./victim\.txt'"):
        vendor.run_vivado(tmp_path / "b", quiet=True)
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize("script", ["../x.tcl", "a;b.tcl", "x.sh", "/tmp/x.tcl"])
def test_vitis_runs_only_its_own_scripts(tmp_path, monkeypatch, script):
    import signflow.vendor.vitis_hls as vendor

    monkeypatch.setattr(vendor, "vendor_tool", lambda *args: "/bin/false")
    (tmp_path / "design.json").write_text(json.dumps({"top": "signflow_top", "tcl": [script]}))
    with pytest.raises(UserError, match="script must be"):
        vendor.synthesize(tmp_path, tmp_path, quiet=True)


def test_comments_stay_one_line():
    for name in ["a\nb", "a\\", "a??/", "a */ b", "a\u2028b", "x\r\ny"]:
        text = comment_text(name)
        assert len(text.splitlines()) == 1 and "\\" not in text and "?" not in text and "*/" not in text


def test_render_refuses_non_numbers():
    for value in (float("nan"), float("inf"), True):
        with pytest.raises(TemplateError, match="not a finite number"):
            render("x $X$", {"X": value})
