"""Writers of the submission layout (DOMAIN.md §3, "Submission file layout").

A layout row is a dict keyed by the layout columns (``COLUMNS``): ``dataset, country, period,
indicator``, the eight dimensions, ``value``, ``obs_status`` and ``comment``. A dimension that is
absent, empty or ``_Z`` (not applicable) is written as an empty cell. ``value`` is an int (or
``None`` / ``""`` for a blank value, which then needs an ``obs_status``).

* ``write_xlsx``: the template workbook: an instructions sheet (Spanish and English), one sheet per
  data set named by its code, then one ``CL_<LIST>`` sheet per code list (code, label_es, label_en)
  that readers ignore. A data sheet starts with two columns for people that the reader ignores,
  ``label`` (the row in words) and ``required`` (✓ on mandatory rows, whose value cell is
  yellow); code columns carry drop-downs pointing at the code-list sheets and ``value`` takes
  whole numbers of 0 or more only. The output is deterministic: the same rows give byte-identical
  files.
* ``write_csv``: the same long layout as CSV (UTF-8 with or without BOM, or Windows-1252 with ``;``
  as Excel writes it in Spanish locales).
* ``template_rows``: the mandatory cells of a country × data set × quarter, then the rows offered
  for every other series of the contract (left empty, the reader ignores them), value empty;
  ``blank_template``: those of every expected data set, the blank template a ministry fills.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import xlsxwriter

from pipelines.lib.contracts import DIMENSIONS, NOT_APPLICABLE, load_contracts
from pipelines.lib.i18n import t
from pipelines.lib.periods import Quarter, Year

COLUMNS: tuple[str, ...] = tuple(load_contracts().columns)
# Used by the annual policy data sets only (the status's reference and dates); the other data
# sets' sheets and files leave them out, as the policy sheet leaves out the dimensions.
POLICY_COLUMNS: tuple[str, ...] = ("reference", "date", "valid_until")
CODE_COLUMNS: tuple[str, ...] = tuple(
    column for column, spec in load_contracts().columns.items() if spec.get("codelist")
)
# Fixed document date: the same input gives the same bytes (xlsxwriter also stamps the zip
# members with a fixed 1980 date when it works in memory).
FIXED_CREATED = dt.datetime(2019, 1, 1, 0, 0, 0)
TEMPLATE_LANGUAGES = ("es", "en")
# Columns of the template's data sheets for people only: the reader ignores them.
LABEL_COLUMN, REQUIRED_COLUMN = "label", "required"
REQUIRED_MARK = "✓"
_EMPTY = (None, "", NOT_APPLICABLE)


def codelist_sheet_name(codelist: str) -> str:
    return f"CL_{codelist}"


def columns_for(datasets: Iterable[str]) -> tuple[str, ...]:
    """The layout columns a file of these data sets needs: the dimensions where a data set
    counts, the policy columns where one reports a status (every column when both)."""
    contracts = load_contracts()
    kinds = {bool(contracts.datasets[d].status) if d in contracts.datasets else False
             for d in datasets}
    if kinds == {True}:
        return tuple(c for c in COLUMNS if c not in (*DIMENSIONS, "obs_status"))
    if kinds == {False}:
        return tuple(c for c in COLUMNS if c not in POLICY_COLUMNS)
    return COLUMNS


def layout_row(
    dataset: str,
    country: str,
    period: str | Quarter | Year,
    indicator: str,
    value: int | str | None = None,
    *,
    obs_status: str = "",
    comment: str = "",
    reference: str = "",
    date: str = "",
    valid_until: str = "",
    **dimensions: str,
) -> dict:
    """A layout row with every column: unused dimensions are ``_Z``."""
    unknown = set(dimensions) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"not layout dimensions: {sorted(unknown)}")
    row = {"dataset": dataset, "country": country, "period": str(period), "indicator": indicator}
    row.update({dim: dimensions.get(dim, NOT_APPLICABLE) for dim in DIMENSIONS})
    row.update({"value": value, "obs_status": obs_status, "comment": comment,
                "reference": reference, "date": date, "valid_until": valid_until})
    return row


def cell_text(row: Mapping, column: str) -> str:
    """The text of a cell as written in a CSV: empty for absent, None and ``_Z``."""
    value = row.get(column)
    if value in _EMPTY:
        return ""
    return str(value)


def template_rows(dataset: str, country: str, period: str | Quarter | Year) -> list[dict]:
    """The cells of one country × data set × quarter as layout rows, value empty: the mandatory
    ones (``required`` True), then those offered to fill when the ministry has the figure
    (``Contracts.offered_cells``; left empty, the reader ignores them)."""
    contracts = load_contracts()
    return [
        {**layout_row(dataset, country, period, cell["indicator"], None,
                      **{d: cell[d] for d in DIMENSIONS}), "required": required}
        for required, cells in ((True, contracts.mandatory_cells(dataset, country)),
                                (False, contracts.offered_cells(dataset, country)))
        for cell in cells
    ]


def row_label(row: Mapping, lang: str) -> str:
    """A row in words: the indicator's name, then each breakdown's label ("Victims of
    trafficking detected · Female · 0-17 years"); a total has no breakdown."""
    contracts = load_contracts()
    dataset = contracts.datasets.get(str(row.get("dataset")))
    indicator = dataset.indicators.get(str(row.get("indicator"))) if dataset else None
    if indicator is None:
        return ""
    parts = [indicator.name.get(lang) or indicator.name["en"]]
    parts += [contracts.label(dim, row[dim], lang) for dim in indicator.dimensions
              if row.get(dim) not in (*_EMPTY, "_T")]
    return " · ".join(parts)


def blank_template(country: str, period: str | Quarter) -> dict[str, list[dict]]:
    """Every expected data set of a country and quarter with its cells, values empty (see
    ``template_rows``). Feed it to ``write_xlsx``."""
    expected = load_contracts().reporting["expected_datasets"]
    return {dataset: template_rows(dataset, country, period) for dataset in expected}


# --------------------------------------------------------------------------------------------
# CSV


def write_csv(
    path: Path | str,
    rows: Iterable[Mapping],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    bom: bool = False,
) -> Path:
    """Write rows in the long layout. ``bom`` adds the UTF-8 byte-order mark (Excel's "CSV UTF-8").

    Characters the encoding cannot hold raise ``UnicodeEncodeError`` (nothing is dropped silently).
    """
    path = Path(path)
    rows = list(rows)
    columns = columns_for({str(row.get("dataset")) for row in rows})
    if bom:
        if encoding.replace("_", "-").lower() not in ("utf-8", "utf8", "utf-8-sig"):
            raise ValueError("a byte-order mark only goes with UTF-8")
        encoding = "utf-8-sig"
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell_text(row, column) for column in columns])
    return path


