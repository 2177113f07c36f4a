# Two entry points: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= out/demo

.PHONY: demo test test-fast test-slow fuzz bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# the CPU wheel first, so no dependency pulls a CUDA build
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	# ccache (optional): the Verilator builds of the tests and rtlsim share their runtime objects through it
	command -v ccache >/dev/null || (command -v apt-get >/dev/null && (apt-get install -y -q ccache >/dev/null 2>&1 \
		|| (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q ccache >/dev/null 2>&1))) \
		|| echo "note: ccache not installed; Verilator builds compile their runtime every time"
	# Yosys for the synthesis estimate (Debian's 0.23: faster and fewer LUTs here than the PyPI yowasp 0.70; docs/architecture.md)
	command -v yosys >/dev/null || (command -v apt-get >/dev/null && (apt-get install -y -q yosys >/dev/null 2>&1 \
		|| (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q yosys >/dev/null 2>&1))) \
		|| echo "note: yosys not installed; the synth_estimate step will say so"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/signflow demo --out $(DEMO_DIR)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal -q -m "not slow and not sim and not vendor"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal -q -m slow

# the fuzzer (tests/flow/test_fuzz.py): N random Brevitas networks from seed SEED; `make fuzz SEED=17 N=1` replays one
SEED ?= 0
N ?= 300
JOBS ?= 2
fuzz: $(STAMP)
	SIGNFLOW_FUZZ_SEEDS=$(SEED):$(N) $(BIN)/python -m pytest -n $(JOBS) --dist worksteal -q tests/flow/test_fuzz.py::test_fuzz

bench: $(STAMP)
	$(BIN)/python bench/activations.py
	$(BIN)/python bench/reference_speed.py
	$(BIN)/python bench/design_kernel.py
	$(BIN)/python bench/folding.py
	$(BIN)/python bench/build_time.py
	$(BIN)/python bench/rtl.py
	$(BIN)/python bench/hls.py
	$(BIN)/python bench/driver.py
	$(BIN)/python bench/pnr.py

lint: $(STAMP)
	$(BIN)/ruff check --select F,E9 models flow tests bench

clean:
	rm -rf out .pytest_cache
