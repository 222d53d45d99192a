"""The marts the analysts' pages (issue 4) read, added to the fixture snapshot of
``dashboard_snapshot.py``: the indicator registry (the real seed), justice rows, published flows,
reporting rates, unknown shares and validation findings. Hand-chosen values, checked by hand below.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

REGISTRY_SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "indicator_registry.csv"
QUARTERS = ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]
MEMBERS = ["BLZ", "CRI", "DOM", "GTM", "HND", "MEX", "NIC", "SLV"]

PROSECUTED = {"GTM": [40, 42, 38, 45, 44, 47], "SLV": [8, 9, 7, 10, 9, 11]}
# Persons prosecuted in the region: 2024 = 165 + 34 = 199; 2025-Q2 = 58 vs 2024-Q2 = 51 (+13.7 %).
REGION_PROSECUTED_2024 = 199
REGION_PROSECUTED_2025Q2 = 58

# Flows of 2024 (A): domestic 3000 + 400, intra-regional 40 + 25 + 15, extra-regional 12 + 6.
FLOWS_2024 = [
    ("GTM", "GTM", 3000), ("SLV", "GTM", 40), ("HND", "GTM", 25), ("VEN", "GTM", 12),
    ("SLV", "SLV", 400), ("GTM", "SLV", 15), ("COL", "SLV", 6),
]
FLOWS_DOMESTIC, FLOWS_INTRA, FLOWS_EXTRA = 3400, 80, 18

DATASETS = ["TIP_VICTIMS", "TIP_JUSTICE"]
# 2025-Q2: GTM reported both data sets, TIP_JUSTICE late -> 100 % reported, 50 % on time;
# SLV reported TIP_VICTIMS only, on time -> 50 % / 50 %; the six others nothing.
# REG 2025-Q2: 3 of 16 units reported (18.75 %), 2 on time (12.5 %).
REGION_REPORTING_2025Q2 = 18.75
REGION_ON_TIME_2025Q2 = 12.5
# Unknown sex among victims: GTM 5 % every quarter; SLV 35 % in 2025-Q2 (42 of 120), else 0.
SLV_UNKNOWN_SEX_2025Q2 = 35.0


def quarter_end(period: str) -> dt.date:
    year, quarter = int(period[:4]), int(period[-1])
    return dt.date(year + (quarter == 4), 3 * quarter % 12 + 1, 1) - dt.timedelta(days=1)


def justice_rows() -> list[tuple]:
    rows = []
    for area in ["GTM", "SLV", "REG"]:
        n = 2 if area == "REG" else 1
        values = ([a + b for a, b in zip(PROSECUTED["GTM"], PROSECUTED["SLV"], strict=True)]
                  if area == "REG" else PROSECUTED[area])
        for i, period in enumerate(QUARTERS):
            status = "P" if period == "2025-Q2" and area in ("GTM", "REG") else "A"
            rows.append(("TIP_PROSECUTED", area, period, "Q", quarter_end(period), "_T", "_T", "_T",
                         float(values[i]), "PERSONS", status, n, 8 if area == "REG" else 1))
        rows.append(("TIP_PROSECUTED", area, "2024", "A", dt.date(2024, 12, 31), "_T", "_T", "_T",
                     float(sum(values[:4])), "PERSONS", "A", n, 8 if area == "REG" else 1))
    return rows


def reporting(member: str, dataset: str, period: str) -> tuple[bool, bool]:
    if member == "GTM":
        return True, not (period == "2025-Q2" and dataset == "TIP_JUSTICE")
    if member == "SLV":
        return dataset == "TIP_VICTIMS", dataset == "TIP_VICTIMS"
    return False, False


def reporting_rows() -> list[tuple]:
    rows = []
    for period in QUARTERS:
        units = {(m, d): reporting(m, d, period) for m in MEMBERS for d in DATASETS}
        for area in [*MEMBERS, "REG"]:
            for dataset in [*DATASETS, "_T"]:
                cells = [v for (m, d), v in units.items()
                         if (area == "REG" or m == area) and (dataset == "_T" or d == dataset)]
                expected = len(cells)
                reported = sum(r for r, _ in cells)
                on_time = sum(o for _, o in cells)
                rows.append((area, dataset, period, "Q", quarter_end(period), 1, expected,
                             reported, on_time, 100 * reported / expected,
                             100 * on_time / expected))
    return rows


def write_analyst_marts(con) -> None:
    con.execute(
        f"create table marts.dim_indicator as select * replace (cast(family as integer) as family) "
        f"from read_csv('{REGISTRY_SEED}', header = true, all_varchar = true)"
    )
    con.executemany(
        "insert into marts.indicator_values values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        justice_rows(),
    )
    con.execute(
        """
        create table marts.flows_victims (
            origin_area varchar, destination_area varchar, time_period varchar, freq varchar,
            period_end date, victims double, is_domestic boolean, origin_is_member boolean,
            obs_status varchar)
        """
    )
    con.executemany(
        "insert into marts.flows_victims values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(o, d, "2024", "A", dt.date(2024, 12, 31), float(v), o == d, o in MEMBERS, "A")
         for o, d, v in FLOWS_2024]
        + [("GTM", "GTM", "2025-Q2-R4Q", "R4Q", quarter_end("2025-Q2"), 3100.0, True, True, "P")],
    )
    con.execute(
        """
        create table marts.dq_reporting_rates (
            ref_area varchar, dataset varchar, time_period varchar, freq varchar, period_end date,
            n_quarters integer, units_expected integer, units_reported integer,
            units_on_time integer, reporting_rate double, on_time_rate double)
        """
    )
    con.executemany(
        "insert into marts.dq_reporting_rates values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        reporting_rows(),
    )
    con.execute(
        """
        create table marts.dq_unknown_shares (
            country varchar, dataset varchar, period varchar, indicator varchar,
            dimension varchar, unknown double, total double, unknown_share double,
            obs_status varchar)
        """
    )
    unknown = []
    for period in QUARTERS:
        unknown.append(("GTM", "TIP_VICTIMS", period, "VIC_DETECTED", "sex", 50.0, 1000.0, 5.0, "A"))
        slv = 42.0 if period == "2025-Q2" else 0.0
        unknown.append(("SLV", "TIP_VICTIMS", period, "VIC_DETECTED", "sex", slv, 120.0,
                        slv / 120 * 100, "A"))
    con.executemany("insert into marts.dq_unknown_shares values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    unknown)
    con.execute(
        """
        create table marts.dq_submission_findings (
            submission_id varchar, file_sha256 varchar, file_name varchar, country varchar,
            dataset varchar, period varchar, version integer, current_status varchar,
            rule varchar, severity varchar, n_findings integer)
        """
    )
    con.executemany(
        "insert into marts.dq_submission_findings values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("s1", "a" * 64, "slv.xlsx", "SLV", "TIP_VICTIMS", "2025-Q2", 1, "validated", "V09",
             "WARNING", 2),
            ("s2", "b" * 64, "gtm.xlsx", "GTM", "TIP_JUSTICE", "2025-Q1", 1, "rejected", "V03",
             "ERROR", 3),
            ("s3", "c" * 64, "gtm2.xlsx", "GTM", "TIP_JUSTICE", "2025-Q1", 2, "accepted", "_NONE",
             "NONE", 0),
        ],
    )
