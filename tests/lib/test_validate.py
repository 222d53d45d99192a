"""Every validation rule, with the exact findings asserted on small real files."""

import datetime as dt

import polars as pl
import pytest

from pipelines.lib.reader import read_submission
from pipelines.lib.validate import ValidationContext, country_hint, validate_frame

TODAY = dt.date(2026, 11, 28)


def validate(fixture_path, name, **context):
    path = fixture_path(name)
    read = read_submission(path.read_bytes(), path.name)
    return validate_frame(read.frame, read.findings, ValidationContext(today=TODAY, **context))


def findings_of(units):
    return [(f.rule, f.severity, f.row, f.column, f.value) for u in units for f in u.findings]


@pytest.mark.parametrize("name", [
    "valid_gtm_2024q1_utf8.csv", "valid_gtm_2024q1_cp1252_semicolon.csv",
    "valid_gtm_2024q1_utf8_bom.csv", "valid_blz_2024q1.xlsx",
])
def test_valid_files_pass_with_typed_observations(fixture_path, name):
    [unit] = validate(fixture_path, name)
    assert unit.status == "validated", unit.findings
    assert unit.findings == []
    obs = unit.observations
    assert obs.schema["value"] == pl.Int64
    total = obs.filter((pl.col("sex") == "_T") & (pl.col("age") == "_T")
                       & (pl.col("exploitation_form") == "_T") & (pl.col("citizenship") == "_T"))
    assert total["value"].to_list() == [44]
    assert set(obs["counterpart_area"]) == {"_Z"}  # unused dimension: not applicable


def test_free_text_nationality_is_rejected_with_a_hint(fixture_path):
    [unit] = validate(fixture_path, "bad_free_text_nationality.csv")
    assert unit.status == "rejected"
    assert findings_of([unit]) == [("V02", "ERROR", 32, "citizenship", "Guatemalteca")]
    assert "¿Quiso decir GTM (Guatemala)?" in unit.findings[0].message_es
    assert "Did you mean GTM (Guatemala)?" in unit.findings[0].message_en


def test_negative_and_fractional_counts(fixture_path):
    [unit] = validate(fixture_path, "bad_negative_and_fraction.csv")
    assert findings_of([unit]) == [
        ("V03", "ERROR", 3, "value", "-3"),
        ("V03", "ERROR", 4, "value", "2.5"),
    ]
    assert "negative" in unit.findings[0].message_en
    assert "decimales" in unit.findings[1].message_es


def test_duplicate_rows(fixture_path):
    [unit] = validate(fixture_path, "bad_duplicate_row.csv")
    assert findings_of([unit]) == [("V04", "ERROR", 34, None, "6")]
    assert "row 7" in unit.findings[0].message_en


def test_parts_not_adding_up(fixture_path):
    [unit] = validate(fixture_path, "bad_not_additive.csv")
    assert findings_of([unit]) == [
        ("V05", "ERROR", 18, "value", "14"),  # sex parts of the children's column: 15 vs 14
        ("V05", "ERROR", 5, "value", "32"),  # age parts of the women's row: 33 vs 32
    ]
    assert "add up to 15, but the total (Total) is 14" in unit.findings[0].message_en


def test_wrong_country_for_the_file(fixture_path):
    [unit] = validate(fixture_path, "bad_wrong_country.csv")
    assert findings_of([unit]) == [("V02", "ERROR", 5, "country", "HND")]


def test_a_submitter_cannot_send_another_countrys_file(fixture_path):
    [unit] = validate(fixture_path, "valid_gtm_2024q1_utf8.csv", submitter_country="HND")
    assert unit.status == "rejected"
    assert {f.rule for f in unit.findings} == {"V02"}
    assert len(unit.findings) == 32  # every row names GTM


def test_future_quarter(fixture_path):
    [unit] = validate(fixture_path, "bad_future_quarter.csv")
    assert findings_of([unit]) == [("V02", "ERROR", None, "period", "2027-Q1")]
    assert "2027-03-31" in unit.findings[0].message_es


