"""``observatory plan import FILE`` / ``plan export --out DIR`` for real: a member's year of
submissions, then the plan job (import → dbt build → publish) in a temporary home, with a real
DuckDB warehouse and serving snapshot. The expected actuals are read from the published
indicators of the snapshot and the progress and status worked out here from the issue's formulas,
not from the SQL."""

from __future__ import annotations

import csv
import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.lib.i18n import t
from pipelines.lib.plan import columns
from pipelines.lib.publish import current_snapshot
from pipelines.settings import get_settings
from tests.conftest import module_home

pytestmark = pytest.mark.integration

SUBMISSIONS = Path(__file__).resolve().parents[1] / "fixtures" / "submissions"
YEAR_2024 = [SUBMISSIONS / name for name in (
    "valid_gtm_2024q1_utf8.csv", "scenario_gtm_2024q2.csv", "scenario_gtm_2024q3.csv",
    "scenario_gtm_2024q4.csv")]


def run(*args: str, lang: str = "en") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--lang", lang, *args])
    return code, out.getvalue(), err.getvalue()


def target(objective: str, aim: int, indicator: str, area: str, direction: str,
           baseline: tuple[str, float], goal: tuple[str, float], **extra) -> dict:
    row = {c: "" for c in columns()}
    row.update(objective_id=objective, objective_es=f"Objetivo {objective}",
               objective_en=f"Objective {objective}", objective_fr=f"Objectif {objective}",
               aim=str(aim), indicator=indicator, ref_area=area, direction=direction,
               baseline_period=baseline[0], baseline_value=str(baseline[1]),
               target_period=goal[0], target_value=str(goal[1]), **extra)
    return row


def write_plan(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns())
        writer.writeheader()
        writer.writerows(rows)
    return path


