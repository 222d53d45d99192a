"""Benchmark (not a test): the data API's latency and throughput on one series at a time.

    .venv/bin/python -m benchmarks.api --home DIR [--seconds 10] [--clients 8]

Serves ``DIR``'s current snapshot as ``observatory api`` does (uvicorn in its own process, the
rate limit lifted), or first publishes ``DIR/warehouse.duckdb`` as a snapshot when ``DIR`` has
none (the large history of ``benchmarks.build_large``). Then, over kept-alive connections:

* latency: one-series queries one after another (an indicator, an area, one frequency, totals;
  picked at random from what the snapshot holds), median and 95th percentile;
* throughput: ``--clients`` threads asking such queries for ``--seconds``: answers per second.

The client runs on the same machine as the server (2 cores here): both figures include its cost.
Nothing is asserted; ``make bench`` (``benchmarks.run``) prints them beside their targets.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[1]
P95_TARGET_MS = 100
THROUGHPUT_TARGET = 200


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_snapshot(home: Path) -> Path:
    """The home's current snapshot, publishing its warehouse first when there is none."""
    from pipelines.lib.publish import current_snapshot, publish_snapshot
    from pipelines.lib.warehouse import connect_writer
    from pipelines.settings import Settings

    settings = Settings(home=home)
    snapshot = current_snapshot(settings)
    if snapshot is None:
        con = connect_writer(settings.warehouse_path)
        try:
            publish_snapshot(con, settings)
        finally:
            con.close()
        snapshot = current_snapshot(settings)
    return snapshot


def series_queries(snapshot: Path, n: int = 400, seed: int = 7) -> list[str]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        pairs = con.execute(
            "select distinct indicator_code, ref_area, freq from marts.indicator_values_published "
            "where sex = '_T' and age = '_T' and exploitation_form = '_T' and (ref_area = 'REG' "
            "or ref_area in (select iso3 from marts.dim_country where member))").fetchall()
    rng = random.Random(seed)
    return [f"/api/v1/values?indicator={i}&ref_area={a}&freq={f}&sex=_T&age=_T"
            f"&exploitation_form=_T" for i, a, f in (rng.choice(pairs) for _ in range(n))]


def _get(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    response.read()
    return response.status


def measure(home: Path, seconds: float = 10.0, clients: int = 8, workers: int = 1) -> dict:
    snapshot = ensure_snapshot(home)
    queries = series_queries(snapshot)
    port = _free_port()
    env = {**os.environ, "OBSERVATORY_HOME": str(home), "OBSERVATORY_API_RATE": "100000000"}
    server = subprocess.Popen([sys.executable, "-m", "api", "--port", str(port),
                               "--workers", str(workers)], cwd=REPO_ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if _get(conn, "/api/v1/areas") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the API did not start")
            time.sleep(0.2)
        for path in queries[:20]:  # warm: the snapshot opened, the first plans made
            _get(conn, path)
        latencies, failures = [], 0
        for path in queries[:200]:
            started = time.perf_counter()
            failures += _get(conn, path) != 200
            latencies.append((time.perf_counter() - started) * 1000)
        conn.close()
        counts = [0] * clients
        stop = time.monotonic() + seconds

        def client(k: int) -> None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            i = k
            while time.monotonic() < stop:
                if _get(c, queries[i % len(queries)]) == 200:
                    counts[k] += 1
                i += clients
            c.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        started = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=20)
    latencies.sort()
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute("select count(*) from marts.indicator_values_published").fetchone()[0]
    return {"published_rows": rows, "median_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[int(0.95 * len(latencies)) - 1], 1),
            "failures": failures, "clients": clients, "workers": workers,
            "queries_per_s": round(sum(counts) / elapsed, 1),
            "loadavg": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="API processes (observatory api --workers)")
    args = parser.parse_args()
    print(json.dumps(measure(args.home, args.seconds, args.clients, args.workers), indent=2))


if __name__ == "__main__":
    main()
