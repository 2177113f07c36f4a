"""QONNX export of a trained run, checked against PyTorch before it is kept."""
import warnings
from pathlib import Path

import numpy as np
import torch

from signflow.errors import UserError
from signflow.files import atomic_path, prepare_file, refuse_overwrite
from signflow.models.checkpoint import CHECKPOINT, CONFIG, load_run
from signflow.sim.reference import run_qonnx


def export_model(model, in_shape, path):
    """Write ``model`` (eval mode) as QONNX to ``path`` through Brevitas."""
    from brevitas.export import export_qonnx

    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The TorchScript exporter (dynamo=False) is the one that emits QONNX Quant nodes.
        export_qonnx(model, torch.zeros(1, *in_shape), str(path), dynamo=False)


def check_export(model, path, x):
    """Number of samples of ``x`` where the QONNX graph differs from PyTorch (0 = bit-exact)."""
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    got = run_qonnx(path, x)
    return int(np.sum(np.any(got.reshape(len(x), -1) != expected.reshape(len(x), -1), axis=1)))


def export_run(run_dir, out, check_samples=4, seed=0, force=True):
    """Export the run in ``run_dir`` to ``out``; refuse to keep a graph that differs from PyTorch.

    ``out`` is never one of the run's files; an existing ``out`` is replaced only with ``force`` (the command
    line passes ``--force``; the default suits callers that re-export into their own output folder).
    """
    if not isinstance(check_samples, int) or not 0 <= check_samples <= 100000:
        raise UserError(f"--check must be an integer from 0 (no check) to 100000, not {check_samples}")
    run_dir = Path(run_dir)
    out = refuse_overwrite(out, [run_dir / CHECKPOINT, run_dir / CONFIG], force)
    model, cfg, _, _ = load_run(run_dir)
    out = prepare_file(out)
    with atomic_path(out) as tmp:
        export_model(model, cfg.in_shape, tmp)
        if check_samples:
            x = np.random.default_rng(seed).uniform(-1, 1, (check_samples, *cfg.in_shape)).astype(np.float32)
            bad = check_export(model, tmp, x)
            if bad:
                raise UserError(f"exported graph differs from PyTorch on {bad}/{check_samples} inputs; please report this model")
    return out


def add_parser(subparsers):
    p = subparsers.add_parser("export", help="export a trained run to QONNX",
                              description="Export a training output folder to QONNX (checked bit-exact against PyTorch).")
    p.add_argument("run_dir", help="training output folder (holds checkpoint.pt and config.json)")
    p.add_argument("--out", required=True, help="ONNX file to write; an existing file is refused unless --force "
                                                "(the run's own files never are replaced)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument("--check", type=int, default=4, metavar="N",
                   help="random inputs compared with PyTorch before the file is kept (0 skips)")
    p.set_defaults(func=_run)


def _run(args):
    if not Path(args.run_dir).is_dir():
        raise UserError(f"training folder {args.run_dir} does not exist; run 'signflow train --out {args.run_dir}' first")
    out = export_run(args.run_dir, args.out, check_samples=args.check, force=args.force)
    print(f"wrote {out}")
