"""A validation finding: where it is, which rule, what to do, in Spanish and English."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pipelines.lib.i18n import t, t_both

ERROR = "ERROR"
WARNING = "WARNING"


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
        message_es, message_en = t_both(key, **values)
        return cls(rule, severity, message_es, message_en, sheet, row, column, shown, dataset,
                   message_fr=t(key, "fr", **values))

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict:
        return asdict(self)


def finding_message(finding: dict, lang: str) -> str:
    """A stored finding's message in ``lang`` (reports written before French had es and en)."""
    return finding.get(f"message_{lang}") or finding["message_en"]
