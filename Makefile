# The two commands of the README: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export OBSERVATORY_HOME ?= $(CURDIR)/data
export PATH := $(HOME)/.local/bin:$(PATH)

UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
# Two workers: most of the suite waits on real pipeline processes (dbt, Dagster, Chromium).
# The 15 slowest tests are listed at the end, to see where the suite's time goes.
PYTEST_ARGS ?= -n 2 --no-loadscope-reorder --durations=15

.PHONY: setup run serve test bench soak lint docs clean chromium postgresql nginx translations

setup: .venv/.synced dbt_project/target/manifest.json

# uv from the package index into ~/.local; a Python that refuses user installs (PEP 668, as
# Debian's own python3 does) gets it anyway: uv is a standalone binary and touches nothing else.
$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv \
	  || python3 -m pip install --quiet --user --break-system-packages uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked
	touch $@

# dbt's manifest, prepared once here rather than at every run (Dagster loads assets from it).
dbt_project/target/manifest.json: .venv/.synced $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml
	$(UV) run --locked python -c "from pipelines.lib.dbt import prepare_manifest; prepare_manifest(force=True)"

run: setup
	$(UV) run --locked observatory demo
	bash scripts/serve.sh

serve: setup
	bash scripts/serve.sh

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's PostgreSQL for the test of Dagster's production storage (the test starts its own server).
postgresql:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# Debian's nginx, to serve deploy/nginx/observatory.conf in its test.
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

test: setup chromium postgresql nginx
	$(UV) run --locked pytest $(PYTEST_ARGS)

bench: setup
	$(UV) run --locked python -m benchmarks.run

# The concurrency test at the size the robustness issue asks: 50 submissions built one after
# another while 3 browser sessions, 3 reader threads and 2 reader processes read (about 25 min).
soak: setup chromium
	OBSERVATORY_SOAK_SUBMISSIONS=50 OBSERVATORY_SOAK_BROWSERS=3 \
	  $(UV) run --locked pytest tests/robustness/test_concurrency.py -s -q

# dbt's documentation site as one self-contained page (holds the writer lock while dbt reads).
docs: setup
	mkdir -p $(OBSERVATORY_HOME)
	flock $(OBSERVATORY_HOME)/warehouse.lock env OBSERVATORY_WAREHOUSE=$(OBSERVATORY_HOME)/warehouse.duckdb \
	  $(UV) run --locked observatory-dbt docs generate --static --project-dir dbt_project --profiles-dir dbt_project \
	  --target-path $(CURDIR)/dbt_project/target/docs --log-path $(CURDIR)/dbt_project/logs
	@echo "open dbt_project/target/docs/static_index.html"

# The translation catalogues translators open (gettext .po, one per language), from the locales.
translations: setup
	$(UV) run --locked python -m pipelines.lib.catalogues --lang en export build/translations

lint: setup
	$(UV) run --locked ruff check pipelines dashboards api tests benchmarks

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache
