"""Stitch the folded HW layers into one RTL design: cores, FIFOs, width converters, a generated top.

Every layer gets a FIFO at its input (after a width converter when its producer's beats are
narrower or wider). Writes ``<out>/rtl/``: the core modules used (copied from hw_templates/rtl),
one ``.mem`` file per layer memory, ``<top>.sv`` and ``design.json`` (the
stream of every link, which simulation and the driver read).
"""
import json
import math
import shutil
from pathlib import Path

from qonnx.custom_op.registry import getCustomOp

from flow.codegen.names import sanitize
from flow.codegen.render import render
from flow.graph import node_error
from flow.ops.hw import Stream
from flow.packing import write_memh
from models.errors import UserError

RTL_TEMPLATES = Path(__file__).resolve().parents[2] / "hw_templates" / "rtl"
#: nodes that do not change a stream inside the accelerator (NHWC flatten keeps the element order)
TRANSPARENT = ("Flatten", "Reshape")
#: FIFO depth between layers (beats); a power of two
DEFAULT_FIFO_DEPTH = 32


def accelerator_chain(model):
    """The HW layers from the first to the last, in stream order; errors on anything else in between."""
    nodes = list(model.graph.node)
    hw = [i for i, n in enumerate(nodes) if n.domain == "flow.ops"]
    if not hw:
        raise UserError("the graph has no HW layers; run the build through the to_hw step first")
    chain = []
    for node in nodes[hw[0]:hw[-1] + 1]:
        if node.domain == "flow.ops":
            if chain and model.find_producer(node.input[0]) not in (chain[-1][0], *_transparent_between(model, node)):
                raise node_error(node, "the HW layers must form a single chain")
            chain.append((node, getCustomOp(node)))
        elif node.op_type not in TRANSPARENT:
            raise node_error(node, "cannot sit between HW layers in the accelerator")
    return chain


def input_fifo_depth(op, node, minimum):
    """Depth of the FIFO in front of a layer: an MVAU reads its whole input vector during its first output
    fold, so it gets room for two vectors (and never stalls its producer for long); others ``minimum``."""
    stream = op.in_stream()
    if node.op_type == "MVAU":
        vector = stream.beats // op.pixels()
        return 2 ** math.ceil(math.log2(max(minimum, min(stream.beats, 2 * vector))))
    return minimum


def _transparent_between(model, node):
    producer = model.find_producer(node.input[0])
    return [producer] if producer is not None and producer.op_type in TRANSPARENT else []


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


def _bytes(bits):
    return 8 * math.ceil(bits / 8)


class Stitcher:
    """Accumulates wires and instances of the top while walking the chain."""

    def __init__(self, rtl_dir):
        self.rtl_dir, self.body, self.modules, self.used, self.links = rtl_dir, [], {"axis_fifo"}, set(), []

    def add(self, module, name, params, source, sink, width):
        self.body += _wires(sink, width) + _instance(module, name, params, source, sink)
        self.modules.add(module)

    def memories(self, inst, memories, params):
        for param, memory in memories.items():
            if memory is None:
                params[param] = ""
                continue
            words, width = memory
            filename = f"{inst}_{param.lower().replace('_file', '')}.mem"
            write_memh(self.rtl_dir / filename, words, width)
            params[param] = filename


