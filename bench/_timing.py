"""Timing shared by the benchmark scripts."""
import time


def best_seconds(fn, repeat=3):
    """The shortest wall time of ``repeat`` calls of ``fn()``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
