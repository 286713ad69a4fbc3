# `make test` and `make demo` are the two commands of the README; both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck unit demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	TZ=UTC HYPOTHESIS_PROFILE=deterministic $(BIN)/pytest -q
	# the notebooks, re-executed and compared with their stored outputs
	$(BIN)/pytest -q -p no:cacheprovider --nbval notebooks/ \
		--nbval-sanitize-with notebooks/sanitize.cfg

test: lint typecheck unit

demo: $(STAMP)
	$(BIN)/maidit validate examples/*.flow.md
	$(BIN)/maidit plan examples/grades.flow.md
	$(BIN)/maidit run examples/grades.flow.md --no-log
	cat examples/out/graded.csv

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_frontend.py
	$(BIN)/python benchmarks/bench_expressions.py
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_checkpoint.py
	$(BIN)/python benchmarks/bench_blocks.py
	$(BIN)/python benchmarks/bench_http.py
	$(BIN)/python benchmarks/bench_panel.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
