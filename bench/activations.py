"""Test accuracy of the digits CNN: sign vs DeSign kernels, in the published and FINN layer orders, per recipe.

Every variant trains on the bundled digits for the same number of epochs, once per seed
(seeds 0..K-1), under each recipe of ``--recipes``; the table gives the mean, standard
deviation, min and max of the final test accuracy, and the mean difference to sign in the
same order and recipe. Runs go to a temporary folder, ``--jobs`` at a time (one torch thread each).
Run: .venv/bin/python bench/activations.py [--epochs N] [--seeds K] [--recipes default,binarynet]
"""
import argparse
import contextlib
import io
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

#: DeSign kernels, by their published names: the paper's preferred 2x2 (signflow's ``design2x2``),
#: the 2x2 the published demos default to, and the published ReCU ``Threshold3D`` default
KERNELS = ("threshold_2x2_v2", "threshold_2x2_v1", "threshold_2x2x4_shifting_n1_right_v1")
#: a name the kernels module may not know yet -> the same kernel under a name it knows
ALIASES = {"threshold_2x2_v2": "design2x2"}
ORDERS = ("published", "finn")


def resolve_kernels(names):
    """``(label, name get_kernel accepts)`` for each kernel, and notes on those it lacks."""
    from signflow.errors import UserError
    from signflow.models.kernels import get_kernel

    found, notes = [], []
    for name in names:
        for candidate in (name, ALIASES.get(name)):
            if candidate is None:
                continue
            try:
                get_kernel(candidate)
            except UserError:
                continue
            found.append((name, candidate))
            if candidate != name:
                notes.append(f"note: kernel {name} is not in models.kernels; used {candidate} (the same levels)")
            break
        else:
            notes.append(f"note: kernel {name} is not in models.kernels; left out")
    return found, notes


def variants(kernels):
    """``(activation, kernel label, ModelConfig options)`` of every row, sign first in each order."""
    rows = []
    for order in ORDERS:
        rows.append(("sign", "-", {"act": "sign", "order": order}))
        rows += [("design", label, {"act": "design", "kernel": name, "order": order}) for label, name in kernels]
    return rows


def one_run(job):
    """Train one variant on one seed; return ``(test accuracy, seconds)``."""
    options, recipe, epochs, seed, out = job
    from signflow.cli import quiet_libraries
    from signflow.models.train import TrainConfig, train
    from signflow.models.zoo import ModelConfig

    quiet_libraries()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the per-epoch lines
        metrics = train(ModelConfig(model="digits", **options),
                        TrainConfig(dataset="digits", recipe=recipe, epochs=epochs, seed=seed, out=out,
                                    progress=False, threads=1))
    return metrics["test_acc"], time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs of every run (default 10)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per variant: 0..K-1 (default 5)")
    parser.add_argument("--recipes", default="default,binarynet",
                        help="comma-separated training recipes (default: default,binarynet)")
    parser.add_argument("--kernels", default=",".join(KERNELS),
                        help=f"comma-separated DeSign kernels (default: {','.join(KERNELS)})")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, one CPU thread each (default 2)")
    args = parser.parse_args()
    from signflow.models.recipes import RECIPE_NAMES

    recipes = [name.strip() for name in args.recipes.split(",") if name.strip()]
    unknown = [name for name in recipes if name not in RECIPE_NAMES]
    if unknown or args.epochs < 1 or args.seeds < 1 or args.jobs < 1:
        parser.error(f"recipes must be among {', '.join(RECIPE_NAMES)}; epochs, seeds and jobs at least 1")
    kernels, notes = resolve_kernels([name.strip() for name in args.kernels.split(",") if name.strip()])
    for note in notes:
        print(note, file=sys.stderr)
    rows = variants(kernels)

    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(options, recipe, args.epochs, seed, str(Path(tmp) / f"{recipe}-{index}-{seed}"))
                for recipe in recipes for index, (_, _, options) in enumerate(rows) for seed in range(args.seeds)]
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(one_run, jobs))
    per_row = np.asarray(results).reshape(len(recipes), len(rows), args.seeds, 2)

    print(f"\ndigits CNN on digits, {args.epochs} epochs, seeds 0..{args.seeds - 1}: test accuracy (%)")
    print(f"{'recipe':<10} {'act':<7} {'kernel':<37} {'order':<10} {'mean':>6} {'std':>5} {'min':>6} "
          f"{'max':>6} {'vs sign':>8} {'s/run':>6}")
    for recipe, table in zip(recipes, per_row):
        sign_mean = {}
        for (act, kernel, options), runs in zip(rows, table):
            accs = 100 * runs[:, 0]
            if act == "sign":
                sign_mean[options["order"]] = accs.mean()
            print(f"{recipe:<10} {act:<7} {kernel:<37} {options['order']:<10} {accs.mean():6.2f} {accs.std():5.2f} "
                  f"{accs.min():6.2f} {accs.max():6.2f} {accs.mean() - sign_mean[options['order']]:+8.2f} "
                  f"{runs[:, 1].mean():6.1f}")
    print(f"({len(results)} runs in {time.perf_counter() - began:.0f} s, {args.jobs} at a time)")


if __name__ == "__main__":
    main()
