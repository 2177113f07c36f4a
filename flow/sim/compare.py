"""Bit-exact comparison of two graphs of the same network.

Layer outputs keep the tensor names of the exported activations through every
step, so when the final outputs differ the first layer whose output differs
can be named. Tensors are compared after undoing the layout (NHWC -> NCHW) and
encoding (bits 0/1 -> bipolar -1/+1) changes the flow makes.
"""
import numpy as np

from signflow.errors import UserError
from signflow.graph import node_label
from signflow.sim.reference import run_graph


def _normalize(value, like):
    """``value`` brought to the layout and encoding of ``like``, or None when they cannot match."""
    if value.shape != like.shape and value.ndim == 4 and np.moveaxis(value, -1, 1).shape == like.shape:
        value = np.moveaxis(value, -1, 1)
    if value.shape != like.shape:
        return None
    if np.all((value == 0) | (value == 1)) and np.all(np.abs(like) == 1):
        value = 2 * value - 1
    return value


def first_difference(reference, candidate, x):
    """Name of the first tensor of ``candidate`` that differs from ``reference`` on ``x``, or None."""
    ref = run_graph(reference, x, full=True)
    got = run_graph(candidate, x, full=True)
    for node in candidate.graph.node:
        for name in node.output:
            # layer outputs are the binary activations; other tensors may be rescaled on purpose
            if name in ref and name in got and np.all(np.abs(ref[name]) == 1):
                value = _normalize(got[name], ref[name])
                if value is not None and not np.array_equal(value, ref[name]):
                    return f"{node_label(node)} ({node.op_type}), tensor '{name}'"
    return None


def check_equal(reference, candidate, x, step, expected=None):
    """Raise when ``candidate`` and ``reference`` outputs differ on ``x``; name the first differing layer.
    ``expected``: the reference's outputs on ``x`` when already known."""
    expected = run_graph(reference, x) if expected is None else expected
    got = run_graph(candidate, x)
    if got.shape[-1] == 1 and expected.shape[-1] > 1:  # a label select: compare with the scores' argmax
        expected = np.argmax(expected, axis=-1).reshape(got.shape).astype(got.dtype)
    if np.array_equal(expected.reshape(got.shape) if expected.size == got.size else expected, got):
        return
    where = first_difference(reference, candidate, x) or "the final output"
    raise UserError(f"step '{step}' changed the network's output: first difference at {where}")
