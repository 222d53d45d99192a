"""Vintages: the figures as the platform knew them at the end of a past day, rebuilt by dbt in a
private copy of the warehouse (``export --as-of``). Writer-side work: the copy is taken under the
writer lock, so it runs in a job or in the operator's command, never in the dashboard's server.

A vintage goes through the same disclosure gate as a build (``pipelines/lib/disclosure/gate.py``):
an as-of export is a publication too, and the figures of a past day, rebuilt by today's code, need
not hide what that day's snapshot hid. The cells the gate had hidden by the end of that day are
kept (so the export reproduces what was published then), later ones are dropped, and the gate
hides more if arithmetic would still give a hidden cell away."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import duckdb

from pipelines.lib.dbt import build
from pipelines.lib.disclosure.gate import run_gate
from pipelines.lib.export import run_export
from pipelines.lib.migrations import migrate_warehouse
from pipelines.lib.publish import AUDIT_SUMMARY_SQL
from pipelines.lib.warehouse import MIGRATIONS, writer_lock
from pipelines.settings import Settings


def build_vintage(settings: Settings, as_of: dt.date, workdir: Path, log=lambda _: None) -> Path:
    """A private warehouse as the platform knew it at the end of ``as_of`` (UTC), built by dbt and
    passed through the disclosure gate (which raises
    :class:`~pipelines.lib.disclosure.gate.DisclosureAuditFailed` when it cannot pass)."""
    vintage = Settings(home=workdir)  # the gate and dbt work on vintage.warehouse_path
    copy = vintage.warehouse_path
    with writer_lock(settings):  # no writer while the file is copied (never opened here)
        shutil.copyfile(settings.warehouse_path, copy)
        wal = Path(f"{settings.warehouse_path}.wal")
        if wal.exists():
            shutil.copyfile(wal, f"{copy}.wal")
    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    con = duckdb.connect(str(copy))
    try:
        late = "select submission_id from raw.submissions where received_at >= ?"
        con.execute(f"delete from raw.observations where submission_id in ({late})", [cutoff])
        con.execute(f"delete from raw.findings where submission_id in ({late})", [cutoff])
        con.execute(f"delete from raw.explanations where submission_id in ({late}) or written_at >= ?",
                    [cutoff, cutoff])
        con.execute("delete from raw.submissions where received_at >= ?", [cutoff])
        con.execute("delete from raw.files where received_at >= ?", [cutoff])
        con.execute("delete from raw.audit_events where occurred_at >= ?", [cutoff])
        con.execute("delete from raw.lock_exceptions where granted_at >= ?", [cutoff])
        con.execute("delete from raw.glotip_values where vintage in "
                    "(select vintage from raw.glotip_releases where imported_at >= ?)", [cutoff])
        con.execute("delete from raw.glotip_releases where imported_at >= ?", [cutoff])
        # The regional plan as it stood that day: versions imported later are left out (a copy
        # of a warehouse no writer of this code has opened yet is brought to its schema first).
        migrate_warehouse(con, MIGRATIONS)
        # the policy reports of the units received later (their submissions are gone above)
        con.execute("delete from raw.policy_reports where submission_id not in "
                    "(select submission_id from raw.submissions)")
        con.execute("delete from raw.plan_targets where version in "
                    "(select version from raw.plan_versions where imported_at >= ?)", [cutoff])
        con.execute("delete from raw.plan_findings where version in "
                    "(select version from raw.plan_versions where imported_at >= ?)", [cutoff])
        con.execute("delete from raw.plan_versions where imported_at >= ?", [cutoff])
        con.execute("delete from disclosure.repairs where added_at >= ?", [cutoff])
        con.execute("delete from disclosure.audits where audited_at >= ?", [cutoff])
        con.execute("checkpoint")
    finally:
        con.close()
    # every table an export reads: the flows too, or an as-of export would list today's; the
    # audit reads the quality page's shares too
    build(vintage, ["+indicator_values_published", "+submissions_status", "+plan_progress",
                    "+harmonisation_matrix", "+flows_victims", "+dq_unknown_shares"])
    run_gate(vintage, log=log)  # nobody else opens the private copy: no lock to take
    con = duckdb.connect(str(copy))
    try:  # the audit's summary for the manifest, as a snapshot carries it
        con.execute(f"create or replace table marts.disclosure_audit as {AUDIT_SUMMARY_SQL}")
    finally:
        con.close()
    return copy




def export_as_of(settings: Settings, formats: list[str], out_dir: Path, *, as_of: dt.date,
                 indicators: list[str] | None = None, lang: str = "es",
                 log=lambda _: None) -> dict:
    """:func:`pipelines.lib.export.run_export` over the vintage of ``as_of``."""
    with tempfile.TemporaryDirectory(prefix="observatory-vintage-") as tmp:
        vintage = build_vintage(settings, as_of, Path(tmp), log=log)
        return run_export(settings, formats, out_dir, indicators=indicators, as_of=as_of,
                          lang=lang, snapshot=vintage)
