"""One version per data set: a file makes a new version only of the data sets whose figures
changed. The others keep the version in use (with its review and explanations), and the report
says "unchanged"; the same figures in another format or with other comments change nothing."""

from __future__ import annotations

import copy
import datetime as dt
import uuid

import duckdb

from pipelines.lib.demo import demo_rows
from pipelines.lib.intake import Delivery, published_is_current, take_in
from pipelines.lib.periods import Quarter
from pipelines.lib.template import write_csv, write_xlsx
from pipelines.settings import get_settings
from tests.conftest import TODAY

QUARTER = Quarter.last_complete(TODAY)


def rows_of(data: dict) -> list[dict]:
    return [row for rows in data.values() for row in rows]


def statuses(outcome) -> dict[str, tuple[str, int]]:
    return {u.dataset: (u.status, u.version) for u in outcome.units}


def test_only_the_data_sets_that_changed_get_a_new_version(observatory_home, tmp_path):
    settings = get_settings()
    data = demo_rows("GTM", QUARTER)
    first_file = tmp_path / "first.csv"
    write_csv(first_file, rows_of(data))
    [first] = take_in([Delivery(first_file)], settings)
    assert {s for s, _ in statuses(first).values()} == {"validated"}
    assert len(first.units) == 5

    # Comments rewritten everywhere and one coordination count corrected.
    changed = copy.deepcopy(data)
    for rows in changed.values():
        rows[0]["comment"] = "Revisado por la Fiscalía"
    joint = next(r for r in changed["COORDINATION"] if r["indicator"] == "JOINT_INVESTIGATIONS")
    joint["value"] = int(joint["value"]) + 3
    second_file = tmp_path / "second.csv"
    write_csv(second_file, rows_of(changed))
    [second] = take_in([Delivery(second_file)], settings)
    assert statuses(second) == {"COORDINATION": ("validated", 2),
                                **{d: ("unchanged", 1) for d in data if d != "COORDINATION"}}
    kept = {u.dataset: u.submission_id for u in first.units}
    assert all(u.submission_id == kept[u.dataset] for u in second.units
               if u.status == "unchanged")
    assert second.stored  # the coordination version: a rebuild is due

    # The same figures as a workbook: nothing new at all, and nothing to rebuild for.
    third_file = tmp_path / "third.xlsx"
    write_xlsx(third_file, changed)
    [third] = take_in([Delivery(third_file)], settings)
    assert {s for s, _ in statuses(third).values()} == {"unchanged"}
    assert statuses(third)["COORDINATION"] == ("unchanged", 2)
    assert not third.stored

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from raw.submissions").fetchone()[0] == 6
        assert con.execute("select count(*) from raw.files").fetchone()[0] == 3  # bytes are kept
        assert con.execute("select count(*) from raw.audit_events "
                           "where action = 'unchanged'").fetchone()[0] == 4 + 5


def test_a_returned_version_is_not_kept_and_a_file_of_only_unchanged_figures_builds_nothing(
        observatory_home, tmp_path):
    settings = get_settings()
    data = {"TIP_JUSTICE": demo_rows("HND", QUARTER)["TIP_JUSTICE"]}
    path = tmp_path / "justice.csv"
    write_csv(path, rows_of(data))
    [first] = take_in([Delivery(path)], settings)
    [unit] = first.units
    assert (unit.status, unit.version) == ("validated", 1)
    # The secretariat returns it: sending the same figures again is a new version to review.
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("insert into raw.audit_events values (?, ?, 'rita', 'status', ?, ?, null, "
                    "'returned', 'check the totals', null)",
                    [uuid.uuid4().hex, dt.datetime.now(dt.UTC), unit.submission_id[:12],
                     unit.submission_id])
    again = tmp_path / "justice_again.csv"
    write_csv(again, rows_of(data), delimiter=";")
    [second] = take_in([Delivery(again)], settings)
    assert statuses(second) == {"TIP_JUSTICE": ("validated", 2)}

    # Publication state: a snapshot newer than every change, then a file of unchanged figures.
    (settings.serving_dir).mkdir(parents=True, exist_ok=True)
    snapshot = settings.serving_dir / "20990101T000000000000.duckdb"
    with duckdb.connect(str(snapshot)) as con:
        con.execute("create table snapshot_info (built_at timestamptz, snapshot varchar)")
        con.execute("insert into snapshot_info values (now(), ?)", [snapshot.name])
    (settings.serving_dir / "CURRENT").write_text(snapshot.name, encoding="utf-8")
    assert published_is_current(settings)
    latest = tmp_path / "justice_latest.csv"
    write_csv(latest, rows_of(data), delimiter="\t")
    [third] = take_in([Delivery(latest)], settings)
    assert statuses(third) == {"TIP_JUSTICE": ("unchanged", 2)} and not third.stored
    assert published_is_current(settings)  # nothing for the job to rebuild


def template_rows(unknown_victims: int, tmp_path) -> list[dict]:
    """A Guatemalan template as the secretariat gives it, filled as a ministry does (every
    victim of unknown sex, age, form and citizenship: a warning to explain)."""
    from pipelines.lib.reader import read_submission
    from pipelines.lib.template import blank_template
    from tests.workflow.filling import fill_template

    path = tmp_path / f"template_{unknown_victims}.xlsx"
    write_xlsx(path, blank_template("GTM", QUARTER))
    fill_template(path, unknown_victims=unknown_victims)
    frame = read_submission(path.read_bytes(), path.name).frame
    return frame.drop("_sheet", "_row").filter(frame["dataset"] == "TIP_VICTIMS").to_dicts()


def test_an_explanation_carries_over_to_a_version_with_the_same_warnings(observatory_home,
                                                                         tmp_path):
    settings = get_settings()
    rows = template_rows(5, tmp_path)
    write_csv(tmp_path / "v1.csv", rows)
    [first] = take_in([Delivery(tmp_path / "v1.csv")], settings)
    [v1] = first.units
    assert (v1.status, v1.version, v1.explained) == ("validated", 1, False) and v1.warnings
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("insert into raw.explanations values ('e1', ?, 'Police records lack sex', "
                    "'ana', now())", [v1.submission_id])

    # Two victims assisted reported too: a new version, the same warnings on the same cells.
    assisted = {**rows[0], "indicator": "VIC_ASSISTED", "sex": "_T", "age": "_T",
                "exploitation_form": "_T", "citizenship": "_T", "identification_channel": "_T",
                "value": "2", "comment": None}
    write_csv(tmp_path / "v2.csv", [*rows, assisted])
    [second] = take_in([Delivery(tmp_path / "v2.csv")], settings)
    [v2] = second.units
    assert (v2.status, v2.version, v2.explained) == ("validated", 2, True)
    # Other figures behind the warnings: explained again.
    write_csv(tmp_path / "v3.csv", template_rows(6, tmp_path))
    [third] = take_in([Delivery(tmp_path / "v3.csv")], settings)
    [v3] = third.units
    assert (v3.status, v3.version, v3.explained) == ("validated", 3, False) and v3.warnings
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        texts = con.execute("select submission_id, text, written_by from raw.explanations "
                            "order by written_at").fetchall()
        carried = con.execute("select actor, details from raw.audit_events "
                              "where action = 'explanation'").fetchall()
    assert texts == [(v1.submission_id, "Police records lack sex", "ana"),
                     (v2.submission_id, "Police records lack sex", "ana")]
    assert carried == [("ana", f'{{"carried_from": "{v1.submission_id}"}}')]
