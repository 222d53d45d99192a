"""Data access of the dashboard: the newest published serving snapshot, read-only.

The dashboard never opens the warehouse. The pipeline publishes each build as a new DuckDB file in
``settings.serving_dir`` and then rewrites the small text file ``serving_dir/CURRENT`` with that
file's name. Every rerun reads the pointer again (a few bytes), so a new snapshot shows up at the
next interaction; query results are cached per snapshot path, so an old snapshot's results are
never served for a new one and repeated reruns do not touch DuckDB.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from pipelines.lib.publish import own_store
from pipelines.settings import get_settings

POINTER_FILE = "CURRENT"
REGION = "REG"
TOTAL = "_T"


@dataclass(frozen=True)
class Snapshot:
    """One published serving file. ``path`` is the cache key of every query below."""

    path: str

    @property
    def name(self) -> str:
        return Path(self.path).name


class SnapshotUnreadable(RuntimeError):
    """The pointer names a snapshot that cannot be opened or lacks the expected tables."""


def current_snapshot() -> Snapshot | None:
    """The snapshot ``serving_dir/CURRENT`` points at, or None when nothing is published yet."""
    serving_dir = get_settings().serving_dir
    try:
        name = (serving_dir / POINTER_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    # The pointer holds a bare file name inside serving_dir, nothing else.
    if not name or Path(name).name != name:
        return None
    path = serving_dir / name
    return Snapshot(str(path)) if path.is_file() else None


def _query(snapshot_path: str, sql: str, params: list | None = None,
           own: Path | None = None) -> pd.DataFrame:
    """``sql`` on the snapshot; with ``own``, a member's own store attached as ``own``."""
    try:
        with duckdb.connect(snapshot_path, read_only=True) as con:
            if own is not None:
                quoted = str(own).replace("'", "''")
                con.execute(f"attach '{quoted}' as own (read_only)")
            return con.execute(sql, params or []).df()
    except duckdb.Error as error:
        raise SnapshotUnreadable(f"{Path(snapshot_path).name}: {error}") from error


