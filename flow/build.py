"""The signflow build: a QONNX model through an ordered list of steps.

Each step is ``step_<verb>(model, cfg) -> model``. After each step the graph
is saved as ``<out>/intermediate/NN_<step>.onnx``, its wall time and figures go
to ``<out>/report.json``, and (with ``verify``) its output is checked
bit-exact against the tidied input graph. ``--from-step`` resumes from the
graph saved by the step before.

Run as ``signflow build``, ``python -m signflow.build`` or ``python flow/build.py``.
"""
import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __name__ == "__main__" and not __package__:
    # `python flow/build.py`: flow/ is the signflow package; run it as signflow.build, not as loose modules
    import runpy

    sys.path.pop(0)
    try:
        runpy.run_module("signflow.build", run_name="__main__", alter_sys=True)
    except ModuleNotFoundError as err:
        sys.exit(f"error: {err.name} is not installed in {sys.executable}; run 'make demo' or 'pip install .' first")
    sys.exit(0)

import numpy as np  # noqa: E402

from signflow.boards import BOARDS, get_board  # noqa: E402
from signflow.errors import StepSkipped, UserError  # noqa: E402
from signflow.files import atomic_path, inside, prepare_dir  # noqa: E402
from signflow.graph import load_graph  # noqa: E402


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


# ---------------------------------------------------------------- steps


def step_tidy(model, cfg):
    """qonnx cleanup (shapes, constants, names), Gemm -> MatMul, and a check that every op is supported."""
    from signflow.transforms.tidy import tidy

    return tidy(model)


def step_streamline(model, cfg):
    """Quantizers, BatchNorm and DeSign offsets -> integer accumulators and threshold nodes."""
    from qonnx.transformation.infer_shapes import InferShapes

    from signflow.transforms.dynamic import CollapseDynamicSign
    from signflow.transforms.pool_order import MoveScalarMulPastMaxPool, ThresholdBeforePool
    from signflow.transforms.streamline import AbsorbIntoThreshold, FoldWeightQuant, SplitInputQuant, check_streamlined

    for transform in (FoldWeightQuant(), SplitInputQuant(), MoveScalarMulPastMaxPool(), CollapseDynamicSign(),
                      ThresholdBeforePool(), AbsorbIntoThreshold(), InferShapes()):
        model = model.transform(transform)
    check_streamlined(model)
    return model


def step_lower(model, cfg):
    """Convolutions -> NHWC sliding window + MatMul, max-pools -> binary NHWC max-pool; transposes cancelled."""
    from qonnx.transformation.infer_shapes import InferShapes

    from signflow.transforms.lower import (
        CancelTransposes,
        FlattenNHWC,
        LowerConv,
        LowerMaxPool,
        MoveTransposePastThreshold,
    )
    from signflow.transforms.pool_order import AbsorbChannelFlips

    model = model.transform(LowerConv()).transform(LowerMaxPool()).transform(AbsorbChannelFlips())
    model = apply_until_stable(model, [MoveTransposePastThreshold(), CancelTransposes(), FlattenNHWC()])
    return model.transform(InferShapes())


def apply_until_stable(model, transforms):
    """Apply ``transforms`` in turn until none of them changes the graph."""
    while True:
        changed = False
        for transform in transforms:
            model, step_changed = transform.apply(model)
            changed |= step_changed
        if not changed:
            return model


def step_to_hw(model, cfg):
    """MatMul (+ threshold) -> MVAU; binary streams become bits; HW ops record their shapes."""
    from qonnx.transformation.general import GiveUniqueNodeNames
    from qonnx.transformation.infer_shapes import InferShapes

    from signflow.transforms.to_hw import AnnotateHW, AppendLabelSelect, BinaryStreamsAsBits, ToMVAU

    model = model.transform(ToMVAU()).transform(BinaryStreamsAsBits()).transform(InferShapes())
    if cfg.label_select:
        model = model.transform(AppendLabelSelect())
    return model.transform(AnnotateHW()).transform(GiveUniqueNodeNames())  # layer names: MVAU_0, ...


