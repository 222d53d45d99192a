"""The demo's ILLUSTRATIVE legal and policy framework reports (POLICY_FRAMEWORK): one per member
and complete year, sent through the same intake as the quarterly files. Made up, deterministic,
and labelled illustrative wherever they are shown (the harmonisation page, the export's
``is_illustrative``): they never describe a member's real law. Every reference says so.

Each member adopts each item in a year of its own (some before the collection starts, some
during it, some never); an item being prepared shows as ``partial`` in the two years before; one
item in a few reports is ``unknown``. Action plans run five years and are renewed.
"""

from __future__ import annotations

import datetime as dt

from pipelines.lib.contracts import load_contracts
from pipelines.lib.periods import Year
from pipelines.lib.template import template_rows

DATASET = "POLICY_FRAMEWORK"
# How many complete years the demo reports (the latest ones): enough for "what changed", the
# index over time and the demo plan's baseline (three years before the last), few enough to
# keep the demo quick.
YEARS = 4
PLAN_YEARS = 5


def _rng(*parts: object):
    from pipelines.lib.demo import _rng as demo_rng  # the demo's one seed

    return demo_rng("policy", *parts)


def policy_years(first: Year, today: dt.date) -> list[Year]:
    last = Year.last_complete(today)
    return [Year(y) for y in range(max(first.year, last.year - YEARS + 1), last.year + 1)]


REFERENCE = {"es": "Referencia ilustrativa (demostración): norma de ejemplo {number}-{year}, art. {article}",
             "en": "Illustrative reference (demo): example law {number}-{year}, Art. {article}"}


def policy_rows(iso: str, year: Year, lang: str = "es") -> list[dict]:
    """The member's illustrative report for the year: the template's rows, answered."""
    rows = template_rows(DATASET, iso, year)
    items = load_contracts().datasets[DATASET].indicators
    unknown = _rng(iso, year, "unknown")
    blank = unknown.choice(list(items)) if unknown.random() < 0.3 else None
    for row in rows:
        item = items[row["indicator"]]
        rng = _rng(iso, item.code)
        if item.date_required:  # party to a Protocol: every member, since an early year
            adopted = rng.randint(2002, 2008)
        else:
            adopted = rng.choice([rng.randint(2005, 2018), rng.randint(2019, 2028)])
        day = dt.date(adopted, rng.randint(1, 12), rng.randint(1, 28))
        if row["indicator"] == blank:
            status = "unknown"
        elif adopted <= year.year:
            status = "yes"
        elif adopted <= year.year + 2:
            status = "partial"
        else:
            status = "no"
        row.update(value=status, required=True)
        if status in ("yes", "partial"):
            row["reference"] = REFERENCE.get(lang, REFERENCE["en"]).format(
                number=rng.randint(1, 99), year=adopted, article=rng.randint(1, 40))
        if status == "yes":
            if item.until:  # the plan in force that year, renewed every five years
                start = adopted + PLAN_YEARS * ((year.year - adopted) // PLAN_YEARS)
                row["date"] = dt.date(start, 1, 1).isoformat()
                row["valid_until"] = dt.date(start + PLAN_YEARS - 1, 12, 31).isoformat()
            else:
                row["date"] = day.isoformat()
    return rows
