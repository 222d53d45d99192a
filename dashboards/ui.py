"""What every page shares: the reader's language and numbers written the way that language writes
them (es ``1.234,5``, en ``1,234.5``, fr ``1 234,5``)."""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time

import streamlit as st

from dashboards.data import REGION
from pipelines.lib.contracts import load_contracts
from pipelines.lib.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

LANGUAGE_KEY = "lang"  # the session-state key and the URL query parameter
# The language as this session last had it, kept apart from the switch's own state: a page
# chosen in the navigation before the first run had ended replaced the URL (and its ?lang=)
# while the switch's state was not yet kept, and the page came in Spanish.
KEPT_LANGUAGE_KEY = "lang_kept"
LANGUAGE_NAMES = {"es": "Español", "en": "English", "fr": "Français"}

# (thousands separator, decimal separator) per language; fr uses a narrow no-break space.
_SEPARATORS = {"es": (".", ","), "en": (",", "."), "fr": ("\u202f", ",")}


TIMING_LOG = "OBSERVATORY_TIMING_LOG"  # benchmarks/dashboard.py: the server time of each run


def log_script_run(page: str, started: float) -> None:
    """Only when ``$OBSERVATORY_TIMING_LOG`` names a file: append one JSON line for this script run
    (page url path, session, seconds since ``started``, wall-clock end). Off by default."""
    path = os.environ.get(TIMING_LOG)
    if not path:
        return
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    line = {"page": page, "session": ctx.session_id if ctx else None,
            "seconds": round(time.perf_counter() - started, 4), "end": time.time()}
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")


def language() -> str:
    """The reader's language: session state first, then ``?lang=`` in the URL, then Spanish."""
    for key in (LANGUAGE_KEY, KEPT_LANGUAGE_KEY):
        chosen = st.session_state.get(key)
        if chosen in LANGUAGES:
            return chosen
    from_url = st.query_params.get(LANGUAGE_KEY)
    return from_url if from_url in LANGUAGES else DEFAULT_LANGUAGE


def tr(key: str, **values: object) -> str:
    """``t`` in the reader's language."""
    return t(key, language(), **values)


def plain(text: object) -> str:
    """Text a user wrote (an explanation, a reason, a file name, a value from a file) as an inline
    code span, for the markdown that st.write, st.caption, st.info and the like render: nothing
    inside a code span is markdown, HTML, a Streamlit directive or an autolink (Streamlit's GFM
    turns bare URLs and e-mail addresses into links even when their punctuation is escaped).
    The fence is one backtick longer than any run of backticks in the text; one line."""
    text = " ".join(str(text).split())
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def area_label(code: str, lang: str) -> str:
    """A member country's name, or the region's, in ``lang``."""
    if code == "REG":
        return t("dash.area.region", lang)
    return load_contracts().label("citizenship", code, lang)


def format_number(value: float | None, lang: str, decimals: int = 0) -> str:
    """``value`` with the language's thousands and decimal separators; an en dash when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    thousands, decimal = _SEPARATORS.get(lang, _SEPARATORS["en"])
    text = f"{value:,.{decimals}f}"  # 1,234.5
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def format_change(ratio: float, lang: str) -> str:
    """A relative change (0.0955) as a signed percentage: ``+9,6 %`` (es), ``+9.6%`` (en)."""
    sign = "+" if ratio > 0 else ("-" if ratio < 0 else "±")
    number = format_number(abs(ratio) * 100, lang, decimals=1)
    return f"{sign}{number}%" if lang == "en" else f"{sign}{number}\u00a0%"


def plotly_separators(lang: str) -> str:
    """Plotly's ``layout.separators``: the decimal mark, then the thousands separator."""
    thousands, decimal = _SEPARATORS.get(lang, _SEPARATORS["en"])
    return decimal + thousands


def require_snapshot():
    """The current snapshot; without one, a bilingual "no data yet" message and the page stops."""
    from dashboards import data

    snapshot = data.current_snapshot()
    if snapshot is None:
        st.info(
            f"{t('dash.app.no_snapshot', 'es')}\n\n{t('dash.app.no_snapshot', 'en')}",
            icon=":material/hourglass_empty:",
        )
        st.stop()
    return snapshot