@st.cache_data(show_spinner=False, max_entries=64)
def indicator_totals(
    snapshot_path: str, indicator_code: str, freqs: tuple[str, ...], own_area: str | None = None,
    areas: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Values of one indicator with every breakdown at total (sex, age and form ``_T``).

    One row per area (ISO3 or ``REG``) and period, oldest first, with the columns of
    ``INDICATOR_MART`` (disclosure-controlled: ``value`` is empty where ``conf_status`` is A or
    D) the dashboard shows. ``own_area``: see :func:`indicator_frame`. ``areas`` empty: every
    area (see :func:`shown_areas`).
    """
    placeholders = ", ".join("?" for _ in freqs)
    where = [
        "p.indicator_code = ?",
        f"p.freq in ({placeholders})",
        f"p.sex = '{TOTAL}' and p.age = '{TOTAL}' and p.exploitation_form = '{TOTAL}'",
    ]
    if areas:
        where.append(f"p.ref_area in ({', '.join('?' for _ in areas)})")
    return _published_query(
        snapshot_path,
        ["ref_area", "time_period", "freq", "period_end", "value", "unit", "obs_status",
         "n_countries", "n_expected", "conf_status"],
        where,
        [indicator_code, *freqs, *areas],
        "p.period_end, p.ref_area",
        own_area,
    )


@st.cache_data(show_spinner=False, max_entries=16)
def member_countries(snapshot_path: str) -> list[str]:
    """ISO3 codes of the coalition's members, as the snapshot's country dimension says."""
    frame = _query(snapshot_path, "select iso3 from marts.dim_country where member order by iso3")
    return frame["iso3"].tolist()


def shown_areas(snapshot_path: str) -> tuple[str, ...]:
    """The region and the members: the only areas the analysts' pages show. The marts may hold
    others (the large benchmark history holds every country); asking for these only keeps a
    page's queries and frames the size of the coalition rather than of the mart."""
    return (REGION, *member_countries(snapshot_path))


@st.cache_data(show_spinner=False, max_entries=16)
def built_at(snapshot_path: str) -> dt.datetime | None:
    """When the snapshot was built (``main.snapshot_info``), in UTC; None if not recorded."""
    try:
        frame = _query(snapshot_path, "select built_at from main.snapshot_info limit 1")
    except SnapshotUnreadable:
        return None
    if frame.empty or pd.isna(frame.iloc[0, 0]):
        return None
    stamp = pd.Timestamp(frame.iloc[0, 0])
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


# --- UNODC history (issue 6): reference data beside the coalition's own figures ------------------

HISTORY_COLUMNS = ["ref_area", "year", "value", "value_text", "suppressed_at_source", "flag",
                   "flag_detail", "vintage"]


def _has_table(snapshot_path: str, schema: str, table: str) -> bool:
    frame = _query(
        snapshot_path,
        "select count(*) as n from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        [schema, table],
    )
    return bool(frame.iloc[0, 0])


@st.cache_data(show_spinner=False, max_entries=16)
def history_totals(snapshot_path: str, indicator_code: str = "VIC_DETECTED") -> pd.DataFrame:
    """UNODC's annual headline series of the latest vintage (every breakdown at total): one row per
    reporting country and year, with the value as published, the suppressed-at-source flag and the
    quality flag. Empty when no GLOTIP file was imported (or the snapshot predates issue 6)."""
    if not _has_table(snapshot_path, "marts", "history_values"):
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    return _query(
        snapshot_path,
        f"""
        select {", ".join(HISTORY_COLUMNS)}
        from marts.history_values
        where is_latest_vintage and indicator_code = ? and breakdown = 'total'
          and sex = '{TOTAL}' and age = '{TOTAL}' and year is not null
        order by ref_area, year, row_number
        """,
        [indicator_code],
    )


@st.cache_data(show_spinner=False, max_entries=16)
def history_release(snapshot_path: str) -> dict | None:
    """The latest imported vintage of the UNODC data (vintage, file, imported_at), or None."""
    if not _has_table(snapshot_path, "marts", "history_releases"):
        return None
    frame = _query(
        snapshot_path,
        "select vintage, file_name, imported_at from marts.history_releases "
        "where is_latest_vintage limit 1",
    )
    return None if frame.empty else frame.iloc[0].to_dict()


# --- the analysts' pages (issue 4) ---------------------------------------------------------------

# The ONE place the indicator pages read their values from: the disclosure-controlled mart
# (DOMAIN.md §6, dbt_project/models/marts/disclosure/): the columns of marts.indicator_values plus
# conf_status (F free, A primary, D secondary); value is empty unless conf_status is F.
INDICATOR_MART = "marts.indicator_values_published"
# The same figures before disclosure control: read ONLY for the signed-in submitter's own country
# (DOMAIN.md §6: "a submitter sees its own country unsuppressed"), never for anyone else, from
# that member's own store beside the snapshot (pipelines/lib/publish.py: the public snapshot does
# not hold them).
UNCONTROLLED_MART = "own.marts.indicator_values"


def _own_store(snapshot_path: str, area: str | None) -> Path | None:
    """The signed-in member's own store for this snapshot, if it has one."""
    if area in (None, "", REGION):
        return None
    path = own_store(Path(snapshot_path), area)
    return path if path.exists() else None

INDICATOR_COLUMNS = ["indicator_code", "ref_area", "time_period", "freq", "period_end", "sex",
                     "age", "exploitation_form", "value", "unit", "obs_status", "n_countries",
                     "n_expected", "conf_status"]
BREAKDOWNS = ("sex", "age", "exploitation_form")
SEX_AGE = "sex_age"  # the four-way profile: rows with both sex and age set (women/men/girls/boys)
_CELL_KEY = ("indicator_code", "ref_area", "time_period", "sex", "age", "exploitation_form")


def _published_query(snapshot_path: str, columns: list[str], where: list[str], params: list,
                     order: str, own_area: str | None) -> pd.DataFrame:
    """``columns`` of ``INDICATOR_MART`` (alias ``p``) under ``where``. With ``own_area`` (the
    signed-in submitter's country), that area's values come from ``UNCONTROLLED_MART`` instead;
    its ``conf_status`` stays what everyone else sees."""
    store = _own_store(snapshot_path, own_area)
    own = own_area if store is not None else None
    join, join_params = "", []
    selected = [f"p.{c}" for c in columns]
    if own is not None:
        on = " and ".join(f"r.{c} = p.{c}" for c in _CELL_KEY)
        join = f" left join {UNCONTROLLED_MART} r on p.ref_area = ? and {on}"
        join_params = [own]
        selected = ["case when p.ref_area = ? then r.value else p.value end as value"
                    if c == "value" else f"p.{c}" for c in columns]
    sql = (f"select {', '.join(selected)} from {INDICATOR_MART} p{join} "
           f"where {' and '.join(where)} order by {order}")
    value_params = [own] if own is not None and "value" in columns else []
    return _query(snapshot_path, sql, [*value_params, *join_params, *params], own=store)


REVIEW_CELLS = "own.marts.review_cells"


@st.cache_data(show_spinner=False, max_entries=64)
def review_cells(snapshot_path: str, country: str, submission_id: str) -> pd.DataFrame | None:
    """The cells of a version awaiting review beside its previous version and the country's four
    quarters before (``marts.review_cells``), from that member's own store: for the secretariat's
    review page only. None when the snapshot has no such store or table (published before)."""
    store = _own_store(snapshot_path, country)
    if store is None:
        return None
    try:
        return _query(snapshot_path, f"select * from {REVIEW_CELLS} where submission_id = ? "
                      "order by in_this_version desc, row_number", [submission_id], own=store)
    except SnapshotUnreadable:
        return None


@st.cache_data(show_spinner=False, max_entries=256)
def indicator_frame(
    snapshot_path: str,
    codes: tuple[str, ...],
    freqs: tuple[str, ...] = ("Q", "R4Q", "A"),
    areas: tuple[str, ...] = (),
    breakdown: str | None = None,
    own_area: str | None = None,
) -> pd.DataFrame:
    """Every indicator query of the analysts' pages goes through here (reads ``INDICATOR_MART``).

    ``breakdown`` None: every breakdown at total; ``"sex"``/``"age"``/``"exploitation_form"``:
    the rows broken down by that dimension only (the others at total); ``SEX_AGE``: sex and age
    both set (a ``sex_age`` column joins them as ``F|Y0T17``); ``"*"``: all rows.
    ``areas`` empty: every area. ``own_area``: the signed-in submitter's country, whose own
    values are shown unsuppressed (``ui.own_area()``; None for everyone else). The frame has
    ``INDICATOR_COLUMNS``, oldest period first; a suppressed cell has no value and
    ``conf_status`` A or D.
    """
    if not codes or not freqs:
        return pd.DataFrame(columns=INDICATOR_COLUMNS)
    where = [f"p.indicator_code in ({', '.join('?' for _ in codes)})",
             f"p.freq in ({', '.join('?' for _ in freqs)})"]
    params: list = [*codes, *freqs]
    if areas:
        where.append(f"p.ref_area in ({', '.join('?' for _ in areas)})")
        params += list(areas)
    if breakdown != "*":
        split = ("sex", "age") if breakdown == SEX_AGE else (breakdown,)
        for dim in BREAKDOWNS:
            where.append(f"p.{dim} {'<>' if dim in split else '='} '{TOTAL}'")
    frame = _published_query(
        snapshot_path, INDICATOR_COLUMNS, where, params,
        "p.period_end, p.ref_area, p.sex, p.age, p.exploitation_form", own_area,
    )
    if breakdown == SEX_AGE:
        frame[SEX_AGE] = frame["sex"] + "|" + frame["age"]
    return frame


@st.cache_data(show_spinner=False, max_entries=16)
def indicator_breakdowns(snapshot_path: str) -> pd.DataFrame:
    """Per indicator: whether it has rows broken down by sex, age or form alone, and by sex and
    age together (one row per code)."""
    sex, age, form = (f"{d} <> '{TOTAL}'" for d in BREAKDOWNS)
    return _query(
        snapshot_path,
        f"""
        select indicator_code,
               bool_or({sex} and not {age} and not {form}) as by_sex,
               bool_or({age} and not {sex} and not {form}) as by_age,
               bool_or({form} and not {sex} and not {age}) as by_exploitation_form,
               bool_or({sex} and {age} and not {form}) as by_{SEX_AGE},
               string_agg(distinct freq, ' ') as freqs
        from {INDICATOR_MART}
        group by indicator_code
        """,
    )


@st.cache_data(show_spinner=False, max_entries=16)
def indicator_registry(snapshot_path: str) -> pd.DataFrame:
    """``marts.dim_indicator`` (names, definitions, caveats es/en/fr, formula, unit), indexed by code.
    Empty when the snapshot predates the registry."""
    if not _has_table(snapshot_path, "marts", "dim_indicator"):
        return pd.DataFrame(columns=["family", "name_es", "name_en"]).rename_axis("indicator_code")
    return _query(
        snapshot_path, "select * from marts.dim_indicator order by family, indicator_code"
    ).set_index("indicator_code")


def _table_or_empty(snapshot_path: str, table: str, sql: str, params: list | None = None
                    ) -> pd.DataFrame:
    if not _has_table(snapshot_path, "marts", table):
        return pd.DataFrame()
    return _query(snapshot_path, sql, params)


@st.cache_data(show_spinner=False, max_entries=16)
def flows_frame(snapshot_path: str, freq: str) -> pd.DataFrame:
    """``marts.flows_victims`` (the ≥ 5 rule already applied there) at one frequency, detected
    by the members (the destination is the reporting country: only members submit; any other
    destination, as in the large benchmark history, is left out like on the other pages)."""
    return _table_or_empty(
        snapshot_path, "flows_victims",
        "select * from marts.flows_victims where freq = ? and destination_area in "
        "(select iso3 from marts.dim_country where member) "
        "order by period_end, origin_area, destination_area", [freq],
    )


# Referrals per pair of members, under disclosure control (dbt: marts.coordination_mirror_published,
# a conf_status per side and for the gap). The same figures before disclosure control
# (marts.coordination_mirror) are read ONLY for what the signed-in submitter's country reported
# itself: the sent side of its pairs as sender, the received side of its pairs as receiver.
PAIR_MART = "marts.coordination_mirror_published"
UNCONTROLLED_PAIR_MART = "own.marts.coordination_mirror"
PAIR_COLUMNS = ["sender", "receiver", "time_period", "freq", "period_end", "sent_by_sender",
                "sent_conf", "received_by_receiver", "received_conf", "sender_reported",
                "receiver_reported", "gap_persons", "mirror_gap_percent", "gap_conf",
                "pair_status", "obs_status"]


@st.cache_data(show_spinner=False, max_entries=16)
def coordination_frame(snapshot_path: str, freq: str, own_area: str | None = None
                       ) -> pd.DataFrame:
    """``PAIR_MART`` (sender → receiver, both sides' figures, gap) at one freq: a hidden count
    is empty with ``sent_conf`` / ``received_conf`` A or D, a hidden gap empty with ``gap_conf``
    D. ``own_area`` (the signed-in submitter's country) sees the figures it reported itself
    unsuppressed (their conf stays what everyone else sees), and the gap and status of a pair
    when the other side is published."""
    if not _has_table(snapshot_path, "marts", "coordination_mirror_published"):
        return pd.DataFrame(columns=PAIR_COLUMNS)
    store = _own_store(snapshot_path, own_area)
    own = own_area if store is not None and _has_table(str(store), "marts", "coordination_mirror") \
        else None
    if own is None:
        return _query(
            snapshot_path,
            f"""
            select sender, receiver, time_period, freq, period_end,
                   sent_by_sender, sent_conf_status as sent_conf,
                   received_by_receiver, received_conf_status as received_conf,
                   sender_reported, receiver_reported, gap_persons, mirror_gap_percent,
                   gap_conf_status as gap_conf, pair_status, obs_status
            from {PAIR_MART}
            where freq = ?
            order by period_end, sender, receiver
            """,
            [freq],
        )
    return _query(
        snapshot_path,
        f"""
        with pairs as (
            select p.*,
                   r.sent_by_sender as raw_sent, r.received_by_receiver as raw_received,
                   r.gap_persons as raw_gap, r.mirror_gap_percent as raw_gap_percent,
                   r.pair_status as raw_status,
                   p.sender = ? as own_sent, p.receiver = ? as own_received
            from {PAIR_MART} p
            left join {UNCONTROLLED_PAIR_MART} r
                on (p.sender = ? or p.receiver = ?) and r.sender = p.sender
                and r.receiver = p.receiver and r.time_period = p.time_period
            where p.freq = ?
        ), seen as (
            select *,
                   (sent_conf_status = 'F' or own_sent)
                   and (received_conf_status = 'F' or own_received) as both_seen
            from pairs
        )
        select sender, receiver, time_period, freq, period_end,
               case when own_sent then raw_sent else sent_by_sender end as sent_by_sender,
               sent_conf_status as sent_conf,
               case when own_received then raw_received else received_by_receiver end
                   as received_by_receiver,
               received_conf_status as received_conf,
               sender_reported, receiver_reported,
               case when both_seen and (own_sent or own_received) then raw_gap
                    else gap_persons end as gap_persons,
               case when both_seen and (own_sent or own_received) then raw_gap_percent
                    else mirror_gap_percent end as mirror_gap_percent,
               gap_conf_status as gap_conf,
               case when both_seen and (own_sent or own_received) then raw_status
                    else pair_status end as pair_status,
               obs_status
        from seen
        order by period_end, sender, receiver
        """,
        [own, own, own, own, freq], own=store,
    )


@st.cache_data(show_spinner=False, max_entries=16)
def reporting_rates(snapshot_path: str) -> pd.DataFrame:
    """``marts.dq_reporting_rates``: member (and REG) × data set (and ``_T``) × quarter / year."""
    return _table_or_empty(
        snapshot_path, "dq_reporting_rates",
        "select * from marts.dq_reporting_rates order by period_end, ref_area, dataset",
    )


@st.cache_data(show_spinner=False, max_entries=16)
def unknown_shares(snapshot_path: str) -> pd.DataFrame:
    """``marts.dq_unknown_shares``: unknown share per country × quarter × indicator × dimension."""
    return _table_or_empty(
        snapshot_path, "dq_unknown_shares",
        "select * from marts.dq_unknown_shares order by period, country, dataset, indicator",
    )


@st.cache_data(show_spinner=False, max_entries=16)
def disclosure_audit(snapshot_path: str) -> pd.DataFrame:
    """``marts.disclosure_audit``: the audit of the build this snapshot comes from (one row)."""
    return _table_or_empty(snapshot_path, "disclosure_audit", "select * from marts.disclosure_audit")


@st.cache_data(show_spinner=False, max_entries=16)
def quality_scores(snapshot_path: str) -> pd.DataFrame:
    """``marts.dq_country_quarter``: the data-quality score (0-100) per member × expected quarter
    and its parts; empty when the snapshot predates the mart."""
    return _table_or_empty(
        snapshot_path, "dq_country_quarter",
        "select * from marts.dq_country_quarter order by period, country",
    )


@st.cache_data(show_spinner=False, max_entries=16)
def findings_summary(snapshot_path: str) -> pd.DataFrame:
    """Validation findings per country × period (``marts.dq_submission_findings``), one
    definition: the warnings of the versions in use (each unit's latest validated or accepted
    version, as the indicators use), and the rejected attempts apart, with their errors (a draft
    the ministry corrected is not an error of the figures in use). Only rows with either."""
    return _table_or_empty(
        snapshot_path, "dq_submission_findings",
        """
        select * from (
            select country, period,
                   coalesce(sum(n_findings) filter (where severity = 'WARNING'
                                                    and version = version_in_use), 0
                            )::integer as warnings_in_use,
                   count(distinct submission_id) filter (where current_status = 'rejected'
                                                         )::integer as rejected_attempts,
                   coalesce(sum(n_findings) filter (where severity = 'ERROR'
                                                    and current_status = 'rejected'), 0
                            )::integer as errors_in_attempts
            from (select *, max(case when current_status in ('validated', 'accepted')
                                     then version end)
                                over (partition by country, dataset, period) as version_in_use
                  from marts.dq_submission_findings
                  where country is not null and period is not null)
            group by country, period)
        where warnings_in_use > 0 or rejected_attempts > 0
        order by period, country
        """,
    )


@st.cache_data(show_spinner=False, max_entries=16)
def plan_progress(snapshot_path: str) -> pd.DataFrame:
    """``marts.plan_progress``: the regional plan in force, one row per target, with its actual
    from the published indicators and its status (dbt computes all of it). Empty when no plan
    is published (or the snapshot predates the plan)."""
    return _table_or_empty(
        snapshot_path, "plan_progress",
        "select * from marts.plan_progress order by aim, objective_id, indicator, "
        "ref_area = 'REG' desc, ref_area")


@st.cache_data(show_spinner=False, max_entries=16)
def harmonisation(snapshot_path: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``marts.harmonisation_matrix``, ``_index`` and ``_gaps``: the members' legal and policy
    framework against the international instruments (policy facts as reported, not counts).
    Empty frames when nothing is published yet (or the snapshot predates the data set)."""
    return (
        _table_or_empty(snapshot_path, "harmonisation_matrix",
                        "select * from marts.harmonisation_matrix order by year, ref_area, item"),
        _table_or_empty(snapshot_path, "harmonisation_index",
                        "select * from marts.harmonisation_index order by ref_area, year"),
        _table_or_empty(snapshot_path, "harmonisation_gaps",
                        "select * from marts.harmonisation_gaps order by year, item"),
    )
