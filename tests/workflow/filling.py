"""Fill a downloaded template the way a ministry does: open it in a spreadsheet program (openpyxl
here), type numbers in the `value` column, save. The layout is never edited."""

from __future__ import annotations

from pathlib import Path

import openpyxl

UNKNOWN = "_U"
TOTAL = "_T"


def fill_template(path: Path, *, unknown_victims: int = 0, slips: bool = False) -> Path:
    """Type a value in every mandatory cell: 0 everywhere, except that ``unknown_victims``
    victims of unknown sex, age, form and citizenship are reported consistently in TIP_VICTIMS
    (a share of unknowns of 100 %: WARNING V09, which the submitter must explain). ``slips``:
    two of TIP_VICTIMS' zeros typed wrong, -2 and 0.5 (two errors)."""
    workbook = openpyxl.load_workbook(path)
    wrong = [-2, 0.5] if slips else []
    for sheet in workbook.worksheets:
        header = [cell.value for cell in sheet[1]]
        if "value" not in header or "dataset" not in header:
            continue
        col = {name: i for i, name in enumerate(header)}
        for row in sheet.iter_rows(min_row=2):
            if row[col["dataset"]].value is None:
                continue
            if "required" in col and not row[col["required"]].value:
                continue  # an offered row: left empty, as a ministry without that figure does
            value = 0
            if unknown_victims and row[col["dataset"]].value == "TIP_VICTIMS":
                dims = {d: row[col[d]].value for d in ("sex", "age", "exploitation_form",
                                                       "citizenship")}
                if all(v in (UNKNOWN, TOTAL, None) for v in dims.values()):
                    value = unknown_victims
                elif wrong:
                    value = wrong.pop()
            row[col["value"]].value = value
    workbook.save(path)
    return path
