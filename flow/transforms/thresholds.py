"""Exact integer thresholds for a float chain between an accumulator and a sign.

``sign(f(a))`` for an integer accumulator ``a`` and a chain ``f`` of constant
elementwise ops (BatchNorm, Mul, Add, Sub, Div) is ``a >= theta`` where ``f``
rises and ``a <= theta`` where it falls. Instead of deriving ``theta`` from
formulas (float rounding could flip a boundary value), the chain is run with
onnxruntime on every accumulator value, so the thresholds reproduce the float
graph exactly.
"""
import numpy as np

from signflow.errors import UserError
from signflow.graph import node_label, run_nodes

#: largest spatial period searched for in per-pixel constants
MAX_PERIOD = 16
#: evaluate at most this many chain values per onnxruntime call
CHUNK = 1 << 24


def spatial_period(values):
    """Smallest ``(kh, kw)`` with ``values[..., h, w] == values[..., h % kh, w % kw]``, or None."""
    height, width = values.shape[-2:]

    def period(axis, size):
        for p in range(1, min(size, MAX_PERIOD) + 1):
            idx = np.arange(size) % p
            if np.array_equal(values, np.take(values, idx, axis=axis)):
                return p
        return None

    kh, kw = period(values.ndim - 2, height), period(values.ndim - 1, width)
    return None if kh is None or kw is None else (kh, kw)


def chain_period(model, chain):
    """Common spatial period of the per-pixel constants in ``chain`` (``(1, 1)`` if none)."""
    kh, kw = 1, 1
    for node in chain:
        for name in node.input[1:]:
            value = model.get_initializer(name)
            if value is None or value.ndim < 3 or value.shape[-2:] == (1, 1):
                continue
            found = spatial_period(value)
            if found is None:
                raise UserError(
                    f"{node_label(node)} ({node.op_type}): its per-pixel constant {list(value.shape)} is not "
                    f"periodic with a period up to {MAX_PERIOD}x{MAX_PERIOD}; only spatially periodic "
                    "(DeSign) offsets fold into thresholds")
            kh, kw = np.lcm(kh, found[0]), np.lcm(kw, found[1])
    return int(kh), int(kw)


def sliced_constants(model, chain, period):
    """Per-pixel constants of ``chain`` cut to one period ``[..., kh, kw]``."""
    kh, kw = period
    out = {}
    for node in chain:
        for name in node.input[1:]:
            value = model.get_initializer(name)
            if value is not None and value.ndim >= 3 and value.shape[-2:] != (1, 1):
                out[name] = np.ascontiguousarray(value[..., :kh, :kw])
    return out


def chain_values(model, chain, acc_values, channels, period, spatial, extra=None):
    """``f(a)`` for every accumulator value: array ``[R, C, kh*kw]``."""
    kh, kw = period
    overrides = sliced_constants(model, chain, period) if spatial else {}
    overrides.update(extra or {})
    rows = []
    step = max(1, CHUNK // max(1, channels * kh * kw))
    for start in range(0, len(acc_values), step):
        part = acc_values[start:start + step].astype(np.float32)
        if spatial:
            feed = np.broadcast_to(part[:, None, None, None], (len(part), channels, kh, kw))
        else:
            feed = np.broadcast_to(part[:, None], (len(part), channels))
        if chain:
            out = run_nodes(model, chain, {chain[0].input[0]: np.ascontiguousarray(feed)}, chain[-1].output[0],
                            overrides)
        else:  # a sign right after the layer (or its pool)
            out = feed
        rows.append(out.reshape(len(part), channels, kh * kw))
    return np.concatenate(rows)


def thresholds_from_predicate(passed, acc_values, where):
    """Per-channel direction and thresholds from ``passed[R, C, P]`` (sign test at each value).

    Returns ``(direction[C], thr[C, P])`` meaning ``direction * a >= thr``:
    ``+1`` where the chain rises (``a >= thr``), ``-1`` where it falls
    (``-a >= thr``, i.e. ``a <= -thr``).
    """
    lo, hi = int(acc_values[0]), int(acc_values[-1])
    rising = np.all(passed[1:] >= passed[:-1], axis=(0, 2))
    falling = np.all(passed[1:] <= passed[:-1], axis=(0, 2))
    if not np.all(rising | falling):
        bad = int(np.argmin(rising | falling))
        raise UserError(f"{where}: channel {bad} is not monotone in the accumulator; it cannot become a threshold")
    direction = np.where(rising, 1, -1).astype(np.int64)
    count = passed.sum(axis=0)  # C, P: how many accumulator values pass
    # rising: passes for the top `count` values -> thr = hi - count + 1 (hi + 1 = never)
    # falling: passes for the bottom `count` values, a <= lo + count - 1 -> -a >= -(lo + count - 1)
    thr_rise = hi - count + 1
    thr_fall = -(lo + count - 1)
    thr = np.where(direction[:, None] > 0, thr_rise, thr_fall)
    return direction, thr.astype(np.float32)


def fold_chain(model, chain, acc_bound, channels, spatial, where):
    """Thresholds ``(direction[C], thr[C, P], period)`` of ``sign(chain(acc))`` with ``|acc| <= acc_bound``."""
    period = chain_period(model, chain) if spatial else (1, 1)
    acc_values = np.arange(-acc_bound, acc_bound + 1, dtype=np.int64)
    passed = chain_values(model, chain, acc_values, channels, period, spatial) >= 0
    direction, thr = thresholds_from_predicate(passed, acc_values, where)
    return direction, thr, period