def generate(model, out_dir, top="signflow_top", fifo_depth=DEFAULT_FIFO_DEPTH):
    """Write the stitched design into ``out_dir/rtl``; returns the design description (also design.json)."""
    rtl_dir = Path(out_dir) / "rtl"
    if rtl_dir.exists():
        shutil.rmtree(rtl_dir)
    rtl_dir.mkdir(parents=True)
    top = sanitize(top)
    chain = accelerator_chain(model)
    st = Stitcher(rtl_dir)
    st.used.add(top)
    first_in, last_out = chain[0][1].in_stream(), chain[-1][1].out_stream()
    in_width, out_width = _bytes(first_in.width), _bytes(last_out.width)
    st.body += _wires("in0", first_in.width)
    st.body += [f"  assign in0_tdata = s_axis_0_tdata[{first_in.width - 1}:0];",
                "  assign in0_tvalid = s_axis_0_tvalid;", "  assign s_axis_0_tready = in0_tready;", ""]
    source, previous = "in0", first_in
    for node, op in chain:
        inst = sanitize(node.name, st.used)
        stream_in, stream_out = op.in_stream(), op.out_stream()
        if stream_in.width != previous.width:  # regroup the same bits into the layer's beat width
            if stream_in.beats * stream_in.width != previous.beats * previous.width:
                raise node_error(node, f"its input frame ({stream_in.beats} x {stream_in.width} bits) differs "
                                 f"from its producer's output ({previous.beats} x {previous.width} bits)")
            conv = sanitize(f"{inst}_dwc", st.used)
            st.add("axis_width_converter", conv, dict(IN_WIDTH=previous.width, OUT_WIDTH=stream_in.width,
                                                      FRAME_BITS=previous.beats * previous.width),
                   source, conv, stream_in.width)
            source = conv
        fifo = sanitize(f"{inst}_fifo", st.used)
        st.add("axis_fifo", fifo, dict(WIDTH=stream_in.width, DEPTH=input_fifo_depth(op, node, fifo_depth)),
               source, fifo, stream_in.width)
        module, params, memories = op.rtl(model)
        st.memories(inst, memories, params)
        st.add(module, inst, params, fifo, inst, stream_out.width)
        st.links.append(dict(name=inst, node=node.name, op=node.op_type, tensor=node.output[0],
                             lanes=stream_out.lanes, bits=stream_out.bits, beats=stream_out.beats,
                             signed=stream_out.is_signed))
        source, previous = inst, stream_out
    out_fifo = sanitize("out_fifo", st.used)
    st.add("axis_fifo", out_fifo, dict(WIDTH=last_out.width, DEPTH=fifo_depth), source, out_fifo, last_out.width)
    source = out_fifo
    pad_out = out_width - last_out.width
    st.body += [f"  assign m_axis_0_tdata = {{{pad_out}'b0, {source}_tdata}};" if pad_out else
                f"  assign m_axis_0_tdata = {source}_tdata;",
                f"  assign m_axis_0_tvalid = {source}_tvalid;", f"  assign {source}_tready = m_axis_0_tready;"]
    text = render((RTL_TEMPLATES / "top.sv.template").read_text(), {
        "TOP": top, "IN_WIDTH": in_width, "OUT_WIDTH": out_width, "BODY": "\n".join(st.body),
        "IN_DESC": _describe(first_in), "OUT_DESC": _describe(last_out)})
    (rtl_dir / f"{top}.sv").write_text(text)
    sources = [path.name for module in sorted(st.modules) for path in module_files(module)]
    for name in sources:
        shutil.copy(RTL_TEMPLATES / name, rtl_dir / name)
    design = dict(top=top, input=dict(tensor=chain[0][0].input[0], **_stream(first_in), width=in_width),
                  output=dict(tensor=chain[-1][0].output[0], **_stream(last_out), width=out_width),
                  links=st.links, sources=sources + [f"{top}.sv"])
    (rtl_dir / "design.json").write_text(json.dumps(design, indent=2) + "\n")
    return design


def module_files(module):
    """A core and its submodules (files named ``<module>_*.sv``)."""
    return [RTL_TEMPLATES / f"{module}.sv"] + sorted(RTL_TEMPLATES.glob(f"{module}_*.sv"))


def _stream(stream):
    return dict(lanes=stream.lanes, bits=stream.bits, beats=stream.beats, signed=stream.is_signed)


def _describe(stream: Stream):
    return f"{stream.lanes} x {stream.bits}-bit elements per beat, {stream.beats} beats per frame (NHWC)"
