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

# Measures every endpoint against its limit (BENCH_ARGS=--quick for a look): one process with the
# large stores and nginx, then one worker per core with the peers beside it, each run writing its
# own block of BENCHMARKS.md (33 minutes each here, plus the large stores: about 30 more). Debian's
# wrk, apt-get installed if missing.
BENCH_WORKERS ?= $(shell nproc)
bench: $(BIN)/.installed
	$(BIN)/python bench/run.py --peers none $(BENCH_ARGS)
	if [ $(BENCH_WORKERS) -gt 1 ]; then $(BIN)/python bench/run.py --workers $(BENCH_WORKERS) \
	  --scenarios test,sessions,verify,login,unknown,signup --no-growth --no-diagnostics $(BENCH_ARGS); fi

clean:
	rm -rf $(VENV) var .pytest_cache
