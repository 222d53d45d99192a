"""The real pipeline, end to end: files → intake → dbt build → serving snapshot, with a real
DuckDB file, a real dbt run and real Dagster materialisations in a temporary home.
Expected values are computed by hand from the fixture files (see tests/fixtures/make_fixtures.py:
a TIP_VICTIMS unit holds 44 victims × its scale; 32 women, 10 men; 14 children, 27 adults)."""

import datetime as dt
import re
import shutil

import dagster as dg
import duckdb
import pytest

from pipelines.cli import main
from pipelines.lib.publish import current_snapshot
from pipelines.settings import get_settings
from tests.conftest import module_home

pytestmark = pytest.mark.integration

SCENARIO = [
    "valid_gtm_2024q1_utf8.csv",  # GTM 2024-Q1: 44
    "valid_blz_2024q1.xlsx",  # BLZ 2024-Q1: 44
    "scenario_gtm_2024q2.csv",  # GTM 2024-Q2 v1: 88 ...
    "scenario_gtm_2024q2_v2.csv",  # ... replaced by v2: 44
    "scenario_gtm_2024q3.csv",  # GTM 2024-Q3: 44
    "scenario_gtm_2024q4.csv",  # GTM 2024-Q4: 132
    "scenario_gtm_2024q3_v2_bad.csv",  # rejected: Q3 stays 44
]
GTM_POPULATION_2024 = 18_406_359  # shared/data/population.csv, GTM 2024 total


def indicator(con, code, area, period, sex="_T", age="_T", form="_T"):
    rows = con.execute(
        "select value, obs_status, n_countries from marts.indicator_values where indicator_code = ?"
        " and ref_area = ? and time_period = ? and sex = ? and age = ? and exploitation_form = ?",
        [code, area, period, sex, age, form],
    ).fetchall()
    assert len(rows) <= 1
    return rows[0] if rows else None


@pytest.fixture(scope="module")
def pipeline_home(tmp_path_factory):
    """One home where the scenario went through the real pipeline (shared by the tests below)."""
    from tests.conftest import FIXTURES

    with module_home(tmp_path_factory, "pipeline") as home:
        code = main(["--lang", "en", "submit", *[str(FIXTURES / name) for name in SCENARIO]])
        yield home, code


def test_submit_exit_code_says_a_file_was_rejected(pipeline_home):
    _, code = pipeline_home
    assert code == 1


def test_the_marts_hold_hand_computed_indicators(pipeline_home):
    assert current_snapshot(get_settings()) is not None
    con = duckdb.connect(str(get_settings().warehouse_path), read_only=True)
    # Indicator 1: victims detected, quarterly, latest validated version per unit.
    assert indicator(con, "VIC_DETECTED", "GTM", "2024-Q1") == (44.0, "P", 1)
    assert indicator(con, "VIC_DETECTED", "GTM", "2024-Q2")[0] == 44.0  # v2 replaced v1 (88)
    assert indicator(con, "VIC_DETECTED", "GTM", "2024-Q3")[0] == 44.0  # rejected v2 ignored
    assert indicator(con, "VIC_DETECTED", "GTM", "2024-Q4")[0] == 132.0
    assert indicator(con, "VIC_DETECTED", "REG", "2024-Q1") == (88.0, "P", 2)
    assert indicator(con, "VIC_DETECTED", "GTM", "2024")[0] == 264.0  # 44 + 44 + 44 + 132
    assert indicator(con, "VIC_DETECTED", "GTM", "2024-Q4-R4Q")[0] == 264.0
    assert indicator(con, "VIC_DETECTED", "BLZ", "2024") is None  # one quarter is no year
    assert indicator(con, "VIC_DETECTED", "GTM", "2024-Q1", sex="F")[0] == 32.0
    # Indicator 2: rate per 100,000, annual, never quarterly.
    rate = indicator(con, "VIC_RATE_100K", "GTM", "2024")[0]
    assert rate == pytest.approx(264 / GTM_POPULATION_2024 * 100_000)
    assert indicator(con, "VIC_RATE_100K", "GTM", "2024-Q1") is None
    # Indicator 3: shares with unknowns excluded from the denominator.
    female = indicator(con, "VIC_FEMALE_SHARE", "GTM", "2024-Q1")[0]
    assert female == pytest.approx(32 / (32 + 10 + 0) * 100)
    child = indicator(con, "VIC_CHILD_SHARE", "GTM", "2024-Q1")[0]
    assert child == pytest.approx(14 / (14 + 27) * 100)
    con.close()


