"""BuildConfig: what to build and how, from a JSON or YAML file and command-line flags."""
import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

from signflow.boards import BOARDS, get_board, is_part
from signflow.errors import UserError


@dataclass
class BuildConfig:
    """What to build and how; loadable from JSON or YAML, overridable by CLI flags."""
    #: output folder; every file the build writes goes inside it
    output_dir: str = "build"
    #: target board (see flow/boards.py): sets the FPGA part and the resource budget
    board: str = "pynq-z1"
    #: FPGA part; None = the board's part
    fpga_part: str = None
    #: clock period in ns (10.0 = 100 MHz)
    clock_ns: float = 10.0
    #: frames per second the folding must reach; None = the smallest design (PE = SIMD = 1)
    target_fps: float = None
    #: fraction (0..1] of the board's LUTs and BRAMs the design may use
    resource_budget: float = 0.9
    #: stop the build when the estimate exceeds that budget (False: build anyway, e.g. to explore)
    enforce_budget: bool = True
    #: folding file (per-layer PE/SIMD, as written to folding.json) applied instead of the search
    folding_file: str = None
    #: steps to run, by name; None = all of them
    steps: list = None
    #: resume from this step, reading the graph the step before saved
    from_step: str = None
    #: check every step's output bit-exact against the tidied input graph
    verify: bool = True
    #: random inputs used for that check
    verify_samples: int = 2
    #: seed of those inputs
    seed: int = 0
    #: values of the random inputs are uniform on [input_low, input_high]
    input_low: float = -1.0
    input_high: float = 1.0
    #: tables printed while building
    quiet: bool = False
    #: frames streamed through the RTL simulation (rtlsim step)
    rtlsim_frames: int = 8
    #: probability that the simulated input stream idles in a cycle (0..1)
    rtlsim_stall: float = 0.0
    #: probability that the simulated output sink refuses a beat in a cycle (0..1)
    rtlsim_backpressure: float = 0.0
    #: frames streamed through the C simulation of the HLS design (csim step)
    csim_frames: int = 16
    #: FIFO depth between layers in the generated RTL and HLS (beats; a power of two)
    fifo_depth: int = 32
    #: end the accelerator with a label select: the output is the class index instead of the scores
    label_select: bool = False
    #: ECP5 boards: keep a routed design that misses the clock target (reported as missed) instead of failing
    allow_timing_fail: bool = False
    #: ECP5 boards: baud rate of the board harness's UART (8N1; the host driver uses the same)
    uart_baud: int = 115200

    @classmethod
    def from_file(cls, path):
        """Read a JSON or YAML config file; every value it sets is checked (see ``check_value``)."""
        path = Path(path)
        try:
            text = path.read_text()
            if path.suffix in (".yaml", ".yml"):
                import yaml
                try:
                    doc = yaml.safe_load(text)
                except yaml.YAMLError as err:
                    raise ValueError(" ".join(str(err).split()))
            else:
                doc = json.loads(text)
        except (OSError, ValueError, UnicodeDecodeError) as err:
            raise UserError(f"cannot read build config {path}: {' '.join(str(err).split())}")
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise UserError(f"build config {path} must be a mapping of keys to values, not {_shown(doc)}")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(_shown(k) if not isinstance(k, str) else k for k in doc if k not in names)
        if unknown:
            raise UserError(f"build config {path} has unknown keys {unknown}; known keys: {', '.join(sorted(names))}")
        for key, value in doc.items():
            try:
                check_value(key, value)
            except UserError as err:
                raise UserError(f"build config {path}: {err}")
        return cls(**doc)

    def part(self):
        return self.fpga_part or get_board(self.board).part

    def check(self):
        """Every field's type and range (one line naming the first bad key), then the checks across fields."""
        for field in dataclasses.fields(self):
            try:
                check_value(field.name, getattr(self, field.name))
            except UserError as err:
                raise UserError(f"build config: {err}")
        if self.input_low >= self.input_high:
            raise UserError(f"build config: input_low must be less than input_high ({self.input_high!r}), "
                            f"not {self.input_low!r}")
        if self.fpga_part and get_board(self.board).family != "zynq":
            raise UserError(f"build config: fpga_part applies to Zynq boards; board '{self.board}' is an ECP5 board "
                            f"with its own device ({get_board(self.board).part}); add a board to flow/boards.py for "
                            "another device")
        names = self.steps or STEP_NAMES()
        if self.from_step is not None and self.from_step not in names:
            raise UserError(f"--from-step '{self.from_step}' is not one of the steps {', '.join(names)}")


def STEP_NAMES():  # noqa: N802  (the builder's step names; imported late: the steps import this module)
    from signflow.builder.steps import STEP_NAMES as names

    return names


