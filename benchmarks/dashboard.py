"""Dashboard benchmark (not a test): the served app in headless Chromium over the large history.

    .venv/bin/python -m benchmarks.dashboard [--quarters 40] [--home DIR] [--repeat 3] [--keep]

1. The home: ``--home DIR`` is reused as it is when it holds a published snapshot
   (``serving/CURRENT``), published from its ``warehouse.duckdb`` when it has only the warehouse,
   and built there (and kept) when it has neither. Without ``--home`` a temporary home is built
   and removed at the end (``--keep`` keeps it). Building is ``benchmarks.build_large``: every
   country x ``--quarters`` quarters x every breakdown written into the warehouse's raw tables,
   then the pipeline's ``dbt build``; the snapshot is published as the pipeline's publish asset
   does it (``writer_lock``, ``connect_writer``, ``publish.publish_snapshot``).
2. ``streamlit run dashboards/app.py`` over that home (``tests.served.serving``), with
   ``$OBSERVATORY_TIMING_LOG`` set: the app then appends the server time of every script run
   (``ui.log_script_run``) to ``test-artifacts/dashboard_bench_runs.jsonl``.
3. Debian's ``/usr/bin/chromium`` through Playwright, one browser; every session is a fresh
   browser context. Times are taken inside the page (``performance.now()``; a MutationObserver and
   input listeners installed before the app's own scripts), so polling from Python adds nothing.

   * First chart, per analyst page, ``--repeat`` times: from navigation start to the first Plotly
     chart drawn (``.js-plotly-plot .main-svg`` with a size), three ways. **cold**: the first
     session after a new snapshot was published (a byte copy of the current snapshot under a new
     name, the pointer swapped as ``publish`` swaps it), so every query of the page misses the
     cache (the dashboard caches per snapshot path), as for the first reader after each
     submission, in a fresh browser context; **new session**: a fresh context on the same
     snapshot (queries cached server-side; the browser compiles Streamlit's and Plotly's
     JavaScript again); **warm**: that context opens the page again (its HTTP and code caches
     warm; still a new Streamlit session). Also recorded: when the app's shell appeared, the
     script run started and ended (``data-test-script-state``), Plotly's bundle arrived, and the
     server time of the run. The server's very first session (it imports plotly and the rest)
     is recorded apart.
   * Interactions, ``--repeat`` rounds: on a new snapshot, a fresh session runs a fixed sequence
     (trends: frequency, members, indicators, breakdown, language; country: member; sidebar
     navigation to every page) -- the **first pass**, where most queries miss the cache -- then
     a second fresh session repeats it on the same snapshot (**second pass**, queries cached).
     Browser time: from the input event (pointerdown / keydown) to the later of the script run
     being over and the last change inside a chart. Server time: the sum of the script runs the
     action caused (normally one).

Nothing is asserted. A table is printed and everything, samples included, is written to
``test-artifacts/dashboard_bench.json``. The machine is shared: run it more than once.
When ``--home`` is reused, its ``serving/`` gets the benchmark's snapshot copies (the newest
three are kept, as ``publish`` keeps them; their content is the original's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"
ARTIFACT_PATH = ARTIFACTS / "dashboard_bench.json"
RUNS_LOG = ARTIFACTS / "dashboard_bench_runs.jsonl"
SERVER_LOG = ARTIFACTS / "dashboard_bench_streamlit.log"

FIRST_CHART_TARGET_S = 2.0
INTERACTION_SERVER_TARGET_S = 0.3
TIMEOUT_S = 120.0  # one page or one interaction, at most
QUIET_MS = 400  # nothing changed in the page for this long: the rerun is over
POLL_S = 0.05
VIEWPORT = {"width": 1400, "height": 1000}

# The analysts' pages: name -> url path (the victims page is the default page, at "/").
PAGES = {"victims": "", "overview": "overview", "trends": "trends", "country": "country",
         "flows": "flows", "justice": "justice", "smuggling": "smuggling",
         "coordination": "coordination", "quality": "quality"}
NAV_KEYS = {"victims": "dash.victims.nav", **{p: f"dash.nav.{p}" for p in PAGES if p != "victims"}}

# Installed before the app's scripts in every page: when the first chart is drawn, every change of
# the app's script state, the last DOM change in the main area and inside a chart, the first
# input event after ``arm()``. All times are performance.now() (ms since navigation start).
PAGE_PROBE = """
(() => {
  const b = window.__bench = {shell: null, firstChart: null, states: [], lastMain: 0,
                              lastChart: 0, armedAt: 0, input: null};
  const now = () => performance.now();
  const chartDrawn = () => {
    for (const el of document.querySelectorAll('.js-plotly-plot .main-svg')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) return true;
    }
    return false;
  };
  let app = null, state;
  new MutationObserver((records) => {
    const t = now();
    if (b.firstChart === null && chartDrawn()) b.firstChart = t;
    if (!app || !app.isConnected) app = document.querySelector('[data-testid="stApp"]');
    if (app && b.shell === null) b.shell = t;
    if (app) {
      const s = app.getAttribute('data-test-script-state');
      if (s !== state) { b.states.push([s, t]); state = s; }
    }
    for (const r of records) {
      const n = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (!n || !n.closest('[data-testid="stMain"]')) continue;
      b.lastMain = t;
      if (n.closest('.js-plotly-plot')) { b.lastChart = t; break; }
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  for (const type of ['pointerdown', 'keydown']) {
    document.addEventListener(type, () => { if (b.input === null) b.input = now(); }, true);
  }
  b.arm = () => {
    b.armedAt = now(); b.input = null; b.lastChart = 0; b.lastMain = 0;
    b.states = b.states.slice(-1);
    return b.armedAt;
  };
})();
"""
PROBE_STATE = """() => { const b = window.__bench; return b && {now: performance.now(),
  shell: b.shell, firstChart: b.firstChart, states: b.states, lastMain: b.lastMain,
  lastChart: b.lastChart, armedAt: b.armedAt, input: b.input,
  plotlyJs: performance.getEntriesByType('resource').filter(e => e.name.includes('PlotlyChart'))
    .map(e => [e.startTime, e.responseEnd])[0] || null}; }"""


class BenchError(RuntimeError):
    pass


# --- the home: build, publish, a fresh snapshot --------------------------------------------------


def prepare_home(home: Path, quarters: int, info: dict) -> None:
    """Build the large history in ``home`` unless there is one, then publish unless published."""
    from benchmarks import build_large
    from pipelines.lib.publish import current_snapshot
    from pipelines.settings import Settings

    settings = Settings(home=home)
    if current_snapshot(settings) is not None:
        info["reused"] = "snapshot"
        return
    if settings.warehouse_path.exists():
        info["reused"] = "warehouse"
    else:
        built = build_large.build_history(settings.warehouse_path, quarters, home / "dbt_work")
        info["raw_rows"], info["generate_s"] = built["raw_rows"], built["generate_s"]
        info["dbt_build_s"] = round(built["full_build"]["wall_s"], 1)
        info["dbt_ok"] = ok = built["full_build"]["ok"]
        print(f"[home] dbt build {info['dbt_build_s']} s, ok={ok}", flush=True)
        if not ok:  # tests may fail on random counts; the marts are what is measured
            print("[home] dbt build reported failures: measuring what it built", flush=True)
    started = time.perf_counter()
    info["published"] = publish(settings)
    info["publish_s"] = round(time.perf_counter() - started, 1)
    print(f"[home] published {info['published']['snapshot']} in {info['publish_s']} s", flush=True)


def publish(settings) -> dict:
    """What ``pipelines/defs/publish/assets.py`` does."""
    from pipelines.lib.publish import publish_snapshot
    from pipelines.lib.warehouse import connect_writer, writer_lock

    with writer_lock(settings):
        con = connect_writer(settings.warehouse_path)
        try:
            return publish_snapshot(con, settings)
        finally:
            con.close()


def fresh_snapshot(settings) -> str:
    """A byte copy of the current snapshot under a new name, made current as ``publish`` does it
    (temporary pointer, ``os.replace``, the newest three kept): nothing of it is cached yet."""
    from pipelines.lib import publish as pub

    current = pub.current_snapshot(settings)
    name = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f") + ".duckdb"
    shutil.copyfile(current, settings.serving_dir / name)
    pointer_tmp = settings.serving_dir / f".{pub.POINTER}.tmp"
    pointer_tmp.write_text(name, encoding="utf-8")
    os.replace(pointer_tmp, settings.serving_dir / pub.POINTER)
    pub._prune(settings, keep=name)
    return name


def snapshot_facts(settings) -> dict:
    import duckdb

    from pipelines.lib.publish import current_snapshot

    path = current_snapshot(settings)
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0]
                for t in ("indicator_values_published", "flows_victims", "coordination_mirror",
                          "dq_reporting_rates", "dq_unknown_shares", "dq_submission_findings")}
        names = dict(con.execute("select indicator_code, name_en from marts.dim_indicator")
                     .fetchall())
        areas = con.execute("select count(distinct ref_area) from "
                            "marts.indicator_values_published").fetchone()[0]
    finally:
        con.close()
    return {"snapshot_mb": round(path.stat().st_size / 1e6, 1), "rows": rows, "areas": areas,
            "indicator_names_en": names}


# --- the server's timing log ---------------------------------------------------------------------


class RunsLog:
    """``$OBSERVATORY_TIMING_LOG``: one JSON line per script run, written by the app."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")

    def mark(self) -> int:
        return self.path.stat().st_size

    def since(self, mark: int) -> list[dict]:
        with self.path.open("rb") as f:
            f.seek(mark)
            text = f.read().decode("utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- the browser ---------------------------------------------------------------------------------


def probe(page) -> dict:
    return page.evaluate(PROBE_STATE)


def wait_settled(page, runs: RunsLog, mark: int, *, need_chart: bool = False) -> dict:
    """Wait until the rerun(s) after ``arm()`` are over and the page stopped changing; returns the
    probe and the script runs logged since ``mark``. The run counts as started when the browser
    saw the script state leave ``notRunning`` or the server logged a run since ``mark``."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        state = probe(page)
        logged = runs.since(mark)
        states = (state or {}).get("states") or []
        current = states[-1][0] if states else None
        started = logged or any(s in ("running", "rerunRequested") and t >= state["armedAt"]
                                for s, t in states)
        settled = (state and started and current == "notRunning"
                   and state["now"] - max(state["lastMain"], states[-1][1]) >= QUIET_MS
                   and (state["firstChart"] is not None or not need_chart))
        if settled:
            return {"probe": state, "runs": logged}
        if time.monotonic() > deadline:
            raise BenchError(f"no settled page within {TIMEOUT_S:.0f} s (state {current}, "
                             f"{len(logged)} runs logged, url {page.url})")
        time.sleep(POLL_S)


def new_session(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(PAGE_PROBE)
    return context, context.new_page()


def open_page(page, url: str, runs: RunsLog) -> dict:
    """Navigate ``page`` to ``url``: ms from navigation start to the app's shell, the script run
    starting, the Plotly bundle loaded, the first chart drawn and the script run being over; the
    server time of the run(s)."""
    mark = runs.mark()
    wall = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_S * 1000)
    page.wait_for_function("() => window.__bench && window.__bench.firstChart !== null",
                           polling=50, timeout=TIMEOUT_S * 1000)
    wall_s = time.perf_counter() - wall
    done = wait_settled(page, runs, mark, need_chart=True)
    state = done["probe"]
    running = [t for s, t in state["states"] if s == "running"]
    over = [t for s, t in state["states"] if s == "notRunning"]

    def ms(value):
        return None if value is None else round(value, 1)

    return {"first_chart_ms": ms(state["firstChart"]),
            "script_over_ms": ms(over[-1] if over else None),
            "shell_ms": ms(state["shell"]),
            "script_start_ms": ms(running[0] if running else None),
            "plotly_js_loaded_ms": ms(state["plotlyJs"][1] if state["plotlyJs"] else None),
            "playwright_wall_s": round(wall_s, 3),
            "server_s": round(sum(r["seconds"] for r in done["runs"]), 4),
            "server_runs": len(done["runs"])}


def first_chart(browser, url: str, runs: RunsLog) -> dict:
    """``open_page`` in a fresh session (browser context)."""
    context, page = new_session(browser)
    try:
        return open_page(page, url, runs)
    finally:
        context.close()


FIRST_CHART_STATES = ("cold", "new session", "warm")


def page_loads(browser, url: str, runs: RunsLog, settings) -> list[tuple[str, dict]]:
    """One page opened three ways: **cold** (a new snapshot, a fresh browser context), **new
    session** (the same snapshot, so the queries are cached; a fresh context, so the browser
    fetches and compiles the app's and Plotly's JavaScript again) and **warm** (that context
    opens the page once more: browser caches warm too; still a new Streamlit session)."""
    out = []
    fresh_snapshot(settings)
    for state in FIRST_CHART_STATES:
        if state != "warm":
            context, page = new_session(browser)
        try:
            sample = open_page(page, url, runs)
        except Exception as exc:  # noqa: BLE001 - keep the other samples
            sample = {"error": repr(exc)[:500]}
        if state != "new session":
            context.close()
        out.append((state, sample))
    return out


def measured(page, runs: RunsLog, action: Callable[[], None]) -> dict:
    """``action`` (the input that changes something) after ``arm()``; times as in the docstring."""
    page.evaluate("() => window.__bench.arm()")
    mark = runs.mark()
    action()
    done = wait_settled(page, runs, mark)
    state = done["probe"]
    start = state["input"] if state["input"] is not None else state["armedAt"]
    over = [t for s, t in state["states"] if s == "notRunning" and t >= start]
    end = max([*over[-1:], state["lastChart"] if state["lastChart"] >= start else 0])
    return {"browser_ms": round(end - start, 1),
            "server_s": round(sum(r["seconds"] for r in done["runs"]), 4),
            "server_runs": len(done["runs"]),
            "chart_changed": state["lastChart"] >= start}


def interaction_plan(facts: dict) -> list[tuple[str, str, Callable]]:
    """(kind, detail, do(page)) in order; the session starts on the trends page in English with
    the region, victims detected, quarterly (the defaults)."""
    from dashboards import ui
    from pipelines.lib.i18n import t

    names = facts["indicator_names_en"]

    def freq(code: str):
        return lambda page: page.get_by_test_id("stMain").get_by_role(
            "radio", name=t(f"dash.freq.{code}", "en"), exact=True).click()

    def pick(box_label: str, option: str, multi: bool = False):
        def do(page):
            widget = "stMultiSelect" if multi else "stSelectbox"
            # the input, not the box: a click on a chosen chip selects the chip
            page.get_by_test_id(widget).filter(has_text=box_label).locator("input").click()
            page.keyboard.type(option)
            page.evaluate("() => window.__bench.arm()")  # the opening and typing ran nothing
            page.get_by_role("option", name=option, exact=True).click()
        return do

    def language(code: str):
        return lambda page: page.get_by_test_id("stSidebar").get_by_role(
            "radio", name=ui.LANGUAGE_NAMES[code]).click()

    def navigate(name: str):
        return lambda page: page.get_by_test_id("stSidebarNav").get_by_role(
            "link", name=t(NAV_KEYS[name], "en"), exact=True).click()

    indicator = t("dash.trends.indicator", "en")
    areas = t("dash.trends.areas", "en")
    member = t("dash.country.member", "en")
    plan = [
        ("trends: frequency", "R4Q", freq("R4Q")),
        ("trends: frequency", "A", freq("A")),
        ("trends: frequency", "Q", freq("Q")),
        ("trends: add a member", "GTM", pick(areas, ui.area_label("GTM", "en"), multi=True)),
        ("trends: add a member", "MEX", pick(areas, ui.area_label("MEX", "en"), multi=True)),
        ("trends: indicator", "TIP_PROSECUTED", pick(indicator, names["TIP_PROSECUTED"])),
        ("trends: indicator", "SOM_DETECTED", pick(indicator, names["SOM_DETECTED"])),
        ("trends: breakdown", "sex", pick(t("dash.trends.breakdown", "en"),
                                          t("dash.trends.breakdown.sex", "en"))),
        ("trends: indicator", "VIC_DETECTED", pick(indicator, names["VIC_DETECTED"])),
        ("trends: language", "fr", language("fr")),
        ("trends: language", "en", language("en")),
        ("navigate (sidebar)", "country", navigate("country")),
        *[("country: member", code, pick(member, ui.area_label(code, "en")))
          for code in ("HND", "MEX", "SLV")],
        *[("navigate (sidebar)", name, navigate(name))
          for name in ("victims", "overview", "flows", "justice", "smuggling", "coordination",
                       "quality", "trends")],
    ]
    return plan


def run_plan(browser, base: str, runs: RunsLog, plan) -> list[dict]:
    context, page = new_session(browser)
    try:
        mark = runs.mark()
        page.goto(f"{base}/trends?lang=en", wait_until="commit", timeout=TIMEOUT_S * 1000)
        wait_settled(page, runs, mark, need_chart=True)
        out = []
        for kind, detail, do in plan:
            try:
                sample = measured(page, runs, lambda do=do: do(page))
            except Exception as exc:  # noqa: BLE001 - keep the other samples
                sample = {"error": repr(exc)[:500]}
                print(f"  {kind} {detail}: FAILED {sample['error']}", flush=True)
            out.append({"kind": kind, "detail": detail, **sample})
            page.keyboard.press("Escape")  # close a dropdown left open (no rerun)
        return out
    finally:
        context.close()


# --- statistics and the report -------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    return {"n": len(values), "median": statistics.median(values) if values else None,
            "p95": percentile(values, 0.95), "max": max(values) if values else None}


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if unit == "ms" else f"{value:.3f} s"


def table_rows(results: dict) -> list[tuple[str, str, str, str, str]]:
    rows = []
    target_first = f"< {FIRST_CHART_TARGET_S:.0f} s"
    target_server = f"< {INTERACTION_SERVER_TARGET_S * 1000:.0f} ms"
    start = results.get("first_session_after_start")
    if start and "error" not in start:
        rows.append(("server's first session: victims first chart / server time", "1",
                     f"{fmt(start['first_chart_ms'], 'ms')} / {fmt(start['server_s'], 's')}",
                     "", "-"))
    for state, s in results.get("first_chart", {}).get("summary_all_pages", {}).items():
        if s["n"]:
            rows.append((f"first chart, all pages ({state})", str(s["n"]),
                         fmt(s["median"], "ms"), fmt(s["p95"], "ms"), target_first))
    for name, by_state in results.get("first_chart", {}).get("summary", {}).items():
        for state in FIRST_CHART_STATES:
            s = by_state.get(state)
            if not s:
                continue
            rows.append((f"first chart {name} ({state})", str(s["first_chart_ms"]["n"]),
                         fmt(s["first_chart_ms"]["median"], "ms"),
                         fmt(s["first_chart_ms"]["p95"], "ms"), target_first))
            rows.append((f"  whole page / server time ({state})", "",
                         f"{fmt(s['script_over_ms']['median'], 'ms')} / "
                         f"{fmt(s['server_s']['median'], 's')}",
                         f"{fmt(s['script_over_ms']['p95'], 'ms')} / "
                         f"{fmt(s['server_s']['p95'], 's')}", ""))
    inter = results.get("interactions", {}).get("summary", {})
    for pass_name in ("first pass", "second pass"):
        by_kind = inter.get(pass_name, {})
        for kind, s in by_kind.items():
            label = f"{kind} ({pass_name})"
            rows.append((f"{label}: browser", str(s["browser_ms"]["n"]),
                         fmt(s["browser_ms"]["median"], "ms"), fmt(s["browser_ms"]["p95"], "ms"),
                         "-"))
            rows.append((f"{label}: server", str(s["server_s"]["n"]),
                         fmt(s["server_s"]["median"], "s"), fmt(s["server_s"]["p95"], "s"),
                         target_server if kind != "navigate (sidebar)" else "-"))
    return rows


def print_table(rows) -> None:
    header = ("figure", "n", "median", "p95", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()


def summarise(results: dict) -> None:
    first = results.get("first_chart", {})
    first["summary"] = {}
    for name in PAGES:
        by_state = {}
        for state in FIRST_CHART_STATES:
            samples = [s for s in first.get("samples", []) if s.get("page") == name
                       and s.get("state") == state and "error" not in s]
            if samples:
                by_state[state] = {key: summary([s[key] for s in samples])
                                   for key in ("first_chart_ms", "script_over_ms", "server_s",
                                               "shell_ms", "script_start_ms",
                                               "plotly_js_loaded_ms")}
        if by_state:
            first["summary"][name] = by_state
    first["summary_all_pages"] = {
        state: summary([s["first_chart_ms"] for s in first.get("samples", [])
                        if s.get("state") == state and "error" not in s])
        for state in FIRST_CHART_STATES}
    inter = results.get("interactions", {})
    inter["summary"] = {}
    for pass_name in ("first pass", "second pass"):
        samples = [s for s in inter.get("samples", []) if s.get("pass") == pass_name
                   and "error" not in s]
        kinds = list(dict.fromkeys(s["kind"] for s in samples))
        by_kind = {}
        for kind in [*kinds, "all but navigation"]:
            mine = [s for s in samples if s["kind"] == kind
                    or (kind == "all but navigation" and s["kind"] != "navigate (sidebar)")]
            by_kind[kind] = {key: summary([s[key] for s in mine])
                             for key in ("browser_ms", "server_s")}
        if samples:
            inter["summary"][pass_name] = by_kind


# --- main ----------------------------------------------------------------------------------------


def bench(home: Path, repeat: int, results: dict) -> None:
    from playwright.sync_api import sync_playwright

    from pipelines.lib.publish import current_snapshot
    from pipelines.settings import Settings
    from tests.served import CHROMIUM, CHROMIUM_ARGS, serving

    settings = Settings(home=home)
    results["home"]["original_snapshot"] = current_snapshot(settings).name
    facts = snapshot_facts(settings)
    results["snapshot"] = {k: v for k, v in facts.items() if k != "indicator_names_en"}
    print(f"[home] snapshot {facts['snapshot_mb']} MB, {facts['areas']} areas, "
          f"rows {facts['rows']}", flush=True)
    runs = RunsLog(RUNS_LOG)
    first = results["first_chart"] = {"samples": []}
    inter = results["interactions"] = {"samples": []}
    started = time.perf_counter()
    with serving(home, SERVER_LOG, {"OBSERVATORY_TIMING_LOG": str(RUNS_LOG)}) as base, \
            sync_playwright() as playwright:
        results["server_start_s"] = round(time.perf_counter() - started, 1)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # The server's first session imports what the pages import (plotly, ...): once per
            # server process, recorded apart from the figures below.
            results["first_session_after_start"] = first_chart(browser, f"{base}/", runs)
            print(f"[first session after start] {results['first_session_after_start']}",
                  flush=True)
            for k in range(1, repeat + 1):
                for name, path in PAGES.items():
                    for state, sample in page_loads(browser, f"{base}/{path}", runs, settings):
                        first["samples"].append({"page": name, "state": state, "round": k,
                                                 **sample})
                        print(f"[first chart] round {k} {name:<13} {state:<11}: "
                              + (f"chart {sample['first_chart_ms'] / 1000:.2f} s, page "
                                 f"{(sample['script_over_ms'] or 0) / 1000:.2f} s, server "
                                 f"{sample['server_s']:.2f} s"
                                 if "error" not in sample else sample["error"]), flush=True)
            plan = interaction_plan(facts)
            for k in range(1, repeat + 1):
                fresh_snapshot(settings)
                for pass_name in ("first pass", "second pass"):
                    for sample in run_plan(browser, base, runs, plan):
                        inter["samples"].append({"round": k, "pass": pass_name, **sample})
                        if "error" not in sample:
                            print(f"[interaction] round {k} {pass_name} {sample['kind']} "
                                  f"{sample['detail']}: browser {sample['browser_ms']:.0f} ms, "
                                  f"server {sample['server_s'] * 1000:.0f} ms "
                                  f"({sample['server_runs']} run)", flush=True)
        finally:
            browser.close()


def run(home: Path, quarters: int = 40, repeat: int = 3) -> dict:
    """The whole benchmark over ``home`` (built, published or reused as ``prepare_home`` says):
    prints the table, writes ``test-artifacts/dashboard_bench.json`` and returns the results
    (``error`` set when it failed; the samples taken until then are kept)."""
    results: dict = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(),
                 "platform": platform.platform(), "loadavg_start": os.getloadavg()},
        "args": {"quarters": quarters, "repeat": repeat, "home": str(home)},
        "home": {},
    }
    began = time.perf_counter()
    try:
        prepare_home(home, quarters, results["home"])
        bench(home, repeat, results)
    except Exception as exc:  # noqa: BLE001 - report, keep the partial results
        results["error"] = f"{exc!r}\n{traceback.format_exc()}"
        print(f"\nBENCHMARK FAILED:\n{traceback.format_exc()}", file=sys.stderr)
    finally:
        results["host"]["loadavg_end"] = os.getloadavg()
        results["total_s"] = round(time.perf_counter() - began, 1)
        summarise(results)
        rows = table_rows(results)
        results["table"] = [dict(zip(("figure", "n", "median", "p95", "target"), r, strict=True))
                            for r in rows]
        print_table(rows)
        print(f"load average {results['host']['loadavg_start']} at the start, "
              f"{results['host']['loadavg_end']} at the end (2-core machine, shared: noisy)")
        ARTIFACT_PATH.parent.mkdir(parents=True, exist_ok=True)
        ARTIFACT_PATH.write_text(json.dumps(results, indent=2, default=str, ensure_ascii=False),
                                 encoding="utf-8")
        print(f"results written to {ARTIFACT_PATH} (script runs: {RUNS_LOG})")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quarters", type=int, default=40, help="when building (default 40)")
    parser.add_argument("--home", type=Path, help="reuse (or build into and keep) this home")
    parser.add_argument("--repeat", type=int, default=3, help="samples per figure (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args(argv)
    home = (args.home or Path(tempfile.mkdtemp(prefix="dashboard_bench_"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    ok = "error" not in run(home, args.quarters, args.repeat)
    if args.home is None and not args.keep and ok:
        shutil.rmtree(home, ignore_errors=True)
    else:
        print(f"home kept: {home}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
