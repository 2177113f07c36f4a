"""Synthesis estimate with Yosys ``synth_xilinx``: LUT / FF / BRAM / DSP per core instance of the stitched
top, side by side with the analytic estimate.

The top holds nothing but wires between its instances (layers, FIFOs, width converters), so each distinct
instance (same module and parameters) is synthesized on its own, in a wrapper kept apart from the others of
its run, the runs in parallel on the available cores, and the top's figures are their sum. Each run works in
its own folder with relative paths only.
"""
import json
import os
import shutil
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from signflow.codegen.rtl import CORE_PORTS, core_port_declarations, instance_top, module_files
from signflow.errors import UserError

#: LUTs a distributed-RAM / shift-register primitive occupies
LUTRAM_LUTS = {"RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM64X1S": 1,
               "RAM128X1S": 2, "RAM256X1S": 4, "RAM32X1S": 1, "SRL16E": 1, "SRLC32E": 1}
#: the top of each run: one wrapper per instance it synthesizes
RUN_TOP = "synth_run"
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


def plan_runs(instances, jobs):
    """The Yosys runs: ``[[instance, ...], ...]``, the longest first. Each MVAU has its own run (the big ones,
    which balance the cores); the other instances share ``jobs`` runs, dealt by input width (a window's size),
    so they pay synth_xilinx's fixed cost (reading the Xilinx cell library, ~2.5 s) once per run, not once
    each."""
    by_width = sorted(instances, key=lambda instance: instance["in_width"], reverse=True)
    mvaus = [[instance] for instance in by_width if instance["module"] == "mvau"]
    shared = [[] for _ in range(jobs)]
    for index, instance in enumerate(i for i in by_width if i["module"] != "mvau"):
        shared[index % jobs].append(instance)
    return mvaus[:1] + [run for run in shared if run] + mvaus[1:]


def wrapper_name(index):
    return f"synth_{index}"


def prepare_run(instances, rtl_dir, run_dir, part):
    """Write a run's folder: a wrapper per instance (kept apart, so each is counted on its own) under the run's
    top, their module files and memory files, and the script."""
    run_dir.mkdir(parents=True)
    sources = sorted({path.name for instance in instances for path in module_files(instance["module"])})
    for name in sources:
        shutil.copy(Path(rtl_dir) / name, run_dir / name)
    ports, cells = [], []
    for index, instance in enumerate(instances):
        for value in instance["params"].values():
            if isinstance(value, str) and value:
                shutil.copy(Path(rtl_dir) / value, run_dir / value)
        wrapper = wrapper_name(index)
        (run_dir / f"{wrapper}.sv").write_text(instance_top(instance, wrapper))
        # every port of every wrapper is a port of the run's top, so nothing is optimized away
        ports += core_port_declarations(instance, prefix=f"{wrapper}_")
        cells.append(f"  {wrapper} u_{wrapper} (" + ", ".join(f".{n}({wrapper}_{n})" for n, _, _ in CORE_PORTS)
                     + ");")
    (run_dir / f"{RUN_TOP}.sv").write_text("\n".join(
        ["`default_nettype none", f"module {RUN_TOP} (", ",\n".join(ports), ");", *cells, "endmodule",
         "`default_nettype wire", ""]))
    wrappers = [f"{wrapper_name(index)}.sv" for index in range(len(instances))]
    # the other helper submodules (pixel_phase, rom, ...) are flattened into the core, so constants and ranges
    # propagate across that boundary (kept apart, CNV's MVAU_1 grew from 12.1k to 16.4k LUTs)
    kept = " ".join([f"*\\{name}" for name in KEPT_MODULES] + [wrapper_name(i) for i in range(len(instances))])
    (run_dir / "synth.ys").write_text(
        f"read_verilog -defer -sv {RUN_TOP}.sv {' '.join(wrappers + sources)}\nhierarchy -top {RUN_TOP}\n"
        f"setattr -mod -set keep_hierarchy 1 {kept}\nflatten\n"
        f"synth_xilinx -family {family(part)} -top {RUN_TOP}\nwrite_json netlist.json\n")


def run_one(run_dir, count_of):
    """Synthesize a prepared run of ``count_of`` instances; returns their figures, in order."""
    done = subprocess.run([yosys(), "-q", "-s", "synth.ys"], cwd=run_dir, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UserError(f"Yosys could not synthesize {run_dir.name}: {' | '.join(tail)}")
    modules = {name: Counter(cell["type"] for cell in module["cells"].values())
               for name, module in json.loads((run_dir / "netlist.json").read_text())["modules"].items()}
    return [module_count(wrapper_name(index), modules) for index in range(count_of)]


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
    """Synthesize every distinct instance of the design in ``rtl_dir`` (``plan_runs``), ``jobs`` runs at a time
    (default: every core); returns ``{instance name: figures}``."""
    rtl_dir, work_dir = Path(rtl_dir), Path(work_dir)
    design = json.loads((rtl_dir / "design.json").read_text())
    if "instances" not in design:
        raise UserError(f"{rtl_dir / 'design.json'} lists no instances (written by an older signflow); "
                        "run the build again from rtl_codegen")
    jobs = jobs or os.cpu_count() or 1
    groups = {group[0]["name"]: group for group in distinct_instances(design["instances"]).values()}
    runs = plan_runs([group[0] for group in groups.values()], jobs)
    if work_dir.exists():  # runs of an earlier design must not survive next to this one's
        shutil.rmtree(work_dir)
    shared = iter(range(len(runs)))
    folders = [work_dir / (run[0]["name"] if run[0]["module"] == "mvau" else f"shared_{next(shared)}") for run in runs]
    for run, folder in zip(runs, folders):
        prepare_run(run, rtl_dir, folder, part)
    with ThreadPoolExecutor(jobs) as pool:
        figures = list(pool.map(run_one, folders, [len(run) for run in runs]))
    return {instance["name"]: got for run, run_figures in zip(runs, figures)
            for first, got in zip(run, run_figures) for instance in groups[first["name"]]}


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
