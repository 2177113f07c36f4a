"""Synthesis estimate with Yosys ``synth_xilinx``: LUT / FF / BRAM / DSP per layer and for the whole top,
side by side with the analytic estimate."""
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from signflow.codegen.rtl import instantiated_modules
from signflow.errors import UserError

#: LUTs a distributed-RAM / shift-register primitive occupies
LUTRAM_LUTS = {"RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM64X1S": 1,
               "RAM128X1S": 2, "RAM256X1S": 4, "RAM32X1S": 1, "SRL16E": 1, "SRLC32E": 1}


def yosys():
    found = shutil.which("yosys")
    if found is None:
        raise UserError("Yosys is not installed: install Debian's 'yosys' package (make does this when it can) "
                        "or skip this step with --steps")
    return found


def family(part):
    """synth_xilinx family of a part number."""
    return "xcup" if part.startswith(("xczu", "xcvu", "xcku")) else "xc7"


def count(cells):
    """``{luts, ffs, brams18, dsps}`` from a cell-type histogram."""
    luts = sum(n for t, n in cells.items() if t.startswith("LUT") and t[3:].isdigit())
    luts += sum(LUTRAM_LUTS.get(t, 0) * n for t, n in cells.items())
    return {"luts": luts, "ffs": sum(n for t, n in cells.items() if t.startswith("FD")),
            "brams18": cells.get("RAMB18E1", 0) + cells.get("RAMB18E2", 0)
            + 2 * (cells.get("RAMB36E1", 0) + cells.get("RAMB36E2", 0)),
            "dsps": sum(n for t, n in cells.items() if t.startswith("DSP48"))}


def _instances(netlist, top):
    return [(name, cell["type"]) for name, cell in json.loads(netlist.read_text())["modules"][top]["cells"].items()]


def module_count(module, modules):
    """``count`` of a module's cells (``modules``: module -> cell-type histogram), submodules included."""
    cells = modules[module]
    total = count(cells)
    for child, number in cells.items():
        if child in modules:
            for key, value in module_count(child, modules).items():
                total[key] += number * value
    return total


def synthesize(rtl_dir, part, work_dir):
    """Synthesize the stitched top in ``rtl_dir``; returns totals and a per-instance breakdown."""
    rtl_dir, work_dir = Path(rtl_dir), Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    design = json.loads((rtl_dir / "design.json").read_text())
    top = design["top"]
    netlist = (work_dir / "netlist.json").resolve()
    # one module per instance of the top (the layers, FIFOs, converters); their helper submodules
    # (pixel_phase, ...) are flattened into them, so constants and ranges propagate across that boundary
    cores = " ".join(f"*\\{name}" for name in instantiated_modules(rtl_dir / f"{top}.sv"))
    script = (f"read_verilog -defer -sv {' '.join(design['sources'])}; hierarchy -top {top}; "
              f"setattr -mod -set keep_hierarchy 1 {top} {cores}; flatten; "
              f"synth_xilinx -family {family(part)} -top {top}; write_json {netlist}")
    done = subprocess.run([yosys(), "-q", "-p", script], cwd=rtl_dir, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UserError(f"Yosys could not synthesize the design: {' | '.join(tail)}")
    # cell types per module from the netlist (Yosys 0.23's `stat -json` is not valid JSON once modules nest)
    modules = {name: Counter(cell["type"] for cell in module["cells"].values())
               for name, module in json.loads(netlist.read_text())["modules"].items()}
    per_instance = {name: module_count(cell_type, modules)
                    for name, cell_type in _instances(netlist, top) if cell_type in modules}
    total = {key: sum(r[key] for r in per_instance.values()) for key in ("luts", "ffs", "brams18", "dsps")}
    return total, per_instance


def synth_report(model, rtl_dir, part, work_dir, estimate):
    """The ``synth`` section of report.json: Yosys figures per layer beside the analytic estimate."""
    total, per_instance = synthesize(rtl_dir, part, work_dir)
    design = json.loads((Path(rtl_dir) / "design.json").read_text())
    analytic = {layer["name"]: layer for layer in estimate["layers"]}
    layers = []
    for link in design["links"]:
        got = per_instance.get(link["name"], {"luts": 0, "ffs": 0, "brams18": 0, "dsps": 0})
        est = analytic.get(link["node"], {})
        layers.append({"name": link["node"], "op": link["op"], **got,
                       "est_luts": est.get("luts"), "est_ffs": est.get("ffs"), "est_brams18": est.get("brams18")})
    glue = {key: total[key] - sum(layer[key] for layer in layers) for key in total}
    return {"tool": "yosys synth_xilinx", "part": part, **total, "glue": glue, "layers": layers}


def synth_table(report):
    head = f"{'layer':<22} {'op':<17} {'LUT':>7} {'est':>7} {'FF':>7} {'est':>7} {'BRAM18':>6} {'est':>5} {'DSP':>4}"
    rows = [head, "-" * len(head)]
    for layer in report["layers"]:
        rows.append(f"{layer['name'][:22]:<22} {layer['op']:<17} {layer['luts']:>7} {layer['est_luts']:>7} "
                    f"{layer['ffs']:>7} {layer['est_ffs']:>7} {layer['brams18']:>6} {layer['est_brams18']:>5} "
                    f"{layer['dsps']:>4}")
    glue = report["glue"]
    rows.append(f"{'FIFOs, converters':<22} {'':<17} {glue['luts']:>7} {'':>7} {glue['ffs']:>7} {'':>7} "
                f"{glue['brams18']:>6} {'':>5} {glue['dsps']:>4}")
    rows.append(f"{'total':<22} {'':<17} {report['luts']:>7} {'':>7} {report['ffs']:>7} {'':>7} "
                f"{report['brams18']:>6} {'':>5} {report['dsps']:>4}")
    return "\n".join(rows)
