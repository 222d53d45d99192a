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
