"""Versioned state: the warehouse and the accounts store each record the schema version they
were brought to, and ordered, idempotent migrations bring an older state to the current one.

A state without a record (written before versions were recorded) is version 0: every migration
runs, and each is written so that it keeps what is there (``create ... if not exists``, then
``alter table`` steps that check first). A state newer than this code is refused untouched, with
a message saying to upgrade the code: an older release must not write into tables it does not
know. The warehouse migrates under the writer lock (every writer opens it through
``warehouse.connect_writer``); the accounts store in an immediate SQLite transaction, so two
processes starting at once migrate it once.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str  # statements separated by ';'


class StateTooNew(RuntimeError):
    """The state was written by a newer release. ``key`` and ``values`` give the message (i18n)."""

    key = "state.too_new"

    def __init__(self, store: str, found: int, supported: int):
        self.store = store  # "warehouse" or "accounts"
        self.values = {"found": found, "supported": supported}
        super().__init__(f"the {store} is at schema version {found}; this code knows up to "
                         f"{supported}: upgrade the code, or restore a backup of this version")


def statements(sql: str) -> list[str]:
    """``sql``'s statements (none of ours holds a ';' inside a literal)."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def check_version(store: str, found: int, migrations: tuple[Migration, ...]) -> list[Migration]:
    versions = [m.version for m in migrations]
    assert versions == sorted(set(versions)), "migrations must be numbered in order"
    if found > versions[-1]:
        raise StateTooNew(store, found, versions[-1])
    return [m for m in migrations if m.version > found]


def warehouse_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute("select count(*) from information_schema.tables where table_schema = "
                         "'raw' and table_name = 'schema_version'").fetchone()[0]
    if not exists:
        return 0
    return con.execute("select coalesce(max(version), 0) from raw.schema_version").fetchone()[0]


def migrate_warehouse(con: duckdb.DuckDBPyConnection, migrations: tuple[Migration, ...]) -> tuple[int, int]:
    """Bring the warehouse to the last of ``migrations``; returns (version before, after)."""
    found = warehouse_version(con)
    pending = check_version("warehouse", found, migrations)
    for migration in pending:
        con.execute("begin transaction")
        try:
            con.execute("create schema if not exists raw")
            con.execute("create table if not exists raw.schema_version (version integer primary "
                        "key, description varchar not null, applied_at timestamptz not null)")
            for statement in statements(migration.sql):
                con.execute(statement)
            con.execute("insert into raw.schema_version values (?, ?, ?)",
                        [migration.version, migration.description, dt.datetime.now(dt.UTC)])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return found, (pending[-1].version if pending else found)


def migrate_sqlite(con: sqlite3.Connection, store: str,
                   migrations: tuple[Migration, ...]) -> tuple[int, int]:
    """The same for a SQLite store, whose version is its ``user_version``."""
    found = con.execute("pragma user_version").fetchone()[0]
    if not check_version(store, found, migrations):
        return found, found
    con.execute("begin immediate")  # another process may be migrating: wait for it, read again
    try:
        found = con.execute("pragma user_version").fetchone()[0]
        pending = check_version(store, found, migrations)
        for migration in pending:
            for statement in statements(migration.sql):
                con.execute(statement)
            con.execute(f"pragma user_version = {int(migration.version)}")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return found, (pending[-1].version if pending else found)

