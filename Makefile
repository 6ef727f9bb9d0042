# Two entry points for a fresh machine with Python 3.10+ and make: `make run`, `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# The quick start serves plain http on loopback, where browsers and curl drop
# Secure cookies; the server logs a warning that Secure is off.
run: $(BIN)/.installed
	ESAUTH_COOKIE_SECURE=$${ESAUTH_COOKIE_SECURE:-false} $(BIN)/esauth serve --host $(HOST) --port $(PORT)

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
