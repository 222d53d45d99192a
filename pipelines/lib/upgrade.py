"""Upgrading a home: ``observatory migrate`` and the check every command makes first.

Kept apart from :mod:`pipelines.lib.migrations`, which the accounts store (and so the dashboard)
imports: this module reaches the warehouse's writer path, which the web process must not load.
"""

from __future__ import annotations

import contextlib
import sqlite3

import duckdb

from pipelines.lib import auth, warehouse
from pipelines.lib.migrations import (
    check_version,
    migrate_sqlite,
    migrate_warehouse,
    warehouse_version,
)


def migrate_home(settings) -> list[tuple[str, int | None, int]]:
    """``observatory migrate``: both stores of a home brought to this code's schema, under the
    writer lock, once neither is found newer than the code (so a refusal changes neither). Per
    store: (name, version before or None when the store does not exist yet, version now).
    Stores that do not exist yet are left to be created on first use."""
    path = auth.auth_path(settings)
    with warehouse.writer_lock(settings):
        _check_versions(settings)
        out: list[tuple[str, int | None, int]] = []
        if settings.warehouse_path.exists():
            con = duckdb.connect(str(settings.warehouse_path))
            try:
                out.append(("warehouse", *migrate_warehouse(con, warehouse.MIGRATIONS)))
            finally:
                con.close()
        else:
            out.append(("warehouse", None, warehouse.MIGRATIONS[-1].version))
        if path.exists():
            con = sqlite3.connect(path, timeout=10)
            try:
                out.append(("accounts", *migrate_sqlite(con, "accounts", auth.MIGRATIONS)))
            finally:
                con.close()
        else:
            out.append(("accounts", None, auth.MIGRATIONS[-1].version))
    return out


def _check_versions(settings) -> None:
    """Both stores' versions against this code (the caller holds the writer lock)."""
    if settings.warehouse_path.exists():
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        try:
            check_version("warehouse", warehouse_version(con), warehouse.MIGRATIONS)
        finally:
            con.close()
    path = auth.auth_path(settings)
    if path.exists():
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
            check_version("accounts", con.execute("pragma user_version").fetchone()[0],
                          auth.MIGRATIONS)


def check_home(settings) -> None:
    """Raise :class:`StateTooNew` when a store of the home is newer than this code, before a
    command starts work that would fail on it half-way. Read-only, and only while no writer
    runs: a reader holding the file would make that writer fail (a running writer has checked
    the version itself)."""
    with warehouse.writer_lock(settings, blocking=False) as free:
        if free:
            _check_versions(settings)
