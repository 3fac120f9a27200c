PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PLUGINS := $(wildcard plugins/*/pyproject.toml)

.PHONY: test fuzz demo bench install clean

$(VENV)/.installed: pyproject.toml $(PLUGINS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $@

install: $(VENV)/.installed

test: install
	EMBER_STRICT_PLUGINS=1 $(PY) -m pytest -q tests

# The long fuzz run of every file reader (5000 mutated files each: EMBER_FUZZ_CASES, EMBER_FUZZ_SEED
# change it); `make test` runs only its fast seeded subset.
fuzz: install
	$(PY) -m pytest -q -m fuzz tests/fuzz

demo: install
	$(PY) examples/quickstart.py
	$(PY) examples/train_digits.py
	$(PY) examples/finetune_demo.py

bench: install
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	# The references each row compares with: PyTorch 2.13 CPU, and the tokenizers package for the text rows;
	# Ember's side of the real-model rows uses ember-vision (and Pillow, its one dependency).
	# The audio rows run ember-audio (their torchaudio side: see .venv-bench-torchaudio below).
	.venv-bench/bin/pip install --quiet torch==2.13.0 numpy pluggy regex tokenizers pillow
	.venv-bench/bin/pip install --quiet --no-deps -e . -e plugins/text -e plugins/vision -e plugins/audio
	# torchaudio has no release for torch 2.13: the audio rows' reference runs in its own venv (torch 2.11 +
	# torchaudio 2.11, the newest matching pair; benchmarks/workloads_audio.py)
	test -x .venv-bench-torchaudio/bin/python || $(PYTHON) -m venv .venv-bench-torchaudio
	.venv-bench-torchaudio/bin/pip install --quiet torch==2.11.0 torchaudio==2.11.0 numpy
	.venv-bench/bin/python benchmarks/run.py $(BENCH_ARGS)
	# DDP scaling on MPI (Ember only; mpi4py and mpiexec come with the test extra in .venv)
	$(PY) benchmarks/distributed_scaling.py

clean:
	rm -rf $(VENV) .venv-bench .venv-bench-torchaudio