def test_warehouse_keeps_every_version_and_finding(pipeline_home):
    home, _ = pipeline_home
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    versions = con.execute(
        "select period, version, status from raw.submissions where country = 'GTM' "
        "and period in ('2024-Q2', '2024-Q3') order by 1, 2").fetchall()
    assert versions == [("2024-Q2", 1, "validated"), ("2024-Q2", 2, "validated"),
                        ("2024-Q3", 1, "validated"), ("2024-Q3", 2, "rejected")]
    rules = con.execute("select rule, row_number from raw.findings order by row_number").fetchall()
    assert rules == [("V05", 5), ("V05", 18)]
    assert con.execute("select count(*) from raw.files").fetchone()[0] == len(SCENARIO)
    # The rejected file's bytes are kept too (quarantined with its report).
    archived = {p.name for p in (home / "archive").iterdir()}
    assert len([n for n in archived if not n.endswith(".json")]) == len(SCENARIO)
    con.close()


def test_the_same_bytes_twice_are_recognised_not_stored(pipeline_home, capsys):
    home, _ = pipeline_home
    from tests.conftest import FIXTURES

    code = main(["--lang", "es", "submit", str(FIXTURES / "valid_gtm_2024q1_utf8.csv")])
    assert code == 0
    assert "ya se recibió" in capsys.readouterr().out
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("select count(*) from raw.files").fetchone()[0] == len(SCENARIO)
    assert con.execute("select count(*) from raw.audit_events where action = 'duplicate'").fetchone()[0] == 1
    con.close()


def test_landing_sensor_requests_a_run_that_takes_the_file_in(pipeline_home):
    from pipelines.definitions import defs
    from pipelines.defs.ingest.sensors import landing_sensor
    from tests.conftest import FIXTURES

    home, _ = pipeline_home
    settings = get_settings()
    before = current_snapshot(settings)
    landing = settings.landing_dir
    landing.mkdir(parents=True, exist_ok=True)
    dropped = landing / "GTM_2024-Q1_copy.csv"
    shutil.copy(FIXTURES / "valid_gtm_2024q1_cp1252_semicolon.csv", dropped)
    import os
    import time

    old = time.time() - 10
    os.utime(dropped, (old, old))  # settled: not being written any more
    with dg.instance_for_test() as instance:
        result = landing_sensor(dg.build_sensor_context(instance=instance))
        [request] = result if isinstance(result, list) else [result]
        assert isinstance(request, dg.RunRequest)
        assert request.run_config["ops"]["intake"]["config"]["files"] == [str(dropped)]
        run = defs.resolve_job_def("submission_job").execute_in_process(
            run_config=request.run_config, instance=instance)
    assert run.success
    assert not dropped.exists()  # it left the landing folder only after being stored
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    version = con.execute(
        "select max(version) from raw.submissions where country = 'GTM' and period = '2024-Q1'"
    ).fetchone()[0]
    unchanged = con.execute("select count(*) from raw.audit_events where action = 'unchanged'"
                            ).fetchone()[0]
    con.close()
    # Different bytes (Windows-1252, ';') with the same figures: the file is kept, the version in
    # use stays, and with nothing new the snapshot is not rebuilt.
    assert (version, unchanged) == (1, 1)
    assert current_snapshot(settings) == before


BAD_FILES = {
    "bad_empty.csv": "V01",
    "bad_binary.csv": "V01",
    "bad_bom_but_cp1252.csv": "V01",
    "bad_free_text_nationality.csv": "V02",
    "bad_negative_and_fraction.csv": "V03",
    "bad_duplicate_row.csv": "V04",
    "bad_not_additive.csv": "V05",
    "bad_wrong_country.csv": "V02",
    "bad_future_quarter.csv": "V02",
    "bad_unknown_dataset.csv": "V01",
}


