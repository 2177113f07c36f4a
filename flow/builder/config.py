"""BuildConfig: what to build and how, from a JSON or YAML file and command-line flags."""
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from signflow.boards import get_board
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

    @classmethod
    def from_file(cls, path):
        """Read a JSON or YAML config file."""
        path = Path(path)
        try:
            text = path.read_text()
            if path.suffix in (".yaml", ".yml"):
                import yaml
                doc = yaml.safe_load(text)
            else:
                doc = json.loads(text)
        except (OSError, ValueError) as err:
            raise UserError(f"cannot read build config {path}: {err}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(doc or {}) - names)
        if unknown:
            raise UserError(f"build config {path} has unknown keys {unknown}; known keys: {', '.join(sorted(names))}")
        return cls(**(doc or {}))

    def part(self):
        return self.fpga_part or get_board(self.board).part

    def check(self):
        get_board(self.board)
        if self.clock_ns <= 0:
            raise UserError(f"clock period must be positive, not {self.clock_ns} ns")
        if self.target_fps is not None and self.target_fps <= 0:
            raise UserError(f"target FPS must be positive, not {self.target_fps}")
        if not 0 < self.resource_budget <= 1:
            raise UserError(f"resource budget must be in (0, 1], not {self.resource_budget}")