def snapshot_rows(sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(current_snapshot(get_settings())), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with module_home(tmp_path_factory, "plan") as home:
        yield home


@pytest.fixture(scope="module")
def published(home):
    """Guatemala's four quarters of 2024 taken in; the annual totals published for GTM and REG."""
    code, _, err = run("submit", *map(str, YEAR_2024))
    assert code == 0, err
    rows = snapshot_rows(
        "select indicator_code, ref_area, value, conf_status from marts.indicator_values_published "
        "where time_period = '2024' and sex = '_T' and age = '_T' and exploitation_form = '_T'")
    return {(code, area): (value, conf) for code, area, value, conf in rows}


def expected_status(direction, baseline, goal, actual, elapsed):
    if direction == "monitor":
        return None
    if direction == "maintain":
        return "on_track" if abs(actual - baseline) <= 0.05 * abs(baseline) else "off_track"
    progress = (actual - baseline) / (goal - baseline)
    if progress >= 1:
        return "achieved"
    if progress >= elapsed - 0.10:
        return "on_track"
    return "at_risk" if progress >= elapsed - 0.30 else "off_track"


@pytest.fixture(scope="module")
def imported(home, published, tmp_path_factory):
    """A plan of six targets imported: (exit code, stdout, the plan's rows)."""
    female_gtm = published[("VIC_FEMALE_SHARE", "GTM")][0]
    child_gtm = published[("VIC_CHILD_SHARE", "GTM")][0]
    rows = [
        target("O1", 3, "VIC_DETECTED", "GTM", "monitor", ("2023", 100), ("2027", 100)),
        target("O2", 3, "VIC_FEMALE_SHARE", "GTM", "increase", ("2023", 20), ("2027", 95),
               milestones="2025=40; 2026=60"),
        target("O2", 3, "VIC_FEMALE_SHARE", "REG", "decrease", ("2023", 99), ("2027", 10)),
        target("O3", 1, "VIC_CHILD_SHARE", "GTM", "maintain",
               ("2023", round(child_gtm * 1.04, 6)), ("2027", round(child_gtm * 1.04, 6))),
        target("O4", 2, "TIP_CONVICTED", "GTM", "increase", ("2023", 5), ("2027", 10)),
        target("O4", 2, "VIC_DETECTED", "REG", "monitor", ("2024", 1), ("2026", 1)),
    ]
    assert female_gtm is not None and child_gtm is not None
    path = write_plan(tmp_path_factory.mktemp("plan_in") / "plan_2026.csv", rows)
    code, out, err = run("plan", "import", str(path))
    return code, out + err, rows


def test_the_import_reports_the_new_version(imported):
    code, output, _ = imported
    assert code == 0, output
    assert "plan_2026.csv" in output
    assert t("plan.report.accepted", "en", version=1, rows=6, warnings=0) in output
    assert "Traceback" not in output


def test_progress_is_computed_from_the_published_figures(imported, published):
    got = {(r[0], r[1], r[2]): r[3:] for r in snapshot_rows(
        "select objective_id, indicator, ref_area, actual_period, actual_value, conf_status, "
        "progress, elapsed, status, plan_version from marts.plan_progress")}
    assert len(got) == 6
    elapsed = (2024 - 2023) / (2027 - 2023)
    for row in imported[2]:
        key = (row["objective_id"], row["indicator"], row["ref_area"])
        actual_period, actual, conf, progress, elapsed_got, status, version = got[key]
        assert version == 1
        if row["baseline_period"] == "2024" or key[1] == "TIP_CONVICTED":
            assert (actual_period, actual, status) == (None, None,
                                                       None if row["direction"] == "monitor"
                                                       else "no_data"), key
            continue
        value, published_conf = published[(key[1], key[2])]
        assert (actual_period, actual, conf) == ("2024", value, published_conf), key
        assert elapsed_got == pytest.approx(elapsed)
        baseline, goal = float(row["baseline_value"]), float(row["target_value"])
        if row["direction"] in ("increase", "decrease"):
            assert progress == pytest.approx((value - baseline) / (goal - baseline))
        assert status == expected_status(row["direction"], baseline, goal, value, elapsed), key
    assert got[("O3", "VIC_CHILD_SHARE", "GTM")][5] == "on_track"


def test_the_export_gives_the_plan_back_and_it_imports_as_the_same_plan(imported, tmp_path):
    code, out, err = run("plan", "export", "--out", str(tmp_path / "out"), lang="es")
    assert code == 0, err
    assert t("plan.cli.exported", "es", version=1, rows=6, path=tmp_path / "out") in out
    with (tmp_path / "out" / "plan.csv").open(encoding="utf-8-sig") as f:
        exported = list(csv.DictReader(f))
    assert {(r["objective_id"], r["indicator"], r["ref_area"]) for r in exported} == {
        (r["objective_id"], r["indicator"], r["ref_area"]) for r in imported[2]}
    milestones = [r["milestones"] for r in exported if r["ref_area"] == "GTM"
                  and r["objective_id"] == "O2"]
    assert milestones == ["2025=40; 2026=60"]
    assert (tmp_path / "out" / "plan.xlsx").stat().st_size > 0


def test_a_rejected_version_is_kept_and_changes_nothing(imported, tmp_path):
    before = snapshot_rows("select * from marts.plan_progress order by all")
    rows = [dict(imported[2][0], ref_area="PAN"),
            dict(imported[2][1], target_period="2022", milestones="")]
    path = write_plan(tmp_path / "plan_bad.csv", rows)
    code, out, err = run("plan", "import", str(path), lang="fr")
    assert code == 1
    assert t("plan.report.rejected", "fr", version=2, rows=2, errors=2, warnings=0) in out
    assert "[P04" in out and "[P08" in out and "Traceback" not in out + err
    assert snapshot_rows("select * from marts.plan_progress order by all") == before
    con = duckdb.connect(str(get_settings().warehouse_path), read_only=True)
    try:
        assert con.execute("select version, status from raw.plan_versions order by 1").fetchall() \
            == [(1, "accepted"), (2, "rejected")]
    finally:
        con.close()
    code, out, _ = run("plan", "import", str(path))
    assert code == 1 and "Already imported as version 2" in out


@pytest.mark.parametrize(("content", "key"), [
    (b"objective_id,aim\nO1,3\n", "plan.file.missing_columns"),
    (b"PK\x03\x04broken", "plan.file.unreadable"),
])
def test_bad_input_is_one_message_and_no_traceback(home, tmp_path, content, key):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(content)
    code, out, err = run("plan", "import", str(path), lang="es")
    assert code == 1
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.split("(")[0].split(":")[0] in t(key, "es", columns="x", detail="x")


def test_a_missing_file_and_a_bad_folder_are_usage_errors(home, tmp_path):
    code, _, err = run("plan", "import", str(tmp_path / "nothing.xlsx"))
    assert code == 2 and "Traceback" not in err and err.strip()
    (tmp_path / "file").write_text("x")
    code, _, err = run("plan", "export", "--out", str(tmp_path / "file"))
    assert code == 2 and err.strip()


def test_the_evaluator_export_has_the_plan_with_its_version_and_rule(imported, tmp_path):
    import json

    import openpyxl

    code, _, err = run("export", "--format", "csv", "xlsx", "--out", str(tmp_path))
    assert code == 0, err
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["plan"]["version"] == 1 and manifest["plan"]["targets"] == 6
    assert manifest["plan"]["illustrative"] is False
    assert manifest["plan"]["status_rule"] == {"plan_on_track_margin": 0.1,
                                               "plan_at_risk_margin": 0.3,
                                               "plan_maintain_tolerance": 0.05}
    listed = {f["file"]: f["sha256"] for f in manifest["files"]}
    import hashlib

    assert listed["plan_progress.csv"] == hashlib.sha256(
        (tmp_path / "plan_progress.csv").read_bytes()).hexdigest()
    with (tmp_path / "plan_progress.csv").open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [dict(zip(header, r, strict=True)) for r in reader]
    assert header == ["objective_id", "aim", "indicator", "ref_area", "direction",
                      "baseline_period", "baseline_value", "target_period", "target_value",
                      "actual_period", "actual_value", "progress", "elapsed", "status",
                      "conf_status"]
    published = {(r[0], r[1], r[2]): r[3:] for r in snapshot_rows(
        "select objective_id, indicator, ref_area, actual_value, status from marts.plan_progress")}
    assert len(rows) == len(published) == 6
    for row in rows:
        value, status = published[(row["objective_id"], row["indicator"], row["ref_area"])]
        assert row["status"] == (status or "")
        assert (float(row["actual_value"]) if row["actual_value"] else None) == value
    workbook = openpyxl.load_workbook(tmp_path / "indicators.xlsx", read_only=True)
    sheet = workbook[t("export.sheet.plan", "en")]
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0]) == header and len(lines) == 7
    notes = [" ".join(str(c) for c in r if c) for r in
             workbook[t("export.sheet.notes", "en")].iter_rows(values_only=True)]
    assert any("version 1 of the plan in force" in n and "elapsed − 10 percentage points" in n
               for n in notes), notes


