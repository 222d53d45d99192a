"""What a submitter is told about a file: its report (one per file, kept beside the archive),
and what changed between two versions of a unit. Reading these needs no warehouse: the
dashboard's server reads them, and only intake (in a job) writes them."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipelines.settings import Settings


@dataclass
class UnitOutcome:
    submission_id: str
    dataset: str | None
    country: str | None
    period: str | None
    version: int | None
    status: str
    errors: int
    warnings: int
    is_late: bool | None
    findings: list[dict] = field(default_factory=list)
    explained: bool = False  # its warnings were explained for the previous version (carried over)


@dataclass
class FileOutcome:
    file_name: str
    sha256: str
    duplicate: bool
    received_at: str
    units: list[UnitOutcome] = field(default_factory=list)
    # Whether this delivery added rows to the warehouse (a new file, accepted or not). Only the
    # job reads it, to skip the rebuild; it is never in the report (for a submitter it would
    # tell another member's file from new bytes).
    stored: bool = field(default=False, repr=False, compare=False)

    @property
    def accepted(self) -> bool:
        return bool(self.units) and all(u.status != "rejected" for u in self.units)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("stored")
        return data


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def report_path(settings: Settings, sha256: str, country: str | None = None) -> Path:
    """The file's report; with ``country``, what that member's submitter was told about bytes
    another country had sent (see ``intake._answer_not_stored``)."""
    return settings.archive_dir / (f"{sha256}.{country}.report.json" if country
                                   else f"{sha256}.report.json")


def load_report(settings: Settings, sha256: str, country: str | None = None) -> FileOutcome:
    data = json.loads(report_path(settings, sha256, country).read_text(encoding="utf-8"))
    units = [UnitOutcome(**u) for u in data.pop("units")]
    return FileOutcome(**data, units=units)


def belongs_to(outcome: FileOutcome, country: str) -> bool:
    """Whether a stored report tells a submitter of ``country`` nothing about another member."""
    return all(unit.country in (None, country) for unit in outcome.units)


def report_for(settings: Settings, sha: str, country: str):
    """The report a submitter of ``country`` is shown for these bytes (intake.FileOutcome), or
    None while there is none: the file's own report if it says nothing about another member,
    else the answer intake gave this country as if the bytes were new."""
    try:
        if report_path(settings, sha, country).exists():
            return load_report(settings, sha, country)
        outcome = load_report(settings, sha)
    except (OSError, ValueError):  # none yet, or being written
        return None
    return outcome if belongs_to(outcome, country) else None


def write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` under a temporary name beside it, then rename: a page polling
    for the file never reads it half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def write_report(settings: Settings, outcome: FileOutcome, country: str | None = None) -> None:
    write_atomically(report_path(settings, outcome.sha256, country),
                     json.dumps(outcome.as_dict(), ensure_ascii=False, indent=1))


# --- what changed between two versions --------------------------------------------------------


def version_changes(settings: Settings, old_sha: str, new_sha: str, dataset: str,
                    reader=None) -> list[dict]:
    """Cell by cell, what changed in ``dataset`` from the file ``old_sha`` to ``new_sha`` (both
    read again from the archive, never from the warehouse): one dict per cell added, removed or
    changed, with ``cell`` (indicator and its dimensions), ``before`` and ``after``.

    The dashboard calls this in the server process, so workbooks are parsed as intake parses
    them: in a child process with a memory cap and a time limit (``sandbox.CappedReader``, or
    ``reader`` if given). A file the child cannot read counts as having no cells."""
    from pipelines.lib.contracts import DIMENSIONS, NOT_APPLICABLE
    from pipelines.lib.sandbox import CappedReader

    if reader is None:
        with CappedReader() as capped:
            return version_changes(settings, old_sha, new_sha, dataset, reader=capped)

    def cells(sha: str) -> dict[str, str]:
        read = reader.read((settings.archive_dir / sha).read_bytes(), sha)
        if read.frame is None:
            return {}
        result = {}
        for row in read.frame.iter_rows(named=True):
            if (row.get("dataset") or "").strip() != dataset:
                continue
            parts = [(row.get("indicator") or "").strip()]
            parts += [f"{d}={(row.get(d) or '').strip() or NOT_APPLICABLE}" for d in DIMENSIONS
                      if (row.get(d) or "").strip() not in ("", NOT_APPLICABLE)]
            value = (row.get("value") or "").strip()
            if value.endswith(".0"):
                value = value[:-2]
            status = (row.get("obs_status") or "").strip()
            result[" · ".join(parts)] = value or status
        return result

    before, after = cells(old_sha), cells(new_sha)
    return [{"cell": cell, "before": before.get(cell, ""), "after": after.get(cell, "")}
            for cell in sorted(set(before) | set(after))
            if before.get(cell) != after.get(cell)]
