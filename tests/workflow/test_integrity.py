"""Jobs trust no one: a run's configuration can come from anyone who reaches the orchestrator
(its GraphQL endpoint takes any config), so the jobs themselves check who a run claims to be and
read only regular files inside the platform's folders. Each test replays what an attacker sent."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pytest
from conftest import QUARTER, template_file

from pipelines.cli import main
from pipelines.defs.local import run_job_in_process, state_of
from pipelines.lib.auth import AuthStore
from pipelines.settings import get_settings


def first_error(result) -> str:
    return state_of(result).first_error()


def gtm_submission() -> str:
    with duckdb.connect(str(get_settings().warehouse_path), read_only=True) as con:
        return con.execute("select submission_id from raw.submissions where country = 'GTM' "
                           "and dataset = 'TIP_JUSTICE'").fetchone()[0]


def audit_rows(action: str) -> list[tuple]:
    with duckdb.connect(str(get_settings().warehouse_path), read_only=True) as con:
        return con.execute("select actor, reason, submission_id from raw.audit_events "
                           "where action = ? order by occurred_at", [action]).fetchall()


def review_run(**config):
    return run_job_in_process(get_settings(), "review_job", "review", config, tags={})


def intake_run(**config):
    return run_job_in_process(get_settings(), "submission_job", "intake", config, tags={})


def test_a_grant_is_single_use_for_one_user_purpose_and_time(workflow_home, monkeypatch):
    from pipelines.lib import auth

    store = AuthStore(get_settings())
    token = store.grant("rita", "review")
    assert not store.redeem(token, "ana", "review") and not store.redeem(token, "rita", "submit")
    assert store.redeem(token, "rita", "review") and not store.redeem(token, "rita", "review")
    late = store.grant("rita", "review")
    later = auth._now() + auth.dt.timedelta(minutes=auth.GRANT_MINUTES + 1)
    monkeypatch.setattr(auth, "_now", lambda: later)
    assert not store.redeem(late, "rita", "review")


def test_a_decision_in_a_made_up_or_borrowed_name_is_refused_and_audited(workflow_home):
    submission = gtm_submission()  # TIP_JUSTICE has no warnings: acceptable at once
    forged = review_run(action="accept", actor="mallory", actor_role="reviewer",
                        submission_id=submission, reason="looks fine")
    assert not forged.success
    assert "workflow.refused.unknown_actor" in first_error(forged)
    # A real submitter claiming the reviewer's role; the real reviewer's name without the grant
    # her signed-in page would have made, or with one made for another purpose or already used.
    borrowed = review_run(action="accept", actor="ana", actor_role="reviewer",
                          submission_id=submission, reason="mine")
    assert "workflow.refused.unverified" in first_error(borrowed)
    store = AuthStore(get_settings())
    used = store.grant("rita", "review")
    assert store.redeem(used, "rita", "review")
    for grant in ("", store.grant("rita", "submit"), used):
        named = review_run(action="accept", actor="rita", actor_role="reviewer",
                           submission_id=submission, grant=grant)
        assert "workflow.refused.unverified" in first_error(named)
    assert AuthStore(get_settings()).disable_user("rita")
    disabled = review_run(action="accept", actor="rita", actor_role="reviewer",
                          submission_id=submission)
    assert "workflow.refused.unknown_actor" in first_error(disabled)

    # Nothing accepted, nothing locked: the status events are intake's alone.
    assert {row[0] for row in audit_rows("status")} == {"ana", "hugo"}
    assert audit_rows("refused") == [
        ("mallory", "workflow.refused.unknown_actor", submission),
        ("ana", "workflow.refused.unverified", submission),
        *[("rita", "workflow.refused.unverified", submission)] * 3,
        ("rita", "workflow.refused.unknown_actor", submission),
    ]


def files_received() -> int:
    with duckdb.connect(str(get_settings().warehouse_path), read_only=True) as con:
        return con.execute("select count(*) from raw.files").fetchone()[0]


def test_a_submission_run_reads_only_the_platforms_folders_as_who_it_says(workflow_home, tmp_path):
    settings = get_settings()
    before = files_received()
    archived = sorted(settings.archive_dir.iterdir())
    upload = template_file(settings.home / "uploads", "GTM")

    # An upload in the name of no account, and one by GTM's submitter for Honduras.
    refused = intake_run(files=[str(upload)], channel="upload", actor="mallory", role="submitter",
                         submitter_country="GTM")
    assert "workflow.refused.unknown_actor" in first_error(refused)
    refused = intake_run(files=[str(upload)], channel="upload", actor="ana", role="submitter",
                         submitter_country="HND")
    assert "workflow.refused.forbidden" in first_error(refused)
    # GTM's submitter for GTM, but not from her signed-in page (no grant).
    refused = intake_run(files=[str(upload)], channel="upload", actor="ana", role="submitter",
                         submitter_country="GTM")
    assert "workflow.refused.unverified" in first_error(refused)
    # The landing channel under a ministry user's name.
    refused = intake_run(files=[str(upload)], channel="landing", actor="ana")
    assert "workflow.refused.forbidden" in first_error(refused)

    # A file outside the platform's folders, and links to one from inside the landing folder.
    outside = intake_run(files=["/etc/passwd"], channel="landing", actor="landing-folder")
    assert "input.outside" in first_error(outside)
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    link = settings.landing_dir / "passwd.csv"
    link.symlink_to("/etc/passwd")
    linked = intake_run(files=[str(link)], channel="landing", actor="landing-folder")
    assert "input.symlink" in first_error(linked)
    (settings.landing_dir / "etc").symlink_to("/etc")
    through = intake_run(files=[str(settings.landing_dir / "etc" / "passwd")], channel="landing",
                         actor="landing-folder")
    assert "input.outside" in first_error(through)

    assert files_received() == before
    assert sorted(settings.archive_dir.iterdir()) == archived
    assert [row[1] for row in audit_rows("refused")] == [
        "workflow.refused.unknown_actor", "workflow.refused.forbidden",
        "workflow.refused.unverified", "workflow.refused.forbidden"]


def test_the_landing_sensor_moves_links_and_fifos_aside_unread(workflow_home):
    from pipelines.defs.ingest.sensors import landing_sensor

    settings = get_settings()
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    (settings.landing_dir / "passwd.csv").symlink_to("/etc/passwd")
    os.mkfifo(settings.landing_dir / "pipe.csv")
    (settings.landing_dir / "etc").symlink_to("/etc")
    long_name = "a" * 250 + ".csv"  # a prefixed name must still be a valid one
    (settings.landing_dir / long_name).symlink_to("/etc/passwd")
    with dg.instance_for_test() as instance:
        result = landing_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(result, dg.SkipReason)  # nothing left to take in
    assert list(settings.landing_dir.iterdir()) == []
    aside = sorted(p.name.split("-", 1)[1] for p in (settings.home / "refused").iterdir())
    assert aside == sorted(["etc", "passwd.csv", "pipe.csv", long_name[-120:]])
    assert Path("/etc/passwd").exists()  # the link moved, not its target


@pytest.mark.parametrize("kind", ["symlink", "directory", "fifo", "missing"])
def test_the_command_line_names_what_is_wrong_with_a_path(workflow_home, tmp_path, capsys, kind):
    path = tmp_path / f"GTM_{QUARTER}.csv"
    if kind == "symlink":
        path.symlink_to("/etc/passwd")
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    before = files_received()
    for command in (["submit", str(path)], ["import-glotip", str(path)]):
        assert main(["--lang", "en", *command]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err
        assert str(path) in err
        assert {"symlink": "symbolic link", "directory": "is a folder", "fifo": "not a regular file",
                "missing": "does not exist"}[kind] in err
    assert files_received() == before
    assert not any((get_settings().home / "inbox").glob("*"))  # no copy left behind


HOSTILE_TEXTS = [
    "![x](http://127.0.0.1:9/pixel.png) see **here**",
    "[Sign in again](http://evil.example/login) <img src=x onerror=alert(1)>",
    "# Heading\n- item\n`code` :red[alarm] :material/lock: $x^2$ www.evil.example http://evil.example",
    "mail secretariat@evil.example ``` fenced ``` and a lone ` backtick",
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_user_text_is_one_code_span(text):
    """Inside a code span nothing is markdown, HTML, a directive or an autolink (GFM's autolinks,
    which Streamlit applies, work on text, not on code): the rendered page holds exactly one
    <code> element with the user's text, character for character."""
    import html

    from markdown_it import MarkdownIt

    from dashboards.ui import plain

    rendered = MarkdownIt("commonmark").render(plain(text))
    assert rendered.startswith("<p><code>") and rendered.endswith("</code></p>\n")
    inner = rendered.removeprefix("<p><code>").removesuffix("</code></p>\n")
    assert "<" not in inner  # no element inside the code span
    assert html.unescape(inner) == " ".join(text.split())