def test_unknown_dataset(fixture_path):
    [unit] = validate(fixture_path, "bad_unknown_dataset.csv")
    assert unit.unit.dataset is None and unit.status == "rejected"
    assert {(f.rule, f.column, f.value) for f in unit.findings} == {("V01", "dataset", "TIP_VICTIMAS")}
    assert len(unit.findings) == 32


def test_locked_quarter_and_closed_window(fixture_path):
    [unit] = validate(fixture_path, "valid_gtm_2024q1_utf8.csv",
                      locked_units=frozenset({("GTM", "TIP_VICTIMS", "2024-Q1")}))
    assert [(f.rule, f.value) for f in unit.findings] == [("V07", "2024-Q1")]
    [unit] = validate(fixture_path, "valid_gtm_2024q1_utf8.csv", role="submitter")
    assert [(f.rule, f.value) for f in unit.findings] == [("V07", "2024-Q1")]
    assert "2024-07-29" in unit.findings[0].message_en  # 120 days after 2024-03-31
    [unit] = validate(fixture_path, "valid_gtm_2024q1_utf8.csv", role="submitter",
                      lock_exceptions=frozenset({("GTM", "TIP_VICTIMS", "2024-Q1")}))
    assert unit.status == "validated"


def test_missing_mandatory_cells():
    data = ("dataset,country,period,indicator,stage,sex,age,citizenship,value\n"
            + "".join(f"TIP_JUSTICE,GTM,2024-Q1,TIP_PERSONS,{stage},{sex},_T,_T,{n}\n"
                      for stage in ("SUSP", "PROS", "CONV")
                      for sex, n in (("F", 1), ("M", 2), ("X", 0), ("_U", 0), ("_T", 3))
                      if not (stage == "CONV" and sex == "X"))).encode()
    read = read_submission(data, "j.csv")
    [unit] = validate_frame(read.frame, read.findings, ValidationContext(today=TODAY))
    assert [(f.rule, f.severity) for f in unit.findings] == [("V08", "ERROR")]
    assert "stage: Convicted, sex: Other" in unit.findings[0].message_en


def test_blank_value_needs_an_observation_status():
    """An empty mandatory cell asks for its value or its status; an empty row the template
    offered (a cell that is not mandatory: here the number of cases) says nothing and is left
    out, unless it has a status or a comment."""
    rows = "dataset,country,period,indicator,stage,sex,age,citizenship,value,obs_status,comment\n"
    rows += "TIP_JUSTICE,GTM,2024-Q1,TIP_PERSONS,SUSP,F,_T,_T,,,\n"
    rows += "TIP_JUSTICE,GTM,2024-Q1,TIP_CASES,,,,,,,\n"
    rows += "TIP_JUSTICE,GTM,2024-Q1,TIP_CASES,CONV,,,,,,sin dato\n"
    read = read_submission(rows.encode(), "c.csv")
    assert read.frame["_row"].to_list() == [2, 4]
    [unit] = validate_frame(read.frame, read.findings, ValidationContext(today=TODAY))
    blank = [(f.rule, f.row, f.column) for f in unit.findings if f.rule == "V03"]
    assert blank == [("V03", 2, "value"), ("V03", 4, "value")]
    assert "ponga L en obs_status" in next(f for f in unit.findings if f.rule == "V03").message_es
    only_offered = "dataset,country,period,indicator,value\nTIP_JUSTICE,GTM,2024-Q1,TIP_CASES,\n"
    read = read_submission(only_offered.encode(), "o.csv")
    assert read.frame is None and [f.rule for f in read.findings] == ["V01"]


def test_unknown_share_warning_and_history_outlier(fixture_path):
    history = pl.DataFrame({
        "country": ["GTM"] * 6, "dataset": ["TIP_VICTIMS"] * 6, "indicator": ["VIC_DETECTED"] * 6,
        "stage": ["_Z"] * 6, "period": ["2022-Q3", "2022-Q4", "2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"],
        "value": [8, 9, 10, 9, 11, 10],
    }).with_columns(pl.lit("_T").alias(d) for d in (
        "sex", "age", "exploitation_form", "citizenship", "counterpart_area",
        "identification_channel", "unaccompanied"))  # the headline figure: totals only
    [unit] = validate(fixture_path, "valid_gtm_2024q1_utf8.csv", history=history)
    assert unit.status == "validated"  # warnings do not reject
    assert [(f.rule, f.severity, f.value) for f in unit.findings] == [("V10", "WARNING", "44")]
    assert "median 10" in unit.findings[0].message_en


