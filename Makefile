# Two commands: `make run` and `make test` (see README). Everything else is a helper.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test setup catalogs test-tools browser ops-tools messages serve worker bench-pages clean

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.x)")'
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/tiaojie: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet --python $(PYTHON)
	@touch $@

setup: $(BIN)/tiaojie catalogs

catalogs: $(BIN)/tiaojie
	@PYBABEL=$(BIN)/pybabel bash scripts/i18n.sh compile >/dev/null

run: setup
	$(BIN)/tiaojie db migrate --quiet
	$(BIN)/tiaojie demo seed --if-empty
	$(BIN)/tiaojie dev --host $(HOST) --port $(PORT)

browser:
	bash scripts/ensure-chromium.sh

tests/tools/node_modules/.installed: tests/tools/package-lock.json
	npm ci --prefix tests/tools --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

ops-tools:
	bash scripts/ensure-ops-tools.sh

test-tools: browser ops-tools tests/tools/node_modules/.installed

test: setup test-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

messages: $(BIN)/tiaojie
	PYBABEL=$(BIN)/pybabel bash scripts/i18n.sh update

serve: setup
	$(BIN)/tiaojie db migrate --quiet
	$(BIN)/tiaojie serve

worker: setup
	$(BIN)/tiaojie worker

clean:
	rm -rf $(VENV) .tools tests/tools/node_modules
