"""The build steps, in their one order.

Two kinds (``Step.graph``):

- graph steps (tidy .. fold) transform the graph: ``step(model, ctx) -> model``. The runner saves each
  result to ``intermediate/NN_<step>.onnx`` and checks it bit-exact against the tidied graph.
- artifact steps (estimate .. package) read the finished graph and write files: ``step(model, ctx) ->
  {report key: figures}`` (or None). They are neither checkpointed nor checked against the graph; the
  simulations among them check the generated hardware themselves.

``ctx`` (``BuildContext``) holds the config, the output folder and the figures earlier steps reported.
"""
import dataclasses
import json
from dataclasses import dataclass

from signflow.boards import get_board
from signflow.files import atomic_path


@dataclass(frozen=True)
class Step:
    name: str
    run: object  # the step function
    graph: bool  # True: transforms the graph (checkpointed and verified); False: writes artifacts
    #: what the step writes, relative to the output folder (besides a graph step's intermediate/ graph); removed
    #: before the step runs again, so nothing of an earlier build survives looking current
    outputs: tuple = ()
    #: the board family whose route the step belongs to ("zynq": Vivado and PYNQ, "ecp5": open tools), or None
    #: for every board; the runner skips it, with a note, for boards of the other family
    family: str = None


# ---------------------------------------------------------------- graph steps


def step_tidy(model, ctx):
    """qonnx cleanup (shapes, constants, names), Gemm -> MatMul, and a check that every op is supported."""
    from signflow.transforms.tidy import tidy

    return tidy(model)


def step_streamline(model, ctx):
    """Quantizers, BatchNorm and DeSign offsets -> integer accumulators and threshold nodes."""
    from qonnx.transformation.infer_shapes import InferShapes

    from signflow.transforms.dynamic import CollapseDynamicSign
    from signflow.transforms.pool_order import MoveScalarMulPastMaxPool, ThresholdBeforePool
    from signflow.transforms.streamline import AbsorbIntoThreshold, FoldWeightQuant, SplitQuantScale, check_streamlined

    for transform in (FoldWeightQuant(), SplitQuantScale(), MoveScalarMulPastMaxPool(), CollapseDynamicSign(),
                      ThresholdBeforePool(), AbsorbIntoThreshold(), InferShapes()):
        model = model.transform(transform)
    check_streamlined(model)
    return model


def step_lower(model, ctx):
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


def step_to_hw(model, ctx):
    """MatMul (+ threshold) -> MVAU; binary streams become bits; HW ops record their shapes."""
    from qonnx.transformation.general import GiveUniqueNodeNames
    from qonnx.transformation.infer_shapes import InferShapes

    from signflow.transforms.to_hw import AnnotateHW, AppendLabelSelect, BinaryStreamsAsBits, ToMVAU

    model = model.transform(ToMVAU()).transform(BinaryStreamsAsBits()).transform(InferShapes())
    if ctx.cfg.label_select:
        model = model.transform(AppendLabelSelect())
    return model.transform(AnnotateHW()).transform(GiveUniqueNodeNames())  # layer names: MVAU_0, ...


def step_fold(model, ctx):
    """PE / SIMD per layer for the target FPS (or from the folding file), then the width converters and FIFOs
    those widths need; the budget check counts them too. Writes folding.json."""
    from signflow.folding import apply_folding_file, check_budget, folding_doc, search_folding
    from signflow.transforms.streams import InsertDWC, InsertFIFO

    if ctx.cfg.folding_file:
        apply_folding_file(model, ctx.cfg.folding_file)
    else:
        search_folding(model, ctx.cfg)
    model = model.transform(InsertDWC()).transform(InsertFIFO(ctx.cfg.fifo_depth))
    if ctx.cfg.enforce_budget:
        check_budget(model, ctx.cfg)
    write_json(ctx.path("folding.json"), folding_doc(model))
    return model


# ---------------------------------------------------------------- artifact steps


