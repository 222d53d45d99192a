"""What the workflow pages (issue 7) share: the signed-in user, the server-side role check, the
workflow tables of the serving snapshot, and the validation report on screen and as XLSX.

The session token lives in ``st.session_state`` (server side, per browser session); the account
store (``auth.sqlite``) is asked on every rerun, so an expired, ended or disabled session stops
at once. Pages never trust a role held in the session: they call :func:`require`.

Data: pages read only the serving snapshot (``marts.submissions_status``, ``marts.audit_trail``)
and, for a report, the JSON the intake wrote beside the archived file. A submitter's rows are
filtered to the submitter's country in the query itself.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st
import streamlit.components.v1 as components
import xlsxwriter

from dashboards import data, ui
from pipelines.lib.auth import SESSION_HOURS, AuthStore, User, can
from pipelines.lib.contracts import load_contracts
from pipelines.lib.findings import finding_message
from pipelines.lib.i18n import t
from pipelines.settings import get_settings

TOKEN_KEY = "auth.token"
EXPIRED_KEY = "auth.expired"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FINDING_COLUMNS = ("severity", "rule", "dataset", "sheet", "row", "column", "value", "message")


# The submit page keeps the last report it showed (its file's SHA-256 and whether the bytes had
# been received before); My submissions reads it too.
LAST_REPORT = "wf.submit.last_report"
# Submissions explained in this session: shown as explained before the snapshot that says so.
EXPLAINED = "wf.explained"


def store() -> AuthStore:
    return AuthStore(get_settings())


def current_user() -> User | None:
    """The user of this browser session's live session token, else None (and the token goes).
    A reload starts a new Streamlit session: the token then comes from the browser's cookie
    (:func:`keep_session_cookie`), and is valid only while its server-side session is."""
    had_token = bool(st.session_state.get(TOKEN_KEY))
    token = st.session_state.get(TOKEN_KEY) or _cookie_token()
    if not token:
        return None
    user = store().session_user(token)
    if user is None:
        st.session_state.pop(TOKEN_KEY, None)
        if had_token:
            st.session_state[EXPIRED_KEY] = True
        return None
    st.session_state[TOKEN_KEY] = token
    return user


SESSION_COOKIE = "observatory_session"
_COOKIE_WRITTEN = "auth.cookie_written"


def _cookie_token() -> str | None:
    value = st.context.cookies.get(SESSION_COOKIE)
    return value if isinstance(value, str) and value else None  # (a mock in AppTest)


def keep_session_cookie() -> None:
    """Keep the browser's session cookie equal to this session's token, so a reload stays
    signed in: set after sign-in, emptied after sign-out or expiry. Streamlit cannot set a
    cookie from the server, so a zero-height component sets it from the page (same origin;
    SameSite=Strict: another site's request does not carry it). The token is random and only its
    hash is stored; the server-side session decides, as before, whether it is still valid.

    The component is rendered on every run once there is something to keep, not once: the page
    runs its script only when the frame has loaded, and a frame left out of the next run (the
    user moved on at once, on a slow machine) would be gone before it had set anything. The same
    frame on every run stays loaded, and is not run again until the token changes."""
    token = st.session_state.get(TOKEN_KEY) or ""
    if not token and not _cookie_token() and not st.session_state.get(_COOKIE_WRITTEN):
        return  # signed out, and no cookie to empty
    max_age = int(SESSION_HOURS * 3600) if token else 0
    components.html(
        "<script>parent.document.cookie = "
        f"'{SESSION_COOKIE}={token}; Max-Age={max_age}; Path=/; SameSite=Strict';</script>",
        height=0)
    st.session_state[_COOKIE_WRITTEN] = token or "-"  # "-": emptied once, keep emptying it


def sign_in(username: str, password: str) -> User | None:
    """The user signed in, or None; raises auth.SignInThrottled while guessing is slowed."""
    client = st.context.ip_address  # None on localhost (and not a string in AppTest)
    token = store().sign_in(username, password, client=client if isinstance(client, str) else None)
    if token is None:
        return None
    st.session_state[TOKEN_KEY] = token
    st.session_state.pop(EXPIRED_KEY, None)
    return store().session_user(token)


def sign_out() -> None:
    store().sign_out(st.session_state.pop(TOKEN_KEY, None))
    for key in [k for k in st.session_state if str(k).startswith("wf.")]:
        del st.session_state[key]


def require(action: str) -> User:
    """The signed-in user if the role may do ``action``; otherwise a message and the page stops.

    Every workflow page calls this first, before it reads or does anything."""
    lang = ui.language()
    user = current_user()
    if user is None:
        st.warning(t("workflow.login.required", lang), icon=":material/lock:")
        st.stop()
    if not can(user, action):
        st.error(t("workflow.login.forbidden", lang, role=t(f"workflow.role.{user.role}", lang)),
                 icon=":material/block:")
        st.stop()
    return user


def country_name(code: str | None, lang: str) -> str:
    if not code:
        return "–"
    return ui.area_label(code, lang)


# --- the snapshot's workflow tables -----------------------------------------------------------


def _workflow_query(sql: str, params: list) -> pd.DataFrame | None:
    snapshot = data.current_snapshot()
    if snapshot is None:
        return None
    return _cached_query(snapshot.path, sql, tuple(params))


@st.cache_data(show_spinner=False, max_entries=64)
def _cached_query(snapshot_path: str, sql: str, params: tuple) -> pd.DataFrame | None:
    try:
        with duckdb.connect(snapshot_path, read_only=True) as con:
            return con.execute(sql, list(params)).df()
    except duckdb.CatalogException:
        return None  # a snapshot published before the workflow marts existed


def submissions(user: User) -> pd.DataFrame | None:
    """``marts.submissions_status``; for a submitter, only the submitter's country."""
    if user.role == "submitter":
        return _workflow_query(
            "select * from marts.submissions_status where country = ? "
            "order by received_at desc, submission_id", [user.country])
    return _workflow_query(
        "select * from marts.submissions_status order by received_at desc, submission_id", [])


def quarters_on_time(frame: pd.DataFrame) -> pd.Series:
    """Whether each row's quarter (its country, data set and period) counts as reported on time,
    read from ``marts.dq_reporting_rates``, the mart the overview's and the quality page's
    on-time rates come from: one definition everywhere (the first usable version arrived by the
    due date). False where the mart has no such quarter."""
    rates = _workflow_query(
        "select ref_area as country, dataset, time_period as period, units_on_time > 0 as on_time "
        "from marts.dq_reporting_rates where freq = 'Q'", [])
    if rates is None or frame.empty:
        return pd.Series(False, index=frame.index)
    keyed = frame[["country", "dataset", "period"]].merge(
        rates, how="left", on=["country", "dataset", "period"])
    return pd.Series(keyed["on_time"].fillna(False).astype(bool).to_numpy(), index=frame.index)


# A review run may record its decision a while before its snapshot is built (queued behind other
# work): decisions are read from runs updated since a little before the current snapshot's build.
DECISIONS_MARGIN_S = 600


def recent_decisions(country: str) -> list[dict]:
    """The decisions the orchestrator's review runs recorded for ``country`` lately (see
    ``pipelines.orchestrator.decisions_since``); none when nothing is published yet."""
    from pipelines.lib.publish import SNAPSHOT_NAME_FORMAT
    from pipelines.orchestrator import decisions_since

    snapshot = data.current_snapshot()
    if snapshot is None:
        return []
    try:  # the snapshot's name is the UTC time it was built
        built = dt.datetime.strptime(Path(snapshot.path).stem, SNAPSHOT_NAME_FORMAT)
    except ValueError:
        return []
    return decisions_since(built.replace(tzinfo=dt.UTC).timestamp() - DECISIONS_MARGIN_S, country)


def _utc(value) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def with_decisions(frame: pd.DataFrame, decisions: list[dict]) -> pd.DataFrame:
    """``frame`` (rows of ``marts.submissions_status``) with the ``decisions`` recorded after its
    snapshot was built: a status change or an explanation newer than a row's replaces what the
    row says, so a submitter sees a return or an acceptance at once, not at the next snapshot."""
    fields = {"to_status": ("status_changed_at", "current_status", "status_reason",
                            "status_changed_by"),
              "explanation": ("explained_at", "explanation", "explained_by")}
    frame = frame.copy()
    for decision in decisions:
        kind = next((k for k in fields if k in decision), None)
        rows = frame.index[frame["submission_id"] == decision.get("submission_id")]
        if kind is None or rows.empty:
            continue
        at = _utc(decision["at"])
        columns = fields[kind]
        values = (at, decision[kind], decision.get("reason"), decision.get("by")) \
            if kind == "to_status" else (at, decision[kind], decision.get("by"))
        for column in columns:
            frame[column] = frame[column].astype(object)
        for row in rows:
            known = frame.at[row, columns[0]]
            if pd.isna(known) or _utc(known) < at:
                for column, value in zip(columns, values, strict=True):
                    frame.at[row, column] = value
    return frame


def audit_trail() -> pd.DataFrame | None:
    return _workflow_query("select * from marts.audit_trail order by occurred_at desc, event_id",
                           [])


def neutralised(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def audit_csv(events: pd.DataFrame) -> bytes:
    """The audit page's CSV download: the events shown, formula-like text neutralised."""
    return events.astype(object).map(neutralised).to_csv(index=False).encode("utf-8-sig")


def stop_without_workflow_data(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None:
        st.info(t("workflow.data.unavailable", ui.language()), icon=":material/hourglass_empty:")
        st.stop()
    return frame


# --- the validation report --------------------------------------------------------------------


def findings_frame(units, lang: str) -> pd.DataFrame:
    rows = []
    for unit in units:
        for finding in unit.findings:
            rows.append({
                "severity": t(f"workflow.severity.{finding['severity']}", lang),
                "rule": finding["rule"],
                "dataset": unit.dataset or "",
                "sheet": finding.get("sheet") or "",
                "row": finding.get("row"),
                "column": finding.get("column") or "",
                "value": "" if finding.get("value") is None else str(finding["value"]),
                "message": finding_message(finding, lang),
            })
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def report_xlsx(outcome, units, lang: str) -> bytes:
    """The report as a workbook: one row per finding, headers in ``lang``; text written as text
    (never a formula)."""
    frame = findings_frame(units, lang)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet(t("workflow.report.title", lang)[:31])
    sheet.write_string(0, 0, t("workflow.report.file", lang, name=outcome.file_name,
                               sha=outcome.sha256[:16]), bold)
    row = 1
    for unit in units:
        sheet.write_string(row, 0, _unit_line(unit, lang).replace("**", ""))
        row += 1
    row += 1
    for col, column in enumerate(FINDING_COLUMNS):
        sheet.write_string(row, col, t(f"workflow.report.col.{column}", lang), bold)
    for values in frame.itertuples(index=False):
        row += 1
        for col, value in enumerate(values):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(row, col, value)
            else:
                sheet.write_string(row, col, str(value))
    sheet.set_column(0, 6, 12)
    sheet.set_column(7, 7, 100)
    workbook.close()
    return buffer.getvalue()


def _unit_line(unit, lang: str) -> str:
    status = t(f"workflow.status.{unit.status}", lang)
    if not unit.dataset:
        return t("workflow.report.unit_unknown", lang, status=status, errors=unit.errors)
    # The period (and, from the landing folder, the country) is what the file said, even when
    # the unit is rejected for it: shown as text.
    return t("workflow.report.unit", lang, dataset=unit.dataset, country=ui.plain(unit.country),
             period=ui.plain(unit.period), version=unit.version or "-", status=status,
             errors=unit.errors, warnings=unit.warnings)


def show_report(outcome, units, lang: str, key: str, first_check: bool = False,
                decided: bool = False) -> None:
    """The report on screen: one line per unit, then every finding, and the XLSX download
    (``first_check``: the quick check before the file is recorded, said so, no download;
    ``decided``: the review has decided since, so validation's word is shown as history, not
    in the colours of a state)."""
    st.subheader(t("workflow.report.first_check" if first_check else "workflow.report.title",
                   lang))
    st.caption(t("workflow.report.file", lang, name=ui.plain(outcome.file_name),
                 sha=outcome.sha256[:16]))
    if first_check:
        st.caption(t("workflow.report.first_check_note", lang))
    if outcome.duplicate:
        st.info(t("workflow.report.duplicate", lang))
    for unit in units:
        line = _unit_line(unit, lang)
        if unit.status == "rejected":
            st.error(line, icon=":material/error:")
        elif unit.status == "unchanged":
            st.info(line, icon=":material/info:")
        elif decided:
            st.info(line, icon=":material/history:")
        elif unit.warnings:
            st.warning(line, icon=":material/warning:")
        else:
            st.success(line, icon=":material/check_circle:")
    frame = findings_frame(units, lang)
    if frame.empty:
        st.write(t("workflow.report.no_findings", lang))
    else:
        st.dataframe(
            frame.rename(columns={c: t(f"workflow.report.col.{c}", lang) for c in FINDING_COLUMNS}),
            hide_index=True, width="stretch",
        )
    if first_check:
        return
    st.download_button(
        t("workflow.report.download", lang), data=report_xlsx(outcome, units, lang),
        file_name=f"report-{outcome.sha256[:12]}-{lang}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"wf.report_download.{key}", icon=":material/download:",
    )


def unit_label(dataset, period, version, lang: str, findings=()) -> str:
    """How a user names a submission: data set, quarter and version (not its internal id), and
    the rules of its warnings when ``findings`` (a report's) are given: what is to be explained."""
    label = t("workflow.explain.unit", lang, dataset=dataset, period=period,
              version=int(version) if pd.notna(version) else "-")
    rules = sorted({f["rule"] for f in findings if f.get("severity") == "WARNING"})
    return t("workflow.explain.unit_rules", lang, unit=label, rules=", ".join(rules)) if rules \
        else label


def cell_in_words(cell: str, lang: str) -> str:
    """A cell of :func:`pipelines.lib.reports.version_changes` ("VIC_DETECTED · sex=F · age=_T")
    as a person reads it: the indicator's name, then each breakdown's label (totals left out)."""
    contracts = load_contracts()
    indicator, *breakdowns = cell.split(" · ")
    labels = [contracts.label(dim, code, lang)
              for dim, _, code in (part.partition("=") for part in breakdowns) if code != "_T"]
    return " · ".join([contracts.indicator_name(indicator, lang), *labels])


def decide(settings, decision, lang: str):
    """Hand a decision to the orchestrator and wait until it is recorded or refused
    (decisions.ReviewOutcome), under a spinner: the rebuild and the publication go on without
    the person waiting for them. None, with the reason shown, when the orchestrator does not
    answer."""
    from pipelines.orchestrator import LaunchRefused, OrchestratorUnavailable, run_review

    with st.spinner(t("workflow.review.working", lang)):
        try:
            return run_review(settings, decision, wait_for_publication=False)
        except OrchestratorUnavailable:
            st.error(t("workflow.orchestrator_down", lang), icon=":material/cloud_off:")
        except LaunchRefused as refused:
            st.error(t("workflow.submit.failed", lang, error=str(refused)[:300]))
    return None


def not_recorded(outcome, lang: str) -> None:
    """Why a decision was not recorded: refused or failed (an error), or still queued behind
    other work (a warning: it will be recorded, and must not be sent again)."""
    text = t(outcome.key, lang, **(outcome.values or {}))
    if outcome.key == "workflow.review.still_queued":
        st.warning(text, icon=":material/hourglass_top:")
    else:
        st.error(text, icon=":material/block:")


def explain_forms(user: User, labels: dict[str, str], lang: str) -> None:
    """A text box per submission with warnings (``labels``: submission id → :func:`unit_label`);
    sending it runs the review job (explain)."""
    submission_ids = list(labels)
    from pipelines.lib.decisions import Decision

    known = submissions(user)
    for submission_id in submission_ids:
        if known is not None:
            rows = known[known["submission_id"] == submission_id]
            if not rows.empty and isinstance(rows.iloc[0]["explanation"], str):
                row = rows.iloc[0]
                st.info(t("workflow.explain.current", lang, who=ui.plain(row["explained_by"]),
                          when=str(row["explained_at"])[:16], text=ui.plain(row["explanation"])))
        with st.form(f"wf.explain.{submission_id}"):
            text = st.text_area(t("workflow.explain.text", lang, unit=labels[submission_id]),
                                key=f"wf.explain.text.{submission_id}", max_chars=4000)
            sent = st.form_submit_button(t("workflow.explain.send", lang))
        if sent:
            outcome = decide(get_settings(), Decision(
                action="explain", actor=user.username, actor_role=user.role,
                actor_country=user.country, submission_id=submission_id, reason=text), lang)
            if outcome is None:
                continue
            if outcome.ok:
                st.session_state.setdefault(EXPLAINED, set()).add(submission_id)
                st.success(t("workflow.explain.done", lang), icon=":material/check_circle:")
                if not outcome.published:
                    st.caption(t("workflow.review.publishing", lang))
            else:
                not_recorded(outcome, lang)
