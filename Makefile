# Distributor: the two quick-start commands are `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: serve test setup system-deps lint typecheck pytest bench clean

## serve: install, migrate the SQLite database, load the demo and run on http://127.0.0.1:8000
serve: setup
	DEMO_MODE=true $(BIN)/distributor serve --demo --host $(HOST) --port $(PORT)

## test: install (with Chromium), then ruff, mypy and the whole test suite
test: setup system-deps lint typecheck pytest

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## system-deps: Debian's Chromium and CJK fonts for the browser tests, SpamAssassin for the
## spam-score test (needs root and apt)
system-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ] || [ ! -x /usr/bin/spamassassin ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk spamassassin; \
	  else echo "Install Debian's 'chromium', 'fonts-noto-cjk' and 'spamassassin' packages (browser and spam-score tests need them)"; fi; \
	fi

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/render.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/send.py

clean:
	rm -rf $(VENV) var tests/artifacts .pytest_cache .mypy_cache .ruff_cache