def _shown(value):
    """``value`` for an error message: its repr on one line, at most 60 characters, and its type."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})" if value is not None else "null"


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text_ok(value):
    """A path or name: a non-empty string without control characters (which no file name needs)."""
    return isinstance(value, str) and 0 < len(value) <= 4096 and value.isprintable()


def _step_name(value):
    return isinstance(value, str) and value in STEP_NAMES()


def _steps(value):
    return isinstance(value, list) and len(value) > 0 and all(_step_name(v) for v in value)


def _fifo_depth(value):
    return _is_int(value) and 2 <= value <= 2 ** 16 and not value & (value - 1)


#: per field: (may it be None, test, what it must be); the one place the config's values are checked
RULES = {
    "output_dir": (False, _text_ok, "a folder path (a non-empty string without control characters)"),
    "board": (False, lambda v: isinstance(v, str) and v in BOARDS, "one of the boards " + ", ".join(sorted(BOARDS))),
    "fpga_part": (True, is_part, "a Xilinx part number like xc7z020clg400-1 (letters, digits and '-') or null"),
    "clock_ns": (False, lambda v: _is_number(v) and 0.1 <= v <= 1000, "a number of ns in [0.1, 1000]"),
    "target_fps": (True, lambda v: _is_number(v) and 0 < v <= 1e12, "a number > 0 (frames per second) or null"),
    "resource_budget": (False, lambda v: _is_number(v) and 0 < v <= 1, "a number in (0, 1]"),
    "enforce_budget": (False, lambda v: isinstance(v, bool), "true or false"),
    "folding_file": (True, _text_ok, "a file path (a non-empty string without control characters) or null"),
    "steps": (True, _steps, "a non-empty list of step names (" + "{steps}" + ") or null"),
    "from_step": (True, _step_name, "one of the steps {steps}, or null"),
    "verify": (False, lambda v: isinstance(v, bool), "true or false"),
    "verify_samples": (False, lambda v: _is_int(v) and 1 <= v <= 100000, "an integer in [1, 100000]"),
    "seed": (False, lambda v: _is_int(v) and 0 <= v < 2 ** 63, "an integer in [0, 2^63)"),
    "input_low": (False, _is_number, "a finite number"),
    "input_high": (False, _is_number, "a finite number"),
    "quiet": (False, lambda v: isinstance(v, bool), "true or false"),
    "rtlsim_frames": (False, lambda v: _is_int(v) and 1 <= v <= 100000, "an integer in [1, 100000]"),
    "rtlsim_stall": (False, lambda v: _is_number(v) and 0 <= v < 1, "a probability in [0, 1)"),
    "rtlsim_backpressure": (False, lambda v: _is_number(v) and 0 <= v < 1, "a probability in [0, 1)"),
    "csim_frames": (False, lambda v: _is_int(v) and 1 <= v <= 100000, "an integer in [1, 100000]"),
    "fifo_depth": (False, _fifo_depth, "a power of two in [2, 65536]"),
    "label_select": (False, lambda v: isinstance(v, bool), "true or false"),
    "allow_timing_fail": (False, lambda v: isinstance(v, bool), "true or false"),
    "uart_baud": (False, lambda v: _is_int(v) and 300 <= v <= 3_000_000, "an integer baud rate in [300, 3000000]"),
}


def check_value(key, value):
    """``value`` if it is what config key ``key`` may be; else a one-line UserError naming the key, what it
    must be and what it got."""
    nullable, test, wanted = RULES[key]
    if (value is None and nullable) or (value is not None and test(value)):
        return value
    if key == "board" and isinstance(value, str) and value.isprintable() and len(value) <= 40:
        get_board(value)  # "unknown board 'x'; choose one of ..."
    if key == "steps" and isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
        unknown = [v for v in value if v not in STEP_NAMES()]
        raise UserError(f"unknown steps {unknown}; steps are {', '.join(STEP_NAMES())}")
    wanted = wanted.replace("{steps}", ", ".join(STEP_NAMES()))
    raise UserError(f"{key} must be {wanted}, not {_shown(value)}")


def value_from_cli(key, text, flag):
    """A command-line flag's text as the value of ``key`` (numbers parsed, the result checked); errors name the
    flag and the key."""
    kind = {f.name: f.type for f in dataclasses.fields(BuildConfig)}[key]
    try:
        if kind in (float, int):
            try:
                text = kind(text)
            except ValueError:
                raise UserError(f"{key} must be {RULES[key][2]}, not {_shown(text)}")
        return check_value(key, text)
    except UserError as err:
        raise UserError(f"{flag}: {err}")
