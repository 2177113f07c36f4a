"""Folding: PE / SIMD per HW layer so the slowest layer meets the target FPS with the fewest LUTs."""
import json

from qonnx.custom_op.registry import getCustomOp

from signflow.boards import get_board
from signflow.errors import UserError
from signflow.ops.base import DOMAIN


def hw_ops(model):
    """``(node, op)`` for every HW-layer node, in graph order."""
    return [(n, getCustomOp(n)) for n in model.graph.node if n.domain == DOMAIN]


def set_folding(op, folding):
    for key, value in folding.items():
        op.set_nodeattr(key, int(value))


def target_cycles(cfg):
    """Cycles per frame allowed by the target FPS at the clock (None without a target)."""
    if cfg.target_fps is None:
        return None
    return int(1e9 / (cfg.clock_ns * cfg.target_fps))


def _cheapest(op, limit):
    """The folding with the fewest LUTs (then BRAMs) within ``limit`` cycles, or the fastest one."""
    scored = []
    for option in op.folding_options():
        set_folding(op, option)
        res = op.resources()
        scored.append((op.expected_cycles(), res["luts"], res["brams18"], option))
    fitting = [s for s in scored if limit is None or s[0] <= limit]
    if fitting:
        return min(fitting, key=lambda s: (s[1], s[2], s[0]))[3]
    return min(scored, key=lambda s: (s[0], s[1]))[3]


def search_folding(model, cfg):
    """Choose every layer's folding for ``cfg.target_fps``; errors name the bottleneck (the fold step checks the
    budget once the FIFOs and width converters are in)."""
    limit = target_cycles(cfg)
    ops = hw_ops(model)
    for node, op in ops:
        if node.op_type != "SlidingWindow":  # windows follow their MVAU
            set_folding(op, _cheapest(op, limit))
    _match_window_simd(model)
    if limit is not None:
        node, op = max(ops, key=lambda no: no[1].expected_cycles())
        if op.expected_cycles() > limit:
            best = 1e9 / (cfg.clock_ns * op.expected_cycles())
            raise UserError(f"target {cfg.target_fps:g} FPS is not reachable at {1000 / cfg.clock_ns:g} MHz: "
                            f"the most parallel folding reaches {best:.0f} FPS (bottleneck '{node.name}'); "
                            "lower --target-fps or raise the clock")


def _match_window_simd(model):
    """A sliding window emits as many channels per cycle as its MVAU consumes."""
    for node, op in hw_ops(model):
        if node.op_type != "SlidingWindow":
            continue
        consumer = model.find_consumers(node.output[0])[0]
        simd = getCustomOp(consumer).get_nodeattr("SIMD") if consumer.op_type == "MVAU" else 1
        op.set_nodeattr("SIMD", simd)


def check_budget(model, cfg):
    board = get_board(cfg.board)
    luts = sum(op.resources()["luts"] for _, op in hw_ops(model))
    brams = sum(op.resources()["brams18"] for _, op in hw_ops(model))
    lut_cap, bram_cap = cfg.resource_budget * board.luts, cfg.resource_budget * board.brams18
    if luts > lut_cap or brams > bram_cap:
        raise UserError(f"this folding needs about {luts} LUTs and {brams} BRAM18, over the {cfg.board} budget "
                        f"({int(lut_cap)} LUTs, {int(bram_cap)} BRAM18 at {cfg.resource_budget:.0%}); "
                        "lower --target-fps or choose a larger board")


def folding_doc(model):
    """``{layer: {"PE": .., "SIMD": ..}}`` as written to folding.json."""
    return {node.name: op.folding() for node, op in hw_ops(model) if op.folding()}


def apply_folding_file(model, path):
    """Apply a folding file; every layer must exist and every value must be a legal folding."""
    try:
        doc = json.loads(open(path).read())
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read folding file {path}: {err}")
    if not isinstance(doc, dict):
        raise UserError(f"folding file {path} must map layer names to {{\"PE\": .., \"SIMD\": ..}}")
    ops = {node.name: op for node, op in hw_ops(model)}
    for name, folding in doc.items():
        if name not in ops:
            raise UserError(f"folding file {path} does not match the graph: no HW layer '{name}' "
                            f"(layers: {', '.join(sorted(n for n in ops if ops[n].folding()))})")
        if not isinstance(folding, dict) or folding not in ops[name].folding_options():
            legal = ", ".join(json.dumps(o) for o in ops[name].folding_options()[:6])
            raise UserError(f"folding file {path}: {json.dumps(folding)} is not a legal folding of '{name}' "
                            f"(each value must divide its dimension; e.g. {legal} ...)")
        set_folding(ops[name], folding)
    missing = [n for n, op in ops.items() if op.folding() and n not in doc]
    if missing:
        raise UserError(f"folding file {path} does not match the graph: layers {missing} are missing")
