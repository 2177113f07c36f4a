"""Reference execution speed on CNV: signflow run vs qonnx execute_onnx vs PyTorch, in one run.

Also compares the two integer kernels for the XNOR-popcount layer: GEMM on
+-1 floats (what signflow run uses) and bit-packed XOR + popcount.
Run: .venv/bin/python bench/reference_speed.py [--act design] [--images 512]
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench._timing import best_seconds  # noqa: E402
from signflow.builder import FRONT_END, BuildConfig, run_build  # noqa: E402
from signflow.cli import quiet_libraries  # noqa: E402
from signflow.cli.run import built_graph  # noqa: E402
from signflow.models.export import export_model  # noqa: E402
from signflow.ops.mvau import mvau_dot  # noqa: E402
from signflow.sim.fast import FastGraph  # noqa: E402
from signflow.sim.reference import run_graph  # noqa: E402
from tests.helpers import random_inputs, random_model  # noqa: E402


def rate(fn, count, repeat=3):
    """Best images/s of ``fn()`` over ``repeat`` runs of ``count`` images."""
    best = best_seconds(fn, repeat)
    return count / best


def packed_xnor_dot(x_bits, w_bits):
    """Bipolar dot products by bit packing: ``MW - 2 * popcount(x xor w)``."""
    mw = x_bits.shape[-1]
    pad = (-mw) % 64
    xp = np.ascontiguousarray(np.packbits(np.pad(x_bits.astype(np.uint8), ((0, 0), (0, pad))), axis=-1)).view(np.uint64)
    wp = np.ascontiguousarray(np.packbits(np.pad(w_bits.T.astype(np.uint8), ((0, 0), (0, pad))), axis=-1)).view(np.uint64)
    out = np.empty((len(xp), len(wp)), dtype=np.int64)
    for start in range(0, len(xp), 1024):
        diff = np.bitwise_count(xp[start:start + 1024, None, :] ^ wp[None, :, :]).sum(axis=-1)
        out[start:start + 1024] = mw - 2 * diff.astype(np.int64)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--act", default="design")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--onnx-images", type=int, default=16, help="images for execute_onnx (it is slow)")
    args = parser.parse_args()
    quiet_libraries()
    torch.set_num_threads(2)
    model = random_model("cnv", args.act, seed=0)
    x = random_inputs(model.in_shape, args.images, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        export_model(model, model.in_shape, Path(tmp) / "cnv.onnx")
        run_build(Path(tmp) / "cnv.onnx", BuildConfig(output_dir=f"{tmp}/b", quiet=True, verify=False, board="zcu104",
                                                                steps=FRONT_END))
        graph = built_graph(f"{tmp}/b")
        tidy = built_graph(f"{tmp}/b").__class__(f"{tmp}/b/intermediate/00_tidy.onnx")
        start = time.perf_counter()
        fast = FastGraph(graph)
        setup = time.perf_counter() - start
        small = x[:args.onnx_images]
        assert np.array_equal(fast(small), run_graph(graph, small)), "signflow run differs from execute_onnx"
        with torch.no_grad():
            assert np.array_equal(fast(x), model(torch.from_numpy(x)).numpy()), "signflow run differs from PyTorch"
        rows = [
            ("signflow run (HW graph)", rate(lambda: fast(x), len(x))),
            ("execute_onnx, HW graph", rate(lambda: run_graph(graph, small), len(small), repeat=1)),
            ("execute_onnx, exported QONNX", rate(lambda: run_graph(tidy, small), len(small), repeat=1)),
            ("PyTorch (Brevitas model)", rate(lambda: model(torch.from_numpy(x)), len(x))),
        ]
    base = rows[2][1]
    print(f"\nCNV ({args.act}), {args.images} images, 2 threads; signflow run setup {setup:.2f} s (once per graph)")
    print(f"{'executor':<32} {'images/s':>10} {'vs execute_onnx(QONNX)':>24}")
    for label, value in rows:
        print(f"{label:<32} {value:10.1f} {value / base:23.1f}x")

    # the two kernels on CNV's largest XNOR layer: 28x28 pixels x (3*3*64) -> 64 channels
    rng = np.random.default_rng(2)
    xb = rng.integers(0, 2, (64 * 784, 576)).astype(np.float32)
    wb = rng.integers(0, 2, (576, 64)).astype(np.float32)
    gemm = mvau_dot(xb, wb, "binary")
    packed = packed_xnor_dot(xb, wb)
    assert np.array_equal(gemm, packed)
    t_gemm = best_seconds(lambda: mvau_dot(xb, wb, "binary"))
    t_pack = best_seconds(lambda: packed_xnor_dot(xb, wb))
    print(f"\nXNOR layer 576 -> 64 over {len(xb)} pixels (64 images):")
    print(f"{'kernel':<32} {'ms':>10} {'ratio':>8}")
    print(f"{'GEMM on +-1 float32':<32} {1000 * t_gemm:10.1f} {1.0:8.2f}")
    print(f"{'bit-packed xor + popcount':<32} {1000 * t_pack:10.1f} {t_pack / t_gemm:8.2f}")


if __name__ == "__main__":
    main()
