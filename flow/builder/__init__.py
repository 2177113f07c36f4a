"""The build: its config, its steps and the runner (``signflow build``; the command line is flow/build.py)."""
from signflow.builder.config import BuildConfig
from signflow.builder.runner import run_build
from signflow.builder.steps import FRONT_END, STEP_NAMES

__all__ = ["BuildConfig", "FRONT_END", "STEP_NAMES", "run_build"]
