"""The stitched design (flow/codegen/chain.py) as SystemVerilog.

Writes ``<out>/rtl/``: the core modules used (copied from hw_templates/rtl), one ``.mem`` file per
layer memory, ``<top>.sv`` and ``design.json`` (the stream of every link, which simulation and the
driver read).
"""
import json
import re
import shutil
from pathlib import Path

from signflow.codegen.chain import padded_width, plan
from signflow.codegen.render import render
from signflow.ops.hw import Stream
from signflow.packing import write_memh
from signflow.templates import template_path

RTL_TEMPLATES = template_path("rtl")


def _value(value):
    return f'"{value}"' if isinstance(value, str) else str(int(value))


def _instance(module, name, params, source, sink):
    lines = [f"  {module} #("]
    lines += [f"      .{key}({_value(value)})," for key, value in params.items()]
    lines[-1] = lines[-1].rstrip(",")
    lines += [f"  ) {name} (", "      .ap_clk(ap_clk),", "      .ap_rst_n(ap_rst_n),"]
    for side, bundle in (("s_axis", source), ("m_axis", sink)):
        lines += [f"      .{side}_{sig}({bundle}_{sig})," for sig in ("tdata", "tvalid", "tready")]
    lines[-1] = lines[-1].rstrip(",")
    return lines + ["  );", ""]


def _wires(name, width):
    return [f"  logic [{width - 1}:0] {name}_tdata /*verilator public_flat_rd*/;",
            f"  logic {name}_tvalid /*verilator public_flat_rd*/;",
            f"  logic {name}_tready /*verilator public_flat_rd*/;"]


def _memory_files(rtl_dir, stage):
    """Write the stage's memories as ``$readmemh`` files; returns the file parameters (empty when unused)."""
    params = {}
    for param, memory in stage.memories.items():
        if not memory.used:
            params[param] = ""
            continue
        filename = f"{stage.name}_{param.lower().replace('_file', '')}.mem"
        write_memh(rtl_dir / filename, memory.words, memory.width)
        params[param] = filename
    return params


def generate(model, out_dir, top="signflow_top"):
    """Write the stitched design into ``out_dir/rtl``; returns the design description (also design.json)."""
    rtl_dir = Path(out_dir) / "rtl"
    if rtl_dir.exists():
        shutil.rmtree(rtl_dir)
    rtl_dir.mkdir(parents=True)
    chain = plan(model, top)
    in_width, out_width = padded_width(chain.input.width), padded_width(chain.output.width)
    body = _wires("in0", chain.input.width)
    body += [f"  assign in0_tdata = s_axis_0_tdata[{chain.input.width - 1}:0];",
             "  assign in0_tvalid = s_axis_0_tvalid;", "  assign s_axis_0_tready = in0_tready;", ""]
    source, instances = "in0", []
    for stage in chain.stages:
        params = {**stage.params, **_memory_files(rtl_dir, stage)}
        body += _wires(stage.name, stage.out_width) + _instance(stage.module, stage.name, params, source, stage.name)
        instances.append(dict(name=stage.name, module=stage.module, params=params, in_width=stage.in_width,
                              out_width=stage.out_width))
        source = stage.name
    pad_out = out_width - chain.output.width
    body += [f"  assign m_axis_0_tdata = {{{pad_out}'b0, {source}_tdata}};" if pad_out else
             f"  assign m_axis_0_tdata = {source}_tdata;",
             f"  assign m_axis_0_tvalid = {source}_tvalid;", f"  assign {source}_tready = m_axis_0_tready;"]
    text = render((RTL_TEMPLATES / "top.sv.template").read_text(), {
        "TOP": chain.top, "IN_WIDTH": in_width, "OUT_WIDTH": out_width, "BODY": "\n".join(body),
        "IN_DESC": describe(chain.input), "OUT_DESC": describe(chain.output)})
    (rtl_dir / f"{chain.top}.sv").write_text(text)
    modules = sorted({stage.module for stage in chain.stages})
    sources = list(dict.fromkeys(path.name for module in modules for path in module_files(module)))
    for name in sources:
        shutil.copy(RTL_TEMPLATES / name, rtl_dir / name)
    design = {**chain.design(sources + [f"{chain.top}.sv"]), "instances": instances}
    (rtl_dir / "design.json").write_text(json.dumps(design, indent=2) + "\n")
    return design


#: a core's ports: name, output?, and its width (a data bus: the instance's ``in_width`` / ``out_width``)
CORE_PORTS = [("ap_clk", False, None), ("ap_rst_n", False, None), ("s_axis_tdata", False, "in_width"),
              ("s_axis_tvalid", False, None), ("s_axis_tready", True, None), ("m_axis_tdata", True, "out_width"),
              ("m_axis_tvalid", True, None), ("m_axis_tready", False, None)]


def core_port_declarations(instance, prefix=""):
    """The declarations of a design.json instance's ports (named ``prefix + port``), without separators."""
    return [f"    {'output logic' if output else 'input  wire logic'} "
            f"[{(instance[width] if width else 1) - 1}:0] {prefix}{name}" for name, output, width in CORE_PORTS]


def instance_top(instance, top):
    """A module ``top`` holding nothing but one instance of design.json (its ports those of the instance):
    what synthesizes one core of the stitched design on its own."""
    body = _instance(instance["module"], instance["name"], instance["params"], "s_axis", "m_axis")
    return "\n".join(["`default_nettype none", f"module {top} (", ",\n".join(core_port_declarations(instance)),
                      ");", *body, "endmodule", "`default_nettype wire", ""])


def instantiated_modules(path):
    """The modules of hw_templates/rtl that the SystemVerilog file ``path`` instantiates (found by name)."""
    text = Path(path).read_text()
    return [path.stem for path in sorted(RTL_TEMPLATES.glob("*.sv"))
            if re.search(rf"^\s*{path.stem}\s+#?\(", text, re.M)]


def module_files(module):
    """A core and every module it instantiates, in hw_templates/rtl (each file holds one module)."""
    files, todo = [], [module]
    while todo:
        path = RTL_TEMPLATES / f"{todo.pop(0)}.sv"
        if path not in files:
            files.append(path)
            todo += [name for name in instantiated_modules(path) if name != path.stem]
    return files


def describe(stream: Stream):
    return f"{stream.lanes} x {stream.bits}-bit elements per beat, {stream.beats} beats per frame (NHWC)"
