"""The build's live step list: marks and times per step, the running step's elapsed time and stage, and the
notes of skipped steps printed even when quiet."""
import io
import re

from rich.console import Console

from signflow.progress import StepProgress


def rendered(progress):
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(progress._table())
    return [line.rstrip() for line in out.getvalue().splitlines()]


def test_running_step_shows_elapsed_time_and_stage(capsys):
    with StepProgress(["rtl_codegen", "pnr", "bitstream"], quiet=True) as progress:
        progress.start("rtl_codegen")
        progress.done("rtl_codegen")
        progress.start("pnr")
        progress.stage("nextpnr-ecp5: place and route")
        lines = rendered(progress)
        assert re.fullmatch(r"✓  rtl_codegen  \d+\.\d s", lines[0]), lines[0]
        assert re.fullmatch(r">  pnr  +\d+ s +nextpnr-ecp5: place and route", lines[1]), lines[1]
        assert lines[2].split() == ["·", "bitstream"]
        progress.done("pnr")
        progress.start("bitstream")
        assert re.fullmatch(r"✓  pnr  +\d+\.\d s", rendered(progress)[1])  # the stage went with the step
        progress.done("bitstream", skipped="no tool")
    assert capsys.readouterr().err.strip() == "bitstream: no tool"
