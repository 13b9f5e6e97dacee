# JAK Portal: the two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check lock clean-venv bench

# The development venv gets the test set (requirements/test.txt: runtime and test packages, every one pinned with
# its hashes); a production install takes requirements/prod.txt only (README "Deploying").
$(STAMP): pyproject.toml requirements/test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/test.txt
	touch $(STAMP)

# Sets everything up (SQLite under var/, demo data) and serves on 127.0.0.1:$(PORT).
run: export PORTAL_DEMO ?= 1
run: $(STAMP)
	mkdir -p var
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py setup_demo
	@echo "JAK Portal on http://127.0.0.1:$(PORT)/  (demo accounts: demo-derm, demo-nurse, demo-admin; password jak-demo-2026)"
	@echo "Job worker (reminders, escalations; the demo prints its emails there): var/worker.log"
	@$(PY) manage.py db_worker >var/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT) --noreload

# Runs the whole suite; DATABASE_URL picks the database (SQLite by default).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmark (README "Benchmark"): installs wrk with apt-get when missing (as root, else through `sudo -n`, which
# never prompts), starts PostgreSQL, builds or reuses the synthetic bench clinic, serves it with gunicorn and
# measures the main pages with wrk. SIZE=small (1,000 patients) or BENCH_PATIENTS=N; report in
# bench/report/REPORT.md. One page's profile: bench/profile_page.py (not run here).
WRK_HELP := wrk is not installed and could not be installed here: install it (Debian/Ubuntu: sudo apt-get install \
	wrk) or put a wrk binary on PATH, then run make bench again.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then as_root=""; \
		elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root="sudo -n"; \
		else echo "make bench: $(WRK_HELP)" >&2; exit 1; fi; \
		command -v apt-get >/dev/null 2>&1 || { echo "make bench: no apt-get. $(WRK_HELP)" >&2; exit 1; }; \
		echo "make bench: installing wrk with $${as_root:+$$as_root }apt-get" >&2; \
		$$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null && \
		command -v wrk >/dev/null 2>&1 || { echo "make bench: apt-get did not install wrk. $(WRK_HELP)" >&2; exit 1; }; }
	@pg_base=$$(bash scripts/pg_start.sh jak_bench jak_bench jak_bench_tiny) && \
	DATABASE_URL="$$pg_base/jak_bench" BENCH_TINY_DATABASE_URL="$$pg_base/jak_bench_tiny" \
	SIZE="$(SIZE)" BENCH_PATIENTS="$(BENCH_PATIENTS)" $(PY) bench/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with the django-stubs plugin over the product code (settings: tests.settings; see [tool.mypy]).
typecheck: $(STAMP)
	$(VENV)/bin/mypy .

# The fast checks, in seconds: lint, format, the import contracts, types, and no model change without a migration.
check: lint typecheck
	$(VENV)/bin/lint-imports
	PORTAL_DEMO=1 $(PY) manage.py makemigrations --check --dry-run

# Regenerates the two hash-locked sets with uv (pinned below, installed into var/lock-venv on first use):
# requirements/prod.txt from the runtime dependencies of pyproject.toml, requirements/test.txt from runtime + test,
# constrained to the production versions. uv keeps the versions already in the files unless pyproject.toml changes
# a pin (UPGRADE=--upgrade takes the newest allowed). Universal: one resolution for every platform, with markers.
LOCK_VENV := var/lock-venv
UV_VERSION := 0.13.8
UV_COMPILE = $(LOCK_VENV)/bin/uv pip compile pyproject.toml --universal --generate-hashes --quiet \
	--custom-compile-command "make lock" $(UPGRADE)
lock:
	test -x $(LOCK_VENV)/bin/uv || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); }
	$(UV_COMPILE) -o requirements/prod.txt
	$(UV_COMPILE) --extra test -c requirements/prod.txt -o requirements/test.txt

clean-venv:
	rm -rf $(VENV)
