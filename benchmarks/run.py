"""Pipeline benchmark: how long until new data is published (``python -m benchmarks.run``).

Everything runs in a fresh temporary ``$OBSERVATORY_HOME`` (``OBSERVATORY_TODAY`` pinned to
2026-11-28 unless already set), in this order:

1. the demo files are written and loaded in ONE submission run (as ``observatory demo`` does);
2. ``observatory submit FILE`` is run as a subprocess on three single country-quarter files
   (a new version of an existing unit each time: one coordination count changed);
3. the orchestrator is started as ``make run`` starts it (the code server, the Dagster daemon and
   the operator UI); three such files are dropped atomically into ``landing/`` and the time until
   ``serving/CURRENT`` names a new snapshot is measured;
4. each run is broken down from the Dagster instance (sensor tick, run queue and launch, steps);
4b. ``benchmarks.upload``: the served upload page in headless Chromium, over the same home: a
   full country-quarter template, upload → report on screen (``--repeat`` times), and the
   streamlit server's peak memory while hostile files are refused.

Before those, the intake throughput on a 10^6-row long file against DuckDB's raw read of the same
file (``benchmarks.intake_throughput``; ``--skip-throughput``). After them, unless
``--skip-large``, the large-history benchmarks over ONE synthetic history (``--quarters``, default
40) built once in ``<home>/large`` and reused, each through its module's own functions:

5. ``benchmarks.build_large``: the raw history, the full ``dbt build`` (wall, CPU, peak memory of
   the dbt process: its ``ru_maxrss`` from ``os.wait4``), then the build after one new
   country-quarter;
6. ``benchmarks.export_large``: everything in every format, in a fresh process (wall, CPU, its
   peak memory); ``benchmarks.api``: the data API's one-series latency and throughput;
7. ``benchmarks.dashboard``: the served app in headless Chromium, ``--repeat`` samples (first
   chart cold / new session / warm, interactions); its per-page table is printed by it and
   written to ``test-artifacts/dashboard_bench.json``.

Every part runs even when an earlier one failed (the large ones need the build's warehouse); a
failure is a row of the table and an entry of ``errors``. Nothing is asserted: the figures are
printed as one table (figure, value, target) and written to ``test-artifacts/bench.json``. Exit
code 0 when every part completed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACT_PATH = REPO_ROOT / "test-artifacts" / "bench.json"
DEFAULT_TODAY = "2026-11-28"
REPETITIONS = 3
BENCH_MEMBER = "GTM"  # sends the XLSX template, like most members
DROP_TARGET = "< 15 s"
BUILD_TARGET_S = 120.0
BUILD_MEMORY_TARGET_GB = 4.0
EXPORT_TARGET_S = 30.0
DEFAULT_QUARTERS = 40
DEFAULT_REPEAT = 3
DROP_TIMEOUT = 180.0  # seconds from a drop to the new snapshot
RUN_END_TIMEOUT = 60.0  # seconds from the new snapshot to the end of its run
TICK_TIMEOUT = 60.0  # seconds for the sensor's first tick once the server answers
CLI_TIMEOUT = 300.0
POLL_SECONDS = 0.1
LOG_TAIL_LINES = 60
STEPS = ("intake", "dbt_models", "serving_snapshot")
CHANNEL_TAG = "observatory/channel"


class BenchError(RuntimeError):
    """A measurement could not be completed; the message says why."""


# --------------------------------------------------------------------------------------------
# Set-up


def prepare_environment(home: Path) -> dict[str, str]:
    """Point this process (and the returned environment, for subprocesses) at ``home``."""
    os.environ["OBSERVATORY_HOME"] = str(home)
    os.environ.setdefault("OBSERVATORY_TODAY", DEFAULT_TODAY)
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    from pipelines.lib.dagster_home import prepare_dagster_home
    from pipelines.settings import get_settings

    settings = get_settings()
    settings.ensure_dirs()
    prepare_dagster_home(settings)  # sets DAGSTER_HOME=<home>/dagster
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(settings.dagster_home)
    return env


def executable(name: str) -> str:
    """A console script of this virtual environment (``.venv/bin/<name>``)."""
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        raise BenchError(f"{path} not found: run `make setup` first")
    return str(path)


def bench_quarter():
    from pipelines.lib.periods import Quarter
    from pipelines.settings import get_settings

    return Quarter.last_complete(get_settings().today)


_CHANGES = itertools.count(1)


def write_unit_file(path: Path, label: str) -> Path:
    """One member × quarter file in that member's own format, with other figures (a new version
    of units the demo already holds: a file whose figures are the same makes none)."""
    from pipelines.lib.demo import demo_rows, file_format
    from pipelines.lib.template import write_csv, write_xlsx

    quarter = bench_quarter()
    data = demo_rows(BENCH_MEMBER, quarter)
    data["TIP_VICTIMS"][0]["comment"] = f"Benchmark {label} {time.time_ns()}"
    # Coordination counts have no total beside them: one can change and stay valid.
    row = next((r for r in data["COORDINATION"] if r["indicator"] == "JOINT_INVESTIGATIONS"),
               data["COORDINATION"][0])
    row["value"] = int(row["value"]) + next(_CHANGES)  # never a value an earlier file had
    fmt = file_format(BENCH_MEMBER, quarter)
    if fmt.ext == "xlsx":
        write_xlsx(path, data, lang=fmt.lang)
    else:
        rows = [row for rows in data.values() for row in rows]
        write_csv(path, rows, encoding=fmt.encoding, delimiter=fmt.delimiter, bom=fmt.bom)
    return path


def unit_file_name(label: str) -> str:
    from pipelines.lib.demo import file_format

    quarter = bench_quarter()
    return f"{BENCH_MEMBER}_{quarter}_{label}.{file_format(BENCH_MEMBER, quarter).ext}"


def read_pointer(serving_dir: Path) -> str | None:
    try:
        return (serving_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


# --------------------------------------------------------------------------------------------
# The Dagster instance: runs, events, sensor ticks


def latest_run(instance, channel: str, created_after: float | None = None):
    """The newest run record tagged with ``channel`` (created after the given epoch time)."""
    from dagster import RunsFilter

    records = instance.get_run_records(filters=RunsFilter(tags={CHANNEL_TAG: channel}), limit=1)
    if not records:
        return None
    record = records[0]
    if created_after is not None and record.create_timestamp.timestamp() < created_after:
        return None
    return record


def run_errors(instance, run_id: str) -> list[str]:
    """Error messages of a run's failure events (for a readable report)."""
    messages = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.is_failure:
            continue
        data = event.event_specific_data
        error = getattr(data, "error", None)
        text = error.to_string() if error is not None else (entry.user_message or "")
        messages.append(f"{event.event_type_value} {entry.step_key or ''}: {text.strip()[:2000]}")
    return messages or ["(no failure event recorded)"]


