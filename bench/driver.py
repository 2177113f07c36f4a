"""Board driver packing speed: the driver's numpy packing of DMA words vs word-by-word Python packing
(flow/packing.py), for CNV's and LFC's input and output streams, in one run (this machine, not a board).

Run: .venv/bin/python bench/driver.py [--frames 1000]
"""
import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._timing import best_seconds  # noqa: E402
from signflow.codegen.driver import load_driver  # noqa: E402
from signflow.packing import pack_words  # noqa: E402

#: streams shaped like CNV-1W1A's and LFC-1W1A's (8-bit RGB pixels, 1-bit MNIST pixels, 10 scores), in DMA words
STREAMS = {
    "CNV input": dict(lanes=3, bits=8, signed=True, beats=1024, dma_width=32),
    "CNV output": dict(lanes=1, bits=11, signed=True, beats=10, dma_width=16),
    "LFC input": dict(lanes=784, bits=1, signed=False, beats=1, dma_width=1024),
    "LFC output": dict(lanes=1, bits=11, signed=True, beats=10, dma_width=16),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    args = parser.parse_args()
    driver = load_driver()
    rng = np.random.default_rng(0)
    print(f"\n{args.frames} frames; frames/s (this machine)")
    print(f"{'stream':<12} {'driver pack':>12} {'Python pack':>12} {'ratio':>7} {'driver unpack':>14}")
    for name, stream in STREAMS.items():
        bits, lanes = stream["bits"], stream["lanes"]
        low, high = (-(1 << (bits - 1)), 1 << (bits - 1)) if stream["signed"] else (0, 1 << bits)
        values = rng.integers(low, high, (args.frames, stream["beats"] * lanes))
        data = driver.pack(values, stream)
        step = stream["dma_width"] // 8
        reference = b"".join(w.to_bytes(step, "little") for w in pack_words(values, lanes, bits))
        assert data.tobytes() == reference, f"{name}: the driver's bytes differ from flow/packing.py"
        assert np.array_equal(driver.unpack(data, stream, args.frames), values)
        fast = best_seconds(lambda: driver.pack(values, stream))
        slow = best_seconds(lambda: [w.to_bytes(step, "little") for w in pack_words(values, lanes, bits)], repeat=1)
        unpack = best_seconds(lambda: driver.unpack(data, stream, args.frames))
        print(f"{name:<12} {args.frames / fast:>12.0f} {args.frames / slow:>12.0f} {slow / fast:>6.0f}x "
              f"{args.frames / unpack:>14.0f}")


if __name__ == "__main__":
    main()
