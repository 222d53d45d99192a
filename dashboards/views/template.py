"""Template download: the XLSX a ministry fills, for one country, quarter and data sets, built by
pipelines.lib.template (every mandatory cell, then a row offered for every other series, each
row in words beside its codes, code drop-downs, whole numbers only in `value`, instructions,
code-list sheets). A submitter gets its own country only, and only quarters it can still send."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import streamlit as st

from dashboards import ui, workflow_ui
from pipelines.lib.auth import require as authorize
from pipelines.lib.contracts import load_contracts
from pipelines.lib.dryrun import known_locks
from pipelines.lib.i18n import t
from pipelines.lib.periods import Quarter, Year, quarter_range
from pipelines.lib.template import template_rows, write_xlsx
from pipelines.settings import get_settings

lang = ui.language()
user = workflow_ui.require("download_template")
contracts = load_contracts()
settings = get_settings()

st.title(t("workflow.template.title", lang))
st.write(t("workflow.template.intro", lang))

countries = [user.country] if user.role == "submitter" else contracts.members
# The quarterly data sets, or the annual legal and policy framework (a year): one period a file.
annual = st.radio(t("workflow.template.kind", lang), [False, True], horizontal=True,
                  format_func=lambda a: t(f"workflow.template.kind_{'annual' if a else 'quarterly'}",
                                          lang), key="wf.template.kind")
first = Quarter.parse(contracts.reporting["first_period"])
if annual:
    expected = list(contracts.annual_datasets)
    quarters = [str(Year(y)) for y in range(Year.last_complete(settings.today).year,
                                            first.year - 1, -1)]
else:
    expected = list(contracts.reporting["expected_datasets"])
    quarters = [str(q) for q in reversed(quarter_range(
        first, Quarter.last_complete(settings.today)))]
window = dt.timedelta(days=contracts.window_days(expected[0]))

left, middle, right = st.columns([1, 1, 2])
country = left.selectbox(t("workflow.template.country", lang), countries,
                         format_func=lambda c: f"{workflow_ui.country_name(c, lang)} ({c})",
                         disabled=len(countries) == 1, key="wf.template.country")
# A quarter whose submission window has closed takes a submitter's file only under a lock
# exception: a submitter is offered the open quarters and those; the secretariat sees every
# quarter, the closed ones marked (it issues templates for exceptions).
excepted = {period for _, _, period in known_locks(settings, country)[1]}
closed = {q for q in quarters
          if settings.today > contracts.period(expected[0], q).end + window and q not in excepted}
if user.role == "submitter":
    quarters = [q for q in quarters if q not in closed]
period = middle.selectbox(
    t("workflow.template.year" if annual else "workflow.template.quarter", lang), quarters,
    key=f"wf.template.{'year' if annual else 'quarter'}",
    format_func=lambda q: t("workflow.template.closed", lang, period=q) if q in closed else q)
datasets = right.multiselect(
    t("workflow.template.datasets", lang), expected, default=expected,
    key=f"wf.template.datasets.{'annual' if annual else 'quarterly'}",
    format_func=lambda d: f"{d}: {contracts.datasets[d].name.get(lang) or contracts.datasets[d].name['en']}",
)
authorize(user, "download_template", country)  # never build another country's template
if not datasets:
    st.info(t("workflow.template.none", lang))
    st.stop()

quarter = contracts.period(expected[0], period)
rows = {dataset: template_rows(dataset, country, quarter) for dataset in datasets}
due = quarter.due_date(contracts.due_days(expected[0]))
closes = quarter.end + window
mandatory = sum(r["required"] for dataset_rows in rows.values() for r in dataset_rows)
st.caption(t("workflow.template.cells", lang, cells=mandatory,
             offered=sum(map(len, rows.values())) - mandatory, sheets=len(rows),
             due=due.isoformat(), closes=closes.isoformat()))


@st.cache_data(show_spinner=False, max_entries=32)
def template_bytes(country: str, period: str, datasets: tuple[str, ...], lang: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "template.xlsx"
        write_xlsx(path, {d: template_rows(d, country, period) for d in datasets}, lang=lang)
        return path.read_bytes()


file_name = f"{country}_{period}.xlsx"
st.download_button(
    t("workflow.template.download", lang, file=file_name),
    data=template_bytes(country, period, tuple(datasets), lang),
    file_name=file_name,
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/download:", type="primary", key="wf.template.download",
)
