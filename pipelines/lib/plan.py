"""The coalition's regional plan as data (DOMAIN.md §9): read, validate, store as a version, export.

The secretariat keeps the plan as an XLSX or CSV in the layout of ``data_contracts/plan.yaml``,
one row per target (objective × indicator × member or region). Every import is a new version in
``raw.plan_versions`` / ``raw.plan_targets`` / ``raw.plan_findings`` (append-only: a new version
never overwrites an old one). A version with an ERROR finding is kept but never used; the plan in
force is the newest version without errors (dbt: ``int_plan_targets_current``). Progress is
computed in dbt from the published indicators only (``marts.plan_progress``).

Findings are cell-level (sheet, row, column, value, rule) with messages in es/en/fr from
``pipelines/locales/plan.yaml``, like a submission's. Storing a version is in
``pipelines.lib.plan_store`` (the writer's side), so the dashboard can import this module.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import yaml

from pipelines.lib.findings import ERROR, WARNING, Finding
from pipelines.lib.reader import workbook_grids
from pipelines.settings import CONTRACTS_DIR, DBT_PROJECT_DIR, Settings

CONTRACT_PATH = CONTRACTS_DIR / "plan.yaml"
REGISTRY_PATH = DBT_PROJECT_DIR / "seeds" / "indicator_registry.csv"
SHEET = "plan"
YEAR = re.compile(r"^(\d{4})$")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@cache
def contract() -> dict:
    with CONTRACT_PATH.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def columns() -> list[str]:
    return [c["name"] for c in contract()["columns"]]


@cache
def registry_codes() -> frozenset[str]:
    """The indicator codes of the registry (the seed dbt publishes as ``marts.dim_indicator``)."""
    with REGISTRY_PATH.open(encoding="utf-8") as f:
        return frozenset(row["indicator_code"] for row in csv.DictReader(f))


# The harmonisation index (aim 2; dbt's marts.harmonisation_index) as a plan indicator.
HARMONISATION_INDEX = "HARMONISATION_INDEX"


def plan_indicator_codes() -> frozenset[str]:
    """What a target may rest on: a registry code, the harmonisation index, or one policy item
    of the annual policy data sets (its score: yes 1, partial 0.5, no 0)."""
    from pipelines.lib.contracts import load_contracts

    contracts = load_contracts()
    items = {code for dataset in contracts.annual_datasets
             for code in contracts.datasets[dataset].indicators}
    return registry_codes() | {HARMONISATION_INDEX} | items


def areas() -> list[str]:
    from pipelines.lib.contracts import load_contracts

    return [*load_contracts().members, contract()["region"]]


class PlanFileError(ValueError):
    """The file is not a plan in the contract's layout, or cannot be read: one clear message."""

    def __init__(self, key: str, **values: object):
        super().__init__(f"{key}: {values}")
        self.key = key
        self.values = values

    def text(self, lang: str) -> str:
        from pipelines.lib.i18n import t

        return t(self.key, lang, **self.values)


# --- reading -----------------------------------------------------------------------------------


def _key(name: object) -> str:
    return str(name or "").strip().lower()


def _rows_of(grid: list[list[str | None]], sheet: str | None) -> list[dict]:
    """Rows below the header as {column: text}, with the row number a person sees (header = 1)."""
    if not grid:
        raise PlanFileError("plan.file.empty")
    header = [_key(c) for c in grid[0]]
    missing = [c["name"] for c in contract()["columns"] if c["required"] and c["name"] not in header]
    if missing:
        raise PlanFileError("plan.file.missing_columns", columns=", ".join(missing))
    positions = {name: header.index(name) for name in columns() if name in header}
    rows = []
    for number, line in enumerate(grid[1:], start=2):
        row = {name: (line[p] if p < len(line) else None) for name, p in positions.items()}
        if any(v is not None for v in row.values()):
            rows.append({**{c: None for c in columns()}, **row, "_row": number, "_sheet": sheet})
    return rows