def test_country_hints():
    assert country_hint("Guatemalteca") == "GTM"
    assert country_hint("BELICE") == "BLZ"
    assert country_hint(" hondureña ") == "HND"
    assert country_hint("Atlantis") is None


def test_an_indicator_of_another_data_set():
    data = b"dataset,country,period,indicator,value\nTIP_JUSTICE,GTM,2024-Q1,SOM_CASES,4\n"
    read = read_submission(data, "x.csv")
    [unit] = validate_frame(read.frame, read.findings, ValidationContext(today=TODAY))
    found = [(f.rule, f.column, f.value) for f in unit.findings if f.rule == "V02"]
    assert found == [("V02", "indicator", "SOM_CASES")]
    assert "TIP_CASES" in unit.findings[0].message_en  # the indicators it could be


def test_files_checked_together_get_their_own_findings(fixture_path):
    """Intake runs the per-cell suite once over a batch of files (over each column's distinct
    values): every file must get exactly the findings it gets alone, at its own rows, even when a
    value rejected in one file is valid elsewhere in the batch or repeated in another."""
    from pipelines.lib.validate import check_cells_of_files

    names = ["bad_free_text_nationality.csv", "valid_gtm_2024q1_utf8.csv",
             "bad_negative_and_fraction.csv", "bad_free_text_nationality.csv"]
    reads = [read_submission(fixture_path(n).read_bytes(), n) for n in names]
    batch = check_cells_of_files([r.frame for r in reads] + [None])
    assert batch[-1] is None
    context = ValidationContext(today=TODAY)
    for read, cells in zip(reads, batch, strict=False):
        alone = validate_frame(read.frame, read.findings, context)
        together = validate_frame(read.frame, read.findings, context, cell_failures=cells)
        assert findings_of(together) == findings_of(alone)
    assert [len(cells) for cells in batch[:4]] == [1, 0, 2, 1]
    assert batch[0] == batch[3]  # the same file twice: the same row, column and value


def test_past_the_cap_findings_are_counted_not_listed(tmp_path, monkeypatch):
    """A file that breaks additivity hundreds of times: the report lists the first 100 V05
    findings and one summary with the exact number of the rest (counted without building them),
    the same first 100 as an uncapped run gives."""
    import pipelines.lib.validate as validate_module
    from benchmarks.intake_throughput import write_long_file
    from pipelines.lib.i18n import t

    path = tmp_path / "long.csv"
    write_long_file(path, 3000)  # random values in totals and parts alike
    read = read_submission(path.read_bytes(), path.name)
    context = ValidationContext(today=TODAY)
    [capped] = validate_frame(read.frame, read.findings, context)
    monkeypatch.setattr(validate_module, "MAX_FINDINGS_PER_RULE", 10**9)
    [everything] = validate_frame(read.frame, read.findings, context)

    all_v05 = [f for f in everything.findings if f.rule == "V05"]
    assert len(all_v05) > 200
    listed = [f for f in capped.findings if f.rule == "V05"]
    assert listed[:-1] == all_v05[:100]
    assert listed[-1].message_en == t("finding.too_many", "en", count=len(all_v05) - 100,
                                      rule="V05")
    assert capped.status == everything.status == "rejected"


def test_breakdowns_giving_different_totals(fixture_path):
    """V06: without the grand total row (V08) additivity has nothing to compare with, but the
    sex parts (44) and the identification-channel parts (25 + 15) must still be the same people."""
    [unit] = validate(fixture_path, "bad_totals_disagree.csv")
    assert findings_of([unit]) == [
        ("V06", "ERROR", None, "identification_channel", "40"),
        ("V08", "ERROR", None, None, None),
    ]
    assert "by 'identification channel' is 40 and by 'sex' is 44" in unit.findings[0].message_en
    assert "por «canal de identificación» es 40" in unit.findings[0].message_es