def test_the_demo_plan_is_built_from_published_figures_and_labelled_illustrative(
        imported, home, tmp_path):
    """The demo's plan from this home's snapshot (baseline 2024, the year published here): its
    baselines are the published values, it imports as a new version flagged illustrative, and
    the export's manifest and notes say so."""
    import json

    from pipelines.lib.demo_plan import demo_plan_rows, write_demo_plan

    snapshot = current_snapshot(get_settings())
    rows = demo_plan_rows(snapshot, 2024, 2030)
    published = dict(((code, area), value) for code, area, value in snapshot_rows(
        "select indicator_code, ref_area, value from marts.indicator_values_published "
        "where time_period = '2024' and sex = '_T' and age = '_T' and exploitation_form = '_T' "
        "and conf_status = 'F'"))
    assert rows and all(
        float(r["baseline_value"]) == pytest.approx(published[(r["indicator"], r["ref_area"])],
                                                    rel=1e-3) for r in rows)
    # Guatemala alone reported, so its victims' targets are the only members' ones
    assert {r["ref_area"] for r in rows if r["indicator"] == "VIC_DETECTED"} == {"GTM", "REG"}
    path = write_demo_plan(snapshot, tmp_path, 2024, 2030)
    assert path.read_bytes() == write_demo_plan(snapshot, tmp_path / "again", 2024,
                                                2030).read_bytes()
    from pipelines.cli import run_plan_import

    assert run_plan_import(get_settings(), path, lang="en", actor="demo-generator",
                           illustrative=True, quiet=True) == 0
    assert {r[0] for r in snapshot_rows("select plan_is_illustrative from marts.plan_progress")} \
        == {True}
    code, _, err = run("export", "--format", "csv", "--out", str(tmp_path / "export"))
    assert code == 0, err
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["plan"]["illustrative"] is True and manifest["plan"]["version"] == 3


def test_as_of_a_date_the_plan_is_the_one_in_force_that_day(imported, tmp_path):
    """The vintage of a past day has none of the plan versions imported after it; the vintage
    of today has the plan in force now (the plan is rebuilt with the figures)."""
    import datetime as dt

    from pipelines.lib.vintage import build_vintage

    today = dt.datetime.now(dt.UTC).date()  # imports are stamped with the real clock
    current = snapshot_rows("select plan_version, count(*) from marts.plan_progress group by 1")
    for as_of, expected in ((today - dt.timedelta(days=1), []), (today, current)):
        work = tmp_path / as_of.isoformat()
        work.mkdir()
        vintage = build_vintage(get_settings(), as_of, work)
        with duckdb.connect(str(vintage), read_only=True) as con:
            assert con.execute("select plan_version, count(*) from marts.plan_progress "
                               "group by 1").fetchall() == expected
            versions = con.execute("select count(*) from raw.plan_versions").fetchone()[0]
        assert (versions == 0) is (not expected)
