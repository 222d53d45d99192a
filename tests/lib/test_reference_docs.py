"""docs/INDICATORS.md is written from the indicator registry (pipelines/lib/reference_docs.py)."""

from __future__ import annotations

import csv

from pipelines.lib.reference_docs import REGISTRY, indicators_markdown, main


def test_the_indicator_page_is_the_registrys():
    """A change to the registry without the page written again fails here."""
    assert main(["--check"]) == 0


def test_the_page_follows_the_registry(tmp_path):
    with REGISTRY.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["name_en"] = "A renamed indicator"
    changed = tmp_path / "registry.csv"
    with changed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    page = indicators_markdown(changed)
    assert f"### `{rows[0]['indicator_code']}`: A renamed indicator" in page
    assert page.count("\n### `") == len(rows)
