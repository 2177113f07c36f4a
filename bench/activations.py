"""Test accuracy of sign vs DeSign (designed 2x2, Bayer) vs DySign on the digits CNN.

Same training budget for every variant, several seeds; prints mean and spread.
Run: .venv/bin/python bench/activations.py [--epochs N] [--seeds K]
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from flow.cli import quiet_libraries  # noqa: E402
from models.train import TrainConfig, train  # noqa: E402
from models.zoo import ModelConfig  # noqa: E402

VARIANTS = [
    ("sign", dict(act="sign")),
    ("DeSign 2x2 (designed)", dict(act="design", kernel="design2x2")),
    ("DeSign Bayer 2x2", dict(act="design", kernel="bayer")),
    ("DySign", dict(act="dysign")),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--model", default="digits")
    args = parser.parse_args()
    quiet_libraries()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, kwargs in VARIANTS:
            accs, seconds = [], []
            for seed in range(args.seeds):
                start = time.perf_counter()
                metrics = train(ModelConfig(model=args.model, **kwargs),
                                TrainConfig(dataset="digits", epochs=args.epochs, seed=seed, progress=False,
                                            out=str(Path(tmp) / f"{label}-{seed}".replace(" ", "_"))))
                accs.append(metrics["test_acc"])
                seconds.append(time.perf_counter() - start)
            rows.append((label, np.mean(accs), np.std(accs), min(accs), max(accs), np.mean(seconds)))
    base = rows[0][1]
    print(f"\n{args.model} CNN on digits, {args.epochs} epochs, seeds 0..{args.seeds - 1} (test accuracy, %)")
    print(f"{'activation':<24} {'mean':>7} {'std':>6} {'min':>7} {'max':>7} {'vs sign':>8} {'s/run':>6}")
    for label, mean, std, low, high, secs in rows:
        print(f"{label:<24} {100 * mean:7.2f} {100 * std:6.2f} {100 * low:7.2f} {100 * high:7.2f} "
              f"{100 * (mean - base):+8.2f} {secs:6.1f}")


if __name__ == "__main__":
    main()
