"""Which files a job may read: regular files inside the folders the platform owns.

A job's configuration can come from anyone who reaches the orchestrator, so a path in it is not
trusted: it must name a regular file (not a symbolic link, a directory, a FIFO or a device)
inside the landing folder, the upload folder, the command line's inbox or the demo folder. The
command line copies what the operator names into its inbox first (:func:`stage`), refusing the
same kinds of path, so a job never reads outside those folders.

Reading goes through :func:`read_regular`, which does not follow a symbolic link put in place
after the check and never blocks on a FIFO.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from pathlib import Path

from pipelines.settings import Settings

# Larger than any submission or GLOTIP file (uploads stop at 20 MB): a guard against /dev/zero-like
# files, not a limit users meet.
MAX_INPUT_BYTES = 512 * 2**20


class InputRefused(ValueError):
    """A path a job or the command line will not read; ``key`` is an ``input.*`` translation key."""

    def __init__(self, key: str, path: Path | str):
        self.key = key
        self.path = str(path)
        super().__init__(f"{key}: {path}")


def inbox_dir(settings: Settings) -> Path:
    """Where the command line puts copies of the files it hands to a job."""
    return settings.home / "inbox"


def uploads_dir(settings: Settings) -> Path:
    """Where the web upload stores a file for the submission job."""
    return settings.home / "uploads"


def owned_dirs(settings: Settings) -> list[Path]:
    return [settings.landing_dir, uploads_dir(settings), inbox_dir(settings), settings.demo_dir]


def kind_of(path: Path) -> str | None:
    """Why ``path`` cannot be read as a submitted file (a translation key), or None if it can."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "input.missing"
    except OSError:
        return "input.unreadable"
    if stat.S_ISLNK(info.st_mode):
        return "input.symlink"
    if stat.S_ISDIR(info.st_mode):
        return "input.directory"
    if not stat.S_ISREG(info.st_mode):
        return "input.not_regular"
    if info.st_size > MAX_INPUT_BYTES:
        return "input.too_big"
    return None


def check_owned(settings: Settings, path: Path | str) -> Path:
    """``path`` as an absolute path, if it is a regular file inside a folder the platform owns."""
    path = Path(path)
    problem = kind_of(path)
    if problem:
        raise InputRefused(problem, path)
    # resolve() also follows symbolic links in the folders above the file.
    resolved = path.resolve()
    if not any(resolved.is_relative_to(folder.resolve()) for folder in owned_dirs(settings)):
        raise InputRefused("input.outside", path)
    return resolved


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file, refusing a symbolic link or a special file at the last moment."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise InputRefused("input.symlink" if os.path.islink(path) else "input.unreadable",
                           path) from error
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InputRefused("input.not_regular", path)
        if info.st_size > MAX_INPUT_BYTES:
            raise InputRefused("input.too_big", path)
        return handle.read(MAX_INPUT_BYTES + 1)


def stage(settings: Settings, path: Path) -> Path:
    """A private copy, in the inbox, of a file the operator named on the command line."""
    problem = kind_of(path)
    if problem:
        raise InputRefused(problem, path)
    data = read_regular(path)
    folder = inbox_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    # The name keeps the original one at the end: reports and the reader's format detection
    # use the file name.
    target = folder / f"{uuid.uuid4().hex[:12]}-{path.name}"
    tmp = folder / f".{target.name}.tmp"
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def clear_staged(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def move_aside(settings: Settings, path: Path) -> Path:
    """Move a refused entry out of the landing folder (the entry itself: a link, not its target)."""
    folder = settings.home / "refused"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    target = folder / f"{uuid.uuid4().hex[:8]}-{path.name}"
    try:
        os.rename(path, target)
    except OSError:
        shutil.move(str(path), str(target))
    return target
