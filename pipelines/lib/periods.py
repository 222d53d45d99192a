"""Calendar quarters as the coalition writes them: ``2025-Q2``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

PERIOD_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = PERIOD_PATTERN.match(text.strip())
        if not match:
            raise ValueError(f"not a quarter like 2025-Q2: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def last_complete(cls, today: dt.date) -> Quarter:
        return cls.containing(today).previous()

    def __str__(self) -> str:
        return f"{self.year}-Q{self.quarter}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> dt.date:
        return self.next().start - dt.timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + (self.quarter == 4), self.quarter % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.quarter == 1), (self.quarter - 2) % 4 + 1)

    def due_date(self, due_days: int) -> dt.date:
        return self.end + dt.timedelta(days=due_days)

    def is_complete(self, today: dt.date) -> bool:
        return self.end < today


def quarter_range(first: Quarter, last: Quarter) -> list[Quarter]:
    quarters = []
    current = first
    while current <= last:
        quarters.append(current)
        current = current.next()
    return quarters


YEAR_PATTERN = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, order=True)
class Year:
    """A calendar year, the period of the annual data sets (``2025``); the same interface as
    :class:`Quarter` where the workflow judges windows, due dates and locks."""

    year: int

    @classmethod
    def parse(cls, text: str) -> Year:
        match = YEAR_PATTERN.match(text.strip())
        if not match:
            raise ValueError(f"not a year like 2025: {text!r}")
        return cls(int(match.group(1)))

    @classmethod
    def last_complete(cls, today: dt.date) -> Year:
        return cls(today.year - 1)

    def __str__(self) -> str:
        return str(self.year)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 12, 31)

    def next(self) -> Year:
        return Year(self.year + 1)

    def previous(self) -> Year:
        return Year(self.year - 1)

    def due_date(self, due_days: int) -> dt.date:
        return self.end + dt.timedelta(days=due_days)

    def is_complete(self, today: dt.date) -> bool:
        return self.end < today


def parse_period(text: str) -> Quarter | Year:
    """A quarter (``2025-Q2``) or a year (``2025``); ValueError for anything else."""
    try:
        return Quarter.parse(text)
    except ValueError:
        return Year.parse(text)
