# Mixvoip Consent: `make run` serves it, `make test` tests it; both set everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
WEB_CONCURRENCY ?= 2
export PORT WEB_CONCURRENCY

.PHONY: run test lint format browser bench screenshots clean bench-widget bench-server

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/consent upgrade
	$(BIN)/gunicorn -c python:consent.gunicorn_config

test: $(BIN)/.installed browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Chromium for the browser tests: Debian's package where apt exists, else Playwright's build.
browser: $(BIN)/.installed
	@$(BIN)/python tests/browser_setup.py

lint: $(BIN)/.installed
	$(BIN)/ruff check consent tests bench
	$(BIN)/ruff format --check consent tests bench

format: $(BIN)/.installed
	$(BIN)/ruff format consent tests bench
	$(BIN)/ruff check --fix consent tests bench

# Banner weight and speed against four npm peers (docs/BENCHMARKS.md); needs npm.
bench-widget: $(BIN)/.installed browser
	$(BIN)/python bench/widget_peers.py $(BENCH_ARGS)

# docs/screenshots/*.png from the real service and widget in Chromium.
screenshots: $(BIN)/.installed browser
	$(BIN)/python bench/screenshots.py

# Server throughput and latency against a no-op Flask app (needs wrk: apt-get install wrk).
bench-server: $(BIN)/.installed
	$(BIN)/python bench/server_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