def step_fold(model, cfg):
    """PE / SIMD per layer for the target FPS (or from the folding file); writes folding.json."""
    from signflow.folding import apply_folding_file, folding_doc, search_folding

    if cfg.folding_file:
        apply_folding_file(model, cfg.folding_file)
    else:
        search_folding(model, cfg)
    write_json(inside(cfg.output_dir, "folding.json"), folding_doc(model))
    return model


def step_estimate(model, cfg):
    """Cycles, FPS, latency and LUT / FF / BRAM per layer and in total; saved to report.json and estimate.txt."""
    from signflow.estimate import estimate, estimate_table

    est = estimate(model, cfg)
    with atomic_path(inside(cfg.output_dir, "estimate.txt")) as tmp:
        tmp.write_text(estimate_table(est) + "\n")
    set_figures(model, estimate=est)
    return model


def step_rtl_codegen(model, cfg):
    """SystemVerilog: the layers' cores with their memory files, FIFOs, width converters and a top (rtl/)."""
    from signflow.codegen.rtl import generate

    generate(model, cfg.output_dir, fifo_depth=cfg.fifo_depth)
    return model


def step_rtlsim(model, cfg):
    """Verilator: stream frames through the RTL, compare bit-exactly, measure cycles per frame and latency."""
    from signflow.sim.rtlsim import simulate

    x = _random_inputs(model, cfg, cfg.rtlsim_frames)
    figures = simulate(model, inside(cfg.output_dir, "rtl"), x, inside(cfg.output_dir, "sim"),
                       cfg.rtlsim_stall, cfg.rtlsim_backpressure, cfg.seed)
    set_figures(model, rtlsim=figures)
    return model


def step_synth_estimate(model, cfg):
    """Yosys synth_xilinx of the stitched top: LUT / FF / BRAM / DSP per layer beside the analytic estimate."""
    from signflow.estimate import estimate
    from signflow.vendor.yosys import synth_report, synth_table

    report = synth_report(model, inside(cfg.output_dir, "rtl"), cfg.part(), inside(cfg.output_dir, "synth"),
                          estimate(model, cfg))
    with atomic_path(inside(cfg.output_dir, "synth.txt")) as tmp:
        tmp.write_text(synth_table(report) + "\n")
    set_figures(model, synth=report)
    return model


def step_hls_codegen(model, cfg):
    """Vitis HLS C++: a source per layer with constant weight arrays, a DATAFLOW top, TCL scripts (hls/)."""
    from signflow.codegen.hls import generate

    generate(model, cfg.output_dir, cfg.part(), cfg.clock_ns, fifo_depth=cfg.fifo_depth)
    return model


def step_csim(model, cfg):
    """g++ C simulation of the HLS design: stream frames, compare every output bit-exactly."""
    from signflow.sim.csim import simulate

    x = _random_inputs(model, cfg, cfg.csim_frames)
    figures = simulate(model, inside(cfg.output_dir, "hls"), x, inside(cfg.output_dir, "csim"))
    set_figures(model, csim=figures)
    return model


def step_hls_synth(model, cfg):
    """Vitis HLS csynth and IP export of every layer and the top (skipped with a note without vitis_hls)."""
    from signflow.vendor.vitis_hls import synthesize

    set_figures(model, hls_synth=synthesize(inside(cfg.output_dir, "hls"), cfg.output_dir, quiet=cfg.quiet))
    return model


def step_vivado_project(model, cfg):
    """A Vivado project: the RTL between the channels of an AXI DMA on the board's Zynq, up to the bitstream
    (vivado/)."""
    from signflow.codegen.vivado import generate

    board = get_board(cfg.board)
    if cfg.part() != board.part:  # another part than the board's: its board files do not apply
        board = dataclasses.replace(board, part=cfg.part(), board_part="")
    generate(cfg.output_dir, board, cfg.clock_ns)
    return model


def step_bitstream(model, cfg):
    """Vivado: the bitstream and hardware handoff into deploy/ (skipped with a note without vivado)."""
    from signflow.vendor.vivado import run_vivado

    set_figures(model, bitstream=run_vivado(cfg.output_dir, quiet=cfg.quiet))
    return model


def step_driver(model, cfg):
    """The board driver: deploy/signflow_driver.py and io.json (stream layout, host-side operations)."""
    from signflow.codegen.driver import generate

    generate(model, cfg.output_dir)
    return model


