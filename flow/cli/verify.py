"""``signflow verify DIR``: stream frames through the built design's RTL in Verilator (or, with ``--csim``,
its HLS C++ compiled with g++; with ``--driver``, the board driver on a simulated board whose DMA feeds the
RTL), bit-exact against the Python reference, and record the figures under ``rtlsim`` (``csim``,
``driver``) in report.json."""
import json
from pathlib import Path

import numpy as np

from signflow.errors import UserError
from signflow.files import atomic_path, inside


def add_parser(subparsers):
    p = subparsers.add_parser("verify", help="simulate the built RTL (or HLS C++) against the reference",
                              description="Stream frames through the stitched RTL (Verilator), compare every output "
                                          "bit-exactly with the Python reference, measure cycles per frame and latency; "
                                          "with --csim, the HLS C++ compiled with g++ instead.")
    p.add_argument("build_dir", help="build folder (from 'signflow build', through rtl_codegen)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--csim", action="store_true", help="C-simulate the generated HLS (hls/) instead of the RTL")
    mode.add_argument("--driver", action="store_true",
                      help="run the board driver (deploy/) with the RTL in Verilator behind a simulated DMA")
    p.add_argument("--frames", type=int, default=32, help="frames to stream (default: 32)")
    p.add_argument("--input", help=".npy inputs [N, ...] (default: random, seeded)")
    p.add_argument("--stall", type=float, default=0.0, help="probability the input idles in a cycle (0..1)")
    p.add_argument("--backpressure", type=float, default=0.0, help="probability the output refuses a beat (0..1)")
    p.add_argument("--seed", type=int, default=0, help="seed of inputs, stalls and back-pressure")
    p.add_argument("--trace", action="store_true", help="write a VCD waveform to BUILD_DIR/sim/trace.vcd")
    p.set_defaults(func=run)


def run(args):
    from signflow.cli.run import built_graph, load_input

    build = Path(args.build_dir)
    graph = built_graph(build)  # a complete build, or a clear error
    kind, step = ("hls", "hls_codegen") if args.csim else ("rtl", "rtl_codegen")
    if not (build / kind / "design.json").is_file():
        raise UserError(f"{build} has no generated {kind.upper()}; run 'signflow build MODEL --out {build}' "
                        f"through {step}")
    if (args.csim or args.driver) and (args.stall or args.backpressure or args.trace):
        raise UserError("--stall, --backpressure and --trace apply to the RTL simulation, not to --csim or --driver")
    for name, value in (("--stall", args.stall), ("--backpressure", args.backpressure)):
        if not 0 <= value < 1:
            raise UserError(f"{name} must be in [0, 1), not {value}")
    if args.frames < 1:
        raise UserError("--frames must be at least 1")
    shape = graph.get_tensor_shape(graph.graph.input[0].name)[1:]
    if args.input:
        x = load_input(args.input, shape)[:args.frames]
    else:
        x = np.random.default_rng(args.seed).uniform(-1, 1, (args.frames, *shape)).astype(np.float32)
    if args.driver:
        from signflow.sim.board import verify_driver

        figures = verify_driver(graph, build, x, inside(build, "board_sim"))
        summary = f"{figures['frames']} frames bit-exact through the board driver and the RTL (simulated DMA)"
    elif args.csim:
        from signflow.sim.csim import simulate

        figures = simulate(graph, build / "hls", x, inside(build, "csim"))
        summary = f"{figures['frames']} frames bit-exact in C simulation ({figures['frames_per_second']} frames/s)"
    else:
        from signflow.sim.rtlsim import simulate

        trace = inside(build, "sim/trace.vcd") if args.trace else None
        figures = simulate(graph, build / "rtl", x, inside(build, "sim"), args.stall, args.backpressure, args.seed,
                           trace=trace)
        summary = (f"{figures['frames']} frames bit-exact; {figures['cycles_per_frame']} cycles/frame, "
                   f"latency {figures['latency_cycles']} cycles" + (f"; waveform {trace}" if trace else ""))
    report_path = build / "report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    report["driver" if args.driver else "csim" if args.csim else "rtlsim"] = figures
    with atomic_path(report_path) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    print(summary)
