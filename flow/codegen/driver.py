"""The board package's driver side: ``deploy/signflow_driver.py`` (from hw_templates/driver) and ``io.json``.

``io.json`` holds what the driver needs besides the bitstream: the DMA streams (vivado/design.json), the
shapes, and the graph's host-side nodes before and after the accelerator (input scaling, quantization,
layout; output scale) as plain data, so the board runs them with numpy alone.
"""
import importlib.util
import json
import shutil
from pathlib import Path

import onnx
from qonnx.custom_op.registry import getCustomOp

from signflow.errors import UserError
from signflow.graph import load_graph, node_label
from signflow.templates import template_path

DRIVER = template_path("driver", "signflow_driver.py")
#: the host-side node types the driver runs (hw_templates/driver/signflow_driver.py HOST_OPS)
ELEMENTWISE = ("Mul", "Div", "Add", "Sub")


def load_driver(path=DRIVER):
    """The driver file as a module (for the tests and bench/driver.py; on the board it is imported as usual)."""
    spec = importlib.util.spec_from_file_location("signflow_driver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _const(model, name):
    value = model.get_initializer(name)
    if value is None:
        raise UserError(f"the driver needs constant operands around the accelerator; '{name}' is computed")
    return value.tolist()


def host_op(model, node):
    """One host-side node as driver data; refuses what the driver cannot run."""
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type in ELEMENTWISE:
        consts = [i for i in node.input if model.get_initializer(i) is not None]
        if len(consts) != 1 or node.input[0] in consts:
            raise UserError(f"{node_label(node)} ({node.op_type}) outside the accelerator needs a constant "
                            "second operand for the driver to run it")
        return {"op": node.op_type, "value": _const(model, consts[0])}
    if node.op_type == "Quant":
        op = getCustomOp(node)
        mode = op.get_nodeattr("rounding_mode")
        if mode not in ("ROUND", "FLOOR", "CEIL", "ROUND_TO_ZERO"):
            raise UserError(f"{node_label(node)}: the driver does not round in mode {mode}")
        return {"op": "Quant", "scale": _const(model, node.input[1]), "zeropt": _const(model, node.input[2]),
                "bitwidth": _const(model, node.input[3]), "signed": bool(op.get_nodeattr("signed")),
                "narrow": bool(op.get_nodeattr("narrow")), "rounding_mode": mode}
    if node.op_type == "BipolarQuant":
        return {"op": "BipolarQuant", "scale": _const(model, node.input[1])}
    if node.op_type == "Transpose":
        return {"op": "Transpose", "perm": list(attrs["perm"])}
    if node.op_type == "Reshape":
        return {"op": "Reshape", "shape": _const(model, node.input[1])}
    if node.op_type == "Flatten" and attrs.get("axis", 1) == 1:
        return {"op": "Flatten"}
    raise UserError(f"{node_label(node)} ({node.op_type}) lies outside the accelerator and the driver cannot run "
                    f"it; the driver runs {', '.join(ELEMENTWISE)}, Quant, BipolarQuant, Transpose, Reshape and Flatten")


def host_chain(model, start, stop):
    """The nodes leading from tensor ``start`` to tensor ``stop`` (a plain chain), in order."""
    nodes, tensor = [], start
    while tensor != stop:
        consumers = model.find_consumers(tensor) or []
        if len(consumers) != 1:
            raise UserError(f"tensor '{tensor}' outside the accelerator feeds {len(consumers)} nodes; the driver "
                            "needs a plain chain of nodes before and after the accelerator")
        nodes.append(consumers[0])
        tensor = consumers[0].output[0]
    return nodes


def stream_io(model, design):
    """The streams of ``design`` (a design.json: input / output tensors and widths), the graph's shapes and the
    host operations before and after the accelerator: what a driver needs besides the bitstream."""
    graph_in, graph_out = model.graph.input[0].name, model.graph.output[0].name
    pre = host_chain(model, graph_in, design["input"]["tensor"])
    post = host_chain(model, design["output"]["tensor"], graph_out)
    return {"input": design["input"], "output": design["output"], "input_shape": model.get_tensor_shape(graph_in),
            "output_shape": model.get_tensor_shape(design["output"]["tensor"]),
            "pre": [host_op(model, node) for node in pre], "post": [host_op(model, node) for node in post]}


def generate(model, out_dir):
    """Write ``out_dir/deploy/signflow_driver.py`` and ``io.json``; returns the io description."""
    model = load_graph(model)
    out_dir = Path(out_dir)
    vivado = out_dir / "vivado" / "design.json"
    if not vivado.is_file():
        raise UserError(f"no {vivado}: run the vivado_project step first")
    design = json.loads(vivado.read_text())
    io = {"bitfile": Path(design["bitstream"]).name, **stream_io(model, design)}
    deploy = out_dir / "deploy"
    deploy.mkdir(exist_ok=True)
    shutil.copy(DRIVER, deploy / DRIVER.name)
    (deploy / "io.json").write_text(json.dumps(io, indent=1) + "\n")
    return io
