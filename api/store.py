"""What the data API reads: the current serving snapshot's public tables, read-only.

The API is a reader like the dashboard: it follows ``serving/CURRENT`` (re-read on every request,
a few bytes, so a new snapshot is served from the next request on) and opens that file read-only.
It knows only the tables named here, all of them disclosure-controlled or public reference data;
it never opens a member's own store nor the warehouse, and it has no query language: every
request becomes one of the parameterised statements below.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.lib.periods import Quarter

POINTER = "CURRENT"
REGION = "REG"
MAX_LIMIT = 10_000
MAX_SDMX = 50_000  # observations in one SDMX data answer (a larger query: narrow the key)
# Units whose values are counts: written as whole numbers (never "18.0").
COUNT_UNITS = ("PERSONS", "INVESTIGATIONS")

VALUE_COLUMNS = ("indicator_code", "ref_area", "time_period", "freq", "period_end", "sex", "age",
                 "exploitation_form", "value", "unit", "obs_status", "conf_status", "n_countries",
                 "n_expected")
HISTORY_COLUMNS = ("source", "vintage", "indicator_code", "stage", "ref_area", "year",
                   "breakdown", "sex", "age", "exploitation_form", "citizenship",
                   "counterpart_area", "value", "value_text", "suppressed_at_source", "flag")
PLAN_TABLE = "plan_progress"


class NoSnapshot(RuntimeError):
    """Nothing is published yet (or the pointer names no readable snapshot)."""


class BadQuery(ValueError):
    """A parameter the API cannot answer: ``key`` names the message, ``values`` fill it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Snapshot:
    name: str
    built_at: str | None
    connection: duckdb.DuckDBPyConnection
    indicators: frozenset[str]
    areas: frozenset[str]
    tables: frozenset[str]