def stop_unreadable(snapshot_name: str, error: Exception) -> None:
    """Say (in both languages) that the published snapshot cannot be read, and stop the page."""
    texts = [
        t("dash.app.snapshot_unreadable", code, snapshot=snapshot_name, error=error)
        for code in ("es", "en")
    ]
    st.error("\n\n".join(texts))
    st.stop()


# --- shared by the analysts' pages (issue 4) -----------------------------------------------------

# Decimals a value is written with, by the registry's unit.
UNIT_DECIMALS = {"PERSONS": 0, "INVESTIGATIONS": 0, "PER_100K": 1, "PER_100": 1, "PER_1000": 1,
                 "PERCENT": 1, "RATIO": 2}
SUPPRESSED_TEXT = "<5"  # DOMAIN.md §6: a suppressed cell is shown as <5, never as a number
PROVISIONAL_SYMBOL = "circle-open"
FINAL_SYMBOL = "circle"
# Colour-blind-safe (Okabe-Ito), one per series in order.
SERIES_COLORS = ("#1F2933", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#CC79A7", "#D55E00",
                 "#8C6D31", "#7F3C8D", "#999999")


COUNT_UNITS = frozenset({"PERSONS", "INVESTIGATIONS"})
SUPPRESSED_STATUSES = ("A", "D", "N")


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def is_suppressed(value: object, conf_status: object) -> bool:
    """Disclosure control hid this cell (conf_status A, D or N and no value)."""
    return conf_status in SUPPRESSED_STATUSES and is_missing(value)


def suppressed_text(unit: str, lang: str, conf_status: str = "A") -> str:
    """What a hidden cell shows: ``<5`` for a small count (primary, A); otherwise (a count hidden
    by secondary suppression, D, which may be any size, or a rate or share resting on a hidden
    count) the word "confidential", never a number; "annual only" for the withheld detail of a
    small series (N)."""
    if conf_status == "A" and unit in COUNT_UNITS:
        return SUPPRESSED_TEXT
    if conf_status == "N":
        return t("dash.pages.annual_only", lang)
    return t("dash.pages.confidential", lang)


def format_value(value: float | None, unit: str, lang: str, conf_status: str = "F") -> str:
    """A value of the indicator mart as the page shows it: ``<5`` (or "confidential", see
    :func:`suppressed_text`) when disclosure control hid it, the unit's decimals, the language's
    separators, ``%`` for percentages."""
    if is_suppressed(value, conf_status):
        return suppressed_text(unit, lang, conf_status)
    text = format_number(value, lang, UNIT_DECIMALS.get(unit, 1))
    if unit == "PERCENT" and text != "–":
        text = f"{text}%" if lang == "en" else f"{text}\u00a0%"
    return text


def own_area() -> str | None:
    """The signed-in submitter's country (it sees its own figures unsuppressed, DOMAIN.md §6);
    None for everyone else, signed in or not."""
    from dashboards import workflow_ui  # workflow_ui imports this module

    user = workflow_ui.current_user()
    return user.country if user is not None and user.role == "submitter" else None


def disclosure_caption(lang: str, own: str | None = None) -> None:
    """What ``<5`` and "confidential" mean (and, for a submitter, that its own figures are
    shown as submitted)."""
    text = t("dash.pages.disclosure_note", lang)
    if own:
        text += " " + t("dash.pages.own_area_note", lang, country=area_label(own, lang))
    st.caption(text)


def registry_text(registry, code: str, field: str, lang: str) -> str:
    """``name``/``definition``/``caveat`` of an indicator from marts.dim_indicator in ``lang``
    (French falls back to English; the code itself when the registry lacks the indicator)."""
    if code not in registry.index:
        return code
    row = registry.loc[code]
    text = row.get(f"{field}_{lang}") if f"{field}_{lang}" in row else None
    if text is None or (isinstance(text, float) and math.isnan(text)):
        text = row.get(f"{field}_en")
    return code if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)


