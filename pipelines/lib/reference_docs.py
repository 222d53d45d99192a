"""``docs/INDICATORS.md``, written from the indicator registry (``dbt_project/seeds/indicator_registry.csv``),
so that the documentation of every indicator is the registry the marts, the dashboard, the API
and the exports read, never a copy that drifts from it.

    .venv/bin/python -m pipelines.lib.reference_docs        # rewrite docs/INDICATORS.md
    .venv/bin/python -m pipelines.lib.reference_docs --check  # exit 1 if it is not current

A test runs ``--check``: a change to the registry without the page regenerated fails it.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from pipelines.settings import DBT_PROJECT_DIR

REGISTRY = DBT_PROJECT_DIR / "seeds" / "indicator_registry.csv"
TARGET = Path(__file__).resolve().parents[2] / "docs" / "INDICATORS.md"

# What the registry's disclosure rules mean (docs/DOMAIN.md §6; dbt_project/macros/disclosure.sql).
RULES = {
    "PRIMARY_SMALL_COUNT": "a count of persons: 1 to 4 is hidden (`<5`), and so are the cells "
                           "that would give a hidden one away",
    "RATIO_FOLLOWS_COUNTS": "a rate, share or ratio: withdrawn when a count it rests on is small "
                            "(1 to 4) or hidden",
    "NONE": "no small-count rule of its own (not a count of persons); a figure worked out from "
            "a hidden count is still withdrawn",
}
FREQUENCIES = {"Q": "quarter", "R4Q": "rolling four quarters", "A": "calendar year"}


def _cell(text: str) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip() or "–"


def indicators_markdown(registry: Path = REGISTRY) -> str:
    with registry.open(encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: (int(r["family"]), r["indicator_code"]))
    lines = [
        "# Indicators",
        "",
        "<!-- Written by `python -m pipelines.lib.reference_docs` from",
        "     dbt_project/seeds/indicator_registry.csv: edit the registry, not this page. -->",
        "",
        f"The {len(rows)} indicators of the registry, by family (`docs/DOMAIN.md` §5), with their",
        "names, definitions and formulas as the dashboard shows them (here in English; the registry",
        "also holds Spanish and French), their unit, the frequencies they are published at, the",
        "disclosure rule that applies (§6) and the SDG series where one matches.",
        "",
        "| rule | meaning |",
        "|---|---|",
        *[f"| `{code}` | {meaning} |" for code, meaning in RULES.items()],
        "",
    ]
    family = None
    for row in rows:
        if row["family"] != family:
            family = row["family"]
            lines += [f"## Family {family}", ""]
        frequencies = ", ".join(FREQUENCIES.get(f, f) for f in row["frequencies"].split())
        lines += [
            f"### `{row['indicator_code']}`: {row['name_en']}",
            "",
            f"{row['definition_en'].strip()}",
            "",
            f"* Spanish: {row['name_es']}; French: {row['name_fr']}",
            f"* Formula: {_cell(row['formula_en'])}",
            f"* Unit: `{row['unit']}`; data set: `{row['dataset']}`; published by {frequencies}",
            f"* Numerator: {_cell(row['numerator'])}; denominator: {_cell(row['denominator'])}",
            f"* Disclosure: `{row['disclosure_rule']}`",
        ]
        if row["sdg_series"].strip():
            lines.append(f"* SDG series: {_cell(row['sdg_series'])}")
        if row["caveat_en"].strip():
            lines.append(f"* Caveat: {row['caveat_en'].strip()}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.lib.reference_docs",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is not current")
    args = parser.parse_args(argv)
    text = indicators_markdown()
    if args.check:
        current = TARGET.exists() and TARGET.read_text(encoding="utf-8") == text
        if not current:
            print(f"{TARGET} is not the registry's: run python -m pipelines.lib.reference_docs",
                  file=sys.stderr)
        return 0 if current else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"written: {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