# --------------------------------------------------------------------------------------------
# XLSX


def _unit_of(rows_by_dataset: Mapping[str, list[Mapping]]) -> tuple[str, str] | None:
    for rows in rows_by_dataset.values():
        for row in rows:
            if row.get("country") and row.get("period"):
                return str(row["country"]), str(row["period"])
    return None


def _instruction_lines(rows_by_dataset: Mapping[str, list[Mapping]], lang: str) -> list[tuple]:
    """(text, style) lines of the instructions sheet: the chosen language first, then the other."""
    contracts = load_contracts()
    first = next(iter(rows_by_dataset), None)
    due_days = contracts.due_days(first)
    annual = bool(first and first in contracts.datasets and contracts.datasets[first].status)
    steps = (("sheets", "status", "reference", "dates", "due") if annual else
             ("sheets", "values", "codes", "totals", "citizenship", "optional", "privacy", "due"))
    unit = _unit_of(rows_by_dataset)
    order = [lang] + [other for other in TEMPLATE_LANGUAGES if other != lang]
    lines: list[tuple] = []
    for language in order:
        lines.append((t("template.title", language), "title"))
        lines.append((t("template.language_block", language), "bold"))
        if unit:
            country, period = unit
            try:
                due = contracts.period(first, period).due_date(due_days).isoformat()
            except ValueError:
                due = ""
            name = (
                contracts.label("country", country, language)
                if contracts.country(country)
                else country
            )
            lines.append(
                (
                    t(
                        "template.unit",
                        language,
                        country=f"{name} ({country})",
                        period=period,
                        due=due,
                    ),
                    "bold",
                )
            )
        for number, key in enumerate(steps, start=1):
            text = (
                t(f"template.step.{key}", language, due_days=due_days)
                if key == "due"
                else t(f"template.step.{key}", language)
            )
            lines.append((f"{number}. {text}", None))
        if annual:
            lines.append((t("template.items", language), "bold"))
            for item in contracts.datasets[first].indicators.values():
                lines.append((t("template.item_line", language, code=item.code,
                                name=item.name.get(language) or item.name["en"],
                                instrument=(item.instrument or {}).get(language, ""),
                                date=(item.date_label or {}).get(language, "")), None))
        lines.append((t("template.data_sheets", language), "bold"))
        for code in rows_by_dataset:
            dataset = contracts.datasets.get(code)
            name = (dataset.name.get(language) or dataset.name["en"]) if dataset else ""
            lines.append((f"{code}: {name}" if name else code, None))
        lines.append((t("template.codelist_sheets", language), None))
        lines.append(("", None))
    return lines


CODELIST_COLUMNS = ("code", "label_es", "label_en", "label_fr")


def _codelist_rows(codelist_name: str) -> list[tuple[str, ...]]:
    labels = load_contracts().codelists[codelist_name].labels
    return [(code, *(text.get(lang, "") for lang in ("es", "en", "fr")))
            for code, text in labels.items()]


