#!/usr/bin/env bash
# Serve the dashboard (http://localhost:8501), the read-only data API (http://localhost:8000), the
# Dagster code server, the daemon with the landing sensor and the operator UI
# (http://localhost:3000). Ctrl-C stops them all.
set -euo pipefail
set -m  # job control: each server runs in its own process group, which stop() signals as a whole
cd "$(dirname "$0")/.."
export OBSERVATORY_HOME="${OBSERVATORY_HOME:-$PWD/data}"
export DAGSTER_HOME="$OBSERVATORY_HOME/dagster"
bin="$PWD/.venv/bin"
# The home's folders and Dagster's configuration, and an upgrade's migrations, before anything
# serves; a state newer than this code stops here.
"$bin/observatory" migrate

alive() {
  kill -0 -- "-$dagster_pid" 2>/dev/null || kill -0 -- "-$daemon_pid" 2>/dev/null \
    || kill -0 -- "-$streamlit_pid" 2>/dev/null || kill -0 -- "-$api_pid" 2>/dev/null \
    || kill -0 -- "-$code_pid" 2>/dev/null
}
stop() {
  trap - INT TERM EXIT
  # SIGINT is what Ctrl-C would send them: both shut down their own children cleanly on it.
  kill -INT -- "-$dagster_pid" "-$daemon_pid" "-$streamlit_pid" "-$api_pid" 2>/dev/null || true
  kill -INT -- "-$code_pid" 2>/dev/null || true
  for _ in $(seq 1 30); do alive || break; sleep 1; done
  kill -KILL -- "-$dagster_pid" "-$daemon_pid" "-$streamlit_pid" "-$api_pid" "-$code_pid" \
    2>/dev/null || true
  echo "stopped / detenido"
}
# The code server loads the definitions once and starts every run from a warm fork server
# (pipelines/code_server.py); the daemon (the sensor and the queued runs) and the operator UI
# (Dagster's webserver behind a guard that refuses requests from other sites,
# pipelines/operator_ui.py) use it through a socket in the private Dagster home, once it answers.
# All on localhost.
"$bin/python" -m pipelines.code_server &
code_pid=$!
"$bin/streamlit" run dashboards/app.py --server.port "${STREAMLIT_PORT:-8501}" \
  --server.address 127.0.0.1 --server.headless true --browser.gatherUsageStats false &
streamlit_pid=$!
"$bin/python" -m api --host 127.0.0.1 --port "${OBSERVATORY_API_PORT:-8000}" &
api_pid=$!
dagster_pid=$code_pid daemon_pid=$code_pid  # until they start
trap stop INT TERM EXIT
"$bin/python" -m pipelines.code_server --wait || {
  echo "the code server did not start / el servidor de código no arrancó"; exit 1; }
"$bin/dagster-daemon" run -w "$DAGSTER_HOME/workspace.yaml" --log-level warning &
daemon_pid=$!
"$bin/python" -m pipelines.operator_ui --host 127.0.0.1 --port "${DAGSTER_PORT:-3000}" &
dagster_pid=$!

echo "Dashboard: http://localhost:${STREAMLIT_PORT:-8501}   API: http://localhost:${OBSERVATORY_API_PORT:-8000}/api/v1/openapi.json   Dagster: http://localhost:${DAGSTER_PORT:-3000}   (Ctrl-C stops all)"
wait -n || true