def find_tick(instance, run_id: str, after: float):
    """The landing sensor's tick that requested ``run_id``, if it can be found."""
    from dagster._core.scheduler.instigation import InstigatorType as Type

    for state in instance.all_instigator_state(instigator_type=Type.SENSOR):
        if state.instigator_name != "landing_sensor":
            continue
        for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id,
                                       after=after - 5, limit=200):
            if run_id in (tick.run_ids or []):
                return tick
    return None


def first_tick_after(instance, after: float):
    from dagster._core.scheduler.instigation import InstigatorType

    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.instigator_name != "landing_sensor":
            continue
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, after=after,
                                   limit=1)
        if ticks:
            return ticks[0]
    return None


def _epoch(iso_utc: str) -> float:
    return dt.datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).timestamp()


def dbt_phases(run_id: str, step_start: float | None, launched: float | None,
               step_end: float | None) -> list[tuple[str, float]]:
    """Inside the dbt_models step, from dbt's own JSON log of the run (cheap, best effort)."""
    from pipelines.lib.dbt import TARGET_DIR

    logs = sorted(TARGET_DIR.glob(f"dbt_models-{run_id[:7]}-*/dbt.log"))
    if not logs or step_start is None:
        return []
    marks: dict[str, float] = {}
    reparse = ""
    try:
        with logs[-1].open(encoding="utf-8") as handle:
            for line in handle:
                info = json.loads(line).get("info", {})
                ts, code, msg = _epoch(info["ts"]), info.get("code"), info.get("msg", "")
                marks.setdefault("first", ts)
                if code == "I024":  # UnableToPartialParse
                    reason = msg.removeprefix("Unable to do partial parsing because ")
                    reparse = f"full parse: {reason}"
                elif code == "W006":  # FoundStats: parsing done
                    marks["parsed"] = ts
                elif msg.startswith("Finished running "):
                    marks["executed"] = ts
    except (OSError, ValueError, KeyError):
        return []
    phases = []

    def add(label: str, start: float | None, end: float | None) -> None:
        if start is not None and end is not None:
            phases.append((label, round(end - start, 3)))

    add("    dbt_models: before launching dbt (dagster-dbt runs `dbt --version`)",
        step_start, launched)
    add("    dbt_models: dbt process start-up", launched, marks.get("first"))
    add(f"    dbt_models: dbt parse ({reparse or 'partial parse'})", marks.get("first"),
        marks.get("parsed"))
    add("    dbt_models: dbt runs the models and tests", marks.get("parsed"), marks.get("executed"))
    add("    dbt_models: dbt exit, last events", marks.get("executed"), step_end)
    return phases