def test_a_file_name_written_as_markdown_is_shown_as_text():
    from streamlit.testing.v1 import AppTest

    def page():
        from dashboards import workflow_ui
        from pipelines.lib.intake import FileOutcome

        name = "[**GTM**](http://evil.example/login) ![x](http://127.0.0.1:9/p.png).xlsx"
        workflow_ui.show_report(FileOutcome(name, "ab" * 32, False, "2026-11-28T10:00:00"), [],
                                "en", key="k")

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    [caption] = [c.value for c in at.caption if "GTM" in c.value]
    assert "` [**GTM**](http://evil.example/login) ![x](http://127.0.0.1:9/p.png).xlsx `" \
        in caption


def test_an_upload_says_nothing_about_another_members_files(workflow_home, tmp_path):
    from pipelines.lib.intake import Delivery, take_in
    from pipelines.lib.reports import report_for

    settings = get_settings()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        [(hnd_sha,)] = con.execute("select distinct file_sha256 from raw.submissions "
                                   "where country = 'HND'").fetchall()
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes((settings.archive_dir / hnd_sha).read_bytes())
    fresh = template_file(tmp_path, "HND", unknown_victims=1)  # HND's figures, never sent
    before = files_received()

    def as_gtm(path):
        [outcome] = take_in([Delivery(path, channel="upload", actor="ana", submitter_country="GTM",
                                      role="submitter")], settings)
        shown = report_for(settings, outcome.sha256, "GTM")
        return (outcome.duplicate, sorted((u.dataset, u.country, u.status, u.version)
                                          for u in shown.units),
                sorted({f["rule"] for u in shown.units for f in u.findings}))

    def stored() -> tuple:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute("select count(*), max(version) from raw.submissions "
                               "where country = 'GTM'").fetchone()

    gtm_before = stored()
    # The copy is answered as the never-sent file is: another country's rows, rejected, with no
    # version number; and a second time "already received" alike.
    first_copy, first_fresh = as_gtm(copy), as_gtm(fresh)
    assert first_copy == first_fresh
    assert first_copy[0] is False and {u[1:] for u in first_copy[1]} == {("GTM", "rejected", None)}
    assert "V02" in first_copy[2]
    assert as_gtm(copy)[0] is True and as_gtm(fresh)[0] is True
    # Neither is stored, so "My submissions" and GTM's next version number cannot tell them
    # apart either; Honduras' own report and submissions are untouched.
    assert files_received() == before and stored() == gtm_before
    assert {u.country for u in report_for(settings, hnd_sha, "HND").units} == {"HND"}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select action, count(*) from raw.audit_events where details like "
                           "'%other_member%' group by 1 order by 1").fetchall() == [
            ("duplicate", 2), ("refused", 2)]

    # Honduras sends its figures again in new bytes: every unit unchanged, so the file has a
    # report but no submission. Those bytes from GTM are still answered as new, not "received".
    resent = tmp_path / "resent.xlsx"
    workbook = openpyxl.load_workbook(copy)
    workbook.properties.title = "resent"  # other bytes, the same figures
    workbook.save(resent)
    [outcome] = take_in([Delivery(resent, channel="upload", actor="hugo", submitter_country="HND",
                                  role="submitter")], settings)
    assert {u.status for u in outcome.units} == {"unchanged"}
    again = tmp_path / "again.xlsx"
    again.write_bytes(resent.read_bytes())
    assert as_gtm(again)[:2] == first_fresh[:2]


