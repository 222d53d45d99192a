"""What every page shares: the reader's language and numbers written the way that language writes
them (es ``1.234,5``, en ``1,234.5``, fr ``1 234,5``)."""

from __future__ import annotations

import math

import streamlit as st

from pipelines.lib.contracts import load_contracts
from pipelines.lib.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

LANGUAGE_KEY = "lang"  # the session-state key and the URL query parameter
LANGUAGE_NAMES = {"es": "Español", "en": "English", "fr": "Français"}

# (thousands separator, decimal separator) per language; fr uses a narrow no-break space.
_SEPARATORS = {"es": (".", ","), "en": (",", "."), "fr": ("\u202f", ",")}


def language() -> str:
    """The reader's language: session state first, then ``?lang=`` in the URL, then Spanish."""
    chosen = st.session_state.get(LANGUAGE_KEY)
    if chosen in LANGUAGES:
        return chosen
    from_url = st.query_params.get(LANGUAGE_KEY)
    return from_url if from_url in LANGUAGES else DEFAULT_LANGUAGE


def tr(key: str, **values: object) -> str:
    """``t`` in the reader's language."""
    return t(key, language(), **values)


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


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: float | None, unit: str, lang: str, conf_status: str = "F") -> str:
    """A value of the indicator mart as the page shows it: ``<5`` when disclosure control hid it
    (conf_status A or D), the unit's decimals, the language's separators, ``%`` for percentages."""
    if conf_status in ("A", "D") and is_missing(value):
        return SUPPRESSED_TEXT
    text = format_number(value, lang, UNIT_DECIMALS.get(unit, 1))
    if unit == "PERCENT" and text != "–":
        text = f"{text}%" if lang == "en" else f"{text}\u00a0%"
    return text


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
            f"*{t('dash.pages.formula', lang)}:* {row['formula']}  \n"
            f"*{t('dash.pages.unit', lang)}:* {unit}  \n"
            f"*{t('dash.pages.caveat', lang)}:* {registry_text(registry, code, 'caveat', lang)}"
        )
    return "\n\n---\n\n".join(parts)


def wrap(text: str, width: int = 120) -> str:
    """Plotly titles do not wrap: break a long subtitle into lines with ``<br>``."""
    import textwrap

    return "<br>".join(textwrap.wrap(text, width))


def to_xlsx(frame) -> bytes:
    import io

    import pandas as pd

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="data")
    return buffer.getvalue()


def chart_extras(key: str, frame, lang: str, *, registry=None, codes: list[str] = (),
                 note: str | None = None) -> None:
    """Under a chart: its definition on demand (from the registry) and the data behind it as CSV
    and XLSX. ``frame`` is what the chart draws, with raw numbers (no thousands separators)."""
    with st.expander(t("dash.pages.about_chart", lang), icon=":material/info:"):
        if note:
            st.markdown(note)
        if registry is not None and codes:
            st.markdown(definition_markdown(registry, list(codes), lang))
        left, right = st.columns(2)
        with left:
            st.download_button(
                t("dash.pages.download_csv", lang),
                lambda: frame.to_csv(index=False).encode("utf-8-sig"),  # built on click only
                file_name=f"{key}.csv",
                mime="text/csv",
                key=f"{key}.csv",
                icon=":material/download:",
                on_click="ignore",
            )
        with right:
            st.download_button(
                t("dash.pages.download_xlsx", lang),
                lambda: to_xlsx(frame),
                file_name=f"{key}.xlsx",
                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                key=f"{key}.xlsx",
                icon=":material/download:",
                on_click="ignore",
            )


def show_chart(fig, key: str) -> None:
    """A Plotly chart in a keyed container (``.st-key-<key>`` for the browser tests)."""
    with st.container(key=key):
        st.plotly_chart(fig, key=f"{key}_chart", config={"displaylogo": False})


def status_label(code: str, lang: str) -> str:
    """``A``/``P`` as words (final / provisional)."""
    return t(f"dash.status.{code}", lang) if code in ("A", "P") else str(code)


def period_label(time_period: str) -> str:
    """``2024-Q2-R4Q`` → ``2024-Q2`` (the axis says "four quarters ending")."""
    return str(time_period).removesuffix("-R4Q")


def breakdown_label(dimension: str, code: str, lang: str) -> str:
    return load_contracts().label(dimension, code, lang)


def export_frame(rows, registry, lang: str):
    """The data behind an indicator chart, for download: codes and the language's labels beside
    raw numbers (a suppressed cell has no value and conf_status A or D)."""
    import pandas as pd

    return pd.DataFrame({
        "indicator_code": rows["indicator_code"].to_numpy(),
        "indicator": [registry_text(registry, c, "name", lang) for c in rows["indicator_code"]],
        "ref_area": rows["ref_area"].to_numpy(),
        "area": [area_label(a, lang) for a in rows["ref_area"]],
        "time_period": rows["time_period"].to_numpy(),
        "freq": rows["freq"].to_numpy(),
        "sex": rows["sex"].to_numpy(),
        "age": rows["age"].to_numpy(),
        "exploitation_form": rows["exploitation_form"].to_numpy(),
        "value": rows["value"].to_numpy(),
        "unit": rows["unit"].to_numpy(),
        "obs_status": rows["obs_status"].to_numpy(),
        "conf_status": rows["conf_status"].to_numpy() if "conf_status" in rows else "F",
    })
