"""Helpers of the fault and concurrency tests: run ``observatory submit`` as a real process in a
temporary home, build distinct valid submissions, and check the warehouse and the served snapshot.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.lib.intake import sha256_of
from tests.conftest import TODAY
from tests.robustness.corpus import csv_bytes, justice_rows

REPO = Path(__file__).resolve().parents[2]
OBSERVATORY = Path(sys.executable).with_name("observatory")


def unit_file(folder: Path, period: str, cases: int = 4) -> Path:
    """A valid TIP_JUSTICE file for GTM and ``period`` (distinct bytes per period and cases)."""
    rows = justice_rows()
    for row in rows:
        row[2] = period
    rows[-1][8] = str(cases)
    path = folder / f"GTM_{period}_{cases}.csv"
    path.write_bytes(csv_bytes(rows))
    return path


def environment(home: Path, fault: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OBSERVATORY_FAULT"}
    env.update(OBSERVATORY_HOME=str(home), OBSERVATORY_TODAY=TODAY.isoformat(),
               DAGSTER_HOME=str(home / "dagster"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    if fault:
        env["OBSERVATORY_FAULT"] = fault
    return env


def start_submit(home: Path, files: list[Path], fault: str | None = None) -> subprocess.Popen:
    """``observatory submit`` in a session of its own, so :func:`stop_group` can end it with its
    children (dbt) if a test gives up on it."""
    return subprocess.Popen(
        [str(OBSERVATORY), "--lang", "en", "submit", *map(str, files)], cwd=REPO,
        env=environment(home, fault), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)


def stop_group(process: subprocess.Popen | None) -> None:
    """Kill a process started with ``start_new_session=True`` and everything it started."""
    if process is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def submit(home: Path, files: list[Path], fault: str | None = None, timeout: float = 600
           ) -> tuple[int, str]:
    process = start_submit(home, files, fault)
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out


def current_name(home: Path) -> str | None:
    pointer = home / "serving" / "CURRENT"
    return pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None


def check_served(home: Path) -> dict:
    """CURRENT names an existing snapshot that opens read-only and is complete."""
    name = current_name(home)
    assert name, "nothing published"
    path = home / "serving" / name
    assert path.is_file(), f"CURRENT points at a missing file {name}"
    with duckdb.connect(str(path), read_only=True) as con:
        info = con.execute("select snapshot from main.snapshot_info").fetchall()
        tables = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()}
        submissions = {s for (s,) in con.execute(
            "select submission_id from marts.submissions_status").fetchall()}
    assert info == [(name,)]
    assert {"indicator_values_published", "submissions_status", "audit_trail"} <= tables
    assert "indicator_values" not in tables  # before disclosure control: never served
    return {"name": name, "submissions": submissions}


def check_warehouse(home: Path) -> dict:
    """No partial submission, no duplicate file, every stored file's bytes archived intact."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        files = con.execute("select file_sha256, archive_path from raw.files").fetchall()
        partial = con.execute(
            """
            select s.submission_id, s.n_rows, count(o.submission_id)
            from raw.submissions s left join raw.observations o using (submission_id)
            group by all having s.n_rows <> count(o.submission_id)
            """).fetchall()
        orphans = con.execute(
            "select count(*) from raw.submissions where file_sha256 not in "
            "(select file_sha256 from raw.files)").fetchone()[0]
        received = con.execute(
            "select file_sha256, count(*) from raw.audit_events where action = 'received' "
            "group by 1 having count(*) > 1").fetchall()
        submissions = {s for (s,) in con.execute(
            "select submission_id from raw.submissions").fetchall()}
    assert partial == [], f"half-loaded submissions: {partial}"
    assert orphans == 0
    assert received == [], f"files received twice: {received}"
    for sha, archive_path in files:
        assert sha256_of((home / archive_path).read_bytes()) == sha
    return {"files": {sha for sha, _ in files}, "submissions": submissions}