def run_breakdown(instance, record, dropped_at: float | None = None,
                  snapshot_seen_at: float | None = None) -> dict:
    """Where the time of one run went, in seconds, as an ordered list of phases."""
    from dagster import DagsterEventType as E

    run_id = record.dagster_run.run_id
    created = record.create_timestamp.timestamp()
    first: dict[str, float] = {}
    steps: dict[str, dict] = {}
    process_started = dbt_launched = None
    for entry in instance.all_logs(run_id):
        kind = entry.dagster_event_type
        message = entry.user_message or ""
        if kind is None:
            if entry.step_key == "dbt_models" and message.startswith("Running dbt command"):
                dbt_launched = entry.timestamp
            continue
        first.setdefault(kind.value, entry.timestamp)
        if kind == E.ENGINE_EVENT and process_started is None and (
                entry.dagster_event.message or "").startswith("Started process for run"):
            process_started = entry.timestamp
        elif kind == E.STEP_START:
            steps.setdefault(entry.step_key, {})["start"] = entry.timestamp
        elif kind in (E.STEP_SUCCESS, E.STEP_FAILURE):
            steps.setdefault(entry.step_key, {})["end"] = entry.timestamp
            steps[entry.step_key]["status"] = kind.value
    phases: list[tuple[str, float]] = []

    def add(label: str, start: float | None, end: float | None) -> None:
        if start is not None and end is not None:
            phases.append((label, round(end - start, 3)))

    tick = None
    if dropped_at is not None:
        tick = find_tick(instance, run_id, dropped_at)
        if tick is not None:
            add("drop → sensor tick (settle 1 s + tick interval)", dropped_at, tick.timestamp)
            add("sensor tick → run created", tick.timestamp, created)
        else:
            add("drop → run created (settle + sensor tick)", dropped_at, created)
    run_start = first.get(E.RUN_START.value)
    starting = first.get(E.RUN_STARTING.value)
    if starting is not None:  # launched by the daemon: queued, then a new process
        add("run created → dequeued (run queue daemon)", created, starting)
        if process_started is not None:
            add("dequeued → run process up (new python, dagster import)", starting,
                process_started)
            add("run process → run started (imports, load code)", process_started, run_start)
        else:
            add("dequeued → run started (new process, load code)", starting, run_start)
    else:
        add("run created → run started", created, run_start)
    ordered = sorted((s for s in steps.items() if "start" in s[1]), key=lambda s: s[1]["start"])
    if ordered:
        add("run started → first step", run_start, ordered[0][1]["start"])
    previous_end = None
    gaps = 0.0
    for key, step in ordered:
        if previous_end is not None:
            gaps += step["start"] - previous_end
        add(f"step {key}", step["start"], step.get("end"))
        if key == "dbt_models":
            phases.extend(dbt_phases(run_id, step["start"], dbt_launched, step.get("end")))
        previous_end = step.get("end", previous_end)
    if len(ordered) > 1:
        phases.append(("between steps", round(gaps, 3)))
    run_end = first.get(E.RUN_SUCCESS.value) or first.get(E.RUN_FAILURE.value)
    if ordered and previous_end is not None:
        add("last step → run end", previous_end, run_end)
    if dropped_at is not None and snapshot_seen_at is not None:
        publish_end = steps.get("serving_snapshot", {}).get("end")
        add("serving_snapshot step end → CURRENT seen (poll)", publish_end, snapshot_seen_at)
    status = record.dagster_run.status.value
    return {
        "run_id": run_id,
        "status": status,
        "created": created,
        "tick_timestamp": tick.timestamp if tick is not None else None,
        "run_total_s": round(run_end - created, 3) if run_end else None,
        "steps": {k: {"seconds": round(v["end"] - v["start"], 3) if "end" in v else None,
                      "status": v.get("status")} for k, v in steps.items()},
        "phases": phases,
    }


# --------------------------------------------------------------------------------------------
# 1. Demo load