def write_xlsx(
    path: Path | str,
    rows_by_dataset: Mapping[str, list[Mapping]],
    lang: str = "es",
) -> Path:
    """Write the template workbook; sheets: instructions, one per data set, one per code list."""
    contracts = load_contracts()
    path = Path(path)
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    try:
        workbook.set_properties(
            {
                "title": t("template.title", lang),
                "author": "Regional Coalition against Trafficking in Persons",
                "created": FIXED_CREATED,
            }
        )
        title = workbook.add_format({"bold": True, "font_size": 13})
        bold = workbook.add_format({"bold": True})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        number = workbook.add_format({"num_format": "0"})
        required_value = workbook.add_format({"num_format": "0", "bg_color": "#FFF2CC",
                                              "border": 1, "border_color": "#BFBFBF"})
        required_label = workbook.add_format({"bold": True})
        offered_label = workbook.add_format({"italic": True, "font_color": "#595959"})
        text_format = workbook.add_format({"num_format": "@"})
        styles = {"title": title, "bold": bold, None: wrap}

        sheet = workbook.add_worksheet(t("template.sheet.instructions", lang)[:31])
        sheet.set_column(0, 0, 120)
        for row_number, (text, style) in enumerate(_instruction_lines(rows_by_dataset, lang)):
            if text:
                sheet.write_string(row_number, 0, text, styles[style])

        codelist_names = {column: contracts.columns[column]["codelist"] for column in CODE_COLUMNS}
        used_codelists = list(dict.fromkeys(codelist_names.values()))
        codelist_sizes = {name: len(contracts.codelists[name].labels) for name in used_codelists}

        for dataset, rows in rows_by_dataset.items():
            ws = workbook.add_worksheet(dataset)
            # Read by people, ignored by the reader: the row in words and whether it is
            # mandatory, first, beside the codes.
            extra = (LABEL_COLUMN, REQUIRED_COLUMN)
            columns = (*extra, *columns_for([dataset]))
            contract = contracts.datasets.get(dataset)
            statuses = list(contract.status) if contract else []
            for col, column in enumerate(columns):
                ws.write_string(0, col, column, header)
            ws.freeze_panes(1, 1)
            ws.set_column(0, 0, 48)
            ws.set_column(1, 1, 9)
            ws.set_column(2, len(columns) - 2, 14, text_format)
            value_col = columns.index("value")
            ws.set_column(value_col, value_col, 10, number)
            ws.set_column(len(columns) - 1, len(columns) - 1, 45, text_format)
            row_number = 0
            for row_number, row in enumerate(rows, start=1):
                required = row.get("required", True)
                ws.write_string(row_number, 0, row_label(row, lang),
                                required_label if required else offered_label)
                if required:
                    ws.write_string(row_number, 1, REQUIRED_MARK)
                    ws.write_blank(row_number, value_col, None, required_value)
                for col, column in enumerate(columns[len(extra):], start=len(extra)):
                    value = row.get(column)
                    if value in _EMPTY:
                        continue
                    if (
                        col == value_col
                        and isinstance(value, int | float)
                        and not isinstance(value, bool)
                        and not statuses
                    ):
                        ws.write_number(row_number, col, value,
                                        required_value if required else number)
                    else:
                        # write_string never turns text into a formula (formula injection).
                        ws.write_string(row_number, col, str(value))
            used = set(contract.dimensions) | {"obs_status"} if contract else set(CODE_COLUMNS)
            used &= set(columns)
            last_row = max(row_number + 200, 1000)
            if statuses:  # an answer from the status list (yes, partial, no, unknown)
                ws.set_column(value_col, value_col, 12, text_format)
                ws.data_validation(1, value_col, last_row, value_col, {
                    "validate": "list", "source": statuses,
                    "error_title": t("template.status_rule.title", lang)[:32],
                    "error_message": t("template.status_rule.message", lang)[:255],
                })
            else:
                ws.data_validation(1, value_col, last_row, value_col, {
                    "validate": "integer", "criteria": ">=", "value": 0, "ignore_blank": True,
                    "error_title": t("template.value_rule.title", lang)[:32],
                    "error_message": t("template.value_rule.message", lang)[:255],
                })
            for column in CODE_COLUMNS:
                if column not in used:
                    continue
                name = codelist_names[column]
                col = columns.index(column)
                ws.data_validation(
                    1,
                    col,
                    last_row,
                    col,
                    {
                        "validate": "list",
                        "source": f"={codelist_sheet_name(name)}!$A$2:$A${codelist_sizes[name] + 1}",
                        "error_type": "warning",
                    },
                )

        for name in used_codelists:
            ws = workbook.add_worksheet(codelist_sheet_name(name))
            for col, column in enumerate(CODELIST_COLUMNS):
                ws.write_string(0, col, column, header)
            for row_number, values in enumerate(_codelist_rows(name), start=1):
                for col, value in enumerate(values):
                    ws.write_string(row_number, col, value)
            ws.set_column(0, 0, 10)
            ws.set_column(1, 3, 40)
    finally:
        workbook.close()
    return path
