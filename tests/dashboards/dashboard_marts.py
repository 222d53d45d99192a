"""The marts the analysts' pages (issue 4) read, added to the fixture snapshot of
``dashboard_snapshot.py``: the indicator registry (the real seed), justice, smuggling and
coordination rows, the referral mirror (and its disclosure-controlled copy,
``marts.coordination_mirror_published``: ``HIDDEN_PAIRS`` emptied), published flows, reporting
rates, unknown shares, validation findings, the data-quality score per member and quarter
(``marts.dq_country_quarter``), and the disclosure-controlled mart the pages read
(``marts.indicator_values_published``: ``indicator_values`` with the hidden cells of
``HIDDEN_CELLS`` emptied). Hand-chosen values, checked by hand below.
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
# marts.dq_country_quarter, a few rows matching the reporting above (score = 100 - 20 x (missing
# + late) / expected - 4 x min(findings, 5) - unknown share / 5 - 20 x suppressed / published):
# GTM 2025-Q1: 100 - 5 % unknown (1)                                                    = 99
# SLV 2025-Q1: 100 - 1 of 2 missing (10) - 1 of 2 late (10)                             = 80
# GTM 2025-Q2: 100 - 1 of 2 late (10) - 5 % unknown (1) - 1 of 10 cells suppressed (2)    = 87
# SLV 2025-Q2: 100 - 10 - 10 - 2 warnings (8) - 35 % unknown (7) - 3 of 6 suppressed (10) = 55
# HND 2025-Q2: nothing reported                                                           = 0
QUALITY_SCORES = {("GTM", "2025-Q1"): 99.0, ("SLV", "2025-Q1"): 80.0,
                  ("GTM", "2025-Q2"): 87.0, ("SLV", "2025-Q2"): 55.0, ("HND", "2025-Q2"): 0.0}


# --- 2024 (A): criminal justice (TIP), smuggling (SOM), coordination (REF) -----------------
# Each: area -> value. REG is the sum of the members (counts) as dbt builds it.
JUSTICE_2024 = {
    "TIP_SUSPECTED": {"GTM": 260, "SLV": 51, "REG": 311},
    "TIP_CONVICTED": {"GTM": 30, "SLV": 3, "REG": 33},
    # convicted / prosecuted (prosecuted 2024: GTM 165, SLV 34, REG 199)
    "TIP_CONVICTION_RATIO": {"GTM": 30 / 165, "SLV": 3 / 34, "REG": 33 / 199},
    # convicted per 100 victims detected (victims 2024: GTM 4500, SLV 450, REG 4950)
    "TIP_CONVICTED_PER_100_VIC": {"GTM": 30 / 45, "SLV": 3 / 4.5, "REG": 33 / 49.5},
}
SMUGGLING_2024 = {
    "SOM_DETECTED": {"GTM": 2400, "SLV": 180, "MEX": 9800, "REG": 12380},
    "SOM_TIP_VICTIMS": {"GTM": 60, "SLV": 3, "MEX": 150, "REG": 213},
    "SOM_TIP_NEXUS_SHARE": {"GTM": 2.5, "SLV": 3 / 1.8, "MEX": 150 / 98, "REG": 213 / 123.8},
    "SOM_CHILD_SHARE": {"GTM": 22.5, "SLV": 30.0, "MEX": 18.4, "REG": 19.3},
    "SOM_UNACC_CHILD_SHARE": {"GTM": 35.0, "SLV": 50.0, "MEX": 42.0, "REG": 41.2},
    "SOM_DEATHS": {"GTM": 0, "SLV": 0, "MEX": 12, "REG": 12},
    "SOM_CONVICTED": {"GTM": 14, "SLV": 5, "MEX": 40, "REG": 59},
    "SOM_CONVICTED_PER_1000_SOM": {"GTM": 14 / 2.4, "SLV": 5 / 0.18, "MEX": 40 / 9.8,
                                   "REG": 59 / 12.38},
}
COORDINATION_2024 = {
    "REF_SENT": {"GTM": 18, "SLV": 10, "REG": 28},
    "REF_RECEIVED": {"GTM": 12, "SLV": 9, "MEX": 6, "REG": 27},
    "REF_MIRROR_GAP": {"GTM": 25.0, "SLV": 3 / 13 * 100, "REG": 24.0},
}
UNITS = {"TIP_CONVICTION_RATIO": "RATIO", "TIP_CONVICTED_PER_100_VIC": "PER_100",
         "SOM_TIP_NEXUS_SHARE": "PERCENT", "SOM_CHILD_SHARE": "PERCENT",
         "SOM_UNACC_CHILD_SHARE": "PERCENT", "SOM_CONVICTED_PER_1000_SOM": "PER_1000",
         "REF_MIRROR_GAP": "PERCENT"}
# What disclosure control (dbt_project/models/marts/disclosure/) hides of the rows above, and why:
# SLV's 3 convictions and 3 smuggled migrants identified as victims are small counts (A); the
# regional totals are published, so the next-smallest member figure of each is hidden too (D:
# GTM's 30 convictions, GTM's 60 victims among smuggled migrants); every ratio resting on a hidden
# count is hidden (A when its own numerator is small, D otherwise).
HIDDEN_CELLS = [
    ("TIP_CONVICTED", "SLV", "A"), ("TIP_CONVICTED", "GTM", "D"),
    ("TIP_CONVICTION_RATIO", "SLV", "A"), ("TIP_CONVICTION_RATIO", "GTM", "D"),
    ("TIP_CONVICTED_PER_100_VIC", "SLV", "A"), ("TIP_CONVICTED_PER_100_VIC", "GTM", "D"),
    ("SOM_TIP_VICTIMS", "SLV", "A"), ("SOM_TIP_VICTIMS", "GTM", "D"),
    ("SOM_TIP_NEXUS_SHARE", "SLV", "A"), ("SOM_TIP_NEXUS_SHARE", "GTM", "D"),
]
# The referral mirror of 2024 (A): sender, receiver, sent (sender's report), received
# (receiver's report), sender reported, receiver reported, gap, gap %, status. HND did not report
# 2024.
MIRROR_2024 = [
    ("GTM", "SLV", 12, 9, True, True, 3, 25.0, "gap"),
    ("SLV", "GTM", 7, 7, True, True, 0, 0.0, "matched"),
    ("GTM", "HND", 6, None, True, False, None, None, "sender_only"),
    ("HND", "GTM", None, 5, False, True, None, None, "receiver_only"),
    ("SLV", "MEX", 3, 6, True, True, 3, 50.0, "gap"),
]
# What disclosure control (coordination_mirror_published) hides of the mirror, and why: SLV -> MEX
# 3 sent is a small count (A); SLV's REF_SENT 10 (= 7 + 3) is published, so its other pair,
# SLV -> GTM 7 sent, is hidden too (D), or 10 - 7 would give the 3 back. Every other group
# (REF_RECEIVED of GTM 7 + 5, of MEX 6, of SLV 9; REF_SENT of GTM 12 + 6) has no hidden pair.
# Both pairs lose their gap (D) and their status (matched / gap would tell the hidden side).
HIDDEN_PAIRS = {("SLV", "MEX"): "A", ("SLV", "GTM"): "D"}


def published_mirror_rows() -> list[tuple]:
    """``marts.coordination_mirror_published`` for ``MIRROR_2024`` and ``HIDDEN_PAIRS`` (only
    sent sides are hidden here), in the contract's column order."""
    rows = []
    for s, r, sent, received, s_rep, r_rep, gap, pct, status in MIRROR_2024:
        conf = HIDDEN_PAIRS.get((s, r), "F")
        hidden = conf != "F"
        rows.append((s, r, "2024", "A", dt.date(2024, 12, 31), None if hidden else sent, conf,
                     received, "F", s_rep, r_rep, None if hidden else gap,
                     None if hidden else pct, "D" if hidden else "F",
                     "confidential" if hidden else status, "A"))
    return rows


