"""Which files a job may read: regular files inside the folders the platform owns.

A job's configuration can come from anyone who reaches the orchestrator, so a path in it is not
trusted: it must name a regular file (not a symbolic link, a directory, a FIFO or a device)
inside its channel's folder: the landing folder, the upload folder, or the inbox where the command
line (submit, demo, import-glotip) puts copies of what it is given (:func:`stage`, which refuses
the same kinds of path). A job never reads outside those folders.

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

# Far larger than any submission or GLOTIP file: a guard against /dev/zero-like files, not a limit
# users meet (uploads have their own, lower one).
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


# Each channel reads from its own folder only: a run configured as the landing folder's cannot
# take a pending upload or a file the command line staged. The command line, the demo loader and
# the GLOTIP import hand a job the copies they staged in the inbox.
CHANNEL_DIRS = {"landing": "landing", "upload": "uploads", "cli": "inbox", "demo": "inbox",
                "reference": "inbox", "plan": "inbox"}


def owned_dirs(settings: Settings, channel: str | None = None) -> list[Path]:
    folders = {"landing": settings.landing_dir, "uploads": uploads_dir(settings),
               "inbox": inbox_dir(settings)}
    if channel is None:
        return list(folders.values())
    return [folders[CHANNEL_DIRS[channel]]] if channel in CHANNEL_DIRS else []


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


def check_owned(settings: Settings, path: Path | str, channel: str | None = None) -> Path:
    """``path`` as an absolute path, if it is a regular file inside a folder the platform owns
    (the channel's own folder, when a channel is given)."""
    path = Path(path)
    problem = kind_of(path)
    if problem:
        raise InputRefused(problem, path)
    # resolve() also follows symbolic links in the folders above the file.
    resolved = path.resolve()
    if not _inside(resolved, owned_dirs(settings, channel)):
        raise InputRefused("input.outside", path)
    return resolved


def _inside(path: Path, folders: list[Path]) -> bool:
    return any(path.is_relative_to(folder.resolve()) for folder in folders)


def read_regular(path: Path, within: tuple[Path, ...] = ()) -> bytes:
    """The bytes of a regular file, refusing a symbolic link or a special file at the last moment.

    ``within``: the folders the file must be in, checked on the file actually opened (what
    ``/proc/self/fd`` names), so a folder swapped for a link after an earlier check is caught."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise InputRefused("input.symlink" if os.path.islink(path) else "input.unreadable",
                           path) from error
    with os.fdopen(fd, "rb") as handle:
        if within and not _inside(Path(os.readlink(f"/proc/self/fd/{handle.fileno()}")),
                                  list(within)):
            raise InputRefused("input.outside", path)
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
    target = folder / f"{uuid.uuid4().hex[:12]}-{_short(path.name)}"
    tmp = folder / f".{target.name}.tmp"
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def _short(name: str) -> str:
    """A name that stays a valid file name with a prefix (255 bytes at most), its end kept: the
    extension, which the reader and the reports use."""
    encoded = name.encode("utf-8")
    return name if len(encoded) <= 120 else encoded[-120:].decode("utf-8", "ignore")


def clear_staged(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def move_aside(settings: Settings, path: Path) -> Path:
    """Move a refused entry out of the landing folder (the entry itself: a link, not its target)."""
    folder = settings.home / "refused"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    target = folder / f"{uuid.uuid4().hex[:8]}-{_short(path.name)}"
    try:
        os.rename(path, target)
    except OSError:
        shutil.move(str(path), str(target))
    return target
