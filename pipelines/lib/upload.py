"""Files uploaded from the browser (issue 7): checked before anything parses them, stored under a
generated name, then taken in by the same Dagster job as every other channel.

Checks before parsing (:func:`check_upload`), each refusal a ``workflow.upload.*`` translation key:

* the name: one holding ``/``, ``\\`` or NUL, or made only of dots (``..``), is refused (a
  browser sends a bare file name; anything else is a crafted request or a mistake to rename);
* size: at most ``MAX_UPLOAD_BYTES``;
* the extension is ``.csv`` or ``.xlsx`` and the bytes are what it says: an XLSX is a ZIP
  (``PK\\x03\\x04``) holding ``[Content_Types].xml`` and ``xl/workbook.xml``; a CSV has no NUL
  byte and no known binary signature;
* an XLSX whose members would unpack to more than ``MAX_UNPACKED_BYTES`` (zip bomb) or whose sheet
  declares more than ``MAX_SHEET_ROWS`` rows or ``MAX_SHEET_COLUMNS`` columns is refused; the
  reader applies its own limits again.

The uploaded name is never used as a path: the file is written to ``uploads/`` under a random
name with the extension its signature proved; the name the user gave (:func:`display_name`) is
kept only as text, in the archive's records, reports and audit trail.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.inputs import uploads_dir
from pipelines.settings import Settings

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a full country-quarter template is ~30 KB
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_SHEET_ROWS = 20_000
MAX_SHEET_COLUMNS = 64
MAX_NAME_CHARS = 200
ZIP_SIGNATURE = b"PK\x03\x04"
BINARY_SIGNATURES = (b"PK", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x7fELF", b"MZ", b"\x89PNG",
                     b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


@dataclass
class UploadCheck:
    ok: bool
    key: str = ""  # workflow.upload.* translation key of the refusal
    values: dict | None = None
    extension: str = ""


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters.decode():
        number = number * 26 + (ord(char) - 64)
    return number


def name_is_refused(name: str) -> bool:
    """A path rather than a file name: separators, NUL, or only dots (``.``, ``..``)."""
    return any(char in name for char in ("/", "\\", "\x00")) or set(name.strip()) <= {"."}


def display_name(name: str) -> str:
    """The user's file name as text to show (never a path): control characters dropped, at most
    ``MAX_NAME_CHARS`` characters."""
    text = "".join(char for char in name if char.isprintable()).strip()
    return text[:MAX_NAME_CHARS]


def check_upload(name: str, data: bytes) -> UploadCheck:
    """May these bytes be handed to the reader? (see the module docstring)"""
    if name_is_refused(name):
        return UploadCheck(False, "workflow.upload.bad_name")
    display = Path(name).name
    extension = display.rsplit(".", 1)[-1].lower() if "." in display else ""
    if len(data) > MAX_UPLOAD_BYTES:
        return UploadCheck(False, "workflow.upload.too_big",
                           {"size": round(len(data) / 2**20, 1),
                            "limit": MAX_UPLOAD_BYTES // 2**20})
    if not data:
        return UploadCheck(False, "workflow.upload.empty")
    if extension not in ("csv", "xlsx"):
        return UploadCheck(False, "workflow.upload.bad_extension", {"extension": extension or "-"})
    if extension == "xlsx":
        return _check_xlsx(data)
    head = data[:65536]
    if b"\x00" in head or head.startswith(BINARY_SIGNATURES):
        return UploadCheck(False, "workflow.upload.bad_signature", {"extension": "csv"})
    return UploadCheck(True, extension="csv")


def _check_xlsx(data: bytes) -> UploadCheck:
    if not data.startswith(ZIP_SIGNATURE):
        return UploadCheck(False, "workflow.upload.bad_signature", {"extension": "xlsx"})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            if not {"[Content_Types].xml", "xl/workbook.xml"} <= names:
                return UploadCheck(False, "workflow.upload.bad_signature", {"extension": "xlsx"})
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                return UploadCheck(False, "workflow.upload.zip_bomb",
                                   {"limit": MAX_UNPACKED_BYTES // 2**20})
            for member in members:
                if not member.filename.startswith("xl/worksheets/sheet"):
                    continue
                with archive.open(member) as sheet:
                    head = sheet.read(4096)
                match = _DIMENSION.search(head)
                if not match:
                    continue
                last_column, last_row = match.group(3) or match.group(1), match.group(4) or match.group(2)
                if (int(last_row) > MAX_SHEET_ROWS
                        or _column_number(last_column) > MAX_SHEET_COLUMNS):
                    return UploadCheck(False, "workflow.upload.too_many_rows",
                                       {"rows": int(last_row), "limit": MAX_SHEET_ROWS})
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError):
        return UploadCheck(False, "workflow.upload.bad_signature", {"extension": "xlsx"})
    return UploadCheck(True, extension="xlsx")


def store_upload(settings: Settings, data: bytes, extension: str) -> Path:
    """Write the bytes under a generated name (tmp name, then rename); return the path."""
    folder = uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # what a ministry sent, before validation: the platform's account only
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    target = folder / f"upload-{stamp}-{uuid.uuid4().hex[:12]}.{extension}"
    tmp = folder / f".{target.name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target
