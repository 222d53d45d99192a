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

from pipelines.lib.migrations import Migration, migrate_warehouse
from pipelines.settings import Settings

# Version 1: the tables of the release of 2026-11-30 (commit 89699f0), the last that recorded no
# version: what ministries sent, the workflow's record and UNODC's history.
SCHEMA_V1_SQL = """
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

-- Lock exceptions granted by the secretariat (issue 7): a country x data set x quarter may be
-- submitted although it is accepted (locked) or its window closed, until valid_until (inclusive).
-- Append-only; each grant is also an audit event (action 'lock_exception').
create table if not exists raw.lock_exceptions (
    exception_id    varchar primary key,
    country         varchar not null,
    dataset         varchar not null,
    period          varchar not null,
    valid_until     date not null,
    reason          varchar not null,
    granted_by      varchar not null,
    granted_at      timestamptz not null
);

-- Written explanations of a submission's WARNING findings by its submitter (issue 7); a
-- submission with warnings can be accepted only once explained. Append-only; also an audit event.
create table if not exists raw.explanations (
    explanation_id  varchar primary key,
    submission_id   varchar not null,
    text            varchar not null,
    written_by      varchar not null,
    written_at      timestamptz not null
);

-- Reference data (not member submissions): UNODC's published GLOTIP figures (issue 6), written
-- only by the reference job (pipelines/lib/glotip.py). One row per imported file = one vintage.
create table if not exists raw.glotip_releases (
    vintage          integer primary key,     -- 1, 2, ... in import order
    source           varchar not null,        -- UNODC
    file_sha256      varchar not null unique, -- the same bytes again are not a new vintage
    original_name    varchar not null,
    size_bytes       bigint not null,
    imported_at      timestamptz not null,
    imported_by      varchar not null,
    archive_path     varchar not null,
    rows_read        integer not null,
    rows_imported    integer not null,
    rows_suppressed  integer not null,        -- '<5' at source
    labels_unmapped  integer not null,
    values_flagged   integer not null,
    previous_vintage integer,
    changes          varchar,                 -- JSON: added / removed / changed vs the previous
    report           varchar not null         -- JSON: the import report as printed
);

-- Every row of every GLOTIP vintage, as published (labels, value text) and as mapped (codes).
create table if not exists raw.glotip_values (
    vintage              integer not null,
    sheet                varchar,
    row_number           integer not null,    -- as a person sees it in the file
    ref_area             varchar,             -- Iso3_code: the reporting country
    country_label        varchar,
    indicator_label      varchar,
    dimension_label      varchar,
    category_label       varchar,             -- free text as published (null when empty)
    sex_label            varchar,
    age_label            varchar,
    year                 integer,
    unit_label           varchar,
    value_text           varchar,             -- txtVALUE as published: '<5', '1,023', ...
    value                bigint,              -- null when suppressed at source or unreadable
    suppressed_at_source boolean not null,    -- '<5': a count from 1 to 4, not published
    indicator_code       varchar,             -- data_contracts/glotip_mappings.yaml; null: unmapped
    stage                varchar,
    breakdown            varchar,             -- total | exploitation_form | citizenship | counterpart_area
    sex                  varchar,
    age                  varchar,
    exploitation_form    varchar,
    citizenship          varchar,
    counterpart_area     varchar,
    category_mapping     varchar not null,    -- table | country_hint | unmapped
    flag                 varchar,             -- value_equals_year, outlier, duplicate_cell, unreadable_value
    flag_detail          varchar
);
"""

SCHEMA_V2_SQL = """
-- Disclosure control beyond dbt's local rules (pipelines/lib/disclosure/repair.py): the cells the
-- audit hid so that no hidden count can be worked out by arithmetic. dbt hides them like any
-- secondary cell; kept from build to build, so the pattern of hidden cells stays stable.
create schema if not exists disclosure;
create table if not exists disclosure.repairs (
    cell_id   varchar primary key,    -- dbt's disclosure_cell_id, or FLOW|origin|destination|period|_T|_T|_T
    added_at  timestamptz not null
);

-- One row per audit of a build (pipelines/lib/disclosure/gate.py); the latest is published with
-- the snapshot it let through (marts.disclosure_audit).
create table if not exists disclosure.audits (
    audited_at      timestamptz not null,
    passed          boolean not null,
    cells           integer not null,
    hidden          integer not null,
    relations       integer not null,
    attackers       varchar not null,   -- 'outsider' and the members audited as insiders
    failing         integer not null,   -- hidden cells narrowed below the standard
    failing_cells   varchar,            -- the first of them, with their intervals
    narrowest_cell  varchar,
    narrowest_low   double,
    narrowest_high  double,
    repairs_added   integer not null,
    repairs_total   integer not null,
    rounds          integer not null,
    lp_solves       integer not null,
    seconds         double not null
);
"""