def test_a_folder_swapped_for_a_link_after_the_check_is_caught_on_the_file_opened(tmp_path):
    from pipelines.lib.inputs import InputRefused, read_regular

    owned = tmp_path / "landing"
    (owned / "etc").mkdir(parents=True)
    (owned / "etc" / "passwd").write_text("a,b\n")
    assert read_regular(owned / "etc" / "passwd", (owned,)) == b"a,b\n"
    # Checked, then the folder above the file becomes a link (O_NOFOLLOW guards the last part only).
    (owned / "etc").rename(tmp_path / "moved")
    (owned / "etc").symlink_to("/etc")
    with pytest.raises(InputRefused) as refused:
        read_regular(owned / "etc" / "passwd", (owned,))
    assert refused.value.key == "input.outside"


def test_a_second_click_on_the_same_file_starts_no_run(workflow_home):
    """GTM's template sent again as it was: its report answers "already received" at once and
    no run is launched (no orchestrator serves this home: a launch would raise)."""
    from pipelines.lib.upload import store_upload
    from pipelines.orchestrator import start_upload, wait_for_report

    settings = get_settings()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        [(sha,)] = con.execute("select distinct file_sha256 from raw.submissions "
                               "where country = 'GTM'").fetchall()
    path = store_upload(settings, (settings.archive_dir / sha).read_bytes(), "xlsx")
    pending = start_upload(settings, path, actor="ana", country="GTM")
    assert (pending.seen_before, pending.run_id) == (True, "") and not path.exists()
    outcome = wait_for_report(settings, pending, timeout=5)
    assert outcome is not None and outcome.duplicate and outcome.sha256 == sha
