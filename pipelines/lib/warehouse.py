"""The warehouse: one DuckDB file written by one process at a time.

``raw`` holds what ministries sent, append-only. dbt builds everything else from it.
Every writer takes :func:`writer_lock` first, so a Dagster run started by the sensor and one
started by ``observatory submit`` queue instead of failing on DuckDB's file lock.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.settings import Settings

RAW_SCHEMA_SQL = """
create schema if not exists raw;

-- One row per file received, whatever its outcome; the bytes are kept in archive/<sha256>.
create table if not exists raw.files (
    file_sha256      varchar primary key,
    original_name    varchar not null,
    size_bytes       bigint not null,
    received_at      timestamptz not null,   -- when the platform received it
    stated_received_on date,                 -- operator back-load: receipt date on record
    channel          varchar not null,       -- cli | landing | upload | demo
    submitted_by     varchar not null,
    archive_path     varchar not null
);

-- One row per unit (country x data set x quarter) found in a file. Never updated.
create table if not exists raw.submissions (
    submission_id    varchar primary key,    -- <sha256[:12]>-<dataset>
    file_sha256      varchar not null,
    dataset          varchar,                -- null when the file could not be read at all
    country          varchar,
    period           varchar,
    version          integer,                -- 1, 2, ... per country x data set x quarter
    status           varchar not null,       -- status at intake: validated | rejected
    received_at      timestamptz not null,
    received_on      date not null,          -- the date timeliness is judged on
    due_on           date,
    is_late          boolean,
    n_rows           integer not null,
    n_errors         integer not null,
    n_warnings       integer not null,
    contract_version varchar
);

-- The observations of every validated unit, typed, exactly as sent. Never updated.
create table if not exists raw.observations (
    submission_id          varchar not null,
    sheet                  varchar,
    row_number             integer not null,  -- as the user sees it: header is row 1
    dataset                varchar not null,
    country                varchar not null,
    period                 varchar not null,
    indicator              varchar not null,
    sex                    varchar not null,
    age                    varchar not null,
    exploitation_form      varchar not null,
    citizenship            varchar not null,
    counterpart_area       varchar not null,
    stage                  varchar not null,
    identification_channel varchar not null,
    unaccompanied          varchar not null,
    value                  bigint,            -- null only with obs_status L or M
    obs_status             varchar,
    comment                varchar
);

-- Validation findings, with where they are and what to do, in Spanish and English.
create table if not exists raw.findings (
    finding_id      varchar primary key,
    file_sha256     varchar not null,
    submission_id   varchar,                  -- null for findings about the whole file
    file_name       varchar not null,
    sheet           varchar,
    row_number      integer,
    column_name     varchar,
    value           varchar,
    rule            varchar not null,         -- V01 ... V11
    severity        varchar not null,         -- ERROR | WARNING
    message_es      varchar not null,
    message_en      varchar not null
);

-- Every event: receipt, duplicate, status changes (who, when, why).
create table if not exists raw.audit_events (
    event_id        varchar primary key,
    occurred_at     timestamptz not null,
    actor           varchar not null,
    action          varchar not null,         -- received | duplicate | status | back_load | ...
    file_sha256     varchar,
    submission_id   varchar,
    from_status     varchar,
    to_status       varchar,
    reason          varchar,
    details         varchar                   -- JSON
);
"""


@contextlib.contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold the single-writer lock of the warehouse (blocks until it is free)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.writer_lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def connect_writer(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing (caller holds :func:`writer_lock`) and make sure of ``raw``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(RAW_SCHEMA_SQL)
    return con
