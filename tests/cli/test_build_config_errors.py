"""Every build config field checked for type and range in one place: one line naming the key, what it must be
and what it got; exit 2, no traceback, no output folder.

The model file is never read: the config is refused before the build starts, so a placeholder path will do.
"""
import dataclasses
import json

import pytest

from signflow.builder import BuildConfig
from signflow.cli import main
from signflow.errors import UserError

#: (config file text, fragment of the error line); every BuildConfig field has at least one row
YAML_CASES = [
    ("output_dir: 42", "output_dir must be a folder path (a non-empty string without control characters), not 42 (int)"),
    ("output_dir: ''", "output_dir must be a folder path"),
    ('output_dir: "a\\nb"', "output_dir must be a folder path (a non-empty string without control characters), "
                            "not 'a\\nb' (str)"),
    ("board: pynq-z9", "unknown board 'pynq-z9'; choose one of orangecrab, pynq-z1, pynq-z2, ulx3s, zcu104"),
    ("board: 3", "board must be one of the boards orangecrab, pynq-z1, pynq-z2, ulx3s, zcu104, not 3 (int)"),
    ("board: [pynq-z1]", "board must be one of the boards orangecrab, pynq-z1, pynq-z2, ulx3s, zcu104, not ['pynq-z1'] (list)"),
    ("fpga_part: 7020", "fpga_part must be a Xilinx part number like xc7z020clg400-1 (letters, digits and '-') or "
                        "null, not 7020 (int)"),
    ("fpga_part: ''", "fpga_part must be a Xilinx part number"),
    ("clock_ns: fast", "clock_ns must be a number of ns in [0.1, 1000], not 'fast' (str)"),
    ("clock_ns: .nan", "clock_ns must be a number of ns in [0.1, 1000], not nan (float)"),
    ("clock_ns: .inf", "clock_ns must be a number of ns in [0.1, 1000], not inf (float)"),
    ("clock_ns: 0", "clock_ns must be a number of ns in [0.1, 1000], not 0 (int)"),
    ("clock_ns: -5", "clock_ns must be a number of ns in [0.1, 1000], not -5 (int)"),
    ("clock_ns: true", "clock_ns must be a number of ns in [0.1, 1000], not True (bool)"),
    ("clock_ns: null", "clock_ns must be a number of ns in [0.1, 1000], not null"),
    ('target_fps: "1000"', "target_fps must be a number > 0 (frames per second) or null, not '1000' (str)"),
    ("target_fps: .nan", "target_fps must be a number > 0 (frames per second) or null, not nan (float)"),
    ("target_fps: -1", "target_fps must be a number > 0 (frames per second) or null, not -1 (int)"),
    ("resource_budget: null", "resource_budget must be a number in (0, 1], not null"),
    ("resource_budget: 1.5", "resource_budget must be a number in (0, 1], not 1.5 (float)"),
    ("resource_budget: 0", "resource_budget must be a number in (0, 1], not 0 (int)"),
    ('enforce_budget: "yes"', "enforce_budget must be true or false, not 'yes' (str)"),
    ("enforce_budget: 1", "enforce_budget must be true or false, not 1 (int)"),
    ("folding_file: 3", "folding_file must be a file path (a non-empty string without control characters) or null, "
                        "not 3 (int)"),
    ("steps: tidy", "steps must be a non-empty list of step names (tidy, streamline"),
    ("steps: []", "steps must be a non-empty list of step names"),
    ("steps: [tidy, optimise]", "unknown steps ['optimise']; steps are tidy, streamline"),
    ("steps: [1]", "steps must be a non-empty list of step names"),
    ("from_step: nope", "from_step must be one of the steps tidy, streamline"),
    ("from_step: 3", "from_step must be one of the steps"),
    ('verify: "false"', "verify must be true or false, not 'false' (str)"),
    ("verify_samples: 0", "verify_samples must be an integer in [1, 100000], not 0 (int)"),
    ("verify_samples: 1.5", "verify_samples must be an integer in [1, 100000], not 1.5 (float)"),
    ("verify_samples: true", "verify_samples must be an integer in [1, 100000], not True (bool)"),
    ("seed: -1", "seed must be an integer in [0, 2^63), not -1 (int)"),
    ("seed: x", "seed must be an integer in [0, 2^63), not 'x' (str)"),
    ("input_low: a", "input_low must be a finite number, not 'a' (str)"),
    ("input_low: 2\ninput_high: 1", "input_low must be less than input_high (1), not 2"),
    ("input_high: -.inf", "input_high must be a finite number, not -inf (float)"),
    ('quiet: "no"', "quiet must be true or false, not 'no' (str)"),
    ("rtlsim_frames: -1", "rtlsim_frames must be an integer in [1, 100000], not -1 (int)"),
    ("rtlsim_stall: 1.0", "rtlsim_stall must be a probability in [0, 1), not 1.0 (float)"),
    ("rtlsim_stall: -0.1", "rtlsim_stall must be a probability in [0, 1), not -0.1 (float)"),
    ("rtlsim_backpressure: 2", "rtlsim_backpressure must be a probability in [0, 1), not 2 (int)"),
    ("csim_frames: 0", "csim_frames must be an integer in [1, 100000], not 0 (int)"),
    ("fifo_depth: 3", "fifo_depth must be a power of two in [2, 65536], not 3 (int)"),
    ("fifo_depth: 1", "fifo_depth must be a power of two in [2, 65536], not 1 (int)"),
    ("fifo_depth: 32.0", "fifo_depth must be a power of two in [2, 65536], not 32.0 (float)"),
    ('label_select: "true"', "label_select must be true or false, not 'true' (str)"),
    ("allow_timing_fail: 1", "allow_timing_fail must be true or false, not 1 (int)"),
    ("uart_baud: 115200.5", "uart_baud must be an integer baud rate in [300, 3000000], not 115200.5 (float)"),
    ("uart_baud: 100", "uart_baud must be an integer baud rate in [300, 3000000], not 100 (int)"),
    ("board: ulx3s\nfpga_part: xc7z020clg400-1", "fpga_part applies to Zynq boards; board 'ulx3s' is an ECP5 board"),
    # the file as a whole
    ("42", "must be a mapping of keys to values, not 42 (int)"),
    ("[board, zcu104]", "must be a mapping of keys to values, not ['board', 'zcu104'] (list)"),
    ("board: [pynq-z1", "cannot read build config"),
    ("bord: zcu104", "has unknown keys ['bord']"),
    ("1: 2", "has unknown keys ['1 (int)']"),
]

