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


@pytest.mark.parametrize("n, expected", [
    (1, [1]),
    (2, [1, 2]),
    (7, [1, 7]),  # a prime
    (12, [1, 2, 3, 4, 6, 12]),
    (27, [1, 3, 9, 27]),
    (36, [1, 2, 3, 4, 6, 9, 12, 18, 36]),  # a square: 6 once
    (64, [1, 2, 4, 8, 16, 32, 64]),
    (576, [1, 2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 32, 36, 48, 64, 72, 96, 144, 192, 288, 576]),  # 2^6 * 3^2
    (8191, [1, 8191]),  # a large prime (2^13 - 1)
    (10000, [1, 2, 4, 5, 8, 10, 16, 20, 25, 40, 50, 80, 100, 125, 200, 250, 400, 500, 625, 1000, 1250, 2000,
             2500, 5000, 10000]),  # 2^4 * 5^4: 25 divisors
])
def test_divisors(n, expected):
    got = divisors(n)
    assert got == expected
    # ascending without repeats, from 1 to n, each a divisor, closed under d -> n / d
    assert got == sorted(set(got)) and got[0] == 1 and got[-1] == n
    assert all(n % d == 0 for d in got)
    assert [n // d for d in reversed(got)] == got
