"""Per-layer and total estimates: cycles, FPS, latency, LUT / FF / BRAM (analytic, docs/estimates.md)."""
from signflow.folding import hw_ops
from signflow.ops.stream import STREAM_OPS


def estimate(model, cfg):
    """The ``estimate`` section of report.json."""
    layers = []
    for node, op in hw_ops(model):
        folding = op.folding()
        layers.append({"name": node.name, "op": node.op_type, "pe": folding.get("PE", 1),
                       "simd": folding.get("SIMD", 1), "cycles": int(op.expected_cycles()), **op.resources()})
    # a FIFO passes as many beats as its layer takes: on a tie the layer is named
    bottleneck = max(layers, key=lambda layer: (layer["cycles"], layer["op"] not in STREAM_OPS))
    return {
        "clock_ns": cfg.clock_ns,
        "bottleneck_layer": bottleneck["name"],
        "bottleneck_cycles": bottleneck["cycles"],
        "fps": round(1e9 / (cfg.clock_ns * bottleneck["cycles"]), 2),
        # upper bound: each layer finishes a whole frame before the next starts
        "latency_cycles": sum(layer["cycles"] for layer in layers),
        "luts": sum(layer["luts"] for layer in layers),
        "ffs": sum(layer["ffs"] for layer in layers),
        "brams18": sum(layer["brams18"] for layer in layers),
        "layers": layers,
    }


def estimate_table(est):
    """The estimate as aligned text."""
    head = f"{'layer':<40} {'op':<17} {'PE':>4} {'SIMD':>4} {'cycles':>9} {'LUT':>7} {'FF':>7} {'BRAM18':>6}"
    rows = [head, "-" * len(head)]
    for layer in est["layers"]:
        rows.append(f"{layer['name'][:40]:<40} {layer['op']:<17} {layer['pe']:>4} {layer['simd']:>4} "
                    f"{layer['cycles']:>9} {layer['luts']:>7} {layer['ffs']:>7} {layer['brams18']:>6}")
    rows.append("-" * len(head))
    rows.append(f"{'total':<40} {'':<17} {'':>4} {'':>4} {est['bottleneck_cycles']:>9} {est['luts']:>7} "
                f"{est['ffs']:>7} {est['brams18']:>6}")
    rows.append(f"bottleneck {est['bottleneck_layer']}: {est['bottleneck_cycles']} cycles/frame -> "
                f"{est['fps']:.1f} FPS at {1000 / est['clock_ns']:g} MHz; latency <= {est['latency_cycles']} cycles")
    return "\n".join(rows)