#: (command-line flags, fragment of the error line)
CLI_CASES = [
    (["--clock-ns", "nan"], "signflow build: error: --clock-ns: clock_ns must be a number of ns in [0.1, 1000], not nan (float)"),
    (["--clock-ns", "fast"], "clock_ns must be a number of ns in [0.1, 1000], not 'fast' (str)"),
    (["--clock-ns", "0"], "clock_ns must be a number of ns in [0.1, 1000], not 0.0 (float)"),
    (["--target-fps", "nan"], "target_fps must be a number > 0 (frames per second) or null, not nan (float)"),
    (["--target-fps", "inf"], "target_fps must be a number > 0 (frames per second) or null, not inf (float)"),
    (["--target-fps", "many"], "target_fps must be a number > 0 (frames per second) or null, not 'many' (str)"),
    (["--board", "pynq-z9"], "unknown board 'pynq-z9'; choose one of orangecrab, pynq-z1, pynq-z2, ulx3s, zcu104"),
    (["--steps", "tidy,optimise"], "unknown steps ['optimise']"),
    (["--steps", ","], "steps must be a non-empty list of step names"),
    (["--from-step", "nope"], "from_step must be one of the steps tidy"),
    (["--folding", "a\tb"], "folding_file must be a file path (a non-empty string without control characters) or "
                            "null, not 'a\\tb' (str)"),
]


