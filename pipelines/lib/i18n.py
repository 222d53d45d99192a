"""The one translation source: every text a user reads (app, templates, findings, exports, CLI).

Texts live in ``pipelines/locales/*.yaml`` as ``key: {es: ..., en: ..., fr: ...}``; the files
are one namespace (a key defined twice is an error). Spanish and English are required here, French
too by a test (tests/dashboards/test_dashboard_pages.py); a missing French text would show the
English one.

Counts are written with the language's plural forms (CLDR's rules, through Babel: French says
"1 erreur" and "0 erreur", English "0 errors"). A text can be a mapping of plural categories,
``{one: ..., other: ...}`` (``other`` required), chosen by the count named in the key's
``plural:`` entry; and a key's ``counts:`` entry, ``{placeholder: count key}``, writes each such
number with the noun of that count key (``count.errors``: "1 error", "3 errors"), so one sentence
can hold several counts.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from babel import Locale
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
LANGUAGES = ("es", "en", "fr")
DEFAULT_LANGUAGE = "es"


@cache
def messages() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(LOCALES_DIR.glob("*.yaml")):
        with path.open(encoding="utf-8") as f:
            entries = yaml.safe_load(f) or {}
        for key, texts in entries.items():
            if key in merged:
                raise ValueError(f"translation key {key!r} defined twice ({path.name})")
            missing = {"es", "en"} - set(texts)
            if missing:
                raise ValueError(f"translation key {key!r} lacks {sorted(missing)} ({path.name})")
            for lang in LANGUAGES:
                forms = texts.get(lang)
                if isinstance(forms, dict) and ("other" not in forms or "plural" not in texts):
                    raise ValueError(f"translation key {key!r}: plural forms need 'other' and "
                                     f"the key's 'plural' count ({path.name})")
            merged[key] = texts
    return merged


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def plural_category(count: int | float, lang: str) -> str:
    """CLDR's plural category of ``count`` in ``lang`` (``one``, ``many``, ``other``, ...)."""
    return _locale(lang if lang in LANGUAGES else "en").plural_form(abs(count))


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text of ``key`` in ``lang`` with ``{placeholders}`` filled in (counts with their
    plural forms, see the module's text)."""
    texts = messages()[key]
    for name, count_key in (texts.get("counts") or {}).items():
        if isinstance(values.get(name), int | float):
            values[name] = count_text(count_key, values[name], lang)
    template = texts.get(lang) or texts["en"]
    if isinstance(template, dict):
        template = template.get(plural_category(values[texts["plural"]], lang)) \
            or template["other"]
    return template.format(**values) if values else template


def count_text(key: str, count: int | float, lang: str) -> str:
    """A count with its noun in ``lang`` ("1 error", "1.250 errores"): ``key``'s plural form for
    ``count``, the number written as the language writes it."""
    forms = messages()[key].get(lang) or messages()[key]["en"]
    template = forms.get(plural_category(count, lang)) or forms["other"]
    return template.format(n=format_decimal(count, locale=_locale(lang)))


def t_both(key: str, **values: object) -> tuple[str, str]:
    """Spanish and English text of ``key`` (what findings and exports store)."""
    return t(key, "es", **values), t(key, "en", **values)


def refusal_text(key: str, **values: object) -> str:
    """A refusal as a run records it: the key (what the command line and the pages translate
    from), then the text in Spanish and English (what an operator reads in Dagster's UI)."""
    return f"{key}: " + " / ".join(t_both(key, **values))