def test_bad_files_are_rejected_kept_and_never_half_loaded(observatory_home, capsys):
    from tests.conftest import FIXTURES

    code = main(["--lang", "en", "submit", *[str(FIXTURES / name) for name in BAD_FILES]])
    assert code == 1
    out = capsys.readouterr().out
    assert out.count("REJECTED") == len(BAD_FILES)
    assert "Did you mean GTM (Guatemala)?" in out
    con = duckdb.connect(str(observatory_home / "warehouse.duckdb"), read_only=True)
    assert con.execute("select count(*) from raw.observations").fetchone()[0] == 0
    rules = dict(con.execute(
        "select f.original_name, list(distinct d.rule order by d.rule) from raw.files f "
        "join raw.findings d using (file_sha256) group by 1").fetchall())
    assert {name: r for name, r in rules.items()} == {n: [rule] for n, rule in BAD_FILES.items()}
    statuses = con.execute("select distinct status from raw.submissions").fetchall()
    assert statuses == [("rejected",)]
    con.close()
    kept = [p for p in (observatory_home / "archive").iterdir() if not p.name.endswith(".json")]
    assert len(kept) == len(BAD_FILES)


def test_usage_errors_exit_2_in_one_line_in_the_readers_language(observatory_home, capsys,
                                                                  monkeypatch):
    monkeypatch.delenv("OBSERVATORY_LANG", raising=False)
    assert main(["submit", str(observatory_home / "no_such_file.csv")]) == 2
    assert "No existe el archivo" in capsys.readouterr().err
    cases = [  # argparse's own refusals, said again
        (["no-such-command"], "no hay ningún comando «no-such-command» (comandos: submit, demo"),
        (["--lang", "fr", "export"], "observatory export : il manque --out."),
        (["--lang", "en", "export", "--out"], "--out needs a value"),
        (["--lang", "en", "api", "--port", "abc"], "--port does not take 'abc'"),
        (["--lang=es", "export", "--out", "x", "--zzz"], "no se entiende --zzz"),
        (["--lang", "xx", "demo"], "--lang no admite «xx» (valores posibles: es, en, fr)"),
    ]
    for args, said in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert said in err and "\n" not in err and "usage" not in err, err
        assert err.endswith("--help"), err


def test_the_help_is_in_the_readers_language(observatory_home, capsys):
    assert main(["--lang", "fr", "export", "--help"]) == 0
    said = capsys.readouterr().out
    assert said.startswith("usage : observatory export [-h]"), said
    assert "afficher cette aide et quitter" in said and "dossier pour les fichiers" in said
    assert main(["--lang", "es", "--help"]) == 0
    said = capsys.readouterr().out
    assert said.startswith("uso: observatory") and "opciones:" in said
    assert "validar, guardar y publicar archivos de envío" in said and "show this" not in said


