"""A small but real serving snapshot for the dashboard tests: a DuckDB file with the tables the
pipeline publishes, and the ``CURRENT`` pointer naming it.

Hand-chosen values, two members (GTM, SLV) plus the region, six quarters 2024-Q1..2025-Q2.
Guatemala's 2025-Q2 submission is not accepted yet, so its 2025-Q2 figures and every regional
figure that includes them are provisional (P).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from dashboard_marts import (  # beside this file (issue 4)
    write_analyst_marts,
    write_published_mart,
)

from pipelines.lib.contracts import load_contracts
from pipelines.lib.publish import write_own_stores

SNAPSHOT_NAME = "20261128T101500123456.duckdb"
QUARTERS = ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]
VICTIMS = {
    "GTM": [1040, 1152, 1047, 1261, 1155, 1268],
    "SLV": [112, 115, 109, 114, 118, 120],
}
POPULATION = {"GTM": 18_400_000, "SLV": 6_300_000}  # both years, to keep the arithmetic by hand
PROVISIONAL = {("GTM", "2025-Q2")}
N_EXPECTED = 8

# What the page must show for this snapshot (checked by hand):
REGION_LATEST_QUARTER = "2025-Q2"
REGION_LATEST_TOTAL = 1388  # 1268 + 120; same quarter a year earlier: 1152 + 115 = 1267
REGION_CHANGE = 1388 / 1267 - 1  # +9.55 %
REGION_LATEST_RATE_R4Q = (1047 + 1261 + 1155 + 1268 + 109 + 114 + 118 + 120) / 24_700_000 * 1e5
# = 5192 / 24.7 M × 100 000 = 21.02…


def quarter_end(period: str) -> dt.date:
    year, quarter = int(period[:4]), int(period[-1])
    return dt.date(year + (quarter == 4), 3 * quarter % 12 + 1, 1) - dt.timedelta(days=1)


def indicator_rows() -> list[tuple]:
    """Rows of ``marts.indicator_values`` as the pipeline would publish them."""
    rows: list[tuple] = []

    def add(code, area, period, freq, end, value, unit, status, n_countries, sex="_T"):
        rows.append(
            (
                code,
                area,
                period,
                freq,
                end,
                sex,
                "_T",
                "_T",
                value,
                unit,
                status,
                n_countries,
                N_EXPECTED if area == "REG" else 1,
            )
        )

    def status_of(area: str, periods: list[str]) -> str:
        countries = VICTIMS if area == "REG" else [area]
        return "P" if any((c, p) in PROVISIONAL for c in countries for p in periods) else "A"

    def victims(area: str, index: int) -> int:
        countries = VICTIMS if area == "REG" else [area]
        return sum(VICTIMS[c][index] for c in countries)

    def population(area: str) -> int:
        countries = VICTIMS if area == "REG" else [area]
        return sum(POPULATION[c] for c in countries)

    for area in ["GTM", "SLV", "REG"]:
        n = len(VICTIMS) if area == "REG" else 1
        for i, period in enumerate(QUARTERS):
            end = quarter_end(period)
            add(
                "VIC_DETECTED",
                area,
                period,
                "Q",
                end,
                float(victims(area, i)),
                "PERSONS",
                status_of(area, [period]),
                n,
            )
            # A breakdown row the page must ignore (sex = F is not the total).
            add(
                "VIC_DETECTED",
                area,
                period,
                "Q",
                end,
                float(victims(area, i) // 2),
                "PERSONS",
                status_of(area, [period]),
                n,
                sex="F",
            )
            if i >= 3:
                window = QUARTERS[i - 3 : i + 1]
                total = sum(victims(area, j) for j in range(i - 3, i + 1))
                status = status_of(area, window)
                add(
                    "VIC_DETECTED",
                    area,
                    f"{period}-R4Q",
                    "R4Q",
                    end,
                    float(total),
                    "PERSONS",
                    status,
                    n,
                )
                add(
                    "VIC_RATE_100K",
                    area,
                    f"{period}-R4Q",
                    "R4Q",
                    end,
                    total / population(area) * 1e5,
                    "PER_100K",
                    status,
                    n,
                )
        year_total = sum(victims(area, j) for j in range(4))
        add(
            "VIC_DETECTED",
            area,
            "2024",
            "A",
            dt.date(2024, 12, 31),
            float(year_total),
            "PERSONS",
            "A",
            n,
        )
        add(
            "VIC_RATE_100K",
            area,
            "2024",
            "A",
            dt.date(2024, 12, 31),
            year_total / population(area) * 1e5,
            "PER_100K",
            "A",
            n,
        )
        add(
            "VIC_FEMALE_SHARE",
            area,
            "2025-Q2",
            "Q",
            quarter_end("2025-Q2"),
            61.5,
            "PERCENT",
            status_of(area, ["2025-Q2"]),
            n,
        )
    return rows


def write_snapshot(serving_dir: Path, name: str = SNAPSHOT_NAME) -> Path:
    """A serving snapshot file plus the CURRENT pointer naming it."""
    serving_dir.mkdir(parents=True, exist_ok=True)
    path = serving_dir / name
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.indicator_values (
                indicator_code varchar, ref_area varchar, time_period varchar, freq varchar,
                period_end date, sex varchar, age varchar, exploitation_form varchar,
                value double, unit varchar, obs_status varchar,
                n_countries integer, n_expected integer
            )
            """
        )
        con.executemany(
            "insert into marts.indicator_values values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            indicator_rows(),
        )
        con.execute(
            """
            create table marts.dim_country (
                iso3 varchar, iso2 varchar, m49 varchar, name_es varchar, name_en varchar,
                name_fr varchar, member boolean, observer boolean
            )
            """
        )
        countries = [c for c in load_contracts().countries if c["member"] or c["observer"]] + [
            load_contracts().country("USA")
        ]
        con.executemany(
            "insert into marts.dim_country values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    c["iso3"],
                    c["iso2"],
                    c["m49"],
                    c["name_es"],
                    c["name_en"],
                    c["name_fr"],
                    c["member"],
                    c["observer"],
                )
                for c in countries
            ],
        )
        write_analyst_marts(con)  # the marts of the analysts' pages (issue 4)
        write_published_mart(con)  # what the dashboard reads: under disclosure control
        con.execute("create table main.snapshot_info (built_at timestamptz, snapshot varchar)")
        con.execute(
            "insert into main.snapshot_info values (?, ?)",
            [dt.datetime(2026, 11, 28, 10, 15, tzinfo=dt.UTC), name.removesuffix(".duckdb")],
        )
        # The members' own stores, as publishing writes them (the pages read a submitter's own
        # figures there). This file keeps marts.indicator_values under its published view, so
        # the tests can change a figure in one place; the pipeline's snapshot does not hold it.
        write_own_stores(con, path)
    (serving_dir / "CURRENT").write_text(name + "\n", encoding="utf-8")
    return path