def step_estimate(model, ctx):
    """Cycles, FPS, latency and LUT / FF / BRAM per layer and in total; saved to report.json and estimate.txt."""
    from signflow.estimate import estimate, estimate_table

    est = estimate(model, ctx.cfg)
    write_text(ctx.path("estimate.txt"), estimate_table(est))
    return {"estimate": est}


def step_rtl_codegen(model, ctx):
    """SystemVerilog: the layers' cores with their memory files, FIFOs, width converters and a top (rtl/)."""
    from signflow.codegen.rtl import generate

    generate(model, ctx.cfg.output_dir)


def step_rtlsim(model, ctx):
    """Verilator: stream frames through the RTL, compare bit-exactly, measure cycles per frame and latency."""
    from signflow.sim.rtlsim import simulate

    cfg = ctx.cfg
    figures = simulate(model, ctx.path("rtl"), ctx.random_inputs(model, cfg.rtlsim_frames), ctx.path("sim"),
                       cfg.rtlsim_stall, cfg.rtlsim_backpressure, cfg.seed)
    return {"rtlsim": figures}


def step_synth_estimate(model, ctx):
    """Yosys synth_xilinx of the stitched top: LUT / FF / BRAM / DSP per layer beside the analytic estimate."""
    from signflow.estimate import estimate
    from signflow.vendor.yosys import synth_report, synth_table

    est = ctx.figures.get("estimate") or estimate(model, ctx.cfg)  # the estimate step's, unless it did not run
    report = synth_report(ctx.path("rtl"), ctx.cfg.part(), ctx.path("synth"), est)
    write_text(ctx.path("synth.txt"), synth_table(report))
    return {"synth": report}


def step_hls_codegen(model, ctx):
    """Vitis HLS C++: a source per layer with constant weight arrays, a DATAFLOW top, TCL scripts (hls/)."""
    from signflow.codegen.hls import generate

    generate(model, ctx.cfg.output_dir, ctx.cfg.part(), ctx.cfg.clock_ns)


def step_csim(model, ctx):
    """g++ C simulation of the HLS design: stream frames, compare every output bit-exactly."""
    from signflow.sim.csim import simulate

    figures = simulate(model, ctx.path("hls"), ctx.random_inputs(model, ctx.cfg.csim_frames), ctx.path("csim"))
    return {"csim": figures}


def step_hls_synth(model, ctx):
    """Vitis HLS csynth and IP export of every layer and the top (skipped with a note without vitis_hls)."""
    from signflow.vendor.vitis_hls import synthesize

    return {"hls_synth": synthesize(ctx.path("hls"), ctx.cfg.output_dir, quiet=ctx.cfg.quiet)}


def step_vivado_project(model, ctx):
    """A Vivado project: the RTL between the channels of an AXI DMA on the board's Zynq, up to the bitstream
    (vivado/)."""
    from signflow.codegen.vivado import generate

    cfg = ctx.cfg
    board = get_board(cfg.board)
    if cfg.part() != board.part:  # another part than the board's: its board files do not apply
        board = dataclasses.replace(board, part=cfg.part(), board_part="")
    generate(cfg.output_dir, board, cfg.clock_ns)


def step_pnr(model, ctx):
    """ECP5 boards: Yosys synth_ecp5, nextpnr-ecp5 place and route at the build's clock (pnr/); utilization,
    routed Fmax and critical path into report.json. A missed clock fails the build unless allow_timing_fail."""
    from signflow.vendor.ecp5 import place_and_route

    cfg = ctx.cfg
    figures = place_and_route(cfg.output_dir, cfg.board, 1000.0 / cfg.clock_ns, cfg.uart_baud, cfg.allow_timing_fail,
                              stage=ctx.stage)
    cycles = (ctx.figures.get("estimate") or {}).get("bottleneck_cycles")
    if cycles:  # the frame rate at the clock the routed design reaches, beside the target's
        figures["fps_at_fmax"] = round(figures["fmax_mhz"] * 1e6 / cycles, 1)
        figures["fps_at_target"] = round(figures["target_mhz"] * 1e6 / cycles, 1)
    return {"pnr": figures}


