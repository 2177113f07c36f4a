"""flow/transforms/thresholds.py: spatial periods of per-pixel constants, the exact threshold fold of a float chain,
and the predicate -> (direction, threshold) rule, on hand-computed cases."""
import numpy as np
import pytest

from signflow.transforms.thresholds import (
    MAX_PERIOD,
    chain_period,
    chain_values,
    fold_chain,
    spatial_period,
    thresholds_from_predicate,
)
from tests.flow.transforms.builders import Graph, refusal


def tiled(kernel, height, width, channels=1):
    """``kernel[h mod kh, w mod kw]`` over a ``[1, C, H, W]`` map, channel ``c`` offset by ``10 c``."""
    kernel = np.asarray(kernel, dtype=np.float32)
    kh, kw = kernel.shape
    plane = kernel[np.arange(height)[:, None] % kh, np.arange(width)[None, :] % kw]
    return np.stack([plane + 10 * c for c in range(channels)])[None].astype(np.float32)


@pytest.mark.parametrize("kernel, size, period", [
    ([[1, 2], [3, 4]], (6, 6), (2, 2)),
    ([[1, 2], [3, 4]], (5, 7), (2, 2)),          # odd maps: the last row and column are a partial period
    ([[1, 2, 3], [4, 5, 6]], (4, 9), (2, 3)),
    ([[1, 2], [1, 2]], (4, 4), (1, 2)),          # equal rows: the smallest period is 1 high
    ([[7]], (3, 5), (1, 1)),
])
def test_spatial_period_of_tiled_kernels(kernel, size, period):
    assert spatial_period(tiled(kernel, *size, channels=3)) == period


def test_spatial_period_edge_cases():
    rng = np.random.default_rng(0)
    # random 5x5: only the whole map repeats (every size up to MAX_PERIOD is its own period)
    assert spatial_period(rng.normal(size=(1, 2, 5, 5))) == (5, 5)
    # larger than MAX_PERIOD and not periodic: none
    assert spatial_period(rng.normal(size=(1, 1, MAX_PERIOD + 1, 4))) is None
    # periodic in one channel only: the period must hold for all channels
    values = tiled([[1, 2], [3, 4]], 4, 4, channels=2)
    values[0, 1] = rng.normal(size=(4, 4))
    assert spatial_period(values) == (4, 4)


def _chain(*constants, shape=(1, 2, 6, 6)):
    g = Graph(list(shape))
    tensor = g.input
    for k, (op, value) in enumerate(constants):
        tensor = g.node(op, [tensor, np.asarray(value, dtype=np.float32)], name=f"{op}{k}")
    model = g.model(tensor)
    return model, list(model.graph.node)


def test_chain_period_is_the_lcm_of_the_constants():
    model, chain = _chain(("Mul", np.ones((1, 2, 1, 1))), ("Sub", tiled([[1, 2], [3, 4]], 6, 6, 2)),
                          ("Add", tiled([[1], [2], [3]], 6, 6, 2)))
    assert chain_period(model, chain) == (6, 2)
    model, chain = _chain(("Mul", np.ones((1, 2, 1, 1))), ("Add", np.float32(3)))
    assert chain_period(model, chain) == (1, 1)


def test_chain_period_refuses_a_constant_that_is_not_periodic():
    rng = np.random.default_rng(1)
    model, chain = _chain(("Sub", rng.normal(size=(1, 2, 17, 17))), shape=(1, 2, 17, 17))
    assert refusal(chain_period, model, chain) == (
        "node 'Sub0' (Sub): its per-pixel constant [1, 2, 17, 17] is not periodic with a period up to 16x16; "
        "only spatially periodic (DeSign) offsets fold into thresholds")


def test_thresholds_from_predicate_hand_computed():
    acc = np.arange(-3, 4)
    passed = np.stack([
        acc >= 1,              # rising: a >= 1
        acc <= -2,             # falling: a <= -2, i.e. -a >= 2
        np.zeros(7, bool),     # never: a >= 4 (above the range)
        np.ones(7, bool),      # always: a >= -3 (the lowest value)
    ], axis=1)[:, :, None]
    direction, thr = thresholds_from_predicate(passed, acc, "here")
    assert direction.tolist() == [1, -1, 1, 1]
    assert thr.tolist() == [[1], [2], [4], [-3]]
    assert thr.dtype == np.float32
    # the rule reproduces the predicate: direction * a >= thr
    np.testing.assert_array_equal(direction[None, :] * acc[:, None] >= thr[None, :, 0], passed[:, :, 0])


