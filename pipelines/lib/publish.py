"""Publish: copy the marts into a NEW read-only serving snapshot, then swap the pointer.

Readers (dashboard, exports, CLI read commands) open ``serving/CURRENT``'s file read-only and never
touch the warehouse, so a build in progress never blocks them and a failed build leaves the last
good snapshot in place.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from pipelines.lib.warehouse import fault_point
from pipelines.settings import Settings

POINTER = "CURRENT"
KEEP_SNAPSHOTS = 3
PUBLISHED_SCHEMAS = ("marts",)


def current_snapshot(settings: Settings) -> Path | None:
    pointer = settings.serving_dir / POINTER
    if not pointer.exists():
        return None
    path = settings.serving_dir / pointer.read_text(encoding="utf-8").strip()
    return path if path.exists() else None


def publish_snapshot(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict:
    """Write a new snapshot from the warehouse connection ``con`` and make it current."""
    settings.serving_dir.mkdir(parents=True, exist_ok=True)
    built_at = dt.datetime.now(dt.UTC)
    name = built_at.strftime("%Y%m%dT%H%M%S%f") + ".duckdb"
    path = settings.serving_dir / name
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() and table_type = 'BASE TABLE' "
        f"and table_schema in ({', '.join('?' for _ in PUBLISHED_SCHEMAS)}) order by 1, 2",
        list(PUBLISHED_SCHEMAS),
    ).fetchall()
    rows: dict[str, int] = {}
    try:
        _write_snapshot(con, path, tables, built_at, name, rows)
    except BaseException:  # e.g. disk full: drop the partial file, the pointer stays as it was
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
        raise
    fault_point("before_pointer")
    pointer_tmp = settings.serving_dir / f".{POINTER}.tmp"
    pointer_tmp.write_text(name, encoding="utf-8")
    os.replace(pointer_tmp, settings.serving_dir / POINTER)
    _prune(settings, keep=name)
    return {"snapshot": name, "tables": rows}


def _write_snapshot(con, path: Path, tables, built_at, name: str, rows: dict) -> None:
    """Copy ``tables`` into the new file ``path`` with its ``snapshot_info``; count rows in ``rows``."""
    con.execute(f"attach '{path}' as snapshot")
    try:
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema if not exists snapshot.{schema}")
        for schema, table in tables:
            con.execute(f'create table snapshot.{schema}."{table}" as select * from {schema}."{table}"')
            rows[f"{schema}.{table}"] = con.execute(
                f'select count(*) from snapshot.{schema}."{table}"').fetchone()[0]
        # The audit that let this build through (pipelines/lib/disclosure/gate.py), for the
        # quality page and every export's manifest.
        if con.execute("select count(*) from information_schema.tables where table_catalog = "
                       "current_database() and table_schema = 'disclosure' "
                       "and table_name = 'audits'").fetchone()[0]:
            con.execute("create table snapshot.marts.disclosure_audit as "
                        "select * from disclosure.audits order by audited_at desc limit 1")
        fault_point("during_snapshot")
        con.execute("create table snapshot.main.snapshot_info (built_at timestamptz, snapshot varchar)")
        con.execute("insert into snapshot.main.snapshot_info values (?, ?)", [built_at, name])
    finally:
        con.execute("detach snapshot")


def _prune(settings: Settings, keep: str) -> None:
    """Keep the newest few snapshots (a reader may still hold an older one open: Unix keeps it)."""
    snapshots = sorted(p for p in settings.serving_dir.glob("*.duckdb") if p.name != keep)
    for old in snapshots[: max(0, len(snapshots) - (KEEP_SNAPSHOTS - 1))]:
        old.unlink(missing_ok=True)
        Path(f"{old}.wal").unlink(missing_ok=True)
