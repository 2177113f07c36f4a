"""The memory model of the resource estimates (LUTRAM vs BRAM18), and divisors."""
import pytest

from signflow.ops.hw import divisors, memory_cost


@pytest.mark.parametrize("depth, width, luts", [
    (64, 8, 8),        # one LUT6 (64 x 1) per bit of width
    (65, 8, 16),       # two LUTs deep
    (100, 40, 80),     # 4000 bits <= 4096
    (128, 32, 64),     # exactly 4096 bits
    (100, 64, 128),    # 6400 bits but shallower than 128: still LUTRAM
    (2048, 1, 32),     # 2048 bits, deep and narrow
])
def test_small_memories_use_luts(depth, width, luts):
    assert memory_cost(depth, width) == (luts, 0)


@pytest.mark.parametrize("depth, width, brams", [
    (1024, 36, 2),     # 512x36: 2 x 1; 1024x18: 1 x 2
    (512, 72, 2),      # 512x36: 1 x 2
    (129, 32, 1),      # 4128 bits, one 512x36
    (128, 36, 1),      # 4608 bits at the depth limit
    (4096, 4, 1),      # 4096x4 aspect
    (1000, 20, 2),     # 512x36: 2 x 1; 1024x18: 1 x 2; 2048x9: 1 x 3
    (3000, 5, 2),      # 4096x4: 1 x 2; 2048x9: 2 x 1; 1024x18: 3 x 1
    (20000, 1, 2),     # 16384x1: 2 x 1
])
def test_large_memories_use_bram18(depth, width, brams):
    assert memory_cost(depth, width) == (0, brams)


@pytest.mark.parametrize("depth, width", [(0, 16), (16, 0), (0, 0)])
def test_empty_memory(depth, width):
    assert memory_cost(depth, width) == (0, 0)


@pytest.mark.parametrize("n", [1, 2, 7, 12, 27, 64, 576])
def test_divisors(n):
    assert divisors(n) == [d for d in range(1, n + 1) if n % d == 0]
