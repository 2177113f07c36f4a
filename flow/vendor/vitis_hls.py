"""Vitis HLS synthesis of the generated HLS project (``hls/*.tcl``), when ``vitis_hls`` is on PATH.

Each layer's script runs first (its own IP and report), then the top's. The figures come from each
solution's ``csynth.xml``. Without Vitis HLS the step is skipped with a one-line note.
"""
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from signflow.codegen.names import check_identifier
from signflow.errors import UserError
from signflow.tools import vendor_tool

HOW = ("the scripts are in {hls_dir}: run 'docker compose run --rm vivado signflow build MODEL --out {out} "
       "--from-step hls_synth' (see docker-compose.yml) or 'vitis_hls -f <script>.tcl' in that folder")
#: csynth.xml resource names -> report keys (older versions say DSP48E)
RESOURCES = {"LUT": "luts", "FF": "ffs", "BRAM_18K": "brams18", "DSP": "dsps", "DSP48E": "dsps"}


def csynth_figures(report_xml):
    """Resources and latency of one ``csynth.xml``."""
    try:
        root = ET.parse(report_xml).getroot()
    except ET.ParseError as err:
        raise UserError(f"cannot read the Vitis HLS report {report_xml}: {err}")
    figures = {}
    for tag, key in RESOURCES.items():
        node = root.find(f"AreaEstimates/Resources/{tag}")
        if node is not None and node.text:
            figures[key] = int(node.text)
    for tag, key in (("Best-caseLatency", "latency_cycles"), ("Interval-min", "interval_cycles")):
        node = root.find(f"PerformanceEstimates/SummaryOfOverallLatency/{tag}")
        if node is not None and node.text and node.text.strip().isdigit():
            figures[key] = int(node.text)
    node = root.find("PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod")
    if node is not None and node.text:
        figures["clock_ns"] = float(node.text)
    return figures


def synthesize(hls_dir, out_dir, quiet=False):
    """Run every TCL script of ``hls_dir`` (a progress bar on stderr); returns the ``hls_synth`` section of
    report.json."""
    from tqdm import tqdm

    hls_dir = Path(hls_dir)
    tool = vendor_tool("vitis_hls", "hls_synth", HOW.format(hls_dir=hls_dir, out=out_dir))
    design = json.loads((hls_dir / "design.json").read_text())
    # the scripts run and the reports read are named by the design's functions, checked to be identifiers
    where = f"{hls_dir / 'design.json'}"
    check_identifier(design.get("top"), f"{where}: top")
    scripts = design.get("tcl")
    if not isinstance(scripts, list) or not scripts:
        raise UserError(f"{where}: tcl must be a list of scripts, not {scripts!r:.80}; run the hls_codegen step again")
    for script in scripts:
        if not isinstance(script, str) or not script.endswith(".tcl"):
            raise UserError(f"{where}: script must be <function>.tcl, not {script!r:.80}")
        check_identifier(script[:-len(".tcl")], f"{where}: script")
    results = {}
    for script in tqdm(design["tcl"], desc="vitis_hls", unit="script", disable=quiet):
        function = Path(script).stem
        log = hls_dir / f"{function}.log"
        with open(log, "w") as handle:
            done = subprocess.run([tool, "-f", script], cwd=hls_dir, stdout=handle, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise UserError(f"Vitis HLS failed on {script} (exit code {done.returncode}); see {log}")
        report = hls_dir / f"{function}_prj" / "solution" / "syn" / "report" / f"{function}_csynth.xml"
        if not report.is_file():
            raise UserError(f"Vitis HLS ran {script} but wrote no {report}; see {log}")
        results[function] = csynth_figures(report)
    top = design["top"]
    return {"tool": "vitis_hls", "top": results[top], "layers": {k: v for k, v in results.items() if k != top}}