def period_bounds(text: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``2024`` or ``2024-Q2`` (what ``from`` and ``to`` take)."""
    text = text.strip()
    if len(text) == 4 and text.isdigit():
        year = int(text)
        if 1900 <= year <= 2200:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
    else:
        try:
            quarter = Quarter.parse(text)
            return quarter.start, quarter.end
        except ValueError:
            pass
    raise BadQuery("api.error.bad_period", value=text[:40])


class Store:
    """The snapshot the pointer names, with one read-only connection per snapshot file."""

    def __init__(self, serving_dir: Path) -> None:
        self.serving_dir = serving_dir
        self._lock = threading.Lock()
        self._open: dict[str, Snapshot] = {}

    def current(self) -> Snapshot:
        try:
            name = (self.serving_dir / POINTER).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            raise NoSnapshot() from None
        if not name or Path(name).name != name or not (self.serving_dir / name).is_file():
            raise NoSnapshot()
        with self._lock:
            snapshot = self._open.get(name)
            if snapshot is None:
                snapshot = self._connect(name)
                # Keep the previous snapshot's connection for requests still reading it; older
                # ones go (their files are pruned by the pipeline).
                for old in list(self._open)[:-1]:
                    self._open.pop(old).connection.close()
                self._open[name] = snapshot
        return snapshot

    def _connect(self, name: str) -> Snapshot:
        try:
            con = duckdb.connect(str(self.serving_dir / name), read_only=True)
            tables = frozenset(r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall())
            [(built_at,)] = con.execute("select max(built_at) from main.snapshot_info").fetchall()
            indicators = frozenset(r[0] for r in con.execute(
                "select indicator_code from marts.dim_indicator").fetchall())
            areas = frozenset(r[0] for r in con.execute(
                "select iso3 from marts.dim_country where member").fetchall()) | {REGION}
        except duckdb.Error as error:
            raise NoSnapshot() from error
        return Snapshot(name, built_at.isoformat() if built_at else None, con, indicators,
                        areas, tables)

    def close(self) -> None:
        with self._lock:
            for snapshot in self._open.values():
                snapshot.connection.close()
            self._open.clear()


def _rows(snapshot: Snapshot, sql: str, params: list) -> list[dict]:
    cursor = snapshot.connection.cursor()  # one per request: connections are not shared by threads
    try:
        result = cursor.execute(sql, params)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        cursor.close()


def _plain(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        out[key] = value
    return out


def indicators(snapshot: Snapshot, lang: str) -> list[dict]:
    rows = _rows(snapshot, f"""
        select indicator_code, dataset, name_{lang} as name, definition_{lang} as definition,
               formula_{lang} as formula, unit, frequencies, sdg_series, caveat_{lang} as caveat
        from marts.dim_indicator order by family, indicator_code""", [])
    for row in rows:
        row["frequencies"] = (row["frequencies"] or "").split()
    return rows


def areas(snapshot: Snapshot, lang: str) -> list[dict]:
    rows = _rows(snapshot, f"""
        select iso3 as ref_area, iso2, m49, name_{lang} as name
        from marts.dim_country where member order by iso3""", [])
    return [*rows, {"ref_area": REGION, "iso2": None, "m49": None, "name": None}]


def _check(values: list[str], known: frozenset[str], key: str) -> list[str]:
    values = [v.strip().upper() for v in values if v.strip()]
    unknown = sorted(set(values) - known)
    if unknown:
        raise BadQuery(key, value=", ".join(unknown)[:200])
    return values


def values(snapshot: Snapshot, *, indicator: list[str], ref_area: list[str], freq: list[str],
           start: str | None, end: str | None, sex: list[str], age: list[str],
           exploitation_form: list[str], limit: int, offset: int) -> tuple[int, list[dict]]:
    """Published indicator values (hidden cells: value null, conf_status A, D or N) and their count."""
    where, params = [], []
    for column, wanted in (("indicator_code", _check(indicator, snapshot.indicators,
                                                     "api.error.unknown_indicator")),
                           ("ref_area", _check(ref_area, snapshot.areas, "api.error.unknown_area")),
                           ("freq", _check(freq, frozenset({"Q", "R4Q", "A"}),
                                           "api.error.unknown_freq")),
                           ("sex", sex), ("age", age), ("exploitation_form", exploitation_form)):
        wanted = [w.strip() for w in wanted if w.strip()]
        if wanted:
            where.append(f"{column} in ({', '.join('?' for _ in wanted)})")
            params += wanted
    if start:
        where.append("period_end >= ?")
        params.append(period_bounds(start)[0])
    if end:
        where.append("period_end <= ?")
        params.append(period_bounds(end)[1])
    clause = f"where {' and '.join(where)}" if where else ""
    # One scan: the total comes with each row (a page past the end asks for it apart).
    rows = _rows(snapshot, f"""
        select {', '.join(VALUE_COLUMNS)}, count(*) over () as total_rows
        from marts.indicator_values_published {clause}
        order by indicator_code, ref_area, period_end, freq, sex, age, exploitation_form
        limit ? offset ?""", [*params, limit, offset])
    if rows:
        total = rows[0]["total_rows"]
    else:
        [count] = _rows(snapshot, "select count(*) as n from marts.indicator_values_published "
                        f"{clause}", params)
        total = count["n"]
    out = []
    for row in rows:
        row = _plain(row)
        del row["total_rows"]
        if row["value"] is not None and row["unit"] in COUNT_UNITS:
            row["value"] = int(round(row["value"]))
        elif row["value"] is not None:
            row["value"] = round(row["value"], 6)
        out.append(row)
    return total, out


def history(snapshot: Snapshot, *, indicator: list[str], ref_area: list[str],
            limit: int, offset: int) -> tuple[int, list[dict]]:
    """UNODC's published history (latest vintage), as imported."""
    where, params = ["is_latest_vintage"], []
    for column, wanted in (("indicator_code", indicator), ("ref_area", ref_area)):
        wanted = [w.strip().upper() for w in wanted if w.strip()]
        if wanted:
            where.append(f"{column} in ({', '.join('?' for _ in wanted)})")
            params += wanted
    clause = "where " + " and ".join(where)
    [total] = _rows(snapshot, f"select count(*) as n from marts.history_values {clause}", params)
    rows = _rows(snapshot, f"""
        select {', '.join(HISTORY_COLUMNS)} from marts.history_values {clause}
        order by indicator_code, ref_area, year, breakdown, sex, age, exploitation_form,
                 citizenship, counterpart_area
        limit ? offset ?""", [*params, limit, offset])
    return total["n"], [_plain(r) for r in rows]


def plan(snapshot: Snapshot) -> list[dict] | None:
    """The regional plan's progress, or None when this snapshot has no plan table."""
    if PLAN_TABLE not in snapshot.tables:
        return None
    return [_plain(r) for r in _rows(snapshot, f"select * from marts.{PLAN_TABLE}", [])]
