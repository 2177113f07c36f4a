"""The benchmark scripts start: their imports resolve and their options parse (``--help``).

The benchmarks themselves take minutes and print figures, so ``make bench`` runs them, not the tests;
this catches a script left behind when code it uses moves.
"""
import runpy
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize("script", sorted(path.name for path in BENCH.glob("[!_]*.py")))
def test_bench_script_starts(script, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [script, "--help"])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(BENCH / script), run_name="__main__")
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage:")
