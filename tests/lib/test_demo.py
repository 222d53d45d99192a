"""The deterministic demo submissions: files, scenario, consistency, calibration."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.contracts import DIMENSIONS, load_contracts
from pipelines.lib.demo import (
    BUILTIN_CALIBRATION,
    generate_demo,
    load_calibration,
    read_manifest,
)
from pipelines.lib.periods import Quarter
from pipelines.lib.template import columns_for

TODAY = dt.date(2026, 11, 28)
CONTRACTS = load_contracts()
MEMBERS = CONTRACTS.members
DATASETS = CONTRACTS.reporting["expected_datasets"]
COLUMNS = columns_for(DATASETS)


POLICY = "POLICY_FRAMEWORK"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate_demo(out, TODAY)


@pytest.fixture(scope="module")
def demo(written) -> tuple[Path, list]:
    """The quarterly files (the illustrative policy reports are checked apart)."""
    out, files = written
    return out, [f for f in files if POLICY not in f.path.name]


def read_submission(path: Path) -> dict[str, list[dict]]:
    """Rows per data set, every cell as text ('' when empty, dimensions '_Z' when empty)."""
    rows: list[dict] = []
    if path.suffix == ".xlsx":
        sheets = pl.read_excel(path, sheet_id=0)
        for name, frame in sheets.items():
            if name not in CONTRACTS.datasets:
                continue
            assert frame.columns[2:] == list(COLUMNS), name  # after label and required
            frame = frame.drop("label", "required")
            assert frame.schema["value"].is_numeric(), name
            frame = frame.with_columns(pl.all().cast(pl.String).fill_null(""))
            rows.extend(frame.to_dicts())
    else:
        raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            text = raw.decode("utf-8-sig")
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252")
        delimiter = ";" if ";" in text.splitlines()[0] else ","
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        assert reader.fieldnames == list(COLUMNS)
        rows.extend(reader)
    out: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        for dim in DIMENSIONS:
            row[dim] = row[dim] or "_Z"
        out[row["dataset"]].append(row)
    return dict(out)


def cells(rows: list[dict]) -> dict[tuple, int]:
    """(indicator, *dimensions) -> value; duplicates are an error."""
    out = {}
    for row in rows:
        key = (row["indicator"], *(row[d] for d in DIMENSIONS))
        assert key not in out, key
        out[key] = int(row["value"]) if row["value"] != "" else None
    return out


def value(table: dict, indicator: str, **dims: str) -> int:
    key = (indicator, *(dims.get(d, "_Z") for d in DIMENSIONS))
    return table[key]


def parts(table: dict, indicator: str, dim: str, **fixed: str) -> dict[str, int]:
    """Values along one dimension with the others fixed (missing ones _Z)."""
    out = {}
    for key, v in table.items():
        if key[0] != indicator:
            continue
        dims = dict(zip(DIMENSIONS, key[1:], strict=True))
        if all(dims[d] == fixed.get(d, "_Z") for d in DIMENSIONS if d != dim):
            out[dims[dim]] = v
    return out


def assert_consistent(data: dict[str, list[dict]], iso: str) -> None:
    assert list(data) == DATASETS
    for dataset, rows in data.items():
        table = cells(rows)
        for cell in CONTRACTS.mandatory_cells(dataset, iso):
            key = (cell["indicator"], *(cell[d] for d in DIMENSIONS))
            assert key in table, (dataset, key)
            assert table[key] is not None and table[key] >= 0
    victims = cells(data["TIP_VICTIMS"])
    vt = dict(exploitation_form="_T", citizenship="_T", identification_channel="_T")
    total = value(victims, "VIC_DETECTED", sex="_T", age="_T", **vt)
    for age in ("Y0T17", "Y_GE18", "_U", "_T"):
        by_sex = parts(victims, "VIC_DETECTED", "sex", age=age, **vt)
        assert sum(by_sex[s] for s in ("F", "M", "X", "_U")) == by_sex["_T"], age
    for sex in ("F", "M", "X", "_U", "_T"):
        by_age = parts(victims, "VIC_DETECTED", "age", sex=sex, **vt)
        assert sum(by_age[a] for a in ("Y0T17", "Y_GE18", "_U")) == by_age["_T"], sex
    forms = parts(
        victims,
        "VIC_DETECTED",
        "exploitation_form",
        sex="_T",
        age="_T",
        citizenship="_T",
        identification_channel="_T",
    )
    assert len(forms) == 11 and sum(v for k, v in forms.items() if k != "_T") == total
    citizenship = parts(
        victims,
        "VIC_DETECTED",
        "citizenship",
        sex="_T",
        age="_T",
        exploitation_form="_T",
        identification_channel="_T",
    )
    assert {iso, "_U", "_T"} <= set(citizenship)
    assert all(len(code) == 3 or code == "_U" for code in citizenship if code != "_T")
    assert sum(v for k, v in citizenship.items() if k != "_T") == total
    channels = parts(
        victims,
        "VIC_DETECTED",
        "identification_channel",
        sex="_T",
        age="_T",
        exploitation_form="_T",
        citizenship="_T",
    )
    if len(channels) > 1:
        assert sum(v for k, v in channels.items() if k != "_T") == total
    assisted = parts(victims, "VIC_ASSISTED", "sex", age="_T", **vt)
    if assisted.get("_T") is not None:
        assert sum(assisted[s] for s in ("F", "M", "X", "_U")) == assisted["_T"] <= total

    justice = cells(data["TIP_JUSTICE"])
    stages = {
        stage: parts(justice, "TIP_PERSONS", "sex", stage=stage, age="_T", citizenship="_T")
        for stage in ("SUSP", "PROS", "CONV")
    }
    for stage, by_sex in stages.items():
        assert sum(by_sex[s] for s in ("F", "M", "X", "_U")) == by_sex["_T"], stage
    for sex in ("F", "M", "X", "_U", "_T"):
        assert stages["CONV"][sex] <= stages["PROS"][sex] <= stages["SUSP"][sex]

    som = cells(data["SOM_MIGRANTS"])
    st = dict(citizenship="_T", unaccompanied="_T")
    for age in ("Y0T17", "Y_GE18", "_U", "_T"):
        by_sex = parts(som, "SOM_DETECTED", "sex", age=age, **st)
        assert sum(by_sex[s] for s in ("F", "M", "X", "_U")) == by_sex["_T"]
    for sex in ("F", "M", "X", "_U", "_T"):
        by_age = parts(som, "SOM_DETECTED", "age", sex=sex, **st)
        assert sum(by_age[a] for a in ("Y0T17", "Y_GE18", "_U")) == by_age["_T"]
    unaccompanied = parts(
        som, "SOM_DETECTED", "unaccompanied", sex="_T", age="Y0T17", citizenship="_T"
    )
    assert sum(v for k, v in unaccompanied.items() if k != "_T") == unaccompanied["_T"]
    detected = parts(som, "SOM_DETECTED", "sex", age="_T", **st)
    tip = parts(som, "SOM_TIP_VICTIMS", "sex", age="_T", **st)
    assert all(tip[s] <= detected[s] for s in tip)

    som_justice = cells(data["SOM_JUSTICE"])
    for stage in ("SUSP", "PROS", "CONV"):
        by_sex = parts(som_justice, "SOM_PERSONS", "sex", stage=stage, citizenship="_T")
        assert sum(by_sex[s] for s in ("F", "M", "X", "_U")) == by_sex["_T"]
    coordination = cells(data["COORDINATION"])
    assert coordination and all(
        k[DIMENSIONS.index("counterpart_area") + 1] in MEMBERS for k in coordination
    )


def test_file_count_names_and_formats(demo):
    out, files = demo
    quarters = 31  # 2019-Q1 .. 2026-Q3
    assert Quarter.last_complete(TODAY) == Quarter(2026, 3)
    names = {f.path.name for f in files}
    assert len(files) == len(names) == 8 * quarters + 2
    for iso in MEMBERS:
        assert sum(1 for n in names if n.startswith(f"{iso}_") and "_v2" not in n) == quarters
    assert {"GTM_2025-Q4_v2.xlsx", "HND_2024-Q3_v2.csv", "HND_2024-Q3.csv"} <= names
    assert "GTM_2024-Q2.xlsx" in names and "BLZ_2024-Q2.csv" in names
    policy = {f"{iso}_{year}_{POLICY}."
              f"{'csv' if iso in ('HND', 'SLV', 'BLZ') or (iso, year) == ('DOM', 2025) else 'xlsx'}"
              for iso in MEMBERS for year in (2022, 2023, 2024, 2025)}
    on_disk = {p.name for p in out.iterdir()}
    assert on_disk == names | policy | {"manifest.csv"}
    suffixes = [f.path.suffix for f in files]
    assert suffixes.count(".xlsx") > suffixes.count(".csv")
    assert (out / "HND_2024-Q2.csv").read_bytes().startswith(b"dataset;")
    assert (out / "BLZ_2024-Q2.csv").read_bytes().startswith(b"dataset,country")
    assert any(
        f.path.read_bytes().startswith(b"\xef\xbb\xbf") for f in files if f.path.suffix == ".csv"
    )


def test_manifest_order_and_scenario(written):
    out, files = written
    manifest = read_manifest(out)
    assert [(m.path.name, m.received_on, m.note) for m in manifest] == [
        (f.path.name, f.received_on, f.note) for f in files
    ]
    keys = [(m.received_on, m.path.name) for m in manifest]
    assert keys == sorted(keys)
    position = {m.path.name: i for i, m in enumerate(manifest)}
    assert position["GTM_2025-Q4.xlsx"] < position["GTM_2025-Q4_v2.xlsx"]
    assert position["HND_2024-Q3.csv"] < position["HND_2024-Q3_v2.csv"]
    by_name = {m.path.name: m for m in manifest}
    assert by_name["GTM_2025-Q4_v2.xlsx"].received_on > by_name["GTM_2025-Q4.xlsx"].received_on
    assert by_name["NIC_2025-Q1.xlsx"].received_on == dt.date(2025, 3, 31) + dt.timedelta(70)
    assert by_name["NIC_2025-Q1.xlsx"].note.startswith("LATE")
    assert by_name["HND_2024-Q3.csv"].note.startswith("MUST BE REJECTED")
    due = 45
    late = []
    for m in manifest:
        quarter = CONTRACTS.period(POLICY if POLICY in m.path.name else None,
                                   m.path.stem.split("_")[1])
        assert quarter.end < m.received_on <= TODAY
        if m.received_on > quarter.due_date(CONTRACTS.due_days(POLICY) if POLICY in m.path.name
                                            else due):
            late.append(m.path.name)
    assert late == ["NIC_2025-Q1.xlsx"]
    header = (out / "manifest.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "file,received_on,note"


def test_rejected_file_and_its_correction(demo):
    out, _ = demo
    raw = (out / "HND_2024-Q3.csv").read_bytes()
    assert "Hondureña".encode("cp1252") in raw
    bad = read_submission(out / "HND_2024-Q3.csv")
    victims = cells(bad["TIP_VICTIMS"])
    vt = dict(exploitation_form="_T", citizenship="_T", identification_channel="_T")
    by_sex = parts(victims, "VIC_DETECTED", "sex", age="_T", **vt)
    assert sum(by_sex[s] for s in ("F", "M", "X", "_U")) != by_sex["_T"]
    good = read_submission(out / "HND_2024-Q3_v2.csv")
    assert "Hondureña".encode("cp1252") not in (out / "HND_2024-Q3_v2.csv").read_bytes()
    assert_consistent(good, "HND")


def test_resubmission_differs_and_stays_consistent(demo):
    out, _ = demo
    first = read_submission(out / "GTM_2025-Q4.xlsx")
    second = read_submission(out / "GTM_2025-Q4_v2.xlsx")
    assert_consistent(first, "GTM")
    assert_consistent(second, "GTM")
    changed = [
        k
        for k, v in cells(second["TIP_VICTIMS"]).items()
        if cells(first["TIP_VICTIMS"]).get(k) != v
    ]
    assert 1 <= len(changed) <= 3
    assert cells(first["TIP_JUSTICE"]) != cells(second["TIP_JUSTICE"])


def test_sample_files_are_complete_and_additive(demo):
    out, files = demo
    sample = [f for f in files if "REJECTED" not in f.note]
    sample = sample[::7] + [f for f in files if f.path.suffix == ".csv"][::5]
    seen_formats = set()
    for item in sample:
        iso, period = item.path.stem.split("_")[:2]
        data = read_submission(item.path)
        assert_consistent(data, iso)
        assert {r["country"] for rs in data.values() for r in rs} == {iso}
        assert {r["period"] for rs in data.values() for r in rs} == {period}
        seen_formats.add(item.path.suffix)
    assert seen_formats == {".xlsx", ".csv"}


def test_accented_comments_survive_every_encoding(demo):
    out, _ = demo
    for name in ("HND_2019-Q1.csv", "DOM_2025-Q1.csv", "GTM_2019-Q1.xlsx"):
        comments = {r["comment"] for rs in read_submission(out / name).values() for r in rs}
        assert any(c and any(ch in c for ch in "áéíóúñ") for c in comments), name
    blz = {r["comment"] for rs in read_submission(out / "BLZ_2019-Q1.csv").values() for r in rs}
    assert any(c.startswith("Preliminary") or c.startswith("Figures") for c in blz)


def test_coordination_mirrors_mostly_agree(demo):
    out, files = demo
    latest = {}
    for item in files:  # manifest order: a later version replaces the earlier one
        if "REJECTED" in item.note:
            continue
        iso, period = item.path.stem.split("_")[:2]
        latest[(iso, period)] = item.path
    sent, received = defaultdict(int), defaultdict(int)
    for (iso, period), path in latest.items():
        if not period.startswith(("2024", "2025", "2026")):
            continue
        for row in read_submission(path)["COORDINATION"]:
            if row["indicator"] == "REF_SENT":
                sent[(period, iso, row["counterpart_area"])] += int(row["value"])
            elif row["indicator"] == "REF_RECEIVED":
                received[(period, row["counterpart_area"], iso)] += int(row["value"])
    flows = {k for k in set(sent) | set(received) if sent.get(k) or received.get(k)}
    assert len(flows) > 50
    agree = sum(1 for k in flows if sent.get(k, 0) == received.get(k, 0))
    assert agree / len(flows) >= 0.85
    assert agree < len(flows), "the demo keeps a few deliberate mirror gaps"


def test_demo_is_deterministic(tmp_path, written):
    out, files = written
    again = generate_demo(tmp_path / "again", TODAY)
    assert [f.path.name for f in again] == [f.path.name for f in files]
    for first, second in zip(files, again, strict=True):
        assert first.path.read_bytes() == second.path.read_bytes(), first.path.name
    assert (out / "manifest.csv").read_bytes() == (tmp_path / "again/manifest.csv").read_bytes()


def test_without_the_unodc_file_the_output_is_the_same(tmp_path, demo):
    out, _ = demo
    short = generate_demo(
        tmp_path / "builtin", dt.date(2019, 4, 30), glotip_path=tmp_path / "absent.csv"
    )
    assert sorted(f.path.stem for f in short) == [f"{iso}_2019-Q1" for iso in sorted(MEMBERS)]
    for item in short:
        assert item.path.read_bytes() == (out / item.path.name).read_bytes()
        assert item.received_on <= dt.date(2019, 4, 30)


def test_calibration_from_the_unodc_file():
    calibration = load_calibration()
    assert calibration == BUILTIN_CALIBRATION
    assert calibration["MEX"].victims > calibration["GTM"].victims > calibration["BLZ"].victims
    assert set(calibration) == set(MEMBERS)


def test_magnitudes_follow_the_calibration(demo):
    out, files = demo
    yearly = defaultdict(int)
    for item in files:
        if "_v2" in item.path.name or "REJECTED" in item.note:
            continue
        iso, period = item.path.stem.split("_")[:2]
        if not period.startswith("2023"):
            continue
        victims = cells(read_submission(item.path)["TIP_VICTIMS"])
        yearly[iso] += value(
            victims,
            "VIC_DETECTED",
            sex="_T",
            age="_T",
            exploitation_form="_T",
            citizenship="_T",
            identification_channel="_T",
        )
    for iso in ("MEX", "GTM", "DOM"):
        assert 0.6 < yearly[iso] / BUILTIN_CALIBRATION[iso].victims < 1.6, iso
    assert yearly["MEX"] > yearly["GTM"] > yearly["HND"] > yearly["BLZ"]


def test_the_illustrative_policy_reports_validate_and_say_they_are_made_up(written):
    """One report per member for each of the last four complete years, received within the
    year's due days, every answer valid, every reference marked illustrative."""
    from pipelines.lib.reader import read_submission as read
    from pipelines.lib.validate import ValidationContext, validate_frame

    _, files = written
    reports = [f for f in files if POLICY in f.path.name]
    assert len(reports) == 8 * 4
    statuses = set()
    for item in reports:
        assert "ILLUSTRATIVE" in item.note
        result = read(item.path.read_bytes(), item.path.name)
        [unit] = validate_frame(result.frame, result.findings,
                                ValidationContext(today=item.received_on))
        assert unit.status == "validated" and not unit.findings, item.path.name
        rows = unit.observations.to_dicts()
        statuses |= {r["status"] for r in rows}
        for row in rows:
            if row["reference"]:
                assert "lustrativ" in row["reference"], row  # es Ilustrativa, en Illustrative
    assert statuses == {"yes", "partial", "no", "unknown"}
