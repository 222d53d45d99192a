"""The first check of an upload (pipelines/lib/dryrun.py) says what intake then says: the same
units, statuses, errors and warnings (V10 aside), from a warm capped child, read-only."""

from __future__ import annotations

import shutil

from conftest import UNKNOWN_VICTIMS, template_file

from pipelines.lib.dryrun import DryRun, known_locks
from pipelines.lib.intake import Delivery, take_in
from pipelines.settings import get_settings


def counts(outcome) -> list[tuple]:
    # The first check reads no warehouse, so it cannot tell a data set whose figures are those
    # of the version in use ("unchanged" in the full report) from a new valid one.
    return sorted((u.dataset, u.country, u.period,
                   "validated" if u.status == "unchanged" else u.status, u.errors,
                   sorted(f["rule"] for f in u.findings if f["rule"] != "V10"))
                  for u in outcome.units)


def test_the_first_check_says_what_intake_says(workflow_home, tmp_path):
    settings = get_settings()
    checker = DryRun()
    try:
        # GTM's own template with warnings; HND's sent by a GTM submitter (another member's
        # rows: errors); a workbook that is not one.
        for folder in ("a", "b"):
            (tmp_path / folder).mkdir()
        cases = [template_file(tmp_path / "a", "GTM", UNKNOWN_VICTIMS + 2),
                 template_file(tmp_path / "b", "HND", 1)]
        broken = tmp_path / "broken.xlsx"
        broken.write_bytes(b"PK\x03\x04 not really a workbook")
        cases.append(broken)
        for path in cases:
            data = path.read_bytes()
            first = checker.check(settings, data, path.name, "GTM")
            assert first is not None and first.units
            inbox = tmp_path / "inbox"
            inbox.mkdir(exist_ok=True)
            copy = inbox / path.name
            shutil.copyfile(path, copy)
            [full] = take_in([Delivery(copy, channel="upload", actor="ana",
                                       submitter_country="GTM", role="submitter")], settings)
            assert counts(first) == counts(full), path.name
            assert all(u.version is None for u in first.units)  # known only once recorded
    finally:
        checker._stop(kill=True)


def test_locks_and_exceptions_come_from_the_snapshot(observatory_home):
    """Accepted units lock; an exception still valid today unlocks; one expired, or another
    member's, does not count."""
    import duckdb

    settings = get_settings()
    settings.serving_dir.mkdir(parents=True)
    con = duckdb.connect(str(settings.serving_dir / "s.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.submissions_status as select * from (values "
                "('GTM', 'TIP_VICTIMS', '2026-Q2', 'accepted'), "
                "('GTM', 'TIP_JUSTICE', '2026-Q2', 'validated'), "
                "('HND', 'TIP_VICTIMS', '2026-Q2', 'accepted')) "
                "t(country, dataset, period, current_status)")
    today = settings.today.isoformat()
    con.execute("create table marts.audit_trail as select * from (values "
                "('lock_exception', ?), ('lock_exception', ?), ('lock_exception', ?), "
                "('status', null)) t(action, details)",
                [f'{{"country": "GTM", "dataset": "TIP_VICTIMS", "period": "2026-Q2", '
                 f'"valid_until": "{today}"}}',
                 '{"country": "GTM", "dataset": "SOM_MIGRANTS", "period": "2026-Q1", '
                 '"valid_until": "2020-01-01"}',
                 f'{{"country": "HND", "dataset": "TIP_VICTIMS", "period": "2026-Q2", '
                 f'"valid_until": "{today}"}}'])
    con.close()
    (settings.serving_dir / "CURRENT").write_text("s.duckdb", encoding="utf-8")
    locked, excepted = known_locks(settings, "GTM")
    assert locked == [("GTM", "TIP_VICTIMS", "2026-Q2")]
    assert excepted == [("GTM", "TIP_VICTIMS", "2026-Q2")]