def annual_rows() -> list[tuple]:
    rows = []
    for table in (JUSTICE_2024, SMUGGLING_2024, COORDINATION_2024):
        for code, values in table.items():
            for area, value in values.items():
                n = sum(1 for a in values if a != "REG") if area == "REG" else 1
                rows.append((code, area, "2024", "A", dt.date(2024, 12, 31), "_T", "_T", "_T",
                             float(value), UNITS.get(code, "PERSONS"), "A", n,
                             8 if area == "REG" else 1))
    return rows


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
        justice_rows() + annual_rows(),
    )
    con.execute(
        """
        create table marts.coordination_mirror (
            sender varchar, receiver varchar, time_period varchar, freq varchar,
            period_end date, sent_by_sender double, received_by_receiver double,
            sender_reported boolean, receiver_reported boolean, gap_persons double,
            mirror_gap_percent double, pair_status varchar, obs_status varchar)
        """
    )
    con.executemany(
        "insert into marts.coordination_mirror values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(s, r, "2024", "A", dt.date(2024, 12, 31), sent, received, s_rep, r_rep, gap, pct,
          status, "A") for s, r, sent, received, s_rep, r_rep, gap, pct, status in MIRROR_2024],
    )
    con.execute(
        """
        create table marts.coordination_mirror_published (
            sender varchar, receiver varchar, time_period varchar, freq varchar,
            period_end date, sent_by_sender double, sent_conf_status varchar,
            received_by_receiver double, received_conf_status varchar,
            sender_reported boolean, receiver_reported boolean, gap_persons double,
            mirror_gap_percent double, gap_conf_status varchar, pair_status varchar,
            obs_status varchar)
        """
    )
    con.executemany(
        "insert into marts.coordination_mirror_published values "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        published_mirror_rows(),
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
    con.execute(
        """
        create table marts.dq_country_quarter (
            country varchar, period varchar, period_year integer, period_quarter integer,
            datasets_expected integer, datasets_reported integer, datasets_on_time integer,
            reporting_status varchar, n_errors integer, n_warnings integer,
            max_unknown_share double, cells_published integer, cells_suppressed integer,
            suppressed_share double, quality_score double)
        """
    )
    parts = {  # reported, on time, status, errors, warnings, unknown %, published, suppressed
        ("GTM", "2025-Q1"): (2, 2, "complete", 0, 0, 5.0, 10, 0),
        ("SLV", "2025-Q1"): (1, 1, "partial", 0, 0, 0.0, 6, 0),
        ("GTM", "2025-Q2"): (2, 1, "complete", 0, 0, 5.0, 10, 1),
        ("SLV", "2025-Q2"): (1, 1, "partial", 0, 2, SLV_UNKNOWN_SEX_2025Q2, 6, 3),
        ("HND", "2025-Q2"): (0, 0, "none", 0, 0, None, 0, 0),
    }
    con.executemany(
        "insert into marts.dq_country_quarter values "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(country, period, int(period[:4]), int(period[-1]), 2, reported, on_time, status,
          errors, warnings, unknown, published, suppressed,
          100 * suppressed / published if published else None, QUALITY_SCORES[country, period])
         for (country, period), (reported, on_time, status, errors, warnings, unknown, published,
                                 suppressed) in parts.items()],
    )


