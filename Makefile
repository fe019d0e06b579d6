# Two entry points that work on a fresh machine: `make demo` and `make test` (README "Quick start").
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev,export,jax,convert
# The demo trains the zoo's flagship at width 0.35 on scikit-learn's handwritten digits (real scans).
EXPERIMENT ?= mobilenext_035_digits
# runtime.data_dir (--data_dir): the experiment reads DATA_DIR/digits/{train,val}.
DATA_DIR ?= data
RUN_DIR ?= runs/$(EXPERIMENT)
EXPORT_DIR ?= exports
PYTEST_ARGS ?= -n 2 --dist loadfile --timeout 1500 -m "not benchmark" --durations=15
# The edit loop: unit tests only (no training runs, no JAX subprocesses, no benchmarks), under 5 minutes.
FAST_ARGS ?= -n 2 --dist loadfile --timeout 600 -m "not slow and not jax and not benchmark" --durations=10

STAMP := $(VENV)/.installed
# pip install -e . also compiles these into official/ops/kernels/_zoo_ops.so (setup.py).
KERNEL_SOURCES := $(wildcard official/ops/kernels/*.cc official/ops/kernels/*.h)
# TensorFlow C++ start-up chatter (CPU features, missing CUDA) hides the progress lines.
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test test-fast ci-time check-benchmarks install lint clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py $(KERNEL_SOURCES)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	@touch $(STAMP)

# The Keras top-1 is the trainer's own evaluation of the final weights (MODEL_DIR/eval_results.json; no
# validation between epochs), which saves a second TensorFlow process restoring the same checkpoint.
demo: $(STAMP)
	@start=$$(date +%s); \
	set -e; \
	$(PY) -m tools.make_digits --out $(DATA_DIR)/digits; \
	rm -rf $(RUN_DIR) $(EXPORT_DIR)/$(EXPERIMENT) $(EXPORT_DIR)/tflite/$(EXPERIMENT)_int8.tflite; \
	$(PY) -m tools.train --experiment=$(EXPERIMENT) --model_dir=$(RUN_DIR) --mode=train_and_eval \
	  --data_dir=$(DATA_DIR) --params_override=trainer.validation_every_n_loops=0; \
	$(PY) -m tools.export --experiment=$(EXPERIMENT) --model_dir=$(RUN_DIR) --export_dir=$(EXPORT_DIR) \
	  --formats=saved_model,tflite --quantize=int8 --version=1 --data_dir=$(DATA_DIR); \
	$(PY) -m tools.evaluate --experiment=$(EXPERIMENT) --saved_model=$(EXPORT_DIR)/$(EXPERIMENT)/1 \
	  --json=$(RUN_DIR)/demo/saved_model.json --data_dir=$(DATA_DIR); \
	$(PY) -m tools.evaluate --experiment=$(EXPERIMENT) --tflite=$(EXPORT_DIR)/tflite/$(EXPERIMENT)_int8.tflite \
	  --json=$(RUN_DIR)/demo/tflite_int8.json --data_dir=$(DATA_DIR); \
	$(PY) -m tools.check_demo --keras=$(RUN_DIR)/eval_results.json --saved_model=$(RUN_DIR)/demo/saved_model.json \
	  --tflite=$(RUN_DIR)/demo/tflite_int8.json; \
	echo "demo wall time: $$(( $$(date +%s) - start )) s (after installation)"

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest $(FAST_ARGS)

# Times the whole suite as CI runs it and records it (per test file) in benchmarks/results/ci_time.json.
ci-time: $(STAMP)
	$(PY) -m benchmarks.ci_time --out benchmarks/results/ci_time.json -- $(PYTEST_ARGS)

# The benchmark scripts' --smoke modes (CPU, JAX backend, TensorFlow import forbidden): a few minutes.
check-benchmarks: $(STAMP)
	$(PY) -m pytest -n 2 -m benchmark

lint: $(STAMP)
	$(PY) -m ruff check setup.py official research tools tests benchmarks

clean:
	rm -rf $(RUN_DIR) $(EXPORT_DIR) .pytest_cache
