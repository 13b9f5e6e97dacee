# JAK Portal: the two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint setup serve clean-venv bench

$(STAMP): pyproject.toml requirements.lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock.txt
	touch $(STAMP)

# Sets everything up (SQLite under var/, demo data) and serves on 127.0.0.1:$(PORT).
run: export PORTAL_DEMO ?= 1
run: $(STAMP)
	mkdir -p var
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py setup_demo
	@echo "JAK Portal on http://127.0.0.1:$(PORT)/  (demo accounts: demo-derm, demo-nurse, demo-admin; password jak-demo-2026)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT) --noreload

# Runs the whole suite; DATABASE_URL picks the database (SQLite by default).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmark (README "Benchmark"): starts PostgreSQL, builds or reuses the synthetic bench clinic, serves it with
# gunicorn and measures the main pages with wrk. SIZE=small (1,000 patients) or BENCH_PATIENTS=N; report in
# bench/report/REPORT.md.
bench: $(STAMP)
	@pg_base=$$(bash scripts/pg_start.sh jak_bench jak_bench jak_bench_tiny) && \
	DATABASE_URL="$$pg_base/jak_bench" BENCH_TINY_DATABASE_URL="$$pg_base/jak_bench_tiny" \
	SIZE="$(SIZE)" BENCH_PATIENTS="$(BENCH_PATIENTS)" $(PY) bench/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean-venv:
	rm -rf $(VENV)