def write_published_mart(con) -> None:
    """``marts.indicator_values_published`` as dbt builds it (the contract's columns, in order),
    here a view over ``marts.indicator_values`` that empties the cells of ``HIDDEN_CELLS`` (2024,
    every breakdown at total), so a test that changes a value changes both."""
    con.execute(
        "create table main.fixture_hidden_cells (indicator_code varchar, ref_area varchar, "
        "time_period varchar, conf_status varchar)"
    )
    con.executemany("insert into main.fixture_hidden_cells values (?, ?, '2024', ?)",
                    HIDDEN_CELLS)
    con.execute(
        """
        create view marts.indicator_values_published as
        select v.indicator_code, v.ref_area, v.time_period, v.freq, v.period_end, v.sex, v.age,
               v.exploitation_form,
               case when h.conf_status is null then v.value end as value,
               v.unit, v.obs_status, coalesce(h.conf_status, 'F') as conf_status,
               v.n_countries, v.n_expected
        from marts.indicator_values v
        left join main.fixture_hidden_cells h
            on h.indicator_code = v.indicator_code and h.ref_area = v.ref_area
            and h.time_period = v.time_period
            and v.sex = '_T' and v.age = '_T' and v.exploitation_form = '_T'
        """
    )


# --- UNODC history (issue 6): marts.history_values / history_releases, latest vintage 2 --------
# VIC_DETECTED per year as UNODC published it (value_text); '<5' is suppressed at source (value
# null). Vintage 1 holds other numbers the pages must not show. The coalition's own annual total
# of 2024 (dashboard_snapshot.py) is GTM 4500, SLV 450.
HISTORY = {"GTM": {2018: "310", 2019: "289", 2020: "2,020"},
           "SLV": {2018: "58", 2019: "<5", 2020: "41"}}
HISTORY_FLAGGED = {("GTM", 2020): "value equals its year"}
HISTORY_FILE = "data_glotip.xlsx"


def history_rows() -> list[tuple]:
    rows = []
    for vintage in (1, 2):
        for area, years in HISTORY.items():
            for year, text in years.items():
                suppressed = text == "<5"
                value = None if suppressed else float(text.replace(",", ""))
                if vintage == 1 and value is not None:
                    value += 1000  # an older release: never shown
                flag = "value_equals_year" if (area, year) in HISTORY_FLAGGED else None
                rows.append(("UNODC", vintage, vintage == 2, "VIC_DETECTED", area, year, "total",
                              "_T", "_T", value, text, suppressed, flag,
                              HISTORY_FLAGGED.get((area, year)), len(rows) + 1))
    return rows


def write_history_marts(con) -> None:
    """The two history marts with the columns the dashboard reads (``data.history_totals``,
    ``data.history_release``)."""
    con.execute(
        """
        create table marts.history_values (
            source varchar, vintage integer, is_latest_vintage boolean, indicator_code varchar,
            ref_area varchar, year integer, breakdown varchar, sex varchar, age varchar,
            value double, value_text varchar, suppressed_at_source boolean, flag varchar,
            flag_detail varchar, row_number integer)
        """
    )
    con.executemany(
        "insert into marts.history_values values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        history_rows(),
    )
    con.execute(
        "create table marts.history_releases (source varchar, vintage integer, "
        "is_latest_vintage boolean, file_name varchar, imported_at timestamp)"
    )
    con.executemany(
        "insert into marts.history_releases values (?, ?, ?, ?, ?)",
        [("UNODC", 1, False, "old.csv", dt.datetime(2026, 1, 5, 9)),
         ("UNODC", 2, True, HISTORY_FILE, dt.datetime(2026, 11, 20, 9))],
    )


# The four-way profile of GTM in 2025-Q2 (VIC_PROFILE_SHARE, sex and age both set): girls,
# women, boys and men, in percent of the victims of known sex and age (conftest.profile_home).
PROFILE_GTM_2025Q2 = {("F", "Y0T17"): 20.0, ("F", "Y_GE18"): 45.0, ("M", "Y0T17"): 10.0,
                      ("M", "Y_GE18"): 25.0}