def step_package(model, cfg):
    """deploy.zip: bitstream, hardware handoff, driver and io.json, to copy to the board (skipped with a note
    while there is no bitstream)."""
    from signflow.codegen.bundle import package

    set_figures(model, package=package(cfg.output_dir))
    return model


STEPS = [step_tidy, step_streamline, step_lower, step_to_hw, step_fold, step_estimate, step_rtl_codegen, step_rtlsim,
         step_synth_estimate, step_hls_codegen, step_csim, step_hls_synth, step_vivado_project, step_bitstream,
         step_driver, step_package]
STEP_NAMES = [s.__name__[len("step_"):] for s in STEPS]
#: the compiler front end: everything before code generation (no simulator needed)
FRONT_END = STEP_NAMES[:STEP_NAMES.index("estimate") + 1]


# ---------------------------------------------------------------- driver

FIGURES_KEY = "signflow.report"


def set_figures(model, **figures):
    """Attach report figures to the graph; the driver moves them into report.json."""
    model.set_metadata_prop(FIGURES_KEY, json.dumps(figures))


def take_figures(model):
    text = model.get_metadata_prop(FIGURES_KEY)
    return json.loads(text) if text else {}


def clear_figures(model):
    props = model.model.metadata_props
    for index in reversed(range(len(props))):
        if props[index].key == FIGURES_KEY:
            del props[index]


def write_json(path, doc):
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=2) + "\n")



def load_onnx(path):
    """A ModelWrapper of ``path``, or a one-line error for a missing, truncated or non-ONNX file."""
    import onnx
    path = Path(path)
    if not path.is_file():
        raise UserError(f"model file {path} does not exist")
    try:
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto)
    except Exception as err:  # onnx raises DecodeError, ValidationError, ...
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{path} is not a valid ONNX model ({reason}); export one with 'signflow export'")
    constants = {init.name for init in proto.graph.initializer}
    if len([i for i in proto.graph.input if i.name not in constants]) != 1 or len(proto.graph.output) != 1:
        raise UserError(f"{path}: signflow builds graphs with one input and one output")
    return load_graph(proto)


def selected_steps(cfg):
    names = cfg.steps or STEP_NAMES
    unknown = [n for n in names if n not in STEP_NAMES]
    if unknown:
        raise UserError(f"unknown steps {unknown}; steps are {', '.join(STEP_NAMES)}")
    if cfg.from_step is not None:
        if cfg.from_step not in names:
            raise UserError(f"--from-step '{cfg.from_step}' is not one of the steps {', '.join(names)}")
        names = names[names.index(cfg.from_step):]
    return [s for s in STEPS if s.__name__[len("step_"):] in names]


class Report:
    """``report.json``: rewritten whole after every step, so it is never half-written."""

    def __init__(self, path, resume):
        self.path = path
        self.doc = json.loads(path.read_text()) if resume and path.is_file() else {"steps": []}

    def step(self, name, seconds, status, **figures):
        self.doc["steps"] = [s for s in self.doc["steps"] if s["name"] != name]
        self.doc["steps"].append({"name": name, "seconds": round(seconds, 3), "status": status})
        self.doc.update(figures)
        self.save()

    def save(self):
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(self.doc, indent=2) + "\n")


def intermediate_path(out, name):
    return out / "intermediate" / f"{STEP_NAMES.index(name):02d}_{name}.onnx"


