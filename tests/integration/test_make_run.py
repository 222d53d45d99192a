"""What `make run` does, piece by piece: `observatory demo` writes and loads the demo (a second
run reuses what is there and duplicates nothing), and `scripts/serve.sh` serves the dashboard, the
data API, the Dagster daemon (a dropped file is taken in: the landing watch starts its run) and the guarded operator UI until
Ctrl-C stops them all. The demo is pinned to its first quarter (a short 'today') so
the test loads 8 files, not the whole history."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from tests.served import REPO_ROOT, free_port

pytestmark = pytest.mark.integration

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "submissions"
SHORT_TODAY = "2019-04-15"  # last complete quarter 2019-Q1: the demo's first quarter, 8 files


def counts(home: Path) -> dict[str, int]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {table: con.execute(f"select count(*) from raw.{table}").fetchone()[0]
                for table in ("files", "submissions", "observations")}


def test_demo_twice_loads_once(observatory_home: Path, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_TODAY", SHORT_TODAY)
    # As `make run` serves it: the disclosure gate in its default mode, block (the suite's other
    # builds only record the audit, tests/conftest.py).
    monkeypatch.delenv("OBSERVATORY_DISCLOSURE_GATE")
    assert main(["--lang", "en", "demo"]) == 0
    with duckdb.connect(str(observatory_home / "warehouse.duckdb"), read_only=True) as con:
        passed, repairs = con.execute("select bool_and(passed), sum(repairs_added) "
                                      "from disclosure.audits").fetchone()
    assert passed and repairs > 0  # the demo's small counts needed the repair, and got it
    first = counts(observatory_home)
    snapshots = sorted((observatory_home / "serving").glob("*.duckdb"))
    assert first["files"] == 8 and first["observations"] > 0 and len(snapshots) == 1

    assert main(["--lang", "en", "demo"]) == 0  # `make run` a second time
    assert counts(observatory_home) == first
    # Nothing new stored and the snapshot already shows everything: nothing was rebuilt.
    assert sorted((observatory_home / "serving").glob("*.duckdb")) == snapshots
    with duckdb.connect(str(sorted((observatory_home / "serving").glob("*.duckdb"))[-1]),
                        read_only=True) as con:
        assert con.execute("select count(*) from marts.indicator_values_published "
                           "where indicator_code = 'VIC_DETECTED' and ref_area = 'REG' "
                           "and time_period = '2019-Q1' and sex = '_T' and age = '_T' "
                           "and exploitation_form = '_T'").fetchone()[0] == 1


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def test_serve_runs_both_servers_and_ctrl_c_stops_both(observatory_home: Path, tmp_path: Path):
    dashboard, dagster, api = free_port(), free_port(), free_port()
    env = {**os.environ, "STREAMLIT_PORT": str(dashboard), "DAGSTER_PORT": str(dagster),
           "OBSERVATORY_API_PORT": str(api)}
    log = (tmp_path / "serve.log").open("w")
    # As from a terminal: SIGINT at its default. pytest-xdist's workers ignore it, and a shell
    # that starts with SIGINT ignored cannot trap it (Ctrl-C would do nothing).
    serve = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=REPO_ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    urls = [f"http://127.0.0.1:{dashboard}/_stcore/health",
            f"http://127.0.0.1:{dagster}/server_info",
            f"http://127.0.0.1:{api}/api/v1/openapi.json"]
    try:
        deadline = time.monotonic() + 180
        while not all(answers(u) for u in urls):
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.5)
        guard_refuses_other_sites(f"127.0.0.1:{dagster}")
        landing_drop_is_taken_in_by_the_daemon(observatory_home)
        hostile_drops_are_set_aside(observatory_home)
        forged_runs_are_refused_by_the_jobs(f"127.0.0.1:{dagster}")
        cli_submit_is_queued_on_the_orchestrator(f"127.0.0.1:{dagster}", env, tmp_path)
        serve.send_signal(signal.SIGINT)  # what Ctrl-C sends to the script in a terminal
        assert serve.wait(timeout=60) in (0, 130), (tmp_path / "serve.log").read_text()
        assert not any(answers(u) for u in urls)
        assert "stopped / detenido" in (tmp_path / "serve.log").read_text()
    finally:
        if serve.poll() is None:  # a failed check: the script's own stop() (its TERM trap)
            serve.terminate()        # ends both servers, each in its own process group
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait(timeout=30)
        log.close()
    # Nothing the script started is left: no process still runs from this home.
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit()
                 and str(observatory_home) in _environ(p)]
    assert leftovers == []


def status_of(url: str, data: bytes | None = None, **headers: str) -> int:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def guard_refuses_other_sites(host: str) -> None:
    """The operator UI runs GraphQL for itself only (pipelines/operator_ui.py)."""
    graphql = f"http://{host}/graphql"
    query = json.dumps({"query": "{ version }"}).encode()
    own = {"Content-Type": "application/json", "Origin": f"http://{host}"}
    assert status_of(graphql, query, **own) == 200
    mutation = urllib.parse.quote('mutation { launchPipelineExecution(executionParams: {}) '
                                  '{ __typename } }')
    assert status_of(f"{graphql}?query={mutation}") == 405  # an image tag could send this
    assert status_of(graphql, query, **{**own, "Origin": "http://evil.example"}) == 403
    assert status_of(graphql, b"query=%7Bversion%7D",
                     **{"Content-Type": "application/x-www-form-urlencoded"}) == 415
    assert status_of(graphql, query, **{**own, "Host": "evil.example"}) == 403  # DNS rebinding
    assert status_of(f"http://{host}/server_info", **{"Sec-Fetch-Site": "cross-site"}) == 403


def landing_drop_is_taken_in_by_the_daemon(home: Path) -> None:
    """A dropped file gets its run at once from the landing watch (in the operator UI's process),
    which the landing sensor, ticking while that run waits, does not start again; the file gets
    its report and leaves the folder."""
    from dagster import DagsterInstance, RunsFilter

    from pipelines.landing_watch import TRIGGER_TAG
    from pipelines.lib.landing import BATCH_TAG
    from pipelines.lib.reports import report_path, sha256_of
    from pipelines.lib.warehouse import writer_lock
    from pipelines.settings import get_settings

    settings = get_settings()
    data = (FIXTURES / "valid_gtm_2024q1_utf8.csv").read_bytes()
    (home / "landing").mkdir(parents=True, exist_ok=True)
    with DagsterInstance.from_config(str(home / "dagster")) as instance:
        with writer_lock(settings):  # the run waits for it, its file still in the folder
            (home / "landing" / "GTM_2024-Q1.csv").write_bytes(data)
            deadline = time.monotonic() + 60
            while not (records := instance.get_run_records(RunsFilter(job_name="submission_job"))):
                assert time.monotonic() < deadline, "no run for the dropped file"
                time.sleep(0.1)
            [record] = records
            run, created = record.dagster_run, record.create_timestamp.timestamp()
            assert run.tags[TRIGGER_TAG] == "landing-watch"
            while len(sensor_ticks_after(instance, created)) < 2:  # the sensor looked twice since
                assert time.monotonic() < deadline, "the landing sensor does not tick"
                time.sleep(0.5)
        report = report_path(settings, sha256_of(data))
        deadline = time.monotonic() + 240
        while not report.exists() or any((home / "landing").iterdir()):
            assert time.monotonic() < deadline, "the dropped file was not taken in"
            time.sleep(1)
        batch = instance.get_runs(RunsFilter(tags={BATCH_TAG: run.tags[BATCH_TAG]}))
        assert [r.run_id for r in batch] == [run.run_id]


def hostile_drops_are_set_aside(home: Path) -> None:
    """The security review's landing rows, on the served daemon and watch: a link to
    /etc/passwd and a FIFO are moved aside unread; a workbook with a macro project (an .xlsm
    renamed .xlsx) is taken in and rejected for it, its report naming why. Nothing of
    /etc/passwd reaches the archive or a report."""
    import io
    import zipfile

    from pipelines.lib.findings import Finding
    from pipelines.lib.reports import report_path, sha256_of
    from pipelines.settings import get_settings

    settings = get_settings()
    landing = home / "landing"
    buffer = io.BytesIO()
    with zipfile.ZipFile(FIXTURES / "valid_blz_2024q1.xlsx") as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b'Attribute VB_Name = "ThisWorkbook"')
    macro = buffer.getvalue()
    (landing / "GTM_2024-Q2.csv").symlink_to("/etc/passwd")
    os.mkfifo(landing / "GTM_2024-Q3.csv")
    (landing / "BLZ_2024-Q1.xlsx").write_bytes(macro)
    report = report_path(settings, sha256_of(macro))
    deadline = time.monotonic() + 240
    while any(landing.iterdir()) or not report.exists():
        assert time.monotonic() < deadline, sorted(p.name for p in landing.iterdir())
        time.sleep(1)
    aside = sorted(p.name.split("-", 1)[1] for p in (home / "refused").iterdir())
    assert aside == ["GTM_2024-Q2.csv", "GTM_2024-Q3.csv"]
    units = json.loads(report.read_text(encoding="utf-8"))["units"]
    why = Finding.make("V01", "finding.xlsx_macros").message_en
    assert units and all(u["status"] == "rejected" for u in units), units
    assert [f["message_en"] for u in units for f in u["findings"]] == [why] * len(units), units
    passwd = Path("/etc/passwd").read_bytes()
    assert not any(p.read_bytes() == passwd for p in settings.archive_dir.iterdir())
    first_line = passwd.decode(errors="replace").splitlines()[0]
    assert not any(first_line in p.read_text(errors="replace")
                   for p in settings.archive_dir.glob("*.report.json"))


def sensor_ticks_after(instance, created: float) -> list:
    from dagster._core.scheduler.instigation import InstigatorType

    return [tick for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
            if state.instigator_name == "landing_sensor"
            for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id,
                                           after=created)]


def forged_runs_are_refused_by_the_jobs(host: str) -> None:
    """The attack as it was made: a program on the server's host (which the guard cannot tell
    from the pages) launches runs through the served GraphQL with a configuration of its own. A
    decision in a made-up reviewer's name, and a submission reading a file outside the
    platform's folders: both runs fail in the job, the refusals are in the audit trail, and
    nothing was accepted or read."""
    from pipelines import orchestrator
    from pipelines.lib.warehouse import writer_lock
    from pipelines.settings import get_settings

    settings = get_settings()

    def warehouse(sql: str) -> list[tuple]:
        with writer_lock(settings), duckdb.connect(str(settings.warehouse_path),
                                                   read_only=True) as con:
            return con.execute(sql).fetchall()

    [(submission,)] = warehouse("select min(submission_id) from raw.submissions")
    files = warehouse("select count(*) from raw.files")
    decision = {"action": "accept", "actor": "mallory", "actor_role": "reviewer",
                "actor_country": None, "submission_id": submission, "reason": "forged",
                "country": None, "dataset": None, "period": None, "valid_until": None,
                "grant": "made-up"}
    intake = {"files": ["/etc/passwd"], "channel": "landing", "actor": "landing-folder",
              "remove_after": False}
    saved = os.environ.get("OBSERVATORY_OPERATOR_URL")
    os.environ["OBSERVATORY_OPERATOR_URL"] = f"http://{host}"
    try:
        for job, op, config, refusal in (
                ("review_job", "review", decision, "workflow.refused.unknown_actor"),
                ("submission_job", "intake", intake, "input.outside")):
            state = orchestrator.follow(orchestrator.launch(settings, job, op, config, {}),
                                        timeout=300)
            assert state.status == "FAILURE" and refusal in state.first_error(), state.errors
    finally:
        os.environ.pop("OBSERVATORY_OPERATOR_URL")
        if saved is not None:
            os.environ["OBSERVATORY_OPERATOR_URL"] = saved
    assert warehouse("select actor, reason from raw.audit_events where action = 'refused'") \
        == [("mallory", "workflow.refused.unknown_actor")]
    assert warehouse("select count(*) from raw.audit_events where action = 'status' "
                     "and actor = 'mallory'") == [(0,)]
    assert warehouse("select count(*) from raw.files") == files


def cli_submit_is_queued_on_the_orchestrator(host: str, env: dict, tmp_path: Path) -> None:
    """With the servers up, ``observatory submit`` hands its job to the daemon: the run is in
    the instance's history, tagged with its channel, and it succeeded."""
    source = tmp_path / "HND_2024-Q1.csv"
    source.write_bytes((FIXTURES / "valid_gtm_2024q1_utf8.csv").read_bytes()
                       .replace(b"GTM", b"HND"))
    done = subprocess.run([str(REPO_ROOT / ".venv/bin/observatory"), "--lang", "en", "submit",
                           str(source)], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode in (0, 1), done.stderr
    query = json.dumps({"query": '{ runsOrError(filter: {tags: [{key: "observatory/channel", '
                                 'value: "cli"}]}) { ... on Runs { results { status '
                                 'tags { key value } } } } }'})
    request = urllib.request.Request(f"http://{host}/graphql", data=query.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        runs = json.loads(response.read())["data"]["runsOrError"]["results"]
    assert [r["status"] for r in runs] == ["SUCCESS"], (runs, done.stdout, done.stderr)
    # The run says what it took in, for the operator's run list.
    tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
    assert tags["observatory/countries"] == "HND" and tags["observatory/periods"] == "2024-Q1"
    assert tags["observatory/result"] == ("validated" if done.returncode == 0 else "rejected")


def _environ(proc: Path) -> str:
    try:
        return (proc / "environ").read_bytes().decode(errors="replace")
    except OSError:
        return ""
