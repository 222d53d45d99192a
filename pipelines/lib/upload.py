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
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.auth import AuthStore
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


@dataclass
class UploadOutcome:
    ok: bool  # the run succeeded (the file may still be rejected: see outcome)
    outcome: object | None = None  # intake.FileOutcome
    seconds: float = 0.0
    error: str = ""


def submit_upload(settings: Settings, path: Path, *, actor: str, country: str,
                  original_name: str | None = None) -> UploadOutcome:
    """Run ``submission_job`` on one stored upload as a ministry submitter of ``country``
    (channel ``upload``; the 120-day window applies), in this process; return its report.
    ``original_name``, the name the user gave, is recorded as text (:func:`display_name`)."""
    from pipelines.lib.dagster_home import first_error, run_job_in_process
    from pipelines.lib.intake import sha256_of

    started = time.perf_counter()
    sha = sha256_of(path.read_bytes())
    # Answered about these bytes before (so "already received"), as this country sees them.
    seen_before = report_for(settings, sha, country) is not None
    config = {"files": [str(path)], "channel": "upload", "actor": actor, "received_on": [],
              "submitter_country": country, "role": "submitter", "remove_after": True,
              "original_names": [display_name(original_name or "")],
              "grant": AuthStore(settings).grant(actor, "submit")}
    result = run_job_in_process(settings, "submission_job", "intake", config,
                                tags={"observatory/channel": "upload", "observatory/actor": actor})
    path.unlink(missing_ok=True)
    outcome = report_for(settings, sha, country)
    if outcome is not None:
        outcome.duplicate = seen_before
    error = "" if result.success else first_error(result)[:500]
    return UploadOutcome(result.success, outcome, time.perf_counter() - started, error)


def report_for(settings: Settings, sha: str, country: str):
    """The report a submitter of ``country`` is shown for these bytes (intake.FileOutcome), or
    None while there is none: the file's own report if it says nothing about another member,
    else the answer intake gave this country as if the bytes were new."""
    from pipelines.lib.intake import belongs_to, load_report, report_path

    try:
        if report_path(settings, sha, country).exists():
            return load_report(settings, sha, country)
        outcome = load_report(settings, sha)
    except (OSError, ValueError):  # none yet, or being written
        return None
    return outcome if belongs_to(outcome, country) else None


@dataclass
class PendingUpload:
    """A submission job running in a background thread; its report appears as soon as intake
    has stored the file, while dbt and the publication go on."""

    sha256: str
    country: str
    seen_before: bool
    thread: threading.Thread
    started: float
    result: dict


def start_upload(settings: Settings, path: Path, *, actor: str, country: str,
                 original_name: str | None = None) -> PendingUpload:
    from pipelines.lib.intake import sha256_of

    sha = sha256_of(path.read_bytes())
    holder: dict = {}

    def run() -> None:
        holder["result"] = submit_upload(settings, path, actor=actor, country=country,
                                         original_name=original_name)

    thread = threading.Thread(target=run, name=f"upload-{sha[:12]}", daemon=True)
    pending = PendingUpload(sha, country, report_for(settings, sha, country) is not None, thread,
                            time.perf_counter(), holder)
    thread.start()
    return pending


def wait_for_report(settings: Settings, pending: PendingUpload, timeout: float = 300):
    """The file's report (intake.FileOutcome) once written, or None if the run ended without one
    (or ``timeout`` passed). A file received before has its report at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = report_for(settings, pending.sha256, pending.country)
        if outcome is not None:
            outcome.duplicate = pending.seen_before
            return outcome
        if not pending.thread.is_alive():
            return None
        time.sleep(0.05)
    return None


_warm = threading.Event()


def warm_up() -> None:
    """Import the pipeline (Dagster definitions, dbt manifest, Great Expectations) in a background
    thread once per server, so that the first upload does not pay several seconds of imports."""
    if _warm.is_set():
        return
    _warm.set()

    def load() -> None:
        import pipelines.definitions  # noqa: F401
        from pipelines.lib import gx_suite

        getattr(gx_suite, "warm_up", lambda: None)()

    threading.Thread(target=load, name="pipeline-warm-up", daemon=True).start()