def run_cli(capsys, tmp_path, *args):
    model = tmp_path / "m.onnx"  # never read: the config is refused first
    model.write_bytes(b"")
    code = main(["build", str(model), "--out", str(tmp_path / "out"), "--quiet", *args])
    captured = capsys.readouterr()
    return code, captured.err.strip(), captured.out


def assert_refused(code, err, out, fragment, tmp_path):
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("signflow build: error: ") and "Traceback" not in err
    assert fragment in err, err
    assert out == ""
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, fragment", YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_bad_yaml_config(tmp_path, capsys, text, fragment):
    path = tmp_path / "c.yaml"
    path.write_text(text + "\n")
    code, err, out = run_cli(capsys, tmp_path, "--config", str(path))
    assert_refused(code, err, out, fragment, tmp_path)
    if "must be" in fragment and "mapping" not in fragment and "less than" not in fragment:
        assert f"build config {path}: " in err  # the file is named


@pytest.mark.parametrize("args, fragment", CLI_CASES, ids=[" ".join(c[0]) for c in CLI_CASES])
def test_bad_flags(tmp_path, capsys, args, fragment):
    assert_refused(*run_cli(capsys, tmp_path, *args), fragment, tmp_path)


def test_json_nan_is_refused(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text('{"clock_ns": NaN}')
    code, err, out = run_cli(capsys, tmp_path, "--config", str(path))
    assert_refused(code, err, out, f"build config {path}: clock_ns must be a number of ns in [0.1, 1000], not nan "
                   "(float)", tmp_path)


def test_exact_line(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("clock_ns: fast\n")
    code, err, _ = run_cli(capsys, tmp_path, "--config", str(path))
    assert code == 2
    assert err == f"signflow build: error: build config {path}: clock_ns must be a number of ns in [0.1, 1000], " \
                  "not 'fast' (str)"


def test_every_field_has_a_case():
    keys = {line.split(":")[0] for line, _ in YAML_CASES}
    assert {f.name for f in dataclasses.fields(BuildConfig)} <= keys


def test_every_field_is_checked_by_check():
    """Constructed in Python (not from a file), a wrong value is refused by check() too."""
    wrong = {"output_dir": "", "board": "x", "fpga_part": "x;y", "clock_ns": float("nan"), "target_fps": float("inf"),
             "resource_budget": None, "enforce_budget": "no", "folding_file": "", "steps": "tidy", "from_step": "x",
             "verify": "no", "verify_samples": 0, "seed": -1, "input_low": float("nan"), "input_high": "1",
             "quiet": "no", "rtlsim_frames": -1, "rtlsim_stall": 1, "rtlsim_backpressure": float("nan"),
             "csim_frames": 0, "fifo_depth": 3, "label_select": 1, "allow_timing_fail": "no",
             "uart_baud": "fast"}
    assert set(wrong) == {f.name for f in dataclasses.fields(BuildConfig)}
    for key, value in wrong.items():
        with pytest.raises(UserError) as info:
            BuildConfig(**{key: value}).check()
        message = str(info.value)
        assert len(message.splitlines()) == 1 and (key in message or "unknown board" in message), message


def test_valid_values_pass(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("board: zcu104\nfpga_part: xczu7ev-ffvc1156-2-e\nclock_ns: 4\ntarget_fps: 1000\nquiet: no\n"
                    "verify: yes\nsteps: [tidy, streamline]\nfrom_step: streamline\nfifo_depth: 64\n"
                    "rtlsim_stall: 0.5\ninput_low: 0\ninput_high: 1\nseed: 7\n")
    cfg = BuildConfig.from_file(path)
    cfg.check()
    assert (cfg.quiet, cfg.verify, cfg.clock_ns, cfg.fifo_depth) == (False, True, 4, 64)
    (tmp_path / "e.yaml").write_text("")  # an empty file is the defaults
    assert BuildConfig.from_file(tmp_path / "e.yaml") == BuildConfig()
    (tmp_path / "c.json").write_text(json.dumps({"fpga_part": "xcu250-figd2104-2L-e"}))
    BuildConfig.from_file(tmp_path / "c.json").check()