def run_build(model_path, cfg):
    """Run the configured steps on ``model_path``; returns the final ModelWrapper."""

    from signflow.progress import StepProgress
    from signflow.sim.compare import check_equal

    cfg.check()
    steps = selected_steps(cfg)
    out = prepare_dir(cfg.output_dir)
    prepare_dir(out / "intermediate")
    if cfg.from_step is not None and steps[0] is not STEPS[0]:
        # the graph of the latest step before it that ran (steps such as rtlsim may have been skipped)
        saved = [intermediate_path(out, n) for n in STEP_NAMES[:STEP_NAMES.index(cfg.from_step)]]
        saved = [path for path in saved if path.is_file()]
        if not saved:
            raise UserError(f"cannot resume from '{cfg.from_step}': no earlier step's graph in {out / 'intermediate'}; "
                            "run the build from the start")
        source = saved[-1]
        model = load_graph(source)
    else:
        model = load_onnx(model_path)
    reference = load_graph(intermediate_path(out, "tidy")) if steps[0] is not STEPS[0] else None
    report = Report(out / "report.json", resume=cfg.from_step is not None)
    report.doc.update(status="running", config=dataclasses.asdict(cfg))
    report.save()
    x = None
    with StepProgress([s.__name__[len("step_"):] for s in steps], quiet=cfg.quiet) as progress:
        for step in steps:
            name = step.__name__[len("step_"):]
            progress.start(name)
            start = time.perf_counter()
            try:
                model = step(model, cfg)
                if name == "tidy":
                    reference = model
                if cfg.verify and reference is not None:
                    if x is None:
                        x = _random_inputs(reference, cfg)
                    check_equal(reference, model, x, name)
            except StepSkipped as skip:  # a missing vendor tool: say so and go on
                report.doc.setdefault("notes", {})[name] = str(skip)
                report.step(name, time.perf_counter() - start, "skipped")
                progress.done(name, skipped=str(skip))
                continue
            except BaseException as err:
                report.doc["status"] = "failed"
                report.doc["error"] = str(err).splitlines()[0] if str(err) else type(err).__name__
                report.step(name, time.perf_counter() - start, "failed")
                progress.done(name, failed=True)
                raise
            with atomic_path(intermediate_path(out, name)) as tmp:
                model.save(str(tmp))
            report.step(name, time.perf_counter() - start, "done", **take_figures(model))
            clear_figures(model)
            progress.done(name)
    report.doc["status"] = "complete"
    report.doc.pop("error", None)
    report.save()
    return model


def _random_inputs(model, cfg, count=None):
    shape = [count or cfg.verify_samples] + list(model.get_tensor_shape(model.graph.input[0].name))[1:]
    rng = np.random.default_rng(cfg.seed)
    return rng.uniform(cfg.input_low, cfg.input_high, shape).astype(np.float32)


# ---------------------------------------------------------------- command line


def add_parser(subparsers):
    p = subparsers.add_parser("build", help="build a QONNX model into a folded streaming HW graph",
                              description="Run the build steps (" + " -> ".join(STEP_NAMES) + ") on a QONNX model.")
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p):
    p.add_argument("model", help="QONNX model (from 'signflow export')")
    p.add_argument("--out", help="output folder (default: build)")
    p.add_argument("--config", help="build config file (JSON or YAML); flags override it")
    p.add_argument("--board", choices=sorted(BOARDS), help="target board (default: pynq-z1)")
    p.add_argument("--clock-ns", type=float, help="clock period in ns (default: 10)")
    p.add_argument("--target-fps", type=float, help="frames per second the folding must reach")
    p.add_argument("--folding", dest="folding_file", help="folding file to apply (as written to folding.json)")
    p.add_argument("--steps", help="comma-separated steps to run (default: all)")
    p.add_argument("--from-step", help="resume from this step")
    p.add_argument("--no-verify", action="store_true", help="skip the bit-exact check after each step")
    p.add_argument("--label-select", action="store_true", help="output the class index instead of the scores")
    p.add_argument("--quiet", action="store_true", help="no progress display")


def config_from_args(args):
    cfg = BuildConfig.from_file(args.config) if args.config else BuildConfig()
    for key in ("board", "clock_ns", "target_fps", "folding_file", "from_step"):
        if getattr(args, key) is not None:
            setattr(cfg, key, getattr(args, key))
    if args.out:
        cfg.output_dir = args.out
    if args.steps:
        cfg.steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    if args.no_verify:
        cfg.verify = False
    if args.label_select:
        cfg.label_select = True
    if args.quiet:
        cfg.quiet = True
    return cfg


def run(args):
    cfg = config_from_args(args)
    run_build(args.model, cfg)
    estimate = Path(cfg.output_dir) / "estimate.txt"
    if estimate.is_file():
        print(estimate.read_text(), end="")
    print(f"build complete: {Path(cfg.output_dir) / 'report.json'}")


def main(argv=None):
    import argparse

    from signflow.cli import quiet_libraries

    quiet_libraries()
    parser = argparse.ArgumentParser(prog="python -m signflow.build", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        run(args)
    except UserError as err:
        print(f"signflow build: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