def test_the_disclosure_gate_records_refuses_and_repairs(pipeline_home, tmp_path, monkeypatch):
    """Record mode (the default) publishes the audit with the snapshot and in every export's
    manifest; block mode refuses a build that fails (the last snapshot stays served) and, with
    the repair, hides cells until the audit passes for an outsider and every member."""
    from pipelines.lib.disclosure import gate
    from pipelines.lib.disclosure.audit import audit
    from pipelines.lib.disclosure.relations import build_system, known_before
    from pipelines.lib.disclosure.repair import Repair
    from pipelines.lib.export import run_export
    from pipelines.lib.warehouse import writer_lock
    from tests.conftest import FIXTURES

    home, _ = pipeline_home
    recorded = gate.latest_audit(current_snapshot(get_settings()))
    # The scenario's small cells (few victims of unknown sex or age, one form) leak today.
    assert recorded is not None and not recorded["passed"] and recorded["failing"] > 0
    assert recorded["attackers"].startswith("outsider, ") and "GTM" in recorded["attackers"]
    assert recorded["relations"] > 0 and recorded["hidden"] > 0
    # Counts only: which cells fail, and their intervals, would give hidden values away.
    assert not {"failing_cells", "narrowest_cell", "narrowest_low"} & set(recorded)
    manifest = run_export(get_settings(), ["csv"], tmp_path / "export")
    assert manifest["disclosure_audit"]["failing"] == recorded["failing"]

    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    monkeypatch.setenv("OBSERVATORY_HOME", str(copy))
    monkeypatch.setenv("OBSERVATORY_DISCLOSURE_GATE", "block")
    settings = get_settings()
    served = current_snapshot(settings)

    # A repair that cannot free the cells: the gate refuses (the asset fails, so
    # serving_snapshot, which depends on it, does not run: test_definitions), and says which.
    repair = gate.protect
    monkeypatch.setattr(gate, "protect",
                        lambda system, *a, **k: Repair(system=system, remaining=["unrepaired"]))
    with writer_lock(settings), pytest.raises(gate.DisclosureAuditFailed, match=r"VIC_DETECTED\|"):
        gate.run_gate(settings, log=lambda _: None)
    monkeypatch.setattr(gate, "protect", repair)

    # A corrected quarter (one victim moved from one form to another; the totals stay): a new
    # version, so a rebuild (the same figures again would make none).
    corrected = tmp_path / "GTM_2024-Q1_corrected.csv"
    corrected.write_text((FIXTURES / "valid_gtm_2024q1_utf8.csv").read_text(encoding="utf-8")
                         .replace(",SEX,_T,_T,20", ",SEX,_T,_T,19")
                         .replace(",FLAB,_T,_T,10", ",FLAB,_T,_T,11"), encoding="utf-8")
    assert main(["--lang", "en", "submit", str(corrected)]) == 0
    published = current_snapshot(settings)
    assert published != served and gate.latest_audit(published)["passed"]
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        system, _ = build_system(con, gate.min_count())
        members = [r[0] for r in con.execute("select iso3 from marts.dim_country where member").fetchall()]
        repairs = [r[0] for r in con.execute("select cell_id from disclosure.repairs").fetchall()]
    finally:
        con.close()
    # Audited again from scratch, what was published passes for every attacker.
    assert audit(system, gate.min_count(), insiders=members).passed
    assert repairs
    statuses = dict(zip(system.ids, system.status, strict=True))
    assert all(statuses[cid] != "F" for cid in repairs if cid in statuses)
    # A later build with the same figures looks at no block again: each passed as it is now.
    lines: list[str] = []
    with writer_lock(settings):
        unchanged = gate.run_gate(settings, log=lines.append)
    assert unchanged.result.passed and unchanged.repairs_added == 0
    assert unchanged.result.lp_solves == 0 and unchanged.result.cells == system.n_cells
    assert re.search(r"; (\d+) of \1 blocks unchanged since an audit passed", lines[0]), lines
    # From scratch, it starts from the repairs: it passes with nothing more to hide, even when the
    # audit leaves every cell its batches could not settle to the repair's exact look.
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("delete from disclosure.passed_blocks")
    monkeypatch.setattr(gate, "AUDIT_EXACT_LIMIT", 0)
    with writer_lock(settings):
        later = gate.run_gate(settings, log=lambda _: None)
    assert later.result.passed and later.repairs_added == 0 and later.result.lp_solves > 0
    monkeypatch.setattr(gate, "AUDIT_EXACT_LIMIT", 20)

    # A reader who kept the earlier snapshot: another correction is published, and what it
    # hides cannot be worked out from it together with what that one showed (its file, read here
    # as that reader would); the gate keeps every value it let through.
    # Three men of 18 or more instead of 6, seven boys instead of 4: the men's total (10), the
    # grand total and the women's figures stay as that snapshot showed them.
    again = tmp_path / "GTM_2024-Q1_corrected_again.csv"
    again.write_text(corrected.read_text(encoding="utf-8")
                     .replace(",M,Y0T17,_T,_T,_T,4,", ",M,Y0T17,_T,_T,_T,7,")
                     .replace(",M,Y_GE18,_T,_T,_T,6,", ",M,Y_GE18,_T,_T,_T,3,")
                     .replace(",_T,Y0T17,_T,_T,_T,14,", ",_T,Y0T17,_T,_T,_T,17,")
                     .replace(",_T,Y_GE18,_T,_T,_T,27,", ",_T,Y_GE18,_T,_T,_T,24,"),
                     encoding="utf-8")
    before_again = dt.datetime.now(dt.UTC)
    assert main(["--lang", "en", "submit", str(again)]) == 0
    assert current_snapshot(settings) != published
    kept = shown_in(published)  # (the first one, published in record mode, failed its audit)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        system, _ = build_system(con, gate.min_count())
        recorded = {(cid, value) for cid, value in con.execute(
            "select cell_id, value from disclosure.published_values").fetchall()}
    finally:
        con.close()
    assert kept <= recorded
    assert audit(known_before(system, kept), gate.min_count(), insiders=members).passed

    # A hidden cell of that quarter which, had the earlier snapshot shown it, would give a small
    # one away; had it, the gate (run here again as if this build were not published yet) hides
    # more until that reader learns nothing either.
    threshold = gate.min_count()
    exposing = next(
        (cid, float(value)) for cid, value, status in zip(system.ids, system.truth, system.status,
                                                          strict=True)
        if "|GTM|2024-Q1|" in cid and status == "D"
        and not audit(known_before(system, {(cid, float(value))}), threshold).passed)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("delete from disclosure.published_values where first_published_at >= ?",
                    [before_again])
        con.execute("insert into disclosure.published_values values (?, ?, ?)",
                    [*exposing, before_again - dt.timedelta(seconds=1)])
    with writer_lock(settings):
        guarded = gate.run_gate(settings, log=lambda _: None)
    assert guarded.result.passed and guarded.repairs_added > 0
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        system, _ = build_system(con, threshold)
    finally:
        con.close()
    assert system.fixed[system.ids.index(exposing[0])]
    assert audit(system, threshold, insiders=members).passed