def read_plan(path: Path) -> list[dict]:
    """The plan's rows as text. A file that is not a plan raises :class:`PlanFileError`."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PlanFileError("plan.file.unreadable", detail=error.strerror or error) from error
    try:
        return _read(data)
    except PlanFileError:
        raise
    except Exception as error:  # noqa: BLE001 - a broken workbook or binary: one clear refusal
        detail = " ".join(str(error).split())[:200]
        raise PlanFileError("plan.file.unreadable", detail=f"{type(error).__name__}: {detail}") from error


def _read(data: bytes) -> list[dict]:
    if not data.strip():
        raise PlanFileError("plan.file.empty")
    if data[:4] == b"PK\x03\x04":
        for sheet, grid in workbook_grids(data, first=SHEET):
            if grid and "objective_id" in {_key(c) for c in grid[0]}:
                return _rows_of(grid, sheet)
        raise PlanFileError("plan.file.no_plan_sheet")
    if b"\x00" in data[:65536]:
        raise PlanFileError("plan.file.unreadable", detail="binary content")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    first = text.splitlines()[0] if text.splitlines() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    grid = [[c.strip() or None for c in row] for row in csv.reader(io.StringIO(text),
                                                                    delimiter=delimiter)]
    return _rows_of(grid, None)


# --- validation --------------------------------------------------------------------------------


def parse_period(text: str | None) -> tuple[str, int] | None:
    """('A', quarter index of the year's Q4) for ``2027``, ('Q', index) for ``2027-Q2``; the
    index numbers quarters consecutively (year × 4 + quarter − 1), as dbt's ``quarter_index``."""
    if text is None:
        return None
    text = text.strip()
    if m := YEAR.match(text):
        return "A", int(m.group(1)) * 4 + 3
    if m := QUARTER.match(text):
        return "Q", int(m.group(1)) * 4 + int(m.group(2)) - 1
    return None


def parse_number(text: str | None) -> float | None:
    """A number as typed in a spreadsheet: ``12.5``, ``12,5`` (decimal comma), ``1,234.5``."""
    if text is None:
        return None
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def parse_milestones(text: str | None) -> list[tuple[str, float]] | None:
    """``2026=110; 2027=125`` as [(period, value)]; None when malformed; [] when empty."""
    if text is None or not text.strip():
        return []
    pairs = []
    for part in text.split(contract()["milestone_separator"]):
        if not part.strip():
            continue
        period, sep, value = part.partition("=")
        number = parse_number(value)
        if not sep or parse_period(period) is None or number is None:
            return None
        pairs.append((period.strip(), number))
    return pairs


def validate(rows: list[dict]) -> tuple[list[dict], list[Finding]]:
    """Typed rows (invalid cells null) and the findings, cell by cell."""
    findings: list[Finding] = []
    known_areas = set(areas())
    typed_rows = []

    def add(rule: str, key: str, row: dict, column: str | None, severity: str = ERROR,
            **params: object) -> None:
        findings.append(Finding.make(rule, key, severity=severity, sheet=row["_sheet"],
                                     row=row["_row"], column=column,
                                     value=row.get(column) if column else None, **params))

    for row in rows:
        typed = {c: row[c] for c in columns()}
        typed.update(row_number=row["_row"], sheet=row["_sheet"])
        # Detected victims are `monitor` by default: an empty direction is not missing there.
        monitored = (row["indicator"] or "").strip().upper() in contract()["monitor_by_default"]
        for spec in contract()["columns"]:
            if spec["required"] and row[spec["name"]] is None and not (
                    spec["name"] == "direction" and monitored):
                add("P01", "plan.finding.required", row, spec["name"])
        aim = row["aim"]
        typed["aim"] = None
        if aim is not None:
            if aim.strip() in {str(a) for a in contract()["aims"]}:
                typed["aim"] = int(aim)
            else:
                add("P02", "plan.finding.aim", row, "aim")
        indicator = (row["indicator"] or "").strip().upper() or None
        typed["indicator"] = indicator
        if indicator and indicator not in plan_indicator_codes():
            add("P03", "plan.finding.indicator", row, "indicator")
        area = (row["ref_area"] or "").strip().upper() or None
        typed["ref_area"] = area
        if area and area not in known_areas:
            add("P04", "plan.finding.area", row, "ref_area", areas=", ".join(sorted(known_areas)))
        direction = (row["direction"] or "").strip().lower() or ("monitor" if monitored else None)
        typed["direction"] = direction
        if direction and direction not in contract()["directions"]:
            add("P05", "plan.finding.direction", row, "direction")
        periods = {}
        for column in ("baseline_period", "target_period"):
            if row[column] is not None:
                periods[column] = parse_period(row[column])
                if periods[column] is None:
                    add("P06", "plan.finding.period", row, column)
        base, target = periods.get("baseline_period"), periods.get("target_period")
        if base and target:
            if base[0] != target[0]:
                add("P06", "plan.finding.period_kinds", row, "target_period",
                    baseline=row["baseline_period"])
            elif target[1] <= base[1]:
                add("P08", "plan.finding.target_before_baseline", row, "target_period",
                    baseline=row["baseline_period"])
        values = {}
        for column in ("baseline_value", "target_value"):
            values[column] = parse_number(row[column])
            typed[column] = values[column]
            if row[column] is not None and values[column] is None:
                add("P07", "plan.finding.number", row, column)
        baseline_value, target_value = values["baseline_value"], values["target_value"]
        if baseline_value is not None and target_value is not None and (
                (direction == "increase" and target_value <= baseline_value)
                or (direction == "decrease" and target_value >= baseline_value)):
            add("P09", f"plan.finding.direction_{direction}", row, "direction",
                baseline=f"{baseline_value:g}", target=f"{target_value:g}")
        milestones = parse_milestones(row["milestones"])
        if milestones is None:
            add("P10", "plan.finding.milestones", row, "milestones")
        elif base and target and base[0] == target[0]:
            for period, _ in milestones:
                parsed = parse_period(period)
                if parsed[0] != base[0] or not base[1] < parsed[1] < target[1]:
                    add("P10", "plan.finding.milestone_outside", row, "milestones",
                        period=period, baseline=row["baseline_period"],
                        target=row["target_period"])
        if indicator in contract()["monitor_by_default"] and direction and direction != "monitor":
            add("P13", "plan.finding.monitor_detection", row, "direction", WARNING)
        typed_rows.append(typed)
    seen: dict[tuple, int] = {}
    texts: dict[str, tuple] = {}
    for row in rows:
        key = (row["objective_id"], (row["indicator"] or "").strip().upper(),
               (row["ref_area"] or "").strip().upper())
        if all(key):
            if key in seen:
                add("P11", "plan.finding.duplicate", row, "objective_id", first=seen[key])
            else:
                seen[key] = row["_row"]
        if row["objective_id"]:
            text = (row["objective_es"], row["objective_en"], row["objective_fr"])
            first = texts.setdefault(row["objective_id"], text)
            if text != first:
                add("P12", "plan.finding.objective_texts", row, "objective_id", WARNING)
    return typed_rows, findings


# --- the report --------------------------------------------------------------------------------


@dataclass
class PlanReport:
    file_name: str
    sha256: str
    version: int | None = None
    duplicate: bool = False  # the same bytes were imported before: nothing changed
    status: str = ""  # accepted | rejected
    imported_at: str = ""
    rows: int = 0
    errors: int = 0
    warnings: int = 0
    findings: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> PlanReport:
        return cls(**json.loads(text))


def report_path(settings: Settings, run_id: str) -> Path:
    """Where the plan job leaves the report of its run (the command line prints it)."""
    return settings.home / "plan" / f"{run_id}.report.json"


MAX_FINDINGS_SHOWN = 50


def render_report(report: PlanReport, lang: str, snapshot: str = "-") -> list[str]:
    from pipelines.lib.findings import finding_message
    from pipelines.lib.i18n import t

    lines = [t("plan.report.file", lang, name=report.file_name, sha=report.sha256[:16])]
    if report.status == "unreadable":
        lines.append(t("plan.report.unreadable", lang))
    elif report.duplicate:
        lines.append(t("plan.report.duplicate", lang, version=report.version,
                       when=report.imported_at[:19].replace("T", " "),
                       status=t(f"plan.status.{report.status}", lang)))
    else:
        lines.append(t(f"plan.report.{report.status}", lang, version=report.version,
                       rows=report.rows, errors=report.errors, warnings=report.warnings))
    for finding in report.findings[:MAX_FINDINGS_SHOWN]:
        where = t("cli.where", lang, sheet=finding["sheet"] or "-", row=finding["row"] or "-",
                  column=finding["column"] or "-")
        lines.append(f"    [{finding['rule']} {t('cli.severity.' + finding['severity'], lang)}] "
                     f"{where}: {finding_message(finding, lang)}")
    if len(report.findings) > MAX_FINDINGS_SHOWN:
        lines.append(t("plan.report.more_findings", lang,
                       count=len(report.findings) - MAX_FINDINGS_SHOWN))
    if not report.duplicate and report.status == "accepted":
        lines.append(t("plan.report.published", lang, snapshot=snapshot))
    return lines


# --- export (the plan in force, from the serving snapshot) --------------------------------------


def plan_in_snapshot(snapshot: Path) -> tuple[list[dict], int | None]:
    """The plan in force as published (``marts.plan_progress``): its rows in the contract's
    columns, and its version (None when no plan was imported yet)."""
    import duckdb

    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        exists = con.execute("select count(*) from information_schema.tables where table_schema "
                             "= 'marts' and table_name = 'plan_progress'").fetchone()[0]
        if not exists:
            return [], None
        cursor = con.execute(f"select plan_version, {', '.join(columns())} "
                             "from marts.plan_progress order by objective_id, indicator, "
                             "ref_area = 'REG', ref_area")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()
    return rows, (rows[0]["plan_version"] if rows else None)


def _shown(value: object) -> str:
    from pipelines.lib.export import neutralise

    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if value.is_integer() or abs(value) >= 1e-4 else repr(value)
    return str(neutralise(str(value)))


def plan_workbook_bytes(rows: list[dict]) -> bytes:
    """``plan.xlsx`` of :func:`write_plan_files` as bytes (the Plan page's download)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="observatory-plan-") as tmp:
        return write_plan_files(rows, Path(tmp))[0].read_bytes()


def write_plan_files(rows: list[dict], out_dir: Path) -> list[Path]:
    """``plan.xlsx`` (sheet ``plan``) and ``plan.csv`` in the contract's layout, ready to edit and
    import again. Texts that would start a formula are neutralised."""
    import xlsxwriter

    out_dir.mkdir(parents=True, exist_ok=True)
    names = columns()
    csv_path = out_dir / "plan.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as f:  # Excel reads the accents
        writer = csv.writer(f)
        writer.writerow(names)
        for row in rows:
            writer.writerow([_shown(row[c]) for c in names])
    xlsx_path = out_dir / "plan.xlsx"
    workbook = xlsxwriter.Workbook(str(xlsx_path), {"in_memory": True})
    workbook.set_properties({"created": dt.datetime(2025, 1, 1)})  # same rows, same bytes
    sheet = workbook.add_worksheet(SHEET)
    bold = workbook.add_format({"bold": True})
    for c, name in enumerate(names):
        sheet.write_string(0, c, name, bold)
    for r, row in enumerate(rows, start=1):
        for c, name in enumerate(names):
            value = row[name]
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(r, c, value)
            elif value is not None:
                sheet.write_string(r, c, _shown(value))
    sheet.freeze_panes(1, 0)
    workbook.close()
    return [xlsx_path, csv_path]
