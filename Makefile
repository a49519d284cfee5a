# Shipyard's developer entry points. `make demo` and `make test` each create or refresh .venv
# themselves (uv when present, else pip), so a fresh machine with only Python needs nothing else.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/dev.lock

.PHONY: demo test check lint format typecheck imports bench lock clean

$(STAMP): pyproject.toml $(LOCK)
	@if command -v uv >/dev/null 2>&1; then \
		uv venv --quiet --python $(PYTHON) $(VENV) && \
		uv pip install --quiet --python $(BIN)/python -r $(LOCK) && \
		uv pip install --quiet --python $(BIN)/python --no-deps -e . ; \
	else \
		{ [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV); } && \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(LOCK) && \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . ; \
	fi
	@touch $(STAMP)

# Byte-compile Shipyard's own modules: start-up time matters, and an environment that sets
# PYTHONDONTWRITEBYTECODE would otherwise compile every module on every command.
.PHONY: bytecode
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q src >/dev/null

demo: bytecode
	@$(BIN)/python examples/run_demo.py

# .venv/bin leads PATH so that tests find the pinned tools installed there (uv among them).
test: $(STAMP)
	@bash scripts/test-deps.sh
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench examples
	$(BIN)/ruff format src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

check: lint typecheck imports test

bench: bytecode
	@status=0; for script in bench/bench_*.py; do echo "== $$script"; \
		$(BIN)/python $$script || status=1; done; exit $$status

# Regenerate the pinned lock from pyproject.toml (needs network access to the package index).
lock:
	rm -rf /tmp/shipyard-lock && $(PYTHON) -m venv /tmp/shipyard-lock
	/tmp/shipyard-lock/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	/tmp/shipyard-lock/bin/pip freeze --exclude-editable --exclude shipyard > $(LOCK)
	# the editable install builds without isolation, so the build backend is pinned here too
	echo 'setuptools==80.9.0' >> $(LOCK)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