def shown_in(snapshot) -> set[tuple[str, float]]:
    """The counts a snapshot file shows, as (cell, value): what a reader who kept it knows."""
    from pipelines.lib.disclosure.relations import cell_id, is_window

    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute(
            "select p.indicator_code, p.ref_area, p.time_period, p.sex, p.age, "
            "p.exploitation_form, p.value from marts.indicator_values_published as p "
            "inner join marts.dim_indicator as i on i.indicator_code = p.indicator_code "
            "and i.disclosure_rule = 'PRIMARY_SMALL_COUNT' where p.conf_status = 'F'").fetchall()
    return {(cell_id(*row[:6]), float(row[6])) for row in rows if not is_window(row[2])}


def test_only_disclosure_controlled_tables_are_served_and_own_figures_are_private(pipeline_home):
    """The public snapshot holds no figure before disclosure control; each member's own figures
    are in its own store beside it, that member's rows only, readable by the platform alone."""
    import stat

    from pipelines.lib.publish import UNCONTROLLED, own_store

    settings = get_settings()
    snapshot = current_snapshot(settings)
    with duckdb.connect(str(snapshot), read_only=True) as con:
        tables = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    assert not tables & set(UNCONTROLLED)
    assert "indicator_values_published" in tables
    store = own_store(snapshot, "GTM")
    with duckdb.connect(str(store), read_only=True) as con:
        areas = con.execute("select distinct ref_area from marts.indicator_values").fetchall()
        small = con.execute("select count(*) from marts.indicator_values "
                            "where value between 1 and 4").fetchone()[0]
    assert areas == [("GTM",)] and small > 0  # its own small counts, as submitted
    mode = lambda path: stat.S_IMODE(path.stat().st_mode)  # noqa: E731
    assert mode(store) == 0o600 and mode(store.parent) == 0o700
    assert mode(settings.warehouse_path) == 0o600
    assert mode(settings.archive_dir) == 0o700 and mode(settings.landing_dir) == 0o700
