# Two entry points for a fresh machine with Python 3.10+ and make: `make run`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# The quick start serves plain http on loopback, where browsers and curl drop
# Secure cookies; the server logs a warning that Secure is off.
run: $(BIN)/.installed
	ESAUTH_COOKIE_SECURE=$${ESAUTH_COOKIE_SECURE:-false} $(BIN)/esauth serve --host $(HOST) --port $(PORT)

# The real OpenSearch node runs when java 21+ and mvn are found (tests/opensearch/node.py resolves
# it from Maven Central into ~/.m2 on first use); the summary says which engines ran.
test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Measures every endpoint against its limit (about 15 minutes; BENCH_ARGS=--quick for a look).
# Uses Debian's wrk, installed with apt-get if missing and run as root.
bench: $(BIN)/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