def test_findings_read_in_french_where_the_report_has_it():
    from pipelines.lib.findings import Finding, finding_message
    from pipelines.lib.i18n import t

    finding = Finding.make("V01", "finding.empty_file").as_dict()
    assert finding_message(finding, "fr") == t("finding.empty_file", "fr") != finding["message_en"]
    assert finding_message(finding, "es") == finding["message_es"]
    older = {k: v for k, v in finding.items() if k != "message_fr"}  # a report from before
    assert finding_message(older, "fr") == finding["message_en"]


def test_impossible_numbers_are_errors_with_their_reason(fixture_path):
    """More people than live in the country, or a hundred times its own recent median: V12, an
    ERROR (a typing slip must not reach the figures), in words, with the population or median."""
    from pipelines.lib.validate import population

    belize = population("BLZ", 2024)
    assert belize and 300_000 < belize < 600_000
    rows = "dataset,country,period,indicator,value\n"
    rows += f"TIP_JUSTICE,BLZ,2024-Q1,TIP_CASES,{belize + 1}\n"
    read = read_submission(rows.encode(), "c.csv")
    [unit] = validate_frame(read.frame, read.findings, ValidationContext(today=TODAY))
    [finding] = [f for f in unit.findings if f.rule == "V12"]
    assert unit.status == "rejected" and finding.severity == "ERROR" and finding.row == 2
    assert f"{belize}" in finding.message_en and "población" in finding.message_es

    # GTM's history: the same file in six earlier quarters (each cell's median is its value).
    valid = pl.read_csv(fixture_path("valid_gtm_2024q1_utf8.csv"), infer_schema=False)
    own = valid.with_columns(pl.col("value").cast(pl.Int64), *[
        pl.lit("_Z").alias(d) for d in ("counterpart_area", "stage", "unaccompanied")])
    history = pl.concat([own.with_columns(period=pl.lit(p)) for p in (
        "2022-Q3", "2022-Q4", "2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4")])

    def scaled(factor: int, cell: str | None = None):
        """GTM's valid file with every value (or only the rows holding ``cell``) times
        ``factor``."""
        chosen = pl.col("age") == cell if cell else pl.lit(True)
        frame = valid.with_columns(value=pl.when(chosen).then(
            pl.col("value").cast(pl.Int64) * factor).otherwise(pl.col("value").cast(pl.Int64)
                                                              ).cast(pl.String))
        read = read_submission(frame.write_csv().encode(), "gtm.csv")
        [unit] = validate_frame(read.frame, read.findings,
                                ValidationContext(today=TODAY, history=history))
        return unit

    unit = scaled(200)  # the total: 8,800 against a median of 44
    slips = {f.value: f for f in unit.findings if f.rule == "V12"}
    assert unit.status == "rejected" and "100" in slips["8800"].message_en
    assert slips["8800"].message_en.startswith("Victims of trafficking detected = 8800")
    # Every cell of 1,000 or more a hundred times its own median, named in words: F 18+ (20).
    [female_adults] = [f for f in unit.findings if f.rule == "V12" and f.message_en.startswith(
        "Victims of trafficking detected, sex: Female, age: Adults (18 and over) = 4000")]
    assert "sexo: Mujeres" in female_adults.message_es
    # One breakdown's slip, its totals under the threshold: still an error, on that cell.
    unit = scaled(1000, "_U")  # the cells of unknown age: 2 -> 2,000 and the like
    unknown_age = {i + 2 for i in range(valid.height)  # their rows in the file (0 stays 0)
                   if valid["age"][i] == "_U" and valid["value"][i] != "0"}
    assert {f.row for f in unit.findings if f.rule == "V12"} == unknown_age
    # Below 1,000 a jump is a warning to explain (a real operation), not an error.
    unit = scaled(20)  # 880
    assert unit.status == "validated" and [f.rule for f in unit.findings] == ["V10"]
