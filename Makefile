# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The package and what the README's commands need; then the tests' tools, Spark and the PostgreSQL driver.
INSTALLED := $(VENV)/.installed
DEV := $(VENV)/.installed-dev

.PHONY: run test test-fast pictures lint bench clean browser postgres

run: $(INSTALLED)  ## the main job, tracked in sqlite:///mlflow.db in this folder
	$(BIN)/mnist-mlops pipeline

# -n auto --dist loadscope: a worker per core, each test module on one worker (its fixtures made once),
# in the order tests/conftest.py sets (--no-loadscope-reorder: slow modules first, not the most tests);
# --durations: the slowest tests in every run's output; --fail-on-skip: a skipped test fails the run
# unless tests/conftest.py lists it with its reason.
PYTEST := $(BIN)/python -m pytest -n auto --dist loadscope --no-loadscope-reorder --durations=25

test: $(DEV) browser postgres  ## the whole test suite, slow tests included (what CI runs)
	$(PYTEST) --fail-on-skip

test-fast: $(DEV)  ## the suite without the slow tests
	$(PYTEST) -m "not slow"

pictures: $(DEV) browser  ## the docs' pictures: the MLflow UI and the playground by their tests, the rest from the main job
	$(PYTEST) --pictures tests/jobs/test_pipeline.py tests/playground/test_page.py
	test -f mlflow.db || $(MAKE) run
	$(BIN)/python -m bench.pictures mlflow.db

lint: $(DEV)  ## ruff, and mypy over the package
	$(BIN)/ruff check mnist_mlops tests bench
	$(BIN)/ruff format --check mnist_mlops tests bench
	$(BIN)/mypy

bench: $(DEV)  ## speed, accuracy and memory figures into bench/results/
	$(BIN)/python -m bench.baselines
	$(BIN)/python -m bench.forest
	$(BIN)/python -m bench.training
	$(BIN)/python -m bench.networks
	$(BIN)/python -m bench.tuning knn 10000
	$(BIN)/python -m bench.tuning mlp 20000 3
	$(BIN)/python -m bench.tuning default
	$(BIN)/python -m bench.tuned_cnn
	$(BIN)/python -m bench.spark
	$(BIN)/python -m bench.serving
	$(BIN)/python -m bench.inference_log
	$(BIN)/python -m bench.production_loop
	$(BIN)/python -m bench.robustness
	$(BIN)/python -m bench.team_server
	$(BIN)/python -m bench.reliability
	test -f mlflow.db || $(MAKE) run  # bench.paper measures the main job's champion
	$(BIN)/python -m bench.paper mlflow.db
	$(BIN)/python -m bench.photos mlflow.db
	$(BIN)/python -m bench.playground mlflow.db

browser:  ## Debian's headless Chromium and its driver, for the dashboard tests
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "the dashboard tests need Chromium: sudo apt-get install chromium chromium-driver" >&2; exit 1; \
	  fi; \
	fi

postgres:  ## Debian's PostgreSQL server programs, for the test of a PostgreSQL tracking store
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "without PostgreSQL its store test is skipped: sudo apt-get install postgresql" >&2; \
	  fi; \
	fi

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

clean:
	rm -rf $(VENV) mlruns mlartifacts mlflow.db .pytest_cache
