"""``signflow run DIR --input X.npy --output Y.npy``: the built graph on a batch, fast and exact."""
import json
from pathlib import Path

import numpy as np

from signflow.errors import UserError
from signflow.files import atomic_path, prepare_file, refuse_overwrite
from signflow.graph import load_graph


def built_graph(build_dir):
    """The graph saved by the last graph step of a complete build in ``build_dir`` (a failed or running build,
    or files without a report, are refused: they may mix two models)."""
    from signflow.builder.runner import latest_graph

    graph = latest_graph(build_dir)
    report = Path(build_dir) / "report.json"
    if graph is None or not report.is_file():
        raise UserError(f"{build_dir} holds no build; run 'signflow build MODEL --out {build_dir}' first")
    try:
        doc = json.loads(report.read_text())
    except ValueError:
        doc = {}
    if doc.get("status") != "complete":
        failed = [s["name"] for s in doc.get("steps", []) if s.get("status") == "failed"]
        state = f"failed at {failed[-1]}" if failed else doc.get("status", "unreadable")
        raise UserError(f"the build in {build_dir} is not complete ({state}); run 'signflow build MODEL --out "
                        f"{build_dir}' again")
    return load_graph(graph)


def load_input(path, in_shape):
    """A float32 batch ``[N, *in_shape]`` from ``.npy`` (never unpickled): at least one frame, real and finite."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read input {path}: {err}; give a numeric .npy array")
    if not isinstance(data, np.ndarray):  # np.load opens an .npz archive, whatever the file is called
        data.close()
        raise UserError(f"input {path} is an .npz archive, not an .npy array; save one array with numpy.save")
    shape = [int(size) for size in in_shape]
    if not (np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)
            or data.dtype == np.bool_):
        raise UserError(f"input {path} holds {data.dtype} values; give real numbers (float or integer)")
    if data.ndim != len(shape) + 1 or list(data.shape[1:]) != shape:
        raise UserError(f"input {path} has shape {list(data.shape)}; the model takes [N, {', '.join(map(str, shape))}]")
    if len(data) == 0:
        raise UserError(f"input {path} holds no frames (shape {list(data.shape)}); give at least one")
    data = data.astype(np.float32)
    if not np.all(np.isfinite(data)):
        raise UserError(f"input {path} holds NaN or infinite values (first at frame "
                        f"{int(np.argwhere(~np.isfinite(data))[0][0])}); give finite numbers")
    return data


def add_parser(subparsers):
    p = subparsers.add_parser("run", help="run a built graph on a batch of inputs",
                              description="Execute the HW-layer graph of a build on X.npy (the exported model's "
                                          "input layout, NCHW float) and write its outputs to Y.npy.")
    p.add_argument("build_dir", help="build folder (from 'signflow build')")
    p.add_argument("--input", required=True, help=".npy array [N, ...] in the model's input layout")
    p.add_argument("--output", required=True, help=".npy file to write, shaped like the model's output; an "
                                                   "existing file is refused unless --force (the input and the "
                                                   "build's files never are replaced)")
    p.add_argument("--force", action="store_true", help="replace an existing --output file")
    p.set_defaults(func=run)


def run(args):
    from signflow.builder.runner import latest_graph
    from signflow.sim.fast import FastGraph

    graph = built_graph(args.build_dir)
    build = Path(args.build_dir)
    inputs = [args.input, build / "report.json", latest_graph(build)]  # never written over, even with --force
    out = prepare_file(refuse_overwrite(args.output, inputs, args.force))
    x = load_input(args.input, graph.get_tensor_shape(graph.graph.input[0].name)[1:])
    y = FastGraph(graph)(x)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, y)
    print(f"wrote {out} {list(y.shape)}")
