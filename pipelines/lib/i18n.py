"""The one translation source: every text a user reads (app, templates, findings, exports, CLI).

Texts live in ``pipelines/locales/*.yaml`` as ``key: {es: ..., en: ..., fr: ...}``; the files
are one namespace (a key defined twice is an error). Spanish and English are required here, French
too by a test (tests/dashboards/test_dashboard_pages.py); a missing French text would show the
English one.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

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
            merged[key] = texts
    return merged


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text of ``key`` in ``lang`` with ``{placeholders}`` filled in."""
    texts = messages()[key]
    template = texts.get(lang) or texts["en"]
    return template.format(**values) if values else template


def t_both(key: str, **values: object) -> tuple[str, str]:
    """Spanish and English text of ``key`` (what findings and exports store)."""
    return t(key, "es", **values), t(key, "en", **values)


def refusal_text(key: str, **values: object) -> str:
    """A refusal as a run records it: the key (what the command line and the pages translate
    from), then the text in Spanish and English (what an operator reads in Dagster's UI)."""
    return f"{key}: " + " / ".join(t_both(key, **values))
