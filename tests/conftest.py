"""Marks for the fast tier (``make test-fast``: ``-m "not slow and not sim and not vendor"``).

Every bench under tests/rtl/ (cocotb on Verilator) and tests/hls/ (g++ C simulation) needs a simulator or
compiler, and so does every test marked ``rtlsim``: they get the ``sim`` marker here instead of one in each
file. Tests elsewhere that run Verilator, g++ or Yosys carry ``sim`` or ``vendor`` themselves.
"""
from pathlib import Path

import pytest

SIM_DIRS = [Path(__file__).parent / name for name in ("rtl", "hls")]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("rtlsim") or any(item.path.is_relative_to(d) for d in SIM_DIRS):
            item.add_marker(pytest.mark.sim)
