"""Backups that restore: ``observatory backup``, ``restore`` and ``verify``.

A backup is a folder: a consistent copy of the warehouse (checkpointed and copied under the
writer lock, so a running job is never half in it), the archive of every file received with its
reports, the accounts store (SQLite's own online backup), the current serving snapshot with the
members' own stores, and ``manifest.json`` listing every file with its SHA-256. It is written
under a temporary name and renamed when complete: a folder with a manifest is a whole backup.

``restore`` checks every checksum before copying anything, and restores only into a home without
a warehouse or archive (unless told to replace them). ``verify`` checks a home: every archived
file against its name (its SHA-256), every file the warehouse records against the archive, and
every archived file against the warehouse's records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.lib.publish import POINTER, current_snapshot
from pipelines.lib.warehouse import connect_writer, writer_lock
from pipelines.settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1  # the backup layout; restore refuses others


class BackupError(Exception):
    """A backup or restore that cannot go on; ``key`` is a ``backup.*`` translation key."""

    def __init__(self, key: str, **values: object):
        super().__init__(f"{key} {values}")
        self.key, self.values = key, values


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _private_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copyfile(source, target)
    target.chmod(0o600)


def backup(settings: Settings, out: Path) -> dict:
    """Write a backup of ``settings.home`` into the new folder ``out``; return its manifest."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError("backup.out_not_empty", path=out)
    if not settings.warehouse_path.exists():
        raise BackupError("backup.nothing", path=settings.home)
    work = out.with_name(f".{out.name}.partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)
    try:
        with writer_lock(settings):
            con = connect_writer(settings.warehouse_path)
            try:
                con.execute("checkpoint")  # everything in the one file, no WAL to copy
            finally:
                con.close()
            _private_copy(settings.warehouse_path, work / "warehouse.duckdb")
            # Files are only ever added to the archive, under the lock: a copy taken under it
            # matches the warehouse's records.
            for path in sorted(settings.archive_dir.iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    _private_copy(path, work / "archive" / path.name)
            snapshot = current_snapshot(settings)
            if snapshot is not None:
                _private_copy(snapshot, work / "serving" / snapshot.name)
                own = snapshot.with_suffix(".own")
                for path in sorted(own.glob("*.duckdb")) if own.is_dir() else []:
                    _private_copy(path, work / "serving" / own.name / path.name)
                (work / "serving" / POINTER).write_text(snapshot.name, encoding="utf-8")
        auth = settings.home / "auth.sqlite"
        if auth.exists():
            source, target = sqlite3.connect(auth), sqlite3.connect(work / "auth.sqlite")
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
            (work / "auth.sqlite").chmod(0o600)
        files = {str(p.relative_to(work)): {"sha256": _sha256(p), "bytes": p.stat().st_size}
                 for p in sorted(work.rglob("*")) if p.is_file()}
        manifest = {"format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(),
                    "home": str(settings.home), "files": files}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        if out.exists():
            out.rmdir()
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def restore(settings: Settings, source: Path, *, replace: bool = False) -> dict:
    """Restore the backup ``source`` into ``settings.home``; return its manifest."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
        if manifest.get("format") != FORMAT:
            raise BackupError("backup.bad_format", path=source)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError("backup.no_manifest", path=source) from error
    for name, entry in files.items():
        path = source / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise BackupError("backup.bad_file", path=name)
        if not path.is_file() or path.is_symlink() or _sha256(path) != entry["sha256"]:
            raise BackupError("backup.bad_file", path=name)
    home = settings.home
    if not replace and (settings.warehouse_path.exists() or (
            settings.archive_dir.exists() and any(settings.archive_dir.iterdir()))):
        raise BackupError("backup.home_not_empty", path=home)
    settings.ensure_dirs()
    with writer_lock(settings):
        for name in files:
            target = home / name
            tmp = target.with_name(f".{target.name}.restoring")
            _private_copy(source / name, tmp)
            os.replace(tmp, target)
        Path(f"{settings.warehouse_path}.wal").unlink(missing_ok=True)
    return manifest


@dataclass
class Verification:
    files: int = 0  # files the warehouse records
    archived: int = 0  # files in the archive
    problems: list[tuple[str, str]] = field(default_factory=list)  # (translation key, what)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(settings: Settings) -> Verification:
    """Check the archive against its names and the warehouse's records, both ways."""
    result = Verification()
    archived = {}
    if settings.archive_dir.exists():
        for path in sorted(settings.archive_dir.iterdir()):
            if not path.is_file() or path.name.startswith(".") or "." in path.name:
                continue  # reports (<sha>.report.json) and temporary files
            archived[path.name] = path
    result.archived = len(archived)
    with writer_lock(settings):
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        try:
            recorded = {sha for (sha,) in con.execute("select file_sha256 from raw.files")
                        .fetchall()}
            # The regional plan's files (pipelines/lib/plan.py) are archived the same way.
            if con.execute("select count(*) from information_schema.tables where table_schema "
                           "= 'raw' and table_name = 'plan_versions'").fetchone()[0]:
                recorded |= {sha for (sha,) in con.execute(
                    "select file_sha256 from raw.plan_versions").fetchall()}
        finally:
            con.close()
    result.files = len(recorded)
    for sha, path in archived.items():
        if _sha256(path) != sha:
            result.problems.append(("backup.verify.altered", sha))
        if sha not in recorded:
            result.problems.append(("backup.verify.unrecorded", sha))
    for sha in sorted(recorded - set(archived)):
        result.problems.append(("backup.verify.missing", sha))
    return result


def scheduled_backup(settings: Settings, now: dt.datetime | None = None
                     ) -> tuple[Path, list[str]]:
    """A backup into ``$OBSERVATORY_BACKUP_DIR/observatory-<UTC time>``, then the oldest removed
    beyond ``$OBSERVATORY_BACKUP_KEEP`` (7). Returns the new folder and the names removed."""
    folder = os.environ.get("OBSERVATORY_BACKUP_DIR", "").strip()
    if not folder:
        raise BackupError("backup.no_dir")
    text = os.environ.get("OBSERVATORY_BACKUP_KEEP", "7")
    try:
        keep = int(text)
    except ValueError:
        keep = 0
    if keep < 1:
        raise BackupError("backup.bad_keep", value=text)
    root = Path(folder).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    written = root / f"observatory-{stamp}"
    backup(settings, written)
    # Only whole backups of this schedule (named so, with a manifest) are counted and pruned.
    ours = sorted(p for p in root.glob("observatory-*") if (p / MANIFEST).is_file())
    removed = []
    for old in ours[:-keep]:
        shutil.rmtree(old)
        removed.append(old.name)
    return written, removed
