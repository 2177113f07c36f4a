"""Synthesis estimate with Yosys ``synth_xilinx``: LUT / FF / BRAM / DSP per core instance of the stitched
top, side by side with the analytic estimate.

The top holds nothing but wires between its instances (layers, FIFOs, width converters), so each distinct
instance (same module and parameters) is synthesized on its own, the runs in parallel on the available cores,
and the top's figures are their sum. Each run works in its own folder with relative paths only.
"""
import json
import os
import shutil
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from signflow.codegen.rtl import instance_top, module_files
from signflow.errors import UserError

#: LUTs a distributed-RAM / shift-register primitive occupies
LUTRAM_LUTS = {"RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM64X1S": 1,
               "RAM128X1S": 2, "RAM256X1S": 4, "RAM32X1S": 1, "SRL16E": 1, "SRLC32E": 1}
#: the module each run synthesizes: one instance of the stitched design
RUN_TOP = "synth_one"
#: submodules kept apart: an instance repeats them with the same parameters (an mvau's PEs), so Yosys maps
#: each once and the figures count it once per instance; every other submodule is flattened into its core
KEPT_MODULES = ("mvau_dot",)
FIGURES = ("luts", "ffs", "brams18", "dsps")


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


def distinct_instances(instances):
    """``{key: [instance, ...]}``: instances of the same module with the same parameters synthesize alike
    (memory files differ by name, so two layers never share a run)."""
    groups = {}
    for instance in instances:
        key = json.dumps([instance["module"], instance["params"], instance["in_width"], instance["out_width"]],
                         sort_keys=True)
        groups.setdefault(key, []).append(instance)
    return groups


def prepare_run(instance, rtl_dir, run_dir, part):
    """Write a run's folder: the instance's wrapper, its module files and memory files, and the script."""
    run_dir.mkdir(parents=True)
    sources = [path.name for path in module_files(instance["module"])]
    for name in sources:
        shutil.copy(Path(rtl_dir) / name, run_dir / name)
    for value in instance["params"].values():
        if isinstance(value, str) and value:
            shutil.copy(Path(rtl_dir) / value, run_dir / value)
    (run_dir / f"{RUN_TOP}.sv").write_text(instance_top(instance, RUN_TOP))
    # the other helper submodules (pixel_phase, rom, ...) are flattened into the core, so constants and ranges
    # propagate across that boundary (kept apart, CNV's MVAU_1 grew from 12.1k to 16.4k LUTs)
    kept = " ".join(f"*\\{name}" for name in KEPT_MODULES)
    (run_dir / "synth.ys").write_text(
        f"read_verilog -defer -sv {RUN_TOP}.sv {' '.join(sources)}\nhierarchy -top {RUN_TOP}\n"
        f"setattr -mod -set keep_hierarchy 1 {kept}\nflatten\n"
        f"synth_xilinx -family {family(part)} -top {RUN_TOP}\nwrite_json netlist.json\n")


def run_one(run_dir):
    """Synthesize a prepared run; returns its figures."""
    done = subprocess.run([yosys(), "-q", "-s", "synth.ys"], cwd=run_dir, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UserError(f"Yosys could not synthesize {run_dir.name}: {' | '.join(tail)}")
    modules = {name: Counter(cell["type"] for cell in module["cells"].values())
               for name, module in json.loads((run_dir / "netlist.json").read_text())["modules"].items()}
    return module_count(RUN_TOP, modules)


def module_count(module, modules):
    """``count`` of a module's cells (``modules``: module -> cell-type histogram), submodules included."""
    cells = modules[module]
    total = count(cells)
    for child, number in cells.items():
        if child in modules:
            for key, value in module_count(child, modules).items():
                total[key] += number * value
    return total


def synthesize(rtl_dir, part, work_dir, jobs=None):
    """Synthesize every distinct instance of the design in ``rtl_dir``, ``jobs`` at a time (default: every
    core); returns ``{instance name: figures}``."""
    rtl_dir, work_dir = Path(rtl_dir), Path(work_dir)
    design = json.loads((rtl_dir / "design.json").read_text())
    if "instances" not in design:
        raise UserError(f"{rtl_dir / 'design.json'} lists no instances (written by an older signflow); "
                        "run the build again from rtl_codegen")
    # the longest runs first, so none starts last: MVAUs, by input width (one PE's dot product)
    groups = sorted(distinct_instances(design["instances"]).values(),
                    key=lambda group: (group[0]["module"] == "mvau", group[0]["in_width"]), reverse=True)
    if work_dir.exists():  # runs of an earlier design must not survive next to this one's
        shutil.rmtree(work_dir)
    runs = [work_dir / group[0]["name"] for group in groups]
    for group, run_dir in zip(groups, runs):
        prepare_run(group[0], rtl_dir, run_dir, part)
    with ThreadPoolExecutor(jobs or os.cpu_count() or 1) as pool:
        figures = list(pool.map(run_one, runs))
    return {instance["name"]: got for group, got in zip(groups, figures) for instance in group}


def synth_report(rtl_dir, part, work_dir, estimate):
    """The ``synth`` section of report.json: Yosys figures per layer beside the analytic estimate, the FIFOs
    and width converters as ``glue``, and the whole top."""
    per_instance = synthesize(rtl_dir, part, work_dir)
    design = json.loads((Path(rtl_dir) / "design.json").read_text())
    analytic = {layer["name"]: layer for layer in estimate["layers"]}
    layers = []
    for link in design["links"]:
        est = analytic.get(link["node"], {})
        layers.append({"name": link["node"], "op": link["op"], **per_instance[link["name"]],
                       "est_luts": est.get("luts"), "est_ffs": est.get("ffs"), "est_brams18": est.get("brams18")})
    layer_names = {link["name"] for link in design["links"]}
    glue = {key: sum(got[key] for name, got in per_instance.items() if name not in layer_names) for key in FIGURES}
    total = {key: sum(got[key] for got in per_instance.values()) for key in FIGURES}
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
