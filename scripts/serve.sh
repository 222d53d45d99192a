#!/usr/bin/env bash
# Serve the dashboard (http://localhost:8501) and the Dagster UI with its landing sensor
# (http://localhost:3000). Ctrl-C stops both.
set -euo pipefail
set -m  # job control: each server runs in its own process group, which stop() signals as a whole
cd "$(dirname "$0")/.."
export OBSERVATORY_HOME="${OBSERVATORY_HOME:-$PWD/data}"
export DAGSTER_HOME="$OBSERVATORY_HOME/dagster"
bin="$PWD/.venv/bin"
"$bin/python" -c "from pipelines.lib.dagster_home import prepare_dagster_home; from pipelines.settings import get_settings; s = get_settings(); s.ensure_dirs(); prepare_dagster_home(s)"

"$bin/dagster" dev -m pipelines.definitions -h 127.0.0.1 -p "${DAGSTER_PORT:-3000}" &
dagster_pid=$!
"$bin/streamlit" run dashboards/app.py --server.port "${STREAMLIT_PORT:-8501}" \
  --server.address 127.0.0.1 --server.headless true --browser.gatherUsageStats false &
streamlit_pid=$!

alive() { kill -0 -- "-$dagster_pid" 2>/dev/null || kill -0 -- "-$streamlit_pid" 2>/dev/null; }
stop() {
  trap - INT TERM EXIT
  # SIGINT is what Ctrl-C would send them: both shut down their own children cleanly on it.
  kill -INT -- "-$dagster_pid" "-$streamlit_pid" 2>/dev/null || true
  for _ in $(seq 1 30); do alive || break; sleep 1; done
  kill -KILL -- "-$dagster_pid" "-$streamlit_pid" 2>/dev/null || true
  echo "stopped / detenido"
}
trap stop INT TERM EXIT
echo "Dashboard: http://localhost:${STREAMLIT_PORT:-8501}   Dagster: http://localhost:${DAGSTER_PORT:-3000}   (Ctrl-C stops both)"
wait -n || true
