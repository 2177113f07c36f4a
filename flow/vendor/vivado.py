"""The bitstream: Vivado runs the project script of ``vivado/`` (when ``vivado`` is on PATH).

The script announces its stages as ``signflow: [k/N] ...`` lines, which drive the progress bar; the
figures come from the utilization and timing reports it writes. Without Vivado the step is skipped with
a one-line note.
"""
import json
import re
import subprocess
from pathlib import Path

from signflow.codegen.names import check_identifier
from signflow.errors import UserError
from signflow.tools import vendor_tool

HOW = ("the project script is {script}: run 'docker compose run --rm vivado signflow build MODEL --out {out} "
       "--from-step bitstream' (see docker-compose.yml) or 'vivado -mode batch -source make_project.tcl' there")
STAGE = re.compile(r"^signflow: \[(\d+)/(\d+)\] (.*)$")
#: utilization report rows -> report keys (7-series names, then UltraScale+ names)
UTILIZATION = {"Slice LUTs": "luts", "CLB LUTs": "luts", "Slice Registers": "ffs", "CLB Registers": "ffs",
               "Block RAM Tile": "brams36", "DSPs": "dsps"}


def utilization(text):
    """LUT / FF / BRAM18 / DSP counts of a Vivado ``report_utilization`` text."""
    figures = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name = cells[0].rstrip("*").strip()
        if len(cells) >= 2 and name in UTILIZATION:  # the first row of a name is the summary's
            figures.setdefault(UTILIZATION[name], float(cells[1]))
    if "brams36" in figures:  # a BRAM36 tile holds two BRAM18s; a half tile is one
        figures["brams18"] = figures.pop("brams36") * 2
    return {key: int(value) for key, value in figures.items()}


def worst_slack(text):
    """Worst negative slack (ns) of a ``report_timing_summary`` text, or None when it has none."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.split()[:1] == ["WNS(ns)"] and index + 2 < len(lines):
            return float(lines[index + 2].split()[0])
    return None


def run_vivado(out_dir, quiet=False):
    """Run ``vivado/make_project.tcl``; returns the ``bitstream`` section of report.json."""
    from tqdm import tqdm

    out_dir = Path(out_dir)
    vivado_dir = out_dir / "vivado"
    script = vivado_dir / "make_project.tcl"
    if not script.is_file():
        raise UserError(f"no {script}: run the vivado_project step first")
    tool = vendor_tool("vivado", "bitstream", HOW.format(script=script, out=out_dir))
    design = json.loads((vivado_dir / "design.json").read_text())
    # the outputs are removed below: they must be the two files of deploy/ the script writes, nowhere else
    top = check_identifier(design.get("top"), f"{vivado_dir / 'design.json'}: top")
    for key, suffix in (("bitstream", "bit"), ("hwh", "hwh")):
        if design.get(key) != f"../deploy/{top}.{suffix}":
            raise UserError(f"{vivado_dir / 'design.json'}: {key} must be ../deploy/{top}.{suffix}, not "
                            f"{design.get(key)!r:.80}; run the vivado_project step again")
    outputs = [vivado_dir / design["bitstream"], vivado_dir / design["hwh"]]
    for old in outputs:  # a failed run must not leave an earlier bitstream looking current
        old.unlink(missing_ok=True)
    log = vivado_dir / "vivado.log"
    with open(log, "w") as handle, tqdm(total=None, desc="vivado", unit="stage", disable=quiet) as bar:
        process = subprocess.Popen([tool, "-mode", "batch", "-notrace", "-nojournal", "-source", script.name],
                                   cwd=vivado_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            handle.write(line)
            stage = STAGE.match(line.strip())
            if stage:
                bar.total = int(stage.group(2))
                bar.n = int(stage.group(1)) - 1
                bar.set_postfix_str(stage.group(3))
        process.wait()
        if process.returncode == 0:
            bar.n = bar.total or bar.n
    if process.returncode != 0 or not all(path.is_file() for path in outputs):
        raise UserError(f"Vivado did not produce the bitstream (exit code {process.returncode}); see {log}")
    reports = vivado_dir / "reports"
    figures = {"tool": "vivado", "part": design["part"], "bitstream": str(outputs[0].resolve().relative_to(out_dir.resolve()))}
    figures.update(utilization((reports / "utilization.txt").read_text()))
    slack = worst_slack((reports / "timing.txt").read_text())
    if slack is not None:
        figures["wns_ns"] = slack
    return figures
