# Every target bootstraps .venv on a fresh machine: only python3 (>= 3.11) and make are needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check bench bench-load clean browser messages

# setup.py builds the C batch engine: editing its source re-runs the (editable) install, which rebuilds it.
$(STAMP): pyproject.toml setup.py src/prabayar/sts/_batch.c
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/prabayar serve

check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: $(STAMP) check
	$(BIN)/pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python bench/sts_bench.py
	$(BIN)/python bench/vending_bench.py
	$(BIN)/python bench/diagnosis_bench.py

# Purchases/s over HTTP on PostgreSQL next to pgbench's ceiling (needs wrk, pgbench and a
# PostgreSQL server; loads 1M synthetic meters into PRABAYAR_BENCH_DATABASE_URL the first time).
PRABAYAR_BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/prabayar_bench
bench-load: $(STAMP)
	$(BIN)/python bench/load_bench.py --database-url $(PRABAYAR_BENCH_DATABASE_URL)

# The web's gettext catalogues: extract the keys with Babel (babel.cfg), add new ones to
# src/prabayar/web/locale/{id,en}/LC_MESSAGES/messages.po (nothing dropped), write the .mo files
# and list untranslated keys. Translators then edit the .po files with any PO editor.
messages: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel -q extract -F babel.cfg -k t -k _ -k translate -k flash:2 --no-location --sort-output -o build/messages.pot .
	$(BIN)/python -m prabayar.web.catalogues sync build/messages.pot
	$(BIN)/python -m prabayar.web.catalogues compile
	$(BIN)/python -m prabayar.web.catalogues check

# Debian's chromium for the Playwright browser tests (needs root and apt).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