def step_bitstream(model, ctx):
    """The bitstream into deploy/: ECP5 boards with ecppack from the pnr step's routed design; Zynq boards with
    Vivado, with its hardware handoff (skipped with a note without vivado)."""
    if get_board(ctx.cfg.board).family == "ecp5":
        from signflow.codegen.harness import PIN_TOP
        from signflow.vendor.ecp5 import pack_bitstream

        bit = f"deploy/{PIN_TOP}.bit"
        return {"bitstream": {"tool": "ecppack", "file": bit, "bytes": pack_bitstream(ctx.path("pnr"), ctx.path(bit))}}
    from signflow.vendor.vivado import run_vivado

    return {"bitstream": run_vivado(ctx.cfg.output_dir, quiet=ctx.cfg.quiet)}


def step_driver(model, ctx):
    """The board driver: deploy/signflow_driver.py and io.json (stream layout, host-side operations)."""
    from signflow.codegen.driver import generate

    generate(model, ctx.cfg.output_dir)


def step_package(model, ctx):
    """deploy.zip: bitstream, hardware handoff, driver and io.json, to copy to the board (skipped with a note
    while there is no bitstream)."""
    from signflow.codegen.bundle import package

    return {"package": package(ctx.cfg.output_dir)}


# ---------------------------------------------------------------- the order

GRAPH_STEPS = [step_tidy, step_streamline, step_lower, step_to_hw, step_fold]
ARTIFACT_STEPS = [step_estimate, step_rtl_codegen, step_rtlsim, step_synth_estimate, step_pnr, step_hls_codegen,
                  step_csim, step_hls_synth, step_vivado_project, step_bitstream, step_driver, step_package]
#: the files and folders each step writes (the bitstream and HLS synthesis write inside vivado/ and hls/)
OUTPUTS = {"fold": ("folding.json",), "estimate": ("estimate.txt",), "rtl_codegen": ("rtl",), "rtlsim": ("sim",),
           "synth_estimate": ("synth", "synth.txt"), "pnr": ("pnr", "board"), "hls_codegen": ("hls",), "csim": ("csim",),
           "vivado_project": ("vivado",), "driver": ("deploy", "board_sim"), "package": ("deploy.zip",)}
#: the step whose output each step reads (its graph, or the files it wrote; per board family where the routes
#: differ); a build that runs a step must run that one before it, or resume (--from-step) after a build that ran it
NEEDS = {"streamline": "tidy", "lower": "streamline", "to_hw": "lower", "fold": "to_hw", "estimate": "fold",
         "rtl_codegen": "fold", "rtlsim": "rtl_codegen", "synth_estimate": "rtl_codegen", "pnr": "rtl_codegen",
         "hls_codegen": "fold", "csim": "hls_codegen", "hls_synth": "hls_codegen", "vivado_project": "rtl_codegen",
         "bitstream": {"zynq": "vivado_project", "ecp5": "pnr"}, "driver": "vivado_project", "package": "driver"}
#: the steps of one board family's route (the Vivado route's synthesis estimate maps to Xilinx cells)
FAMILY = {"synth_estimate": "zynq", "pnr": "ecp5", "hls_codegen": "zynq", "csim": "zynq", "hls_synth": "zynq",
          "vivado_project": "zynq", "driver": "zynq", "package": "zynq"}
STEPS = [Step(name, f, graph=f in GRAPH_STEPS, outputs=OUTPUTS.get(name, ()), family=FAMILY.get(name))
         for f in GRAPH_STEPS + ARTIFACT_STEPS for name in [f.__name__[len("step_"):]]]
STEP_NAMES = [s.name for s in STEPS]
GRAPH_STEP_NAMES = [s.name for s in STEPS if s.graph]
#: the compiler front end: everything before code generation (no simulator needed)
FRONT_END = STEP_NAMES[:STEP_NAMES.index("estimate") + 1]


def write_json(path, doc):
    write_text(path, json.dumps(doc, indent=2))


def write_text(path, text):
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n")
