#!/usr/bin/env bash
# Serve the dashboard (http://localhost:8501) and the Dagster UI with its landing sensor
# (http://localhost:3000). Ctrl-C stops both.
set -euo pipefail
set -m  # job control: each server gets its own process group, so signals reach them
cd "$(dirname "$0")/.."
export OBSERVATORY_HOME="${OBSERVATORY_HOME:-$PWD/data}"
export DAGSTER_HOME="$OBSERVATORY_HOME/dagster"
uv run --locked python -c "from pipelines.lib.dagster_home import prepare_dagster_home; from pipelines.settings import get_settings; s=get_settings(); s.ensure_dirs(); prepare_dagster_home(s)"

uv run --locked dagster dev -m pipelines.definitions -h 127.0.0.1 -p "${DAGSTER_PORT:-3000}" &
dagster_pid=$!
uv run --locked streamlit run dashboards/app.py --server.port "${STREAMLIT_PORT:-8501}" \
  --server.address 127.0.0.1 --server.headless true --browser.gatherUsageStats false &
streamlit_pid=$!

stop() {
  trap - INT TERM
  kill -TERM -- "-$streamlit_pid" "-$dagster_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "stopped"
}
trap stop INT TERM
echo "Dashboard: http://localhost:${STREAMLIT_PORT:-8501}   Dagster: http://localhost:${DAGSTER_PORT:-3000}   (Ctrl-C stops both)"
wait -n || true
stop