SCHEMA_V3_SQL = """
-- The coalition's regional plan (DOMAIN.md §9), written only by the plan job
-- (pipelines/lib/plan.py; contract data_contracts/plan.yaml). One row per imported file = one
-- version, accepted (no ERROR finding) or rejected; never updated. The plan in force is the
-- newest accepted version (dbt: int_plan_targets_current).
create table if not exists raw.plan_versions (
    version          integer primary key,     -- 1, 2, ... in import order
    file_sha256      varchar not null unique, -- the same bytes again are not a new version
    original_name    varchar not null,
    size_bytes       bigint not null,
    imported_at      timestamptz not null,
    imported_by      varchar not null,
    illustrative     boolean not null,        -- the demo's plan: never presented as the real one
    status           varchar not null,        -- accepted | rejected
    n_rows           integer not null,
    n_errors         integer not null,
    n_warnings       integer not null,
    contract_version varchar not null,
    archive_path     varchar not null,
    report           varchar not null         -- JSON: the import report as printed
);

-- Every row of every plan version, typed (a cell that failed its check is null).
create table if not exists raw.plan_targets (
    version          integer not null,
    sheet            varchar,
    row_number       integer not null,        -- as a person sees it in the file (header = 1)
    objective_id     varchar,
    objective_es     varchar,
    objective_en     varchar,
    objective_fr     varchar,
    aim              integer,                 -- 1, 2 or 3 (DOMAIN.md §1)
    indicator        varchar,                 -- a code of the indicator registry
    ref_area         varchar,                 -- a member's ISO3 or REG
    direction        varchar,                 -- increase | decrease | maintain | monitor
    baseline_period  varchar,                 -- 2024 or 2024-Q2
    baseline_value   double,
    target_period    varchar,
    target_value     double,
    milestones       varchar,                 -- PERIOD=VALUE; PERIOD=VALUE
    responsible      varchar,
    comment          varchar
);

-- The findings of every plan version, cell by cell, in Spanish, English and French.
create table if not exists raw.plan_findings (
    version          integer not null,
    sheet            varchar,
    row_number       integer,
    column_name      varchar,
    value            varchar,
    rule             varchar not null,        -- P01 ... (data_contracts/plan.yaml)
    severity         varchar not null,        -- ERROR | WARNING
    message_es       varchar not null,
    message_en       varchar not null,
    message_fr       varchar
);
"""

SCHEMA_V4_SQL = """
-- The rows of every validated unit of an annual policy data set (POLICY_FRAMEWORK, DOMAIN.md §9):
-- one item per row with its status, not a count, so apart from raw.observations. The unit itself
-- (country x data set x year), its findings, review and lock are in the tables every data set
-- uses (raw.submissions, raw.findings, raw.audit_events). Never updated.
create table if not exists raw.policy_reports (
    submission_id    varchar not null,
    sheet            varchar,
    row_number       integer not null,        -- as the user sees it: header is row 1
    dataset          varchar not null,
    country          varchar not null,
    period           varchar not null,        -- the year: 2025
    item             varchar not null,        -- a code of data_contracts/policy_framework.yaml
    status           varchar not null,        -- yes | partial | no | unknown
    reference        varchar,                 -- the law or policy (required with yes, partial)
    item_date        date,                    -- ratification, adoption, start of a plan
    valid_until      date,                    -- end of the item's period (an action plan)
    comment          varchar
);
"""

SCHEMA_V5_SQL = """
-- The blocks of cells (parts linked by relations) the last passing disclosure audit covered, by
-- the digest of their content (pipelines/lib/disclosure/audit.py, block_fingerprints): a later
-- audit looks again only at blocks whose figures, statuses or relations changed.
create table if not exists disclosure.passed_blocks (
    fingerprint  varchar primary key,
    passed_at    timestamptz not null
);
"""

SCHEMA_V6_SQL = """
-- Every (cell, value) a publication showed (pipelines/lib/disclosure/gate.py): a reader who kept
-- an earlier snapshot knows these, so the audit counts a cell whose value is still one of them
-- as known, whether the new snapshot shows it or hides it, and the repair never relies on hiding
-- it.
create table if not exists disclosure.published_values (
    cell_id             varchar not null,
    value               double not null,
    first_published_at  timestamptz not null,
    primary key (cell_id, value)
);
"""

# Ordered; each idempotent, so a state written between two versions still comes out whole.
# A change to a table is a new entry here (an ``alter table``), never an edit of an old one.
MIGRATIONS = (
    Migration(1, "raw: files, submissions, observations, findings, workflow, UNODC history",
              SCHEMA_V1_SQL),
    Migration(2, "disclosure: the audit's repairs and its record", SCHEMA_V2_SQL),
    Migration(3, "raw: the regional plan's versions, targets and findings", SCHEMA_V3_SQL),
    Migration(4, "raw: the policy framework's items per member and year", SCHEMA_V4_SQL),
    Migration(5, "disclosure: the blocks the last passing audit covered", SCHEMA_V5_SQL),
    Migration(6, "disclosure: the values earlier publications showed", SCHEMA_V6_SQL),
)


@contextlib.contextmanager
def writer_lock(settings: Settings, blocking: bool = True) -> Iterator[bool]:
    """Hold the single-writer lock of the warehouse (blocks until it is free; yields True).
    ``blocking=False``: yield False at once when someone holds it, for a quick look that must
    never stand in a writer's way (DuckDB refuses a writer while any other process has the file
    open, read-only included)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.writer_lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def connect_writer(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing (caller holds :func:`writer_lock`), brought to the schema
    this code writes (:data:`MIGRATIONS`); a warehouse newer than the code raises
    :class:`~pipelines.lib.migrations.StateTooNew` and is left untouched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    # The warehouse holds every figure before disclosure control: the platform's account only.
    path.chmod(0o600)
    try:
        migrate_warehouse(con, MIGRATIONS)
    except BaseException:
        con.close()
        raise
    return con