def definition_markdown(registry, codes: list[str], lang: str) -> str:
    """Name, definition, formula, unit and caveat of each indicator, all from the registry."""
    parts = []
    for code in codes:
        if code not in registry.index:
            continue
        row = registry.loc[code]
        unit_key = f"dash.unit.{row['unit']}"
        from pipelines.lib.i18n import messages

        unit = t(unit_key, lang) if unit_key in messages() else row["unit"]
        parts.append(
            f"**{registry_text(registry, code, 'name', lang)}** (`{code}`)\n\n"
            f"{registry_text(registry, code, 'definition', lang)}\n\n"
            f"*{t('dash.pages.formula', lang)}:* {registry_text(registry, code, 'formula', lang)}  \n"
            f"*{t('dash.pages.unit', lang)}:* {unit}  \n"
            f"*{t('dash.pages.caveat', lang)}:* {registry_text(registry, code, 'caveat', lang)}"
        )
    return "\n\n---\n\n".join(parts)


def wrap(text: str, width: int = 120) -> str:
    """Plotly titles do not wrap: break a long subtitle into lines with ``<br>``."""
    import textwrap

    return "<br>".join(textwrap.wrap(text, width))


@st.cache_data(show_spinner=False, max_entries=256)
def to_xlsx(frame) -> bytes:
    """The frame as a one-sheet workbook (cached: a page rebuilds its charts' frames on every
    rerun, and openpyxl takes milliseconds per file)."""
    import io

    import pandas as pd

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="data")
    return buffer.getvalue()


def chart_extras(key: str, frame, lang: str, *, registry=None, codes: list[str] = (),
                 note: str | None = None) -> None:
    """Under a chart: its definition on demand (from the registry) and the data behind it as CSV
    and XLSX. ``frame`` is what the chart draws, with raw numbers (no thousands separators).

    The files are built with the page, not on click: Streamlit's on-click ("deferred") downloads
    asked the server over the websocket for the file, and on a loaded machine the click
    sometimes never produced a download (seen in CI, no error on either side)."""
    with st.expander(t("dash.pages.about_chart", lang), icon=":material/info:"):
        if note:
            st.markdown(note)
        if registry is not None and codes:
            st.markdown(definition_markdown(registry, list(codes), lang))
        left, right = st.columns(2)
        with left:
            st.download_button(
                t("dash.pages.download_csv", lang),
                frame.to_csv(index=False).encode("utf-8-sig"),
                file_name=f"{key}.csv",
                mime="text/csv",
                key=f"{key}.csv",
                icon=":material/download:",
                on_click="ignore",
            )
        with right:
            st.download_button(
                t("dash.pages.download_xlsx", lang),
                to_xlsx(frame),
                file_name=f"{key}.xlsx",
                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                key=f"{key}.xlsx",
                icon=":material/download:",
                on_click="ignore",
            )


# Plotly draws maps (geo traces) from a topojson file it fetches at run time, by default from
# its CDN. The dashboard must work without the internet: the file is served by Streamlit itself
# (``server.enableStaticServing`` in .streamlit/config.toml, files in dashboards/static/). The URL
# is relative, so it holds under any server.baseUrlPath (every page is one level deep).
TOPOJSON_URL = "app/static/topojson/"


def show_chart(fig, key: str) -> None:
    """A Plotly chart in a keyed container (``.st-key-<key>`` for the browser tests)."""
    with st.container(key=key):
        st.plotly_chart(fig, key=f"{key}_chart",
                        config={"displaylogo": False, "topojsonURL": TOPOJSON_URL})


