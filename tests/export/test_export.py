"""Exports end to end on a small warehouse built with the real dbt project (see conftest)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.cli import main
from pipelines.lib import export as export_lib
from pipelines.lib import sdmx
from pipelines.lib.export import ExportData, csv_bytes, run_export, xlsx_bytes
from pipelines.lib.i18n import t
from pipelines.lib.publish import current_snapshot

from .conftest import build_and_publish

KEY = ("indicator_code", "ref_area", "time_period", "sex", "age", "exploitation_form")


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def as_float(text):
    return None if text in ("", None) else float(text)


@pytest.fixture(scope="module")
def exported(small_home, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    run_export(small_home, list(export_lib.FORMATS), out, lang="en")
    return out


def test_every_format_carries_the_same_values_and_flags(small_home, exported: Path) -> None:
    from_csv = {tuple(r[k] for k in KEY): (as_float(r["value"]), r["obs_status"], r["conf_status"])
                for r in read_csv(exported / "indicators.csv")}
    table = pq.read_table(exported / "indicators.parquet").to_pylist()
    from_parquet = {tuple(r[k] for k in KEY): (r["value"], r["obs_status"], r["conf_status"]) for r in table}
    workbook = openpyxl.load_workbook(exported / "indicators.xlsx", read_only=True)
    from_xlsx = {}
    for sheet in workbook.worksheets[2:]:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows)
        if "indicator_code" not in header:  # a table beside the indicators (flows, pairs)
            continue
        for row in rows:
            r = dict(zip(header, row, strict=True))
            from_xlsx[tuple(r[k] for k in KEY)] = (r["value"], r["obs_status"], r["conf_status"])
    assert from_csv and from_csv == from_parquet
    # XLSX numbers carry 16 significant digits (XlsxWriter writes %.16G; Excel shows 15): counts
    # are exact, rates equal to 1e-15 relative
    assert from_xlsx.keys() == from_csv.keys()
    for key, (value, obs, conf) in from_csv.items():
        assert from_xlsx[key][1:] == (obs, conf)
        assert from_xlsx[key][0] == (None if value is None else pytest.approx(value, rel=1e-15))
        if value is not None and value.is_integer():
            assert from_xlsx[key][0] == value
    assert [s.title for s in workbook.worksheets[:2]] == ["Notes", "Definitions"]
    # ... and the same as the published mart, flags included
    from pipelines.lib.publish import current_snapshot

    snapshot = current_snapshot(small_home)
    con = duckdb.connect(str(snapshot), read_only=True)
    mart = {r[:6]: tuple(r[6:]) for r in con.execute(
        f"select {', '.join(KEY)}, value, obs_status, conf_status "
        "from marts.indicator_values_published").fetchall()}
    con.close()
    assert mart == from_parquet
    statuses = {v[2] for v in from_csv.values()}
    assert statuses <= {"F", "A", "D"} and "F" in statuses



def test_flows_by_citizenship_are_exported_as_the_map_shows_them(small_home, exported: Path) -> None:
    """The flows the dashboard's map draws (marts.flows_victims: 5 or more, not hidden) are the
    rows of the CSV, the Parquet file and the XLSX sheet "06", no more and no fewer."""
    from pipelines.lib.publish import current_snapshot

    con = duckdb.connect(str(current_snapshot(small_home)), read_only=True)
    try:
        mart = {r[:3]: r[3] for r in con.execute(
            "select origin_area, destination_area, time_period, victims from marts.flows_victims"
        ).fetchall()}
    finally:
        con.close()
    assert mart and min(mart.values()) >= 5
    from_csv = {(r["origin_area"], r["destination_area"], r["time_period"]): int(r["victims"])
                for r in read_csv(exported / "flows_by_citizenship.csv")}
    from_parquet = {(r["origin_area"], r["destination_area"], r["time_period"]): r["victims"]
                    for r in pq.read_table(exported / "flows_by_citizenship.parquet").to_pylist()}
    workbook = openpyxl.load_workbook(exported / "indicators.xlsx", read_only=True)
    sheet = workbook[t("export.sheet.flows", "en")]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows)
    from_xlsx = {(r["origin_area"], r["destination_area"], r["time_period"]): r["victims"]
                 for r in (dict(zip(header, row, strict=True)) for row in rows)}
    assert from_csv == from_parquet == from_xlsx == mart

def test_notes_sheet_carries_the_unodc_history_methods_note(exported: Path) -> None:
    """The XLSX notes sheet says where the UNODC history comes from, what '<5' means and that
    detected victims depend on detection capacity (issue 6)."""
    workbook = openpyxl.load_workbook(exported / "indicators.xlsx", read_only=True)
    notes = dict(workbook["Notes"].iter_rows(values_only=True))
    text = notes["UNODC history (2003–2020)"]
    assert text == t("export.note.history", "en")
    assert "UNODC" in text and "GLOTIP" in text and "data_glotip.xlsx" in text
    assert '"<5" in UNODC\'s file means a count below 5 (1 to 4) suppressed at source' in text
    assert "no number is invented" in text
    assert "depend on detection capacity" in text
    assert "a file of their own" in text and "never mixed with the members' values" in text


def test_notes_carry_the_history_note_in_spanish() -> None:
    data = ExportData(rows=[], definitions=[], m49={}, submissions=[], source={})
    notes = dict(export_lib.notes_for(data, None, {}, "es"))
    text = notes["Historia UNODC (2003–2020)"]
    assert "UNODC" in text and "GLOTIP" in text
    assert "«<5» en el archivo de la UNODC significa un recuento inferior a 5" in text
    assert "suprimido en origen" in text and "sin inventar ninguna cifra" in text
    assert "dependen de la capacidad de detección" in text
    keys = list(notes)
    assert keys.index("Historia UNODC (2003–2020)") == keys.index("Método") + 1


def test_parquet_types(exported: Path) -> None:
    schema = pq.read_schema(exported / "indicators.parquet")
    assert str(schema.field("value").type) == "double"
    assert str(schema.field("period_end").type) == "date32[day]"
    assert str(schema.field("n_countries").type) == "int32"
    assert str(schema.field("family").type) == "int32"
    assert str(schema.field("conf_status").type) == "string"


def test_csv_has_labels_in_both_languages(exported: Path) -> None:
    rows = read_csv(exported / "indicators.csv")
    assert list(rows[0]) == list(export_lib.LONG_COLUMNS)
    cri = next(r for r in rows if r["ref_area"] == "CRI" and r["sex"] == "F")
    assert (cri["ref_area_name_es"], cri["ref_area_name_en"]) == ("Costa Rica", "Costa Rica")
    assert (cri["sex_label_es"], cri["sex_label_en"]) == ("Mujeres", "Female")
    assert cri["indicator_name_en"]
    # The family in words too, as its XLSX sheet is named, not a bare number.
    assert {(r["family"], r["family_name_es"], r["family_name_en"]) for r in rows
            if r["indicator_code"] == "VIC_DETECTED"} == {("1", "Víctimas detectadas",
                                                           "Victims detected")}


def test_manifest(exported: Path) -> None:
    manifest = json.loads((exported / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] is None
    assert manifest["disclosure"]["disclosure_min_count"] == 5
    assert manifest["disclosure"]["disclosure_rule_set"]
    # the design for small series as it renders, not dbt's template over the environment
    assert manifest["disclosure"]["disclosure_small_series"] == "quarterly"
    assert "disclosure_small_series_annual_only" not in manifest["disclosure"]
    for entry in manifest["files"]:
        content = (exported / entry["file"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
    used = {(s["country"], s["period"]): s["version"] for s in manifest["submission_versions"]}
    assert used[("GTM", "2024-Q3")] == 2  # v2 replaced v1
    assert used[("CRI", "2024-Q2")] == 1  # v2 was rejected
    assert {f["format"] for f in manifest["files"]} == set(export_lib.FORMATS)


def test_same_request_same_bytes(small_home, exported: Path, tmp_path: Path) -> None:
    run_export(small_home, list(export_lib.FORMATS), tmp_path, lang="en")
    for name in export_lib.FILE_NAMES.values():
        assert (tmp_path / name).read_bytes() == (exported / name).read_bytes(), name


def test_an_export_in_french(small_home, tmp_path: Path) -> None:
    """The dashboard and the command line offer French: an export in French is written."""
    run_export(small_home, ["xlsx"], tmp_path, lang="fr")
    assert (tmp_path / export_lib.FILE_NAMES["xlsx"]).stat().st_size > 0


def test_sdmx_header_and_codes(exported: Path) -> None:
    with (exported / "sdg_16_2_2.sdmx.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert f.newlines == "\r\n"
    assert rows[0] == ["STRUCTURE", "STRUCTURE_ID", "ACTION", *sdmx.DIMENSIONS, "OBS_VALUE",
                       "OBS_STATUS", "UNIT_MULT", "UNIT_MEASURE", "NATURE"]
    assert len(sdmx.DIMENSIONS) == 16  # the SDG DSD's fifteen dimensions and TIME_PERIOD
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert body, "CRI has a complete year 2024"
    series = {stem + suffix for stem in (*sdmx.SERIES_BY_FORM.values(), sdmx.OTHER_PURPOSES_SERIES)
              for suffix in ("", "R")}
    for r in body:
        assert r["STRUCTURE"] == "dataflow" and r["STRUCTURE_ID"] == sdmx.STRUCTURE_ID
        assert r["ACTION"] == "I" and r["FREQ"] == "A" and r["REPORTING_TYPE"] == "N"
        assert r["SERIES"] in series
        assert r["REF_AREA"].isdigit() and not r["REF_AREA"].startswith("0")
        assert r["SEX"] in {"_T", "F", "M"} and r["AGE"] in {"_T", "Y0T17", "Y_GE18"}
        assert all(r[d] == "_T" for d in sdmx.NOT_BROKEN_DOWN)
        assert r["UNIT_MEASURE"] == ("PER_100000_POP" if r["SERIES"].endswith("R") else "NUMBER")
        assert r["OBS_STATUS"] in {"A", "P", "Q"} and r["UNIT_MULT"] == "0"
        assert (r["OBS_VALUE"] == "") == (r["OBS_STATUS"] == "Q")
    cri_total = next(r for r in body if r["REF_AREA"] == "188" and r["TIME_PERIOD"] == "2024"
                     and r["SERIES"] == "VC_HTF_DETV" and r["SEX"] == "_T" and r["AGE"] == "_T")
    assert cri_total["OBS_VALUE"] == "100" and cri_total["OBS_STATUS"] == "A"  # 10+20+30+40
    assert any(r["SERIES"] == "VC_HTF_DETVR" for r in body)  # the rates beside the counts


def test_the_sdg_file_conforms_to_the_kept_dsd_and_a_code_outside_it_stops_the_export(
        small_home, exported: Path, tmp_path: Path, monkeypatch) -> None:
    """The kept DSD (reference/sdg/SDG_DSD_1.14.xml) accepts the exported file; a code its
    lists do not have, or a missing mandatory attribute, is named, and the export fails."""
    body = pl.read_csv(exported / "sdg_16_2_2.sdmx.csv", infer_schema=False)
    assert sdmx.dsd_problems(body) == []
    assert sdmx.dsd_problems(body.with_columns(SEX=pl.lit("FEMALE"))) == [
        "SEX='FEMALE' is not in CL_SEX"]
    assert sdmx.dsd_problems(body.drop("UNIT_MULT")) == [
        "mandatory attribute UNIT_MULT is missing"]
    assert sdmx.dsd_problems(body.with_columns(CONF_STATUS=pl.lit("F"))) == [
        "column CONF_STATUS is not an attribute of the DSD"]
    monkeypatch.setitem(sdmx.SEX, "X", "X")  # a mapping to a code the SDG list does not have
    data = export_lib.read_export_data(current_snapshot(small_home), None)
    data.rows = data.rows.with_columns(sex=pl.lit("X"))
    with pytest.raises(ValueError, match="CL_SEX"):
        export_lib.write_sdmx(data, tmp_path / "sdg.csv")
    assert not (tmp_path / "sdg.csv").exists()


PAYLOADS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def injected() -> ExportData:
    rows = []
    for n, payload in enumerate(PAYLOADS):
        row = {c: "x" for c in export_lib.LONG_COLUMNS}
        row.update(indicator_code=f"X{n}", indicator_name_en=payload, ref_area_name_es=payload,
                   family=1, value=-12.5, n_countries=1, n_expected=1, is_complete_year=None,
                   period_end=dt.date(2024, 12, 31))
        rows.append(row)
    return ExportData(rows=rows, definitions=[], m49={}, submissions=[], source={},
                      notes=[("note", PAYLOADS[0])])


def test_formula_payloads_are_inert_in_csv() -> None:
    rows = list(csv.DictReader(io.StringIO(csv_bytes(injected()).decode("utf-8-sig"), newline="")))
    for row, payload in zip(rows, PAYLOADS, strict=True):
        assert row["indicator_name_en"] == "'" + payload
        assert row["ref_area_name_es"] == "'" + payload
        assert row["value"] == "-12.5"  # numbers stay numbers


def test_formula_payloads_are_inert_in_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(xlsx_bytes(injected(), "en"))
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[2]
    header = [c.value for c in sheet[1]]
    for row, payload in zip(sheet.iter_rows(min_row=2), PAYLOADS, strict=True):
        cells = dict(zip(header, row, strict=True))
        assert cells["indicator_name_en"].data_type == "s"
        # openpyxl leaves XlsxWriter's escape of CR (_x000D_, which Excel decodes) as it is
        assert cells["indicator_name_en"].value.replace("_x000D_", "\r") == "'" + payload
        assert cells["value"].data_type == "n" and cells["value"].value == -12.5
    assert workbook.worksheets[0]["B1"].value == "'" + PAYLOADS[0]


def test_cli_export_subset(small_home, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OBSERVATORY_HOME", str(small_home.home))
    from pipelines.settings import get_settings

    if hasattr(get_settings, "cache_clear"):
        get_settings.cache_clear()
    code = main(["--lang", "en", "export", "--format", "csv", "--out", str(tmp_path),
                 "--indicators", "VIC_DETECTED"])
    assert code == 0
    rows = read_csv(tmp_path / "indicators.csv")
    assert {r["indicator_code"] for r in rows} == {"VIC_DETECTED"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "flows_by_citizenship.csv", "indicators.csv", "manifest.json"]
    assert main(["export", "--out", str(tmp_path), "--as-of", "31/12/2024"]) == 2


def test_an_as_of_export_goes_through_the_disclosure_gate(small_home, tmp_path: Path,
                                                          monkeypatch) -> None:
    """A past day's figures rebuilt by today's code are a publication too: the vintage passes the
    gate (its audit in the manifest) and hides what the gate had hidden by the end of that day,
    not what it hid later, so the export shows what was published then."""
    from pipelines import orchestrator
    from pipelines.defs.local import run_here
    from pipelines.lib.disclosure.relations import cell_id
    from pipelines.lib.vintage import export_as_of
    from pipelines.lib.warehouse import connect_writer

    monkeypatch.setenv("OBSERVATORY_DISCLOSURE_GATE", "block")
    as_of = dt.date(2025, 5, 20)
    snapshot = duckdb.connect(str(current_snapshot(small_home)), read_only=True)
    try:  # a published quarter of that day
        period = snapshot.execute(
            "select time_period from marts.indicator_values_published where indicator_code = "
            "'VIC_DETECTED' and ref_area = 'GTM' and freq = 'Q' and sex = '_T' and age = '_T' "
            "and exploitation_form = '_T' and conf_status = 'F' and period_end < '2025-04-01' "
            "order by period_end desc limit 1").fetchone()[0]
    finally:
        snapshot.close()
    cell = cell_id("VIC_DETECTED", "GTM", period, "_T", "_T", "_T")

    def exported(added_at: dt.datetime, out: Path, *, queued: bool) -> tuple[str, dict]:
        con = connect_writer(small_home.warehouse_path)
        try:  # the gate of a build of that time hid this cell
            con.execute("insert or replace into disclosure.repairs values (?, ?)", [cell, added_at])
        finally:
            con.close()
        if queued:  # as the export page asks: the export job (here in this process)
            files = orchestrator.export_as_of(small_home, ["csv"], as_of=as_of,
                                              indicators=["VIC_DETECTED"], lang="en",
                                              runner=run_here(small_home))
            out.mkdir()
            for name, content in files.items():
                (out / name).write_bytes(content)
            manifest = json.loads(files["manifest.json"])
        else:  # as `observatory export --as-of` does
            manifest = export_as_of(small_home, ["csv"], out, as_of=as_of,
                                    indicators=["VIC_DETECTED"])
        row = next(r for r in read_csv(out / "indicators.csv") if (
            r["ref_area"], r["time_period"], r["sex"], r["age"], r["exploitation_form"]) == (
            "GTM", period, "_T", "_T", "_T"))
        return row["value"], manifest["disclosure_audit"]

    try:
        later, audit = exported(dt.datetime(2025, 6, 1, tzinfo=dt.UTC), tmp_path / "later",
                                queued=False)
        assert later != ""  # hidden after that day: published that day
        assert audit["passed"] is True and audit["cells"] > 0 and audit["hidden"] > 0
        assert "outsider" in audit["attackers"] and "GTM" in audit["attackers"]
        monkeypatch.setenv("OBSERVATORY_HOME", str(small_home.home))  # the job's settings
        earlier, audit = exported(dt.datetime(2025, 5, 1, tzinfo=dt.UTC), tmp_path / "earlier",
                                  queued=True)
        assert earlier == "" and audit["passed"] is True  # hidden by that day's gate
    finally:
        con = connect_writer(small_home.warehouse_path)
        try:
            con.execute("delete from disclosure.repairs where cell_id = ?", [cell])
        finally:
            con.close()


def test_as_of_is_reproducible_after_a_resubmission(small_home, tmp_path: Path, tmp_path_factory) -> None:
    """Export as of a date, add a resubmission, export as of the same date again: same bytes;
    export now: the new figure, and the manifest names the new version."""
    from pipelines.lib.vintage import export_as_of
    from pipelines.lib.warehouse import connect_writer

    as_of = dt.date(2025, 5, 20)  # after every fixture submission and status event
    first, second, now = tmp_path / "first", tmp_path / "second", tmp_path / "now"
    export_as_of(small_home, ["csv", "sdmx", "parquet"], first, as_of=as_of,
                 indicators=["VIC_DETECTED"])
    # GTM 2025-Q1 v2 (200 victims) arrives on 2025-06-01
    con = connect_writer(small_home.warehouse_path)
    try:
        sub = "ff" * 6 + "-TIP_VICTIMS"
        at = dt.datetime(2025, 6, 1, 9, tzinfo=dt.UTC)
        con.execute("insert into raw.submissions values (?, ?, 'TIP_VICTIMS', 'GTM', '2025-Q1', 3, "
                    "'validated', ?, ?, null, false, 1, 0, 0, '1.0.0')", [sub, "ff" * 32, at, at.date()])
        con.execute("insert into raw.observations values (?, 'TIP_VICTIMS', 2, 'TIP_VICTIMS', 'GTM', "
                    "'2025-Q1', 'VIC_DETECTED', '_T', '_T', '_T', '_T', '_Z', '_Z', '_T', '_Z', 200, null, null)",
                    [sub])
    finally:
        con.close()
    build_and_publish(small_home, tmp_path_factory.mktemp("rebuild"))
    export_as_of(small_home, ["csv", "sdmx", "parquet"], second, as_of=as_of,
                 indicators=["VIC_DETECTED"])
    for name in ("indicators.csv", "sdg_16_2_2.sdmx.csv", "indicators.parquet",
                 "flows_by_citizenship.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    manifest = run_export(small_home, ["csv"], now, indicators=["VIC_DETECTED"])
    rows = read_csv(now / "indicators.csv")
    gtm = next(r for r in rows if (r["ref_area"], r["time_period"], r["sex"], r["age"],
                                   r["exploitation_form"]) == ("GTM", "2025-Q1", "_T", "_T", "_T"))
    assert gtm["value"] == "200"
    used = {(s["country"], s["period"]): s for s in manifest["submission_versions"]}
    assert used[("GTM", "2025-Q1")]["version"] == 3
    old = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    assert old["as_of"] == "2025-05-20"
    assert {(s["country"], s["period"]): s["version"] for s in old["submission_versions"]}[
        ("GTM", "2025-Q1")] == 1


def test_cli_export_says_what_is_wrong_in_one_line(small_home, tmp_path: Path, monkeypatch,
                                                   capsys) -> None:
    monkeypatch.setenv("OBSERVATORY_HOME", str(small_home.home))
    monkeypatch.setenv("OBSERVATORY_TODAY", "2026-01-15")
    out = tmp_path / "out"
    for formats in (["csv", "xlsx"], ["csv,xlsx"]):  # as the README and the help write them
        assert main(["export", "--format", *formats, "--out", str(out),
                     "--indicators", "VIC_DETECTED"]) == 0
        assert sorted(p.name for p in out.iterdir()) == [
            "flows_by_citizenship.csv", "indicators.csv", "indicators.xlsx", "manifest.json"]
    capsys.readouterr()
    existing = tmp_path / "file.txt"
    existing.write_text("x")
    empty = tmp_path / "empty"
    cases = [
        (["--format", "pdf", "--out", str(empty)], 2, "Unknown format: pdf"),
        (["--out", str(existing)], 2, "is not a folder"),
        (["--out", "/proc/observatory"], 2, "Cannot write to /proc/observatory"),
        (["--out", str(empty), "--as-of", "2026-01-16"], 2, "is in the future"),
        (["--out", str(empty), "--indicators", "NOPE"], 1, "nothing was written"),
        # a day before anything was received: the figures of that day are none
        (["--out", str(empty), "--as-of", "2019-01-01"], 1, "as of: 2019-01-01): nothing was written"),
    ]
    for args, code, message in cases:
        assert main(["--lang", "en", "export", *args]) == code, args
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err and "Traceback" not in err, err
    # a past day's figures that the disclosure gate cannot make safe (the gate itself is tested
    # in tests/lib): one line, nothing written, exit 3 (processing failed)
    from pipelines.lib import vintage
    from pipelines.lib.disclosure.gate import DisclosureAuditFailed

    def refused(*args, **kwargs):
        raise DisclosureAuditFailed("3 hidden cells can be worked out: VIC_DETECTED|GTM|...")

    monkeypatch.setattr(vintage, "export_as_of", refused)
    assert main(["--lang", "fr", "export", "--out", str(empty), "--as-of", "2025-05-20"]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("Rien n'a été exporté") and "VIC_DETECTED" not in err, err
    assert not empty.exists() or not any(empty.iterdir())  # nothing written
    assert existing.read_text() == "x"


def test_unodc_history_and_referral_pairs_come_in_files_of_their_own(small_home, tmp_path):
    """Every figure the dashboard shows is in some export: UNODC's history (latest vintage, with
    its source and vintage) and the referral pairs under their disclosure control, as CSV files
    and XLSX sheets beside the indicators; the manifest says whose figures each file holds."""
    import shutil

    import duckdb

    from pipelines.lib.publish import current_snapshot

    snapshot = tmp_path / "snapshot.duckdb"
    shutil.copyfile(current_snapshot(small_home), snapshot)
    with duckdb.connect(str(snapshot)) as con:
        columns = [r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'history_values' order by ordinal_position").fetchall()]
        for vintage, latest, value in ((1, False, 90), (2, True, 97)):
            row = {c: None for c in columns} | {
                "source": "UNODC", "vintage": vintage, "is_latest_vintage": latest,
                "indicator_code": "VIC_DETECTED", "ref_area": "GTM", "year": 2019,
                "breakdown": "total", "sex": "_T", "age": "_T", "value": value,
                "value_text": str(value), "suppressed_at_source": False}
            con.execute(f"insert into marts.history_values ({', '.join(columns)}) values "
                        f"({', '.join('?' for _ in columns)})", list(row.values()))
        con.execute("delete from marts.coordination_mirror_published")
        con.execute("insert into marts.coordination_mirror_published (sender, receiver, "
                    "time_period, freq, period_end, sent_by_sender, sent_conf_status, "
                    "received_by_receiver, received_conf_status, pair_status) values "
                    "('GTM', 'CRI', '2024', 'A', '2024-12-31', 12, 'F', null, 'A', 'hidden')")
    out = tmp_path / "out"
    manifest = run_export(small_home, ["csv", "xlsx", "parquet"], out, lang="fr",
                          snapshot=snapshot)
    history = read_csv(out / "unodc_history.csv")
    assert [(r["source"], r["vintage"], r["ref_area"], r["year"], r["value"])
            for r in history] == [("UNODC", "2", "GTM", "2019", "97")]
    assert pq.read_table(out / "unodc_history.parquet").select(
        ["source", "vintage", "ref_area", "year", "value"]).to_pylist() == [
        {"source": "UNODC", "vintage": 2, "ref_area": "GTM", "year": 2019, "value": 97}]
    assert {r["source"] for r in read_csv(out / "indicators.csv")} == {"COALITION"}
    [pair] = read_csv(out / "referral_pairs.csv")
    assert (pair["sender"], pair["sent_by_sender"], pair["received_by_receiver"],
            pair["received_conf_status"]) == ("GTM", "12", "", "A")
    assert manifest["sources"] == {
        "indicators.csv": "COALITION", "indicators.xlsx": "COALITION",
        "indicators.parquet": "COALITION", "unodc_history.csv": "UNODC",
        "referral_pairs.csv": "COALITION", "unodc_history.parquet": "UNODC",
        "referral_pairs.parquet": "COALITION", "flows_by_citizenship.csv": "COALITION",
        "flows_by_citizenship.parquet": "COALITION"}
    workbook = openpyxl.load_workbook(out / "indicators.xlsx", read_only=True)
    assert {t("export.sheet.history", "fr"), t("export.sheet.pairs", "fr")} <= set(
        workbook.sheetnames)
    # An export of other indicators leaves the pairs out; the history follows --indicators.
    subset = run_export(small_home, ["csv"], tmp_path / "subset", snapshot=snapshot,
                        indicators=["VIC_DETECTED"])
    assert [f["file"] for f in subset["files"]] == [
        "indicators.csv", "unodc_history.csv", "flows_by_citizenship.csv"]
