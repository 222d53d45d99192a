"""A validation finding: where it is, which rule, what to do, in Spanish and English."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from pipelines.lib.i18n import t

ERROR = "ERROR"
WARNING = "WARNING"


class InWords:
    """A value a message writes in its own language: a label rather than a code ("sexo:
    Mujeres", not "sex=F"). ``render(lang)`` gives the text."""

    def __init__(self, render: Callable[[str], str]):
        self.render = render


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message_es: str
    message_en: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    dataset: str | None = None  # the unit it belongs to; None = the whole file
    # French is in the reports (JSON) only; the warehouse keeps es and en (raw.findings).
    message_fr: str | None = None

    @classmethod
    def make(
        cls,
        rule: str,
        key: str,
        *,
        severity: str = ERROR,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        dataset: str | None = None,
        **params: object,
    ) -> Finding:
        """A finding whose message is the translation ``key`` filled with ``params``."""
        shown = None if value is None else str(value)
        values = dict(value=shown, column=column, row=row, sheet=sheet, rule=rule, **params)

        def message(lang: str) -> str:
            return t(key, lang, **{name: v.render(lang) if isinstance(v, InWords) else v
                                   for name, v in values.items()})

        return cls(rule, severity, message("es"), message("en"), sheet, row, column, shown,
                   dataset, message_fr=message("fr"))

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict:
        return asdict(self)


def finding_message(finding: dict, lang: str) -> str:
    """A stored finding's message in ``lang`` (reports written before French had es and en)."""
    return finding.get(f"message_{lang}") or finding["message_en"]
