# Distributor: the two quick-start commands are `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: serve test test-fast setup lock system-deps lint typecheck pytest wheel-test bench clean \
        i18n-extract i18n-update i18n-compile i18n-init catalogues

## serve: install, migrate the SQLite database, load the demo and run on http://127.0.0.1:8000
serve: setup
	DEMO_MODE=true $(BIN)/distributor serve --demo --host $(HOST) --port $(PORT)

## test: install (with Chromium), then ruff, mypy and the whole test suite
test: setup system-deps lint typecheck pytest

## test-fast: unit tests and SQLite integration tests only (no PostgreSQL, Redis, browser, slow
## or packaging tests), for the edit-test loop
FAST_MARKERS := not postgres and not redis and not browser and not slow and not packaging
test-fast: setup
	$(BIN)/pytest tests/unit tests/integration -m "$(FAST_MARKERS)" -q

## setup: the virtualenv, installed within the versions pinned in requirements.lock (re-runs
## when pyproject.toml, setup.py or the lock change), and the compiled message catalogues
setup: $(VENV)/.installed catalogues

$(VENV)/.installed: pyproject.toml setup.py requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

## Message catalogues (gettext, Babel): one domain per audience, one folder per language.
LOCALE_DIR := distributor/locale
DOMAINS    := email public desk
PO_FILES   := $(wildcard $(LOCALE_DIR)/*/LC_MESSAGES/*.po)
MO_FILES   := $(PO_FILES:.po=.mo)

## catalogues: compile every .po that changed into its .mo (part of setup)
catalogues: $(MO_FILES)

$(LOCALE_DIR)/%.mo: $(LOCALE_DIR)/%.po $(VENV)/.installed
	@$(BIN)/pybabel compile -i $< -o $@ -l $(word 3,$(subst /, ,$<))

## i18n-extract: gather the messages the code and templates use into one .pot per domain
i18n-extract: setup
	@for domain in $(DOMAINS); do \
	  $(BIN)/pybabel extract -F $(LOCALE_DIR)/$$domain.cfg --no-location --sort-output \
	    --project=Distributor --msgid-bugs-address=none -o $(LOCALE_DIR)/$$domain.pot . || exit 1; \
	done

## i18n-update: bring every language's .po up to date with the .pot files (then translate)
i18n-update: i18n-extract
	@for domain in $(DOMAINS); do \
	  $(BIN)/pybabel update -D $$domain -i $(LOCALE_DIR)/$$domain.pot -d $(LOCALE_DIR) \
	    --no-fuzzy-matching --ignore-obsolete || exit 1; \
	done

## i18n-compile: compile every catalogue now, with statistics
i18n-compile: setup
	@for domain in $(DOMAINS); do $(BIN)/pybabel compile --statistics -D $$domain -d $(LOCALE_DIR) || exit 1; done

## i18n-init LANG=xx: start the catalogues of a new language (then add it to SHIPPED_LANGUAGES
## in distributor/i18n.py)
i18n-init: i18n-extract
	@test -n "$(LANG)" || { echo "Say which language: make i18n-init LANG=de"; exit 2; }
	@for domain in $(DOMAINS); do \
	  $(BIN)/pybabel init -D $$domain -i $(LOCALE_DIR)/$$domain.pot -d $(LOCALE_DIR) -l $(LANG) || exit 1; \
	done

## lock: resolve pyproject.toml's dependencies (dev extra included) afresh in a throw-away
## virtualenv and pin every installed version in requirements.lock; run after changing them
LOCK_VENV := $(VENV)-lock
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/pip install --quiet -e '.[dev]'
	{ echo "# Every version a fresh 'make setup' installs (pip constraints). Regenerate with"; \
	  echo "# 'make lock' after changing dependencies in pyproject.toml; never edit by hand."; \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude-editable | grep -v -i -E '^(pip|distributor)=='; \
	} > requirements.lock
	rm -rf $(LOCK_VENV)

## system-deps: Debian's Chromium and CJK fonts for the browser tests, SpamAssassin for the
## spam-score test (needs root and apt); axe-core for the accessibility test (npm, when Node is
## installed)
system-deps:
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/browser --no-audit --no-fund --silent; \
	else echo "Install Node.js (npm) for the accessibility test, then run 'npm ci --prefix tests/browser'"; fi
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
	$(BIN)/pytest --durations=20

## wheel-test: build the wheel, install it into a fresh virtualenv and render an issue from it
wheel-test: setup
	$(BIN)/pytest tests/packaging -q

bench: setup
	$(BIN)/python bench/render.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/send.py
	$(BIN)/python bench/schedules.py

clean:
	rm -rf $(VENV) $(LOCK_VENV) build dist var tests/artifacts .pytest_cache .mypy_cache .ruff_cache
