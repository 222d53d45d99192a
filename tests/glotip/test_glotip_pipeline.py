"""``observatory import-glotip FILE`` for real: the reference job (import → dbt build → publish) in a
temporary home, with a real DuckDB warehouse and serving snapshot. Expected values come from the
fixture file read with the csv module, not from the importer."""

from __future__ import annotations

import csv
import shutil

import duckdb
import pytest

from pipelines.cli import main
from pipelines.lib.publish import current_snapshot
from pipelines.settings import get_settings
from tests.conftest import module_home
from tests.glotip.test_glotip_lib import FIXTURE, XLSX_ROWS, headline_values, write_unodc_xlsx

pytestmark = pytest.mark.integration


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(["--lang", "en", "import-glotip", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def history(con, where: str = "is_latest_vintage", params: list | None = None) -> list[tuple]:
    return con.execute(
        "select ref_area, year, value, suppressed_at_source, value_text, vintage "
        f"from marts.history_values where {where}", params or []).fetchall()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with module_home(tmp_path_factory, "glotip") as home:
        yield home


def member_data(home) -> dict:
    """What the members submitted and what the coalition publishes from it: raw.observations
    (row count and a checksum of every row), raw.submissions, and every published
    VIC_DETECTED value of the serving snapshot."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    observations = con.execute(
        "select count(*), md5(coalesce(string_agg(cast(o as varchar), chr(10) "
        "order by cast(o as varchar)), '')) from raw.observations o").fetchone()
    submissions = con.execute("select count(*) from raw.submissions").fetchone()[0]
    con.close()
    con = snapshot_con()
    published = con.execute(
        "select ref_area, time_period, sex, age, exploitation_form, value, obs_status, conf_status "
        "from marts.indicator_values_published where indicator_code = 'VIC_DETECTED' "
        "order by all").fetchall()
    con.close()
    return {"observations": observations, "submissions": submissions, "published": published}


@pytest.fixture(scope="module")
def submitted(home):
    """A member's submission taken in (intake → dbt → publish) before any UNODC import: the
    member data as it stood then."""
    code = main(["--lang", "en", "submit", str(SUBMISSION)])
    assert code == 0
    return member_data(home)


@pytest.fixture(scope="module")
def first_import(home, submitted):
    """The fixture file imported once, into a home where a member has submitted: (exit code,
    printed report)."""
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["--lang", "en", "import-glotip", str(FIXTURE)])
    return code, out.getvalue()


SUBMISSION = FIXTURE.parents[1] / "submissions" / "valid_gtm_2024q1_utf8.csv"


def snapshot_con():
    return duckdb.connect(str(current_snapshot(get_settings())), read_only=True)


def test_detected_victim_totals_equal_the_file_per_country_and_year(first_import):
    code, out = first_import
    assert code == 0, out
    con = snapshot_con()
    rows = con.execute(
        "select ref_area, year, value, suppressed_at_source from marts.history_values "
        "where is_latest_vintage and indicator_code = 'VIC_DETECTED' and breakdown = 'total' "
        "and sex = '_T' and age = '_T' and source = 'UNODC'").fetchall()
    con.close()
    stored = {(a, y): (v, s) for a, y, v, s in rows}
    expected = headline_values(FIXTURE)
    assert len(rows) == len(stored) == len(expected)
    for key, text in expected.items():
        want = (None, True) if text == "<5" else (int(text.replace(",", "")), False)
        assert stored[key] == want, key
    assert stored[("MEX", 2015)] == (2015, False)  # "2,015" parsed, kept, and flagged (below)


def test_every_suppressed_value_is_flagged_not_invented(first_import):
    _, out = first_import
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    suppressed = sum(r["txtVALUE"] == "<5" for r in rows)
    con = snapshot_con()
    values = con.execute("select value, value_text from marts.history_values "
                         "where suppressed_at_source").fetchall()
    total = con.execute("select count(*) from marts.history_values").fetchone()[0]
    con.close()
    assert len(values) == suppressed and all(v is None and t == "<5" for v, t in values)
    assert total == len(rows)  # nothing dropped
    assert f"Rows read: {len(rows)} · imported: {len(rows)} · suppressed at source (<5): " \
           f"{suppressed}" in out


def test_every_unmapped_label_is_reported_and_kept(first_import):
    _, out = first_import
    con = snapshot_con()
    unmapped = con.execute(
        "select dimension_label, coalesce(category_label, '(empty)'), count(*) "
        "from marts.history_values where category_mapping = 'unmapped' group by all").fetchall()
    con.close()
    assert unmapped
    for dimension, label, n in unmapped:
        field = "citizenship" if dimension == "by citizenship" else "counterpart_area"
        assert f'{field} ({dimension}): "{label}" in {n} row(s)' in out
    assert "Unmapped labels" in out and '"Abroad" in 26 row(s)' in out


def test_flagged_values_are_printed_with_country_year_indicator_category_value_reason(first_import):
    _, out = first_import
    assert ("MEX 2015 · Detected trafficking victims · Total / Total / Total / Total · value 2,015"
            " · value equals its year; far outside the country's own series") in out
    assert ("DOM 2019 · Detected trafficking victims · by form of exploitation / Other forms of "
            "exploitation / Unknown / Unknown · value 2,019 · value equals its year") in out
    con = snapshot_con()
    flags = con.execute("select count(*) from marts.history_values where flag like "
                        "'%value_equals_year%'").fetchone()[0]
    con.close()
    assert flags == 3


def test_reimporting_the_same_file_is_a_no_op(first_import, home, capsys):
    before = current_snapshot(get_settings())
    code, out = run(capsys, str(FIXTURE))
    assert code == 0
    assert "Already imported as vintage 1" in out and "imported: 0" in out
    assert current_snapshot(get_settings()) == before  # dbt and publication skipped
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("select count(*) from raw.glotip_releases").fetchone()[0] == 1
    with FIXTURE.open(encoding="utf-8") as f:
        assert con.execute("select count(*) from raw.glotip_values").fetchone()[0] == \
            sum(1 for _ in f) - 1
    con.close()


def test_a_newer_release_is_a_new_vintage_and_the_first_stays_queryable(
        first_import, home, tmp_path, capsys):
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header, *body = list(reader)
    year, value = header.index("Year"), header.index("txtVALUE")
    # UNODC's next release: one value revised, one row withdrawn, one year added.
    changed = next(r for r in body if r[0] == "GTM" and r[4:9] == [
        "Detected trafficking victims", "Total", "Total", "Total", "Total"] and r[year] == "2019")
    old_value = changed[value]
    new_value = str(int(old_value.replace(",", "")) + 1)
    changed[value] = new_value
    removed = next(r for r in body if r[0] == "SLV" and r[year] == "2008")
    body.remove(removed)
    added = [*changed]
    added[year], added[value] = "2021", "15"
    body.append(added)
    lines = [header, *body]
    newer = tmp_path / "data_glotip_2026.csv"
    with newer.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(lines)

    code, out = run(capsys, str(newer))
    assert code == 0, out
    assert "Vintage 2 of the reference data (previous: 1)" in out
    assert "Changes against vintage 1: 1 value(s) changed, 1 cell(s) added, 1 cell(s) removed" in out
    assert ("changed: GTM 2019 · Detected trafficking victims · Total · Total · Total · Total: "
            f"{old_value} → {new_value}") in out
    assert "added: GTM 2021" in out and "removed: SLV 2008" in out
    con = snapshot_con()
    assert history(con, "vintage = 1 and ref_area = 'GTM' and year = 2019 and "
                   "indicator_code = 'VIC_DETECTED' and breakdown = 'total' and sex = '_T' "
                   "and age = '_T'") == [("GTM", 2019, int(old_value), False, old_value, 1)]
    assert history(con, "is_latest_vintage and ref_area = 'GTM' and year = 2019 and "
                   "indicator_code = 'VIC_DETECTED' and breakdown = 'total' and sex = '_T' "
                   "and age = '_T'") == [("GTM", 2019, int(new_value), False, new_value, 2)]
    counts = dict(con.execute("select vintage, count(*) from marts.history_values "
                              "group by 1").fetchall())
    assert counts == {1: len(body), 2: len(body)}  # one row out, one row in
    releases = con.execute("select vintage, is_latest_vintage from marts.history_releases "
                           "order by 1").fetchall()
    con.close()
    assert releases == [(1, False), (2, True)]


def test_member_submissions_are_untouched(first_import, submitted, home):
    """After the UNODC import(s) (two vintages when the whole module runs), Guatemala's submission and the coalition's
    published victims are what they were before the first import."""
    assert submitted["submissions"] == 1
    assert submitted["observations"][0] > 0
    assert any(area == "GTM" and period == "2024-Q1" and value is not None
               for area, period, *_, value, _, _ in submitted["published"])
    after = member_data(home)
    assert after["observations"] == submitted["observations"]  # row count and checksum
    assert after["submissions"] == submitted["submissions"]
    assert after["published"] == submitted["published"]
    con = snapshot_con()  # the snapshot was rebuilt by the imports: UNODC is in it, apart
    assert con.execute("select count(*) from marts.history_values").fetchone()[0] > 0
    con.close()


def test_unodc_xlsx_layout_goes_through_the_job(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OBSERVATORY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OBSERVATORY_TODAY", "2026-11-28")
    path = tmp_path / "data_glotip.xlsx"
    write_unodc_xlsx(path, XLSX_ROWS)
    code, out = run(capsys, str(path))
    assert code == 0, out
    assert "Rows read: 4 · imported: 4 · suppressed at source (<5): 1" in out
    assert 'citizenship (by citizenship): "Marciana" in 1 row(s)' in out
    assert "GTM 2019 · Detected trafficking victims · by citizenship / GUATEMALTECA" in out
    con = snapshot_con()
    rows = con.execute("select year, value, suppressed_at_source, citizenship, row_number "
                       "from marts.history_values order by row_number").fetchall()
    con.close()
    assert rows == [(2018, 1250, False, "_T", 4), (2019, None, True, "_T", 5),
                    (2019, 2019, False, "GTM", 6), (2019, 6, False, None, 7)]


def test_a_file_in_another_layout_fails_clearly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OBSERVATORY_HOME", str(tmp_path / "home"))
    path = tmp_path / "GTM_2024-Q1.csv"
    shutil.copy(FIXTURE.parents[1] / "submissions" / "valid_gtm_2024q1_utf8.csv", path)
    code = main(["--lang", "en", "import-glotip", str(path)])
    assert code == 1
    assert "Iso3_code" in capsys.readouterr().err
