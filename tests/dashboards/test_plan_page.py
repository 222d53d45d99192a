"""The "Plan" page (DOMAIN.md §9) in-process with AppTest against a real snapshot file: the dashboard
tests' snapshot plus a hand-written ``marts.plan_progress`` as dbt publishes it (the statuses
themselves are dbt's, tested in dbt_project/models/marts/plan/_plan__models.yml). Public, read
only, in es/en/fr."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from dashboard_snapshot import write_snapshot
from streamlit.testing.v1 import AppTest
from test_dashboard_app import APP, TIMEOUT

from pipelines.lib.i18n import t

# (objective, aim, indicator, area, direction, baseline, target, actual period, actual, conf,
#  progress, elapsed, status)
TARGETS = [
    ("O1", 3, "VIC_DETECTED", "GTM", "monitor", ("2023", 4000), ("2027", 4000), "2024", 4500, "F",
     None, 0.25, None),
    ("O1", 3, "VIC_DETECTED", "REG", "monitor", ("2023", 4400), ("2027", 4400), "2024", 4948, "F",
     None, 0.25, None),
    ("O2", 1, "REF_SENT", "GTM", "increase", ("2023", 10), ("2027", 50), "2024", 30, "F",
     0.5, 0.25, "achieved"),
    ("O2", 1, "REF_SENT", "SLV", "increase", ("2023", 10), ("2027", 50), "2024", None, "D",
     None, 0.25, "confidential"),
    ("O3", 2, "TIP_CONVICTED", "SLV", "increase", ("2023", 10), ("2027", 30), None, None, None,
     None, None, "no_data"),
    ("O3", 2, "TIP_CONVICTED", "GTM", "decrease", ("2023", 100), ("2027", 50), "2024", 99, "F",
     0.02, 0.25, "at_risk"),
]
HIDDEN_VALUE = 7  # what SLV's hidden REF_SENT would be: never on the page


def write_plan(path: Path, illustrative: bool) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("""
            create table marts.plan_progress (
                plan_version integer, plan_imported_at timestamptz, plan_is_illustrative boolean,
                objective_id varchar, objective_es varchar, objective_en varchar,
                objective_fr varchar, aim integer, indicator varchar, ref_area varchar,
                direction varchar, baseline_period varchar, baseline_value double,
                target_period varchar, target_value double, milestones varchar,
                responsible varchar, comment varchar, actual_period varchar, actual_freq varchar,
                actual_value double, actual_obs_status varchar, conf_status varchar,
                progress double, elapsed double, status varchar, rule_on_track_margin double,
                rule_at_risk_margin double, rule_maintain_tolerance double)""")
        for (objective, aim, indicator, area, direction, baseline, target, period, actual, conf,
             progress, elapsed, status) in TARGETS:
            con.execute(
                "insert into marts.plan_progress values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0.1, 0.3, 0.05)",
                [3, dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC), illustrative, objective,
                 f"Objetivo {objective}", f"Objective {objective}", f"Objectif {objective}", aim,
                 indicator, area, direction, baseline[0], baseline[1], target[0], target[1],
                 "2025=20; 2026=35" if objective == "O2" else None, "Secretariat", None, period,
                 "A" if period else None, actual, "P" if period else None, conf, progress,
                 elapsed, status])


@pytest.fixture(scope="module")
def _plan_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("plan_page_home")
    write_plan(write_snapshot(home / "serving"), illustrative=True)
    return home


@pytest.fixture
def plan_home(_plan_home, monkeypatch) -> Path:
    monkeypatch.setenv("OBSERVATORY_HOME", str(_plan_home))
    return _plan_home


def open_plan(lang: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("views/plan.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frames_text(at: AppTest) -> str:
    return " ".join(df.value.to_string() for df in at.dataframe)


@pytest.mark.parametrize("lang", ["es", "en", "fr"])
def test_the_plan_page_shows_objectives_lights_and_the_rule(plan_home, lang):
    at = open_plan(lang)
    assert at.title[0].value == t("dash.plan.title", lang)
    assert t("dash.plan.illustrative", lang) in [w.value for w in at.warning]
    word = {"es": "Objetivo", "en": "Objective", "fr": "Objectif"}[lang]
    # ordered by aim: O2 (aim 1), O3 (aim 2), O1 (aim 3), each in the reader's language
    assert [h.value for h in at.subheader][:3] == [f"O2 · {word} O2", f"O3 · {word} O3",
                                                   f"O1 · {word} O1"]
    text = frames_text(at)
    for status in ("achieved", "confidential", "no_data", "at_risk", "monitor"):
        assert t(f"dash.plan.status.{status}", lang) in text, status
    rule = t("dash.plan.rule", lang, on_track="10", at_risk="30", tolerance="5")
    assert rule in [m.value for m in at.markdown]
    assert t("dash.plan.detection_note", lang) in [i.value for i in at.info]


def test_a_hidden_actual_reads_confidential_never_a_number(plan_home):
    at = open_plan("en")
    details = [df.value for df in at.dataframe if t("dash.plan.col.actual", "en") in df.value]
    slv = [row for frame in details for _, row in frame.iterrows()
           if row[t("dash.plan.col.area", "en")] == "El Salvador"
           and row[t("dash.plan.col.indicator", "en")] != ""]
    actual = {row[t("dash.plan.col.indicator", "en")]: row[t("dash.plan.col.actual", "en")]
              for row in slv}
    assert any(t("dash.pages.confidential", "en") in v for v in actual.values()), actual
    assert not any(str(HIDDEN_VALUE) in v for v in actual.values())
    assert "–" in actual.values()  # no data: no actual


def test_filters_by_aim_area_and_status(plan_home):
    at = open_plan("en")
    at.multiselect(key="plan_aim").set_value([2]).run()
    assert [h.value for h in at.subheader][0] == "O3 · Objective O3"
    assert not any(h.value.startswith(("O1", "O2")) for h in at.subheader)
    at.multiselect(key="plan_aim").set_value([]).run()
    at.selectbox(key="plan_area").set_value("SLV").run()
    objectives = {h.value.split(" · ")[0] for h in at.subheader if " · " in h.value}
    assert objectives == {"O2", "O3"}
    at.selectbox(key="plan_area").set_value("*").run()
    at.multiselect(key="plan_status").set_value(["monitor"]).run()
    objectives = {h.value.split(" · ")[0] for h in at.subheader if " · " in h.value}
    assert objectives == {"O1"}
    assert not at.exception


def test_the_series_draws_the_path_from_baseline_to_target(plan_home):
    import json

    at = open_plan("en")
    at.selectbox(key="plan_series").set_value(("O2", "REF_SENT", "GTM")).run()
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    path = next(trace for trace in chart["data"] if trace["name"] == t("dash.plan.path", "en"))
    assert path["y"] == [10, 50] or list(path["y"]) == [10.0, 50.0]
    milestones = next(tr for tr in chart["data"] if tr["name"] == t("dash.plan.milestones", "en"))
    assert len(milestones["x"]) == 2


def test_without_a_plan_the_page_says_so(snapshot_home):
    at = open_plan("es")
    assert t("dash.plan.no_plan", "es") in [i.value for i in at.info]


@pytest.mark.parametrize(("role", "offered"), [("reviewer", True), ("admin", True),
                                               ("analyst", False), (None, False)])
def test_the_secretariat_downloads_the_plan_to_edit(plan_home, role, offered):
    """Reviewers and admins get the plan in force as the XLSX the import reads; the others do
    not (the server checks the role)."""
    from dashboards.workflow_ui import TOKEN_KEY
    from pipelines.lib.auth import AuthStore
    from pipelines.settings import get_settings

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = "en"
    if role:
        store = AuthStore(get_settings())
        name = f"plan-{role}"
        if name not in {u["username"] for u in store.list_users()}:
            store.add_user(name, role, "correct horse battery")
        at.session_state[TOKEN_KEY] = store.sign_in(name, "correct horse battery")
    at.run()
    at.switch_page("views/plan.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [b.proto.label for b in at.get("download_button")]
    assert (t("dash.plan.download_plan", "en") in labels) is offered
    assert (t("dash.plan.manage_heading", "en") in [h.value for h in at.subheader]) is offered


def test_the_downloaded_workbook_imports_as_the_same_plan(tmp_path):
    from pipelines.lib.plan import columns, plan_workbook_bytes, read_plan, validate

    rows = [{c: None for c in columns()} | {
        "objective_id": objective, "objective_es": f"Objetivo {objective}",
        "objective_en": f"Objective {objective}", "objective_fr": f"Objectif {objective}",
        "aim": aim, "indicator": indicator, "ref_area": area, "direction": direction,
        "baseline_period": baseline[0], "baseline_value": float(baseline[1]),
        "target_period": target[0], "target_value": float(target[1])}
        for objective, aim, indicator, area, direction, baseline, target, *_ in TARGETS]
    path = tmp_path / "plan.xlsx"
    path.write_bytes(plan_workbook_bytes(rows))
    typed, findings = validate(read_plan(path))
    assert [f.rule for f in findings if f.is_error] == []
    assert [(r["objective_id"], r["indicator"], r["ref_area"], r["aim"], r["target_value"])
            for r in typed] == [(r["objective_id"], r["indicator"], r["ref_area"], r["aim"],
                                 r["target_value"]) for r in rows]