def bar_figure(categories: list[str], series: list[dict], lang: str, *, title: str,
               subtitle: str = "", y_title: str = "", height: int = 440):
    """Bars per category, one trace per series (grouped). Each series: ``name``, ``color``,
    ``values``, ``conf`` (conf_status per value), ``unit``, ``status`` (obs_status per value).
    A suppressed cell draws no bar: a ``<5`` (or "confidential") label sits on the baseline in
    its place, with the same words on hover; provisional bars are hatched."""
    import plotly.graph_objects as go

    fig = go.Figure()
    n = len(series)
    width = 0.8 / max(n, 1)  # plotly's grouped bars: bargap 0.2, the group split evenly
    for k, one in enumerate(series):
        texts = [format_value(v, one["unit"], lang, c)
                 for v, c in zip(one["values"], one["conf"], strict=True)]
        fig.add_trace(go.Bar(
            x=categories,
            y=[None if is_missing(v) else v for v in one["values"]],
            name=one["name"],
            marker={"color": one["color"],
                    "pattern": {"shape": ["/" if s == "P" else "" for s in one["status"]],
                                "fgcolor": "#FFFFFF", "solidity": 0.3,
                                "fillmode": "overlay"}},
            text=texts, textposition="outside", cliponaxis=False,
            customdata=[[one["name"], status_label(s, lang)] for s in one["status"]],
            hovertemplate="<b>%{x}</b><br>%{customdata[0]}: %{text}<br>%{customdata[1]}"
                          "<extra></extra>",
        ))
        for i, (value, conf) in enumerate(zip(one["values"], one["conf"], strict=True)):
            if is_suppressed(value, conf):
                fig.add_annotation(  # upright when the slot is narrow (grouped bars)
                    x=i - 0.4 + (k + 0.5) * width, y=0, yanchor="bottom", showarrow=False,
                    text=texts[i], font={"color": one["color"], "size": 12},
                    textangle=-90 if n > 1 and len(texts[i]) > 3 else 0,
                    hovertext=f"{categories[i]}, {one['name']}: {texts[i]}",
                )
    fig.update_layout(
        title={"text": title, "subtitle": {"text": wrap(subtitle)} if subtitle else None},
        separators=plotly_separators(lang), height=height, barmode="group",
        margin={"t": 100 if subtitle else 60, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        showlegend=n > 1,
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text=y_title, rangemode="tozero", tickformat=",~r")
    if all(one["unit"] in COUNT_UNITS for one in series):
        whole_number_axis(fig)
    return fig


# Units whose values are counts (the registry's `unit`): their axes read whole numbers only.
COUNT_UNITS = ("PERSONS", "INVESTIGATIONS")


def whole_number_axis(fig) -> None:
    """A count axis in whole numbers. Plotly's ``,d`` format alone labels a small series' ticks
    at 0.2, 0.4, ... as "0, 0, 1, 1"; below 10 the ticks step by one instead."""
    import math

    top = 0.0
    for trace in fig.data:
        values = trace.y if getattr(trace, "y", None) is not None else ()
        for value in values:
            if isinstance(value, int | float) and not math.isnan(value):
                top = max(top, float(value))
    fig.update_yaxes(tickformat=",d", rangemode="tozero",
                     **({"tick0": 0, "dtick": 1} if top < 10 else {}))


_LOOKUPS: dict[int, tuple[object, dict]] = {}  # id(frame) -> (frame, (code, area) -> row)
_LOOKUPS_LOCK = threading.Lock()  # sessions run in threads of one server


def cell(rows, code: str, area: str) -> dict | None:
    """The first row of ``rows`` for indicator ``code`` in ``area`` (a dict), or None.

    A page asks for many cells of one frame: the frame is indexed once (filtering it for every
    cell cost a few ms each). The last few frames are kept with their index, so an id in the
    cache is always its own frame's."""
    with _LOOKUPS_LOCK:
        entry = _LOOKUPS.get(id(rows))
        if entry is None:
            lookup: dict[tuple[str, str], dict] = {}
            for row in rows.to_dict("records"):
                lookup.setdefault((row["indicator_code"], row["ref_area"]), row)
            entry = _LOOKUPS[id(rows)] = (rows, lookup)
            while len(_LOOKUPS) > 16:
                del _LOOKUPS[next(iter(_LOOKUPS))]
    return entry[1].get((code, area))


def cell_text(rows, code: str, area: str, lang: str) -> str:
    """A cell as a reader sees it: the formatted value, ``<5``/confidential, or "–" if absent."""
    found = cell(rows, code, area)
    return "–" if found is None else format_value(found["value"], found["unit"], lang,
                                                  found["conf_status"])


def area_series(rows, areas: list[str], code: str, registry, lang: str, *, color: str,
                name: str | None = None) -> dict:
    """A :func:`bar_figure` series: indicator ``code``, one value per area (None where absent)."""
    found = [cell(rows, code, a) for a in areas]
    return {
        "name": name or registry_text(registry, code, "name", lang),
        "color": color,
        "values": [None if c is None else c["value"] for c in found],
        "conf": ["F" if c is None else c["conf_status"] for c in found],
        "unit": next((c["unit"] for c in found if c is not None), "PERSONS"),
        "status": ["A" if c is None else c["obs_status"] for c in found],
    }


def area_table(rows, areas: list[str], codes, registry, lang: str):
    """One line per area, one column per indicator of ``codes`` present, then the status."""
    import pandas as pd

    present = set(rows["indicator_code"])
    shown = {t("dash.col.area", lang): [area_label(a, lang) for a in areas]}
    for code in (c for c in codes if c in present):
        shown[registry_text(registry, code, "name", lang)] = [
            cell_text(rows, code, a, lang) for a in areas]
    shown[t("dash.col.status", lang)] = [
        status_label("P" if rows[rows["ref_area"] == a]["obs_status"].eq("P").any() else "A", lang)
        for a in areas]
    return pd.DataFrame(shown)


def area_choice(prefix: str, reporting: list[str], lang: str) -> str:
    """The region or one reporting member; the choice survives a language switch (whose widget
    key changes) through ``<prefix>.area`` in the session state."""
    state = f"{prefix}.area"
    options = [REGION, *reporting]
    chosen = st.session_state.get(state)
    area = st.selectbox(
        t("dash.pages.area", lang), options=options,
        index=options.index(chosen) if chosen in options else 0,
        format_func=lambda a: area_label(a, lang), key=f"{prefix}_area.{lang}",
    )
    st.session_state[state] = area
    return area


def metric_cards(key: str, rows, codes, area: str, registry, lang: str) -> None:
    """One bordered figure per indicator of ``codes`` for ``area``, three to a row, with its
    status on hover. Streamlit cuts a long label to one line ("Personas procesadas por t…"):
    here it wraps instead, so every indicator's name reads whole."""
    scope = f".st-key-{re.sub(r'[^a-zA-Z0-9_-]', '-', key.strip())}"
    st.html(f"""<style>
{scope} [data-testid="stMetricLabel"], {scope} [data-testid="stMetricLabel"] * {{
    white-space: normal; overflow: visible; text-overflow: clip; }}
</style>""")
    with st.container(key=key):
        columns = st.columns(3)
        for i, code in enumerate(codes):
            found = cell(rows, code, area)
            with columns[i % 3]:
                st.metric(
                    registry_text(registry, code, "name", lang), cell_text(rows, code, area, lang),
                    help=None if found is None else status_label(found["obs_status"], lang)
                    .capitalize(),
                    border=True,
                )


def period_controls(prefix: str, rows, lang: str, freqs: tuple[str, ...] = ("A", "R4Q", "Q")
                    ) -> tuple[str, str]:
    """A frequency switch (the frequencies ``rows`` has, in ``freqs`` order) and a period list
    (newest first) for a page's indicator rows. Returns (freq, time_period)."""
    have = set(rows["freq"])
    options = [f for f in freqs if f in have] or list(freqs[:1])
    left, right = st.columns(2)
    with left:
        freq = st.segmented_control(
            t("dash.trends.freq", lang), options=options,
            format_func=lambda f: t(f"dash.freq.{f}", lang), default=options[0], required=True,
            key=f"{prefix}_freq.{'-'.join(options)}",
        )
    at = rows[rows["freq"] == freq].sort_values("period_end", ascending=False)
    periods = list(dict.fromkeys(at["time_period"]))
    with right:
        period = st.selectbox(t("dash.col.period", lang), options=periods or ["–"],
                              format_func=period_label, key=f"{prefix}_period.{freq}")
    return freq, period


def status_label(code: str, lang: str) -> str:
    """``A``/``P`` as words (final / provisional)."""
    return t(f"dash.status.{code}", lang) if code in ("A", "P") else str(code)


def period_label(time_period: str) -> str:
    """``2024-Q2-R4Q`` → ``2024-Q2`` (the axis says "four quarters ending")."""
    return str(time_period).removesuffix("-R4Q")


def breakdown_label(dimension: str, code: str, lang: str) -> str:
    """The label of a breakdown's category; for sex × age (``F|Y0T17``) both labels."""
    if dimension == "sex_age":
        sex, age = code.split("|")
        return f"{breakdown_label('sex', sex, lang)}, {breakdown_label('age', age, lang)}"
    return load_contracts().label(dimension, code, lang)


def export_frame(rows, registry, lang: str):
    """The data behind an indicator chart, for download: codes and the language's labels beside
    raw numbers (a suppressed cell has no value and conf_status A or D)."""
    import pandas as pd

    # one registry look-up per indicator, not per row (hundreds of rows with a breakdown)
    names = {c: registry_text(registry, c, "name", lang) for c in set(rows["indicator_code"])}
    # Counts as whole numbers (the mart stores doubles: 18.0 reads as a measurement), rates and
    # shares with one decimal more than the page shows (not fourteen); a hidden cell stays empty.
    values = []
    for value, unit in zip(rows["value"].tolist(), rows["unit"].tolist(), strict=True):
        decimals = UNIT_DECIMALS.get(unit, 1)
        values.append(None if value is None or value != value
                      else int(round(value)) if decimals == 0 else round(value, decimals + 1))
    return pd.DataFrame({
        "indicator_code": rows["indicator_code"].to_numpy(),
        "indicator": [names[c] for c in rows["indicator_code"]],
        "ref_area": rows["ref_area"].to_numpy(),
        "area": [area_label(a, lang) for a in rows["ref_area"]],
        "time_period": rows["time_period"].to_numpy(),
        "freq": rows["freq"].to_numpy(),
        "sex": rows["sex"].to_numpy(),
        "age": rows["age"].to_numpy(),
        "exploitation_form": rows["exploitation_form"].to_numpy(),
        "value": pd.Series(values, dtype="object"),
        "unit": rows["unit"].to_numpy(),
        "obs_status": rows["obs_status"].to_numpy(),
        "conf_status": rows["conf_status"].to_numpy() if "conf_status" in rows else "F",
    })


def file_uploader(label: str, key: str, lang: str, *, limit_mb: int, types: list[str],
                  help: str | None = None):
    """``st.file_uploader`` whose own words are in the reader's language: Streamlit writes its
    button ("Upload") and its note ("10MB per file • XLSX, CSV") in English only, and the note
    gives the server's transport cap, not the platform's (the page's own check refuses past
    ``limit_mb`` with a message in the reader's language). Both are replaced by CSS, on this
    widget only, with the translations; the text is a CSS string (JSON's quoting fits it)."""
    scope = f".st-key-{re.sub(r'[^a-zA-Z0-9_-]', '-', key.strip())}"
    # the upload button only (secondary); a chosen file's delete button (minimal) keeps its icon
    upload = '[data-testid="stFileUploaderDropzone"] button[data-testid="stBaseButton-secondary"]'
    button = json.dumps(t("dash.upload.button", lang), ensure_ascii=False)
    note = json.dumps(t("dash.upload.note", lang, limit=limit_mb,
                        types=", ".join(k.upper() for k in types)), ensure_ascii=False)
    st.html(f"""<style>
{scope} {upload} > * {{ display: none; }}
{scope} {upload}::after {{ content: {button}; }}
{scope} [data-testid="stFileUploaderDropzoneInstructions"] > * {{ display: none; }}
{scope} [data-testid="stFileUploaderDropzoneInstructions"]::after {{ content: {note};
    font-size: 0.875rem; opacity: 0.7; }}
</style>""")
    return st.file_uploader(label, type=types, accept_multiple_files=False, key=key, help=help)


def upload_form(label: str, key: str, lang: str, *, send: str, limit_mb: int, types: list[str],
                help: str | None = None, busy: bool = False):
    """:func:`file_uploader` and its send button in a form; the file when the button was pressed
    with one, else None.

    Streamlit keeps a form's submit button disabled while a file in the form is still uploading.
    Outside a form the button stayed live with the earlier file as the widget's value until the
    new one had arrived, so a click during the upload sent the old bytes again. The form keeps
    its file once sent (not ``clear_on_submit``): the second press of a double click interrupts
    the first run before it has read the file, and must still carry it; the same bytes again are
    answered "already received". ``busy``: a file sent before is still being processed."""
    with st.form(f"{key}.form", border=False):
        uploaded = file_uploader(label, key, lang, limit_mb=limit_mb, types=types, help=help)
        sent = st.form_submit_button(send, type="primary", key=f"{key}.send")
    if sent and uploaded is None and not busy:
        st.warning(t("dash.upload.choose_first", lang), icon=":material/upload_file:")
    return uploaded if sent else None
