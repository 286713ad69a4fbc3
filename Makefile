# `make test` and `make demo` are the two commands of the README; both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck unit demo bench reliability mutation clean

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
	rm -rf demo && mkdir -p demo && cp -r notebooks/quickstart.ipynb notebooks/data demo/
	$(BIN)/maidit nb run demo/quickstart.ipynb
	$(BIN)/python -c "import nbformat; nb = nbformat.read('demo/quickstart.ipynb', 4); \
		print('\n'.join(c.source for c in nb.cells if 'maidit_log_for' in c.metadata))"
	@if [ -z "$$HEADLESS" ]; then \
		echo "Starting JupyterLab on 127.0.0.1 with the quickstart (Ctrl-C stops it)"; \
		$(BIN)/jupyter lab --no-browser --ip 127.0.0.1 --port 8888 \
			$$( [ "$$(id -u)" = 0 ] && echo --allow-root ) \
			--ServerApp.root_dir=demo demo/quickstart.ipynb; \
	fi

# each script merges its workloads into benchmarks/results.json; report.py prints the table
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_frontend.py
	$(BIN)/python benchmarks/bench_expressions.py
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_checkpoint.py
	$(BIN)/python benchmarks/bench_blocks.py
	$(BIN)/python benchmarks/bench_http.py
	$(BIN)/python benchmarks/bench_panel.py
	$(BIN)/python benchmarks/report.py

# The fault, attack and race tests at scale; ends with the figures of reliability.md §3.
# Bounded for CI (about 15 minutes); RELIABILITY_LONG=1 runs the nightly counts.
reliability: $(STAMP)
	TZ=UTC MAIDIT_FIGURES_JSON=reliability-results.json \
	MAIDIT_RELIABILITY=$$( [ -n "$$RELIABILITY_LONG" ] && echo long || echo ci ) \
	HYPOTHESIS_PROFILE=$$( [ -n "$$RELIABILITY_LONG" ] || echo deterministic ) \
		$(BIN)/pytest -q -p no:cacheprovider -m reliability

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# The mutation score of the checkpoint package and the redactor (figure 17 of
# reliability.md §3; about an hour on 2 cores, so not part of make reliability).
mutation: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python -m tests.mutation_score