def test_thresholds_from_predicate_per_phase():
    acc = np.arange(-2, 3)
    passed = np.stack([acc >= 0, acc >= 2], axis=1)[:, None, :]  # one channel, two phases
    direction, thr = thresholds_from_predicate(passed, acc, "here")
    assert direction.tolist() == [1] and thr.tolist() == [[0, 2]]


def test_thresholds_from_predicate_refuses_a_non_monotone_channel():
    acc = np.arange(-2, 3)
    passed = np.stack([acc >= 0, np.abs(acc) >= 1], axis=1)[:, :, None]
    assert refusal(thresholds_from_predicate, passed, acc, "node 'act'") == (
        "node 'act': channel 1 is not monotone in the accumulator; it cannot become a threshold")


def test_fold_chain_hand_computed():
    """``sign(m * a + b)`` per channel for |a| <= 5; a chain value of exactly 0 passes (sign(0) = +1)."""
    m = np.array([2.0, -0.5, 0.0, 0.0], dtype=np.float32).reshape(1, 4, 1, 1)
    b = np.array([-4.0, 1.0, 1.0, -1.0], dtype=np.float32).reshape(1, 4, 1, 1)
    model, chain = _chain(("Mul", m), ("Add", b), shape=(1, 4, 3, 3))
    direction, thr, period = fold_chain(model, chain, 5, 4, True, "node 'act'")
    assert period == (1, 1)
    # 2a - 4 >= 0 <=> a >= 2; -a/2 + 1 >= 0 <=> a <= 2 <=> -a >= -2; 1 >= 0 always (lowest value -5);
    # -1 >= 0 never (above the range, 6)
    assert direction.tolist() == [1, -1, 1, 1]
    assert thr[:, 0].tolist() == [2, -2, -5, 6]


def test_fold_chain_per_pixel_offset_on_an_odd_map():
    """A DeSign offset tiled from a 2x2 kernel over a 5x5 map folds to four thresholds per channel."""
    offset = tiled([[0.5, 1.5], [-0.5, 2.0]], 5, 5, channels=2)  # channel 1: +10
    model, chain = _chain(("Sub", offset), shape=(1, 2, 5, 5))
    direction, thr, period = fold_chain(model, chain, 20, 2, True, "node 'act'")
    assert period == (2, 2) and direction.tolist() == [1, 1]
    # a - t >= 0 <=> a >= ceil(t)
    assert thr.tolist() == [[1, 2, 0, 2], [11, 12, 10, 12]]
    # non-spatial (a fully connected layer): the constants are not sliced and there is one phase
    fc_model, fc_chain = _chain(("Mul", np.array([[1.0, -1.0]], dtype=np.float32)), ("Add", np.float32(0.5)),
                                shape=(1, 2))
    direction, thr, period = fold_chain(fc_model, fc_chain, 3, 2, False, "node 'act'")
    assert period == (1, 1) and direction.tolist() == [1, -1] and thr.tolist() == [[0], [0]]


def test_fold_chain_reproduces_float_rounding():
    """Thresholds come from running the chain, so a boundary that float32 rounding moves is where the graph
    puts it: ``0.1 * a - 0.3`` is >= 0 at a = 3 only if float32 says so."""
    model, chain = _chain(("Mul", np.float32(0.1)), ("Sub", np.float32(0.3)), shape=(1, 1, 2, 2))
    direction, thr, _ = fold_chain(model, chain, 10, 1, True, "node 'act'")
    acc = np.arange(-10, 11, dtype=np.float32)
    expected = acc * np.float32(0.1) - np.float32(0.3) >= 0
    np.testing.assert_array_equal(acc >= thr[0, 0], expected)
    assert direction.tolist() == [1]


def test_chain_values_without_a_chain_is_the_accumulator():
    model, _ = _chain(("Mul", np.float32(1)), shape=(1, 3, 2, 2))
    values = chain_values(model, [], np.arange(-2, 3), 3, (2, 1), True)
    assert values.shape == (5, 3, 2)
    np.testing.assert_array_equal(values, np.broadcast_to(np.arange(-2, 3)[:, None, None], (5, 3, 2)))
