"""The build's live step list: marks and times per step, the running step's elapsed time and stage, and the
notes of skipped steps printed even when quiet."""
import io

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
        assert lines[0].startswith("✓  rtl_codegen  0.0 s")
        assert lines[1].split() == [">", "pnr", "0", "s", "nextpnr-ecp5:", "place", "and", "route"]
        assert lines[2].split() == ["·", "bitstream"]
        progress.done("pnr")
        progress.start("bitstream")
        assert rendered(progress)[1].split()[:3] == ["✓", "pnr", "0.0"]  # the stage went with the step
        progress.done("bitstream", skipped="no tool")
    assert capsys.readouterr().err.strip() == "bitstream: no tool"