@contextlib.contextmanager
def stdout_to(path: Path):
    """Send this process's standard output (file descriptor 1, so subprocesses too) to path."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with path.open("ab") as log:
            os.dup2(log.fileno(), 1)
            try:
                yield
            finally:
                sys.stdout.flush()
                os.dup2(saved, 1)
    finally:
        os.close(saved)


def bench_demo_load(results: dict) -> None:
    from dagster import DagsterInstance

    from pipelines.cli import run_submission
    from pipelines.lib.demo import generate_demo
    from pipelines.settings import get_settings

    settings = get_settings()
    started = time.perf_counter()
    files = generate_demo(settings.home / "demo_files", settings.today)
    written = time.perf_counter() - started
    print(f"[demo] {len(files)} files written in {written:.1f} s; loading them in one run ...",
          flush=True)
    log_path = settings.home / "demo_load.log"
    started = time.perf_counter()
    with stdout_to(log_path):  # dbt's console output of the in-process run
        code = run_submission(settings, [f.path for f in files], lang="en", channel="demo",
                              actor="demo-generator", received_on=[f.received_on for f in files],
                              quiet=True)
    elapsed = time.perf_counter() - started
    with DagsterInstance.get() as instance:
        record = latest_run(instance, "demo")
        breakdown = run_breakdown(instance, record) if record else None
        if code not in (0, 1):  # the demo holds one file that must be rejected: 1 is expected
            errors = run_errors(instance, record.dagster_run.run_id) if record else []
            raise BenchError(f"demo load failed (exit code {code}):\n" + "\n".join(errors))
    results["demo_load"] = {"files": len(files), "write_s": round(written, 3),
                            "load_s": round(elapsed, 3), "exit_code": code,
                            "breakdown": breakdown}
    print(f"[demo] demo load: {len(files)} files in {elapsed:.1f} s (exit code {code})", flush=True)


def bench_disclosure(results: dict) -> None:
    """The disclosure audit of the demo as published (every member as an insider too; the gate's
    default, block mode, hid cells until it passed), with the gate's time on the demo's first
    build: hidden shares per family, member and level (the 8-quarter designs compare them with
    dbt's rules alone)."""
    import duckdb

    from benchmarks.disclosure_audit import measure
    from pipelines.settings import get_settings

    settings = get_settings()
    measured = measure(settings, insiders=True,
                       log=lambda line: print(f"[disclosure] {line}", flush=True))
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        gates = con.execute("select seconds, rounds, repairs_added from disclosure.audits "
                            "order by audited_at").fetchall()
    finally:
        con.close()
    measured["gate_s"], measured["gate_rounds"], measured["repairs"] = (
        round(gates[0][0], 1), gates[0][1], gates[0][2]) if gates else (None, None, None)
    results["disclosure"] = measured
    print(f"[disclosure] {measured['cells']} cells, {measured['hidden']} hidden, "
          f"{measured['failing']} failing ({measured['unexamined']} of them unexamined: no "
          f"exact interval within the audit's limit); audit {measured['audit_s']} s; the first build's "
          f"gate {measured['gate_s']} s in {measured['gate_rounds']} rounds", flush=True)
    for axis in ("family", "member", "level"):
        before = measured["hidden_share_before"][axis]
        after = measured.get("hidden_share_after", {}).get(axis, {})
        print(f"[disclosure] hidden % by {axis}: " + ", ".join(
            f"{key} {share}" + (f" → {after[key]}" if key in after else "")
            for key, share in before.items()), flush=True)


def level_row(levels: dict[str, float]) -> tuple[str, str, str]:
    """A table row: the share of count cells hidden at each level a reader cares about."""
    keys = ("region_total", "region_detail", "annual_total", "quarterly_total", "detail")
    return ("  hidden % (region totals / region breakdowns / members' annual totals / quarterly "
            "totals / detail)", " / ".join(str(levels.get(k, "-")) for k in keys), "-")


def bench_small_series(results: dict, work: Path) -> None:
    """The two publication designs for small series on the demo's first 8 quarters (8 members x
    8 quarters, the size of the disclosure issue's test set), and the default design through
    the gate's block mode, each in a home of its own: cells hidden per family, member and level,
    what an outsider's audit finds, and the gate's time (the full demo in the annual design takes
    a quarter of an hour to audit with every insider; README)."""
    import duckdb

    from benchmarks.disclosure_audit import hidden_shares
    from pipelines.lib.disclosure.audit import audit
    from pipelines.lib.disclosure.gate import min_count
    from pipelines.lib.disclosure.relations import build_system

    out = {}
    for design, gate in (("quarterly", "record"), ("annual", "record"), ("quarterly", "block")):
        name = design if gate == "record" else f"{design}_{gate}"
        home = work / f"small_series_{name}"
        env = {**os.environ, "OBSERVATORY_HOME": str(home), "OBSERVATORY_TODAY": "2021-01-15",
               "OBSERVATORY_DISCLOSURE_SMALL_SERIES": design, "OBSERVATORY_DISCLOSURE_GATE": gate}
        env.pop("DAGSTER_HOME", None)
        subprocess.run([executable("observatory"), "--lang", "en", "demo"], env=env, cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=3600)
        con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        try:
            system, _ = build_system(con, min_count())
            # The build that loads the quarters, then the demo's later builds (plan, policy
            # framework), which start from its repairs.
            gates = con.execute(
                "select seconds, rounds from disclosure.audits order by audited_at").fetchall()
            gate_s, gate_rounds = gates[0]
            later_s = round(max((g[0] for g in gates[1:]), default=0.0), 1)
        finally:
            con.close()
        result = audit(system, min_count(), exact_limit=20)
        out[name] = {"cells": result.cells, "hidden": result.hidden, "failing": result.failing,
                     "audit_s": round(result.seconds, 1), "gate_s": round(gate_s, 1),
                     "gate_rounds": gate_rounds, "later_gate_s": later_s,
                     "hidden_share": hidden_shares(system, system.status)}
        print(f"[small series] {name}: {result.hidden:,} of {result.cells:,} cells hidden, "
              f"{result.failing:,} failing for an outsider (audit {result.seconds:.1f} s; the "
              f"first build's gate {gate_s:.1f} s in {gate_rounds} rounds, later builds' at most "
              f"{later_s} s)", flush=True)
        for axis in ("family", "member", "level"):
            print(f"[small series] {name} hidden % by {axis}: " + ", ".join(
                f"{key} {share}" for key, share in out[name]["hidden_share"][axis].items()),
                flush=True)
    results["small_series"] = out


# --------------------------------------------------------------------------------------------
# 2. observatory submit FILE


def bench_cli_submit(env: dict[str, str], results: dict) -> None:
    from dagster import DagsterInstance

    from pipelines.settings import get_settings

    settings = get_settings()
    folder = settings.home / "bench_files"
    folder.mkdir(exist_ok=True)
    observatory = executable("observatory")
    seconds, breakdowns = [], []
    for i in range(1, REPETITIONS + 1):
        path = write_unit_file(folder / unit_file_name(f"cli{i}"), f"cli {i}")
        before = read_pointer(settings.serving_dir)
        created_after = time.time()
        started = time.perf_counter()
        proc = subprocess.run([observatory, "--lang", "en", "submit", str(path)], env=env,
                              cwd=REPO_ROOT, capture_output=True, text=True, timeout=CLI_TIMEOUT)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise BenchError(f"`observatory submit {path.name}` exited {proc.returncode}:\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        if read_pointer(settings.serving_dir) == before:
            raise BenchError(f"`observatory submit {path.name}` published no new snapshot")
        with DagsterInstance.get() as instance:
            record = latest_run(instance, "cli", created_after)
            breakdown = run_breakdown(instance, record) if record else None
        if breakdown is not None and breakdown["run_total_s"] is not None:
            breakdown["phases"].insert(0, (
                "process start → run created (imports, definitions)",
                round(record.create_timestamp.timestamp() - created_after, 3)))
        seconds.append(round(elapsed, 3))
        breakdowns.append(breakdown)
        print(f"[cli] observatory submit {path.name}: {elapsed:.1f} s", flush=True)
    results["cli_submit"] = {"seconds": seconds, "median_s": statistics.median(seconds),
                             "breakdowns": breakdowns}


# --------------------------------------------------------------------------------------------
# 2b. What a fresh process pays before its first file (every `observatory submit` without an
#     orchestrator; the orchestrator's runs are forked from its warm fork server instead)

IMPORT_PROBE = """
import json, time
t = time.perf_counter()
import pipelines.definitions  # noqa: F401  (dagster, dagster-dbt, the dbt manifest)
t1 = time.perf_counter()
from pipelines.lib.gx_suite import _validator
_validator()  # Great Expectations: imported and set up at the first file a process validates
t2 = time.perf_counter()
print(json.dumps({"import_definitions_s": round(t1 - t, 3), "gx_setup_s": round(t2 - t1, 3)}))
"""


def bench_import_costs(env: dict[str, str], results: dict) -> None:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", IMPORT_PROBE], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)
    wall = time.perf_counter() - started
    try:
        costs = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        print(f"[imports] probe failed (exit {proc.returncode}): {proc.stderr[-1500:]}",
              flush=True)
        return
    costs["process_wall_s"] = round(wall, 3)
    results["fresh_process"] = costs
    print(f"[imports] fresh process: import pipelines.definitions "
          f"{costs['import_definitions_s']:.1f} s, Great Expectations set-up "
          f"{costs['gx_setup_s']:.1f} s", flush=True)


# --------------------------------------------------------------------------------------------
# 3. The orchestrator: drop → snapshot


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class Orchestrator:
    """The orchestrator as ``make run`` starts it (``tests.served.orchestrating``: the code
    server, the daemon and the operator UI), its output in a log file."""

    def __init__(self, env: dict[str, str], log_path: Path):
        from tests.served import ORCHESTRATORS, orchestrating

        self.log_path = log_path
        self._running = orchestrating(Path(env["OBSERVATORY_HOME"]), log_path, env)
        self.url = self._running.__enter__()
        self.processes = ORCHESTRATORS[self.url]

    def check_alive(self) -> None:
        for process in self.processes:
            code = process.poll()
            if code is not None:
                raise BenchError(f"{process.args[:3]} exited with code {code}; the log "
                                 f"({self.log_path}) ends with:\n{log_tail(self.log_path)}")

    def stop(self) -> None:
        """Stops every process (never raises)."""
        try:
            self._running.__exit__(None, None, None)
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the real error
            print(f"[dagster] could not stop the orchestrator cleanly: {exc!r}", flush=True)


def wait_for_first_tick(dev: Orchestrator, instance, since: float) -> float | None:
    """Epoch time of the landing sensor's first tick after ``since`` (None: none seen)."""
    deadline = time.monotonic() + TICK_TIMEOUT
    while time.monotonic() < deadline:
        dev.check_alive()
        try:
            tick = first_tick_after(instance, since)
        except Exception as exc:  # noqa: BLE001 - fall back to waiting a fixed time
            print(f"[dagster] cannot read sensor ticks ({exc!r}); waiting 10 s", flush=True)
            time.sleep(10)
            return None
        if tick is not None:
            return tick.timestamp
        time.sleep(0.5)
    raise BenchError(f"the landing sensor did not tick within {TICK_TIMEOUT:.0f} s of the server "
                     f"answering; log tail:\n{log_tail(dev.log_path)}")


def drop_once(dev: Orchestrator, instance, label: str) -> tuple[float, dict]:
    """Drop one file atomically into landing/; seconds until CURRENT changes, and the run."""
    from dagster import DagsterRunStatus

    from pipelines.settings import get_settings

    settings = get_settings()
    name = unit_file_name(label)
    temporary = settings.landing_dir / f".{name}"
    write_unit_file(temporary, label)
    before = read_pointer(settings.serving_dir)
    dropped_at = time.time()
    started = time.perf_counter()
    os.rename(temporary, settings.landing_dir / name)
    next_run_check = 0.0
    while True:
        now = time.perf_counter()
        if read_pointer(settings.serving_dir) not in (None, before):
            break
        dev.check_alive()
        if now >= next_run_check:  # a failed run will never publish: report it at once
            next_run_check = now + 1.0
            record = latest_run(instance, "landing", dropped_at - 1)
            if record is not None and record.dagster_run.status in (
                    DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
                raise BenchError(f"the run {record.dagster_run.run_id} for {name} "
                                 f"{record.dagster_run.status.value}:\n"
                                 + "\n".join(run_errors(instance, record.dagster_run.run_id)))
        if now - started > DROP_TIMEOUT:
            record = latest_run(instance, "landing", dropped_at - 1)
            state = (f"run {record.dagster_run.run_id} is {record.dagster_run.status.value}"
                     if record else "no run was created")
            left = sorted(p.name for p in settings.landing_dir.iterdir())
            raise BenchError(f"no new snapshot {DROP_TIMEOUT:.0f} s after dropping {name} "
                             f"({state}; landing holds {left}); orchestrator log tail:\n"
                             f"{log_tail(dev.log_path)}")
        time.sleep(POLL_SECONDS)
    elapsed = time.perf_counter() - started
    seen_at = time.time()
    # let the run finish, so the next drop meets an idle pipeline and the breakdown is complete
    deadline = time.monotonic() + RUN_END_TIMEOUT
    while True:
        record = latest_run(instance, "landing", dropped_at - 1)
        if record is not None and record.dagster_run.is_finished:
            break
        dev.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"the run for {name} published a snapshot but did not finish "
                             f"within {RUN_END_TIMEOUT:.0f} s")
        time.sleep(0.2)
    if record.dagster_run.status != DagsterRunStatus.SUCCESS:
        print(f"[drop] run {record.dagster_run.run_id} ended {record.dagster_run.status.value}:\n"
              + "\n".join(run_errors(instance, record.dagster_run.run_id)), flush=True)
    return elapsed, run_breakdown(instance, record, dropped_at, seen_at)


def bench_drops(env: dict[str, str], results: dict) -> None:
    from dagster import DagsterInstance

    from pipelines.settings import get_settings

    settings = get_settings()
    leftovers = [p for p in settings.landing_dir.iterdir()]
    if leftovers:
        raise BenchError(f"the landing folder is not empty: {leftovers}")
    log_path = settings.home / "orchestrator.log"
    started_at = time.time()
    started = time.perf_counter()
    print(f"[dagster] the orchestrator starting (log: {log_path}) ...", flush=True)
    dev = Orchestrator(env, log_path)
    info: dict = {"url": dev.url, "log": str(log_path),
                  "server_answers_s": round(time.perf_counter() - started, 3)}
    results["orchestrator"] = info
    try:
        with DagsterInstance.get() as instance:
            tick_at = wait_for_first_tick(dev, instance, started_at)
            info["first_tick_s"] = round(tick_at - started_at, 3) if tick_at else None
            print(f"[dagster] orchestrator answers after {info['server_answers_s']:.1f} s; "
                  f"first sensor tick after {fmt_s(info['first_tick_s'])}", flush=True)
            seconds, breakdowns = [], []
            for i in range(1, REPETITIONS + 1):
                elapsed, breakdown = drop_once(dev, instance, f"drop{i}")
                seconds.append(round(elapsed, 3))
                breakdowns.append(breakdown)
                print(f"[drop] drop {i} → new snapshot: {elapsed:.1f} s "
                      f"(run {breakdown['status']})", flush=True)
        results["drop_to_snapshot"] = {"seconds": seconds, "median_s": statistics.median(seconds),
                                       "breakdowns": breakdowns}
    finally:
        dev.stop()
        print("[dagster] the orchestrator stopped", flush=True)


# --------------------------------------------------------------------------------------------
# 4b. The upload page, served


def bench_upload_page(results: dict, repeat: int) -> None:
    from benchmarks import upload

    print(f"[upload] the upload page, --repeat {repeat} ...", flush=True)
    out = upload.run(Path(results["observatory_home"]), repeat)
    results["upload_page"] = out
    if "error" in out:
        raise BenchError(out["error"].splitlines()[0])


# --------------------------------------------------------------------------------------------
# 5-7. The large synthetic history: built once, then exported and served


def large_home(results: dict) -> Path:
    return Path(results["observatory_home"]) / "large"


def bench_large_build(results: dict, quarters: int) -> None:
    from benchmarks import build_large

    home = large_home(results)
    home.mkdir(parents=True, exist_ok=True)
    print(f"[large] building {quarters} quarters in {home} ...", flush=True)
    build = build_large.run(home / "warehouse.duckdb", home / "dbt_work", quarters)
    results["large_build"] = build
    if not build["ok"]:
        raise BenchError("dbt build reported failures (its figures are kept; see its output)")


def require_large_history(results: dict) -> Path:
    from benchmarks.export_large import built

    home = large_home(results)
    if not built(home / "warehouse.duckdb"):
        raise BenchError("no built large history (the build failed)")
    return home


def bench_large_export(results: dict) -> None:
    from benchmarks import export_large
    from pipelines.lib.export import FORMATS

    home = require_large_history(results)
    print(f"[large] exporting everything in every format ({', '.join(FORMATS)}) ...", flush=True)
    export = export_large.export_in_child(home, list(FORMATS))
    results["large_export"] = export
    export_large.print_export(export)


def bench_large_api(results: dict) -> None:
    from benchmarks import api

    home = require_large_history(results)
    print("[large] data API: one series at a time, then 8 clients for 10 s ...", flush=True)
    results["large_api"] = api.measure(home)
    print("[large] data API with two worker processes (observatory api --workers 2) ...",
          flush=True)
    results["large_api_2"] = api.measure(home, workers=2)


def bench_large_dashboard(results: dict, repeat: int) -> None:
    from benchmarks import dashboard

    home = require_large_history(results)
    print(f"[large] dashboard, --repeat {repeat} ...", flush=True)
    out = dashboard.run(home, results["large_quarters"], repeat)
    inter = out.get("interactions", {}).get("summary", {})
    results["large_dashboard"] = {
        "details": str(dashboard.ARTIFACT_PATH),
        "repeat": repeat,
        "total_s": out.get("total_s"),
        "snapshot": out.get("snapshot"),
        "first_chart_ms": out.get("first_chart", {}).get("summary_all_pages"),
        "interactions_server_s": {p: by_kind["all but navigation"]["server_s"]
                                  for p, by_kind in inter.items()},
        "failed_samples": sum("error" in x for key in ("first_chart", "interactions")
                              for x in out.get(key, {}).get("samples", [])),
    }
    if "error" in out:
        raise BenchError(out["error"].splitlines()[0])


# --------------------------------------------------------------------------------------------
# Report


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def table_rows(results: dict) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    drops = results.get("drop_to_snapshot")
    if drops:
        rows.append((f"drop → snapshot (median of {len(drops['seconds'])})",
                     fmt_s(drops["median_s"]), DROP_TARGET))
        rows.append(("drop → snapshot, each", " / ".join(fmt_s(s) for s in drops["seconds"]),
                     "-"))
    cli = results.get("cli_submit")
    if cli:
        rows.append((f"observatory submit one file (median of {len(cli['seconds'])})",
                     fmt_s(cli["median_s"]), "-"))
        rows.append(("observatory submit, each", " / ".join(fmt_s(s) for s in cli["seconds"]),
                     "-"))
    throughput = results.get("intake_throughput")
    if throughput:
        rows.append((f"intake read + validate, {throughput['rows']:,} rows "
                     f"(DuckDB raw read {throughput['duckdb_read_s']:.1f} s)",
                     f"{throughput['intake_total_s']:.1f} s = {throughput['ratio']:.1f}× DuckDB",
                     "≤ 3×"))
    demo = results.get("demo_load")
    if demo:
        rows.append((f"demo load ({demo['files']} files, one run)", fmt_s(demo["load_s"]), "-"))
    audit = results.get("disclosure")
    if audit:
        rows.append((f"disclosure audit of the demo ({audit['cells']:,} cells, "
                     f"{len(audit['attackers'])} attackers)", fmt_s(audit["audit_s"]), "-"))
        rows.append(("  hidden cells failing the standard (unexamined: no exact interval "
                     "within the limit)", f"{audit['failing']:,} ({audit['unexamined']:,})", "0"))
        if audit.get("gate_s") is not None:
            rows.append(("  the demo build's gate (repair, dbt rebuild, audits)",
                         f"{fmt_s(audit['gate_s'])} in {audit['gate_rounds']} rounds, "
                         f"{audit['repairs']:,} cells hidden", "≤ 60 s"))
            rows.append(level_row(audit["hidden_share_before"]["level"]))
    for design, measured in results.get("small_series", {}).items():
        rows.append((f"8 members x 8 quarters, {design} design: hidden / failing (outsider)",
                     f"{measured['hidden']:,} / {measured['failing']:,} of {measured['cells']:,} "
                     f"({fmt_s(measured['audit_s'])})", "0 failing"))
        if design.endswith("_block"):
            rows.append(("  its gate: first build / later builds", f"{fmt_s(measured['gate_s'])} "
                         f"in {measured['gate_rounds']} rounds / {fmt_s(measured['later_gate_s'])}",
                         "≤ 60 s"))
            rows.append(level_row(measured["hidden_share"]["level"]))
    dev = results.get("orchestrator", {})
    if dev.get("server_answers_s") is not None:
        rows.append(("orchestrator start → it answers (code server, daemon, operator UI)",
                     fmt_s(dev["server_answers_s"]), "-"))
        rows.append(("orchestrator start → first sensor tick", fmt_s(dev.get("first_tick_s")),
                     "-"))
    fresh = results.get("fresh_process")
    if fresh:
        rows.append(("fresh process: import pipelines.definitions",
                     fmt_s(fresh["import_definitions_s"]), "-"))
        rows.append(("fresh process: Great Expectations set-up (1st file)",
                     fmt_s(fresh["gx_setup_s"]), "-"))
    if results.get("upload_page"):
        from benchmarks.upload import table_rows as upload_rows

        rows.extend(upload_rows(results["upload_page"]))
    rows.extend(large_rows(results))
    for part in results.get("skipped", []):
        rows.append((part, "skipped", "-"))
    for part, message in results.get("errors", {}).items():
        first_line = (message.strip().splitlines() or ["?"])[0]
        rows.append((f"{part}: FAILED", first_line[:100], "-"))
    if drops and drops["breakdowns"]:
        last = drops["breakdowns"][-1]
        rows.append((f"last drop run ({last['run_id'][:8]}, {last['status']}):", "", ""))
        rows.extend((f"  {label}", fmt_s(value), "-") for label, value in last["phases"])
    if cli and cli["breakdowns"] and cli["breakdowns"][-1]:
        last = cli["breakdowns"][-1]
        rows.append((f"last observatory submit run ({last['run_id'][:8]}):", "", ""))
        rows.extend((f"  {label}", fmt_s(value), "-") for label, value in last["phases"])
    if demo and demo.get("breakdown"):
        rows.append(("demo load run steps:", "", ""))
        rows.extend((f"  step {key}", fmt_s(step["seconds"]), "-")
                    for key, step in demo["breakdown"]["steps"].items())
    return rows


def fmt_median_p95(s: dict | None, scale: float = 1.0) -> str:
    """``median / p95 (n)`` of a ``benchmarks.dashboard.summary``, in seconds."""
    if not s or not s.get("n"):
        return "-"
    return f"{s['median'] * scale:.2f} s / {s['p95'] * scale:.2f} s (n={s['n']})"


def large_rows(results: dict) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    build = results.get("large_build")
    if build:
        full, again = build["full_build"], build["rebuild_one_quarter"]
        size = (f"{build['quarters']} quarters, "
                f"{build['raw_rows']['observations']:,} raw observations")
        rows.append((f"full dbt build, large history ({size})",
                     f"{fmt_s(full['wall_s'])} wall, {fmt_s(full['cpu_s'])} CPU"
                     + ("" if full["ok"] else ", dbt FAILED"), f"< {BUILD_TARGET_S / 60:.0f} min"))
        rows.append(("full dbt build: peak memory of the dbt process",
                     f"{full['peak_mb'] / 1024:.2f} GB", f"< {BUILD_MEMORY_TARGET_GB:.0f} GB"))
        rows.append(("dbt build after one new country-quarter",
                     f"{fmt_s(again['wall_s'])} wall, {fmt_s(again['cpu_s'])} CPU, "
                     f"{again['peak_mb'] / 1024:.2f} GB" + ("" if again["ok"] else ", FAILED"),
                     "-"))
    export = results.get("large_export")
    if export:
        rows.append((f"export everything, every format ({export['rows']:,} rows)",
                     f"{fmt_s(export['wall_s'])} wall, {fmt_s(export['cpu_s'])} CPU",
                     f"< {EXPORT_TARGET_S:.0f} s"))
        rows.append(("export: peak memory of its process", f"{export['peak_mb'] / 1024:.2f} GB",
                     "-"))
    served = results.get("large_api")
    if served:
        from benchmarks.api import P95_TARGET_MS, THROUGHPUT_TARGET

        rows.append((f"data API, one series ({served['published_rows']:,} published rows; "
                     "median / p95)", f"{served['median_ms']:.1f} / {served['p95_ms']:.1f} ms",
                     f"p95 <= {P95_TARGET_MS} ms"))
        rows.append((f"data API, {served['clients']} clients on this machine",
                     f"{served['queries_per_s']:.0f} answers/s", f">= {THROUGHPUT_TARGET}/s"))
        two = results.get("large_api_2")
        if two:
            rows.append((f"the same, two API worker processes (p95 {two['p95_ms']:.1f} ms)",
                         f"{two['queries_per_s']:.0f} answers/s", f">= {THROUGHPUT_TARGET}/s"))
    dash = results.get("large_dashboard")
    if dash:
        from benchmarks.dashboard import FIRST_CHART_TARGET_S, INTERACTION_SERVER_TARGET_S

        first = dash.get("first_chart_ms") or {}
        for state in ("cold", "warm"):
            rows.append((f"dashboard first chart, {state}, all pages (median / p95)",
                         fmt_median_p95(first.get(state), 1 / 1000),
                         f"< {FIRST_CHART_TARGET_S:.0f} s"))
        labels = {"first pass": "new queries", "second pass": "cached queries"}
        for pass_name, label in labels.items():
            rows.append((f"dashboard interaction server time, {label} (median / p95)",
                         fmt_median_p95(dash["interactions_server_s"].get(pass_name)),
                         f"< {INTERACTION_SERVER_TARGET_S * 1000:.0f} ms"))
        if dash.get("failed_samples"):
            rows.append(("dashboard samples that failed", str(dash["failed_samples"]), "0"))
    return rows


def print_table(rows: list[tuple[str, str, str]]) -> None:
    header = ("figure", "value", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    line = "-+-".join("-" * w for w in widths)
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()


def write_artifact(results: dict) -> None:
    ARTIFACT_PATH.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT_PATH.write_text(json.dumps(results, indent=2, default=str, ensure_ascii=False),
                             encoding="utf-8")
    print(f"results written to {ARTIFACT_PATH}")


def run_part(results: dict, name: str, bench) -> bool:
    """``bench()``; a failure is recorded in ``results["errors"][name]`` and does not stop the
    other parts. The part's seconds go to ``results["part_s"]``."""
    print(f"\n== {name} ==", flush=True)
    started = time.perf_counter()
    try:
        bench()
        return True
    except BenchError as exc:
        results.setdefault("errors", {})[name] = str(exc)
        print(f"\nPART FAILED ({name}): {exc}", file=sys.stderr, flush=True)
    except Exception as exc:  # noqa: BLE001 - report, keep the other parts
        results.setdefault("errors", {})[name] = f"{exc!r}\n{traceback.format_exc()}"
        print(f"\nPART FAILED ({name}):\n{traceback.format_exc()}", file=sys.stderr, flush=True)
    finally:
        results.setdefault("part_s", {})[name] = round(time.perf_counter() - started, 1)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary OBSERVATORY_HOME (it is kept anyway on failure)")
    parser.add_argument("--skip-throughput", action="store_true",
                        help="skip the 10^6-row intake throughput measurement")
    parser.add_argument("--skip-large", action="store_true",
                        help="skip the large-history benchmarks (dbt build, export, dashboard)")
    parser.add_argument("--quarters", type=int, default=DEFAULT_QUARTERS,
                        help=f"quarters of the large history (default {DEFAULT_QUARTERS})")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT,
                        help="dashboard samples per figure, and template uploads of the upload "
                             f"page (default {DEFAULT_REPEAT})")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="observatory-bench-"))
    results: dict = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "observatory_home": str(home),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(),
                 "platform": platform.platform(), "loadavg_start": os.getloadavg()},
        "args": vars(args),
    }
    began = time.perf_counter()
    env: dict[str, str] = {}

    def set_up() -> None:
        env.update(prepare_environment(home))
        results["today"] = os.environ["OBSERVATORY_TODAY"]
        print(f"OBSERVATORY_HOME={home}  OBSERVATORY_TODAY={results['today']}", flush=True)

    def throughput() -> None:
        from benchmarks.intake_throughput import bench_intake_throughput

        bench_intake_throughput(results, home)

    try:
        if run_part(results, "set-up", set_up):
            if args.skip_throughput:
                results.setdefault("skipped", []).append("intake throughput (--skip-throughput)")
            else:
                run_part(results, "intake throughput", throughput)
            run_part(results, "demo load", lambda: bench_demo_load(results))
            run_part(results, "disclosure audit", lambda: bench_disclosure(results))
            run_part(results, "small series designs",
                     lambda: bench_small_series(results, home))
            run_part(results, "observatory submit", lambda: bench_cli_submit(env, results))
            run_part(results, "fresh process", lambda: bench_import_costs(env, results))
            run_part(results, "drop → snapshot", lambda: bench_drops(env, results))
            run_part(results, "upload page", lambda: bench_upload_page(results, args.repeat))
        if args.skip_large:
            results.setdefault("skipped", []).append(
                "large history: dbt build, export, dashboard (--skip-large)")
        else:
            results["large_quarters"] = args.quarters
            run_part(results, "large: dbt build",
                     lambda: bench_large_build(results, args.quarters))
            run_part(results, "large: export", lambda: bench_large_export(results))
            run_part(results, "large: data API", lambda: bench_large_api(results))
            run_part(results, "large: dashboard",
                     lambda: bench_large_dashboard(results, args.repeat))
    finally:
        ok = not results.get("errors")
        results["host"]["loadavg_end"] = os.getloadavg()
        results["total_s"] = round(time.perf_counter() - began, 3)
        rows = table_rows(results)
        results["table"] = [{"figure": f, "value": v, "target": t} for f, v, t in rows]
        if rows:
            print_table(rows)
        print(f"total benchmark time: {results['total_s']:.0f} s ("
              + ", ".join(f"{k} {v:.0f} s" for k, v in results.get("part_s", {}).items()) + ")")
        print("load average {:.1f} {:.1f} {:.1f} at the start, {:.1f} {:.1f} {:.1f} at the end"
              .format(*results["host"]["loadavg_start"], *results["host"]["loadavg_end"]))
        write_artifact(results)
        if ok and not args.keep:
            shutil.rmtree(home, ignore_errors=True)
        else:
            print(f"the benchmark's OBSERVATORY_HOME is kept: {home}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
