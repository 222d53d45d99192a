"""How the pipeline runs dbt: one project, its manifest prepared once, the warehouse from settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.faults import fault_point
from pipelines.settings import DBT_PROJECT_DIR, Settings, get_settings

TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"
# dbt's parse state, kept from one build to the next (see reuse_parse_state, keep_parse_state)
PARSE_STATE = TARGET_DIR / "partial_parse.msgpack"
# dbt as the pipeline runs it: `observatory-dbt` (``main`` below), never the bare `dbt`.
DBT = Path(sys.executable).with_name("observatory-dbt")
# The name the profile gives the warehouse, relative to the folder dbt runs in (see ``main``).
WAREHOUSE_FILE = "warehouse.duckdb"
# Options whose relative paths dbt reads against its working directory, which ``main`` changes.
# (--target-path is read against the project folder, which does not move.)
_CWD_PATH_OPTIONS = ("--project-dir", "--profiles-dir", "--log-path", "--state")


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What dbt needs in its environment: where the warehouse is, the publication design for
    small series, and no telemetry."""
    return {
        "OBSERVATORY_WAREHOUSE": str(settings.warehouse_path),
        "OBSERVATORY_DISCLOSURE_SMALL_SERIES": settings.disclosure_small_series,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    }


def build_args(select: list[str] | None = None) -> list[str]:
    """The arguments of the pipeline's dbt build (tested without Dagster).

    Unit tests check formulas, not data: they run in ``make test``, not on every submission.
    No manifest.json or run_results.json, no debug log file: nothing reads a build's (its
    folder is removed after it), and writing them costs about a second a build.
    """
    args = ["build", "--no-write-json", "--exclude", "test_type:unit", "--log-level-file", "none"]
    if select:
        args += ["--select", *select]
    return args


def prepare_manifest(force: bool = False) -> Path:
    """Parse the project once so Dagster can load its assets (``make`` does this at set-up).

    dbt's partial parsing is only reused while the profile is unchanged, and the warehouse path is
    part of it: parse with the same ``OBSERVATORY_HOME`` the pipeline will run with.
    """
    if force or not MANIFEST_PATH.exists():
        env = {**os.environ, **dbt_environment(get_settings())}
        subprocess.run(
            [str(DBT), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(TARGET_DIR)],
            check=True, env=env,
        )
    return MANIFEST_PATH


def reuse_parse_state(run_target: Path) -> None:
    """Before a build in a folder of its own: start it from the last build's parse state, so dbt
    parses only what changed."""
    run_target.mkdir(parents=True, exist_ok=True)
    if PARSE_STATE.exists():
        shutil.copyfile(PARSE_STATE, run_target / PARSE_STATE.name)


def keep_parse_state(run_target: Path) -> None:
    """After a build in its own target folder: keep dbt's parse state for the next run (so it
    parses only what changed) and remove the folder (several MB a run otherwise)."""
    state = run_target / PARSE_STATE.name
    if state.exists():
        tmp = TARGET_DIR / f".partial_parse.{os.getpid()}.tmp"
        shutil.copyfile(state, tmp)
        os.replace(tmp, PARSE_STATE)
    if run_target.resolve().parent == TARGET_DIR.resolve():
        shutil.rmtree(run_target, ignore_errors=True)


@dataclass(frozen=True)
class NodeOutcome:
    """One node of a build: its unique id, dbt's status (success, pass, error, fail, skipped,
    warn) and dbt's message."""

    unique_id: str
    status: str
    message: str | None


class DbtBuildFailed(RuntimeError):
    """A dbt build that did not end well: its failed nodes are in the message."""


# The parsed project, kept for the life of the process (see ``build``): a dbt parse costs about
# 1 s when nothing changed and 9 s when something did; the key says what it was parsed from.
_PARSED: dict[tuple, object] = {}
_PROJECT_PARTS = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def _project_fingerprint() -> tuple:
    files = []
    for part in _PROJECT_PARTS:
        path = DBT_PROJECT_DIR / part
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


@contextmanager
def _in_warehouse_folder(settings: Settings) -> Iterator[None]:
    """What ``main`` does for a dbt process, for a while in this one: dbt's environment set and
    the warehouse's folder the working directory; both put back after."""
    env = dbt_environment(settings)
    saved = {name: os.environ.get(name) for name in (*env, "OBSERVATORY_HOME")}
    cwd = os.getcwd()
    # get_settings() resolves a relative home against the working directory, which moves here
    os.environ["OBSERVATORY_HOME"] = str(Path(os.environ.get("OBSERVATORY_HOME", "data")).resolve())
    os.environ.update(env)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    os.chdir(settings.warehouse_path.parent)
    # A database another dbt invocation in this process left open (a file elsewhere: the
    # profile names it relative to the working directory) would take this build's writes.
    _release_warehouse()
    try:
        yield
    finally:
        _release_warehouse()
        os.chdir(cwd)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _release_warehouse() -> None:
    """dbt-duckdb keeps its database object for the life of the process (closed at exit, or
    when its last cursor closes); the warehouse must be free for the next writer as soon as a
    build ends, and a build must open its own."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()


def _common_args(target: Path) -> list[str]:
    return ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target), "--log-path", str(target), "--quiet"]


def _parsed_project(settings: Settings):
    """The project's manifest, parsed in this process once (from the last build's parse state)
    and again only when a file of the project or the publication design changes."""
    from dbt.cli.main import dbtRunner

    key = (settings.disclosure_small_series, _project_fingerprint())
    if key not in _PARSED:
        TARGET_DIR.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkdtemp(prefix="parse-", dir=TARGET_DIR))
        reuse_parse_state(target)
        with _in_warehouse_folder(settings):
            result = dbtRunner().invoke(["parse", "--no-write-json", *_common_args(target)])
        if not result.success:
            shutil.rmtree(target, ignore_errors=True)
            raise DbtBuildFailed(f"dbt could not parse the project: {result.exception}")
        keep_parse_state(target)
        _PARSED.clear()
        _PARSED[key] = result.result
    return _PARSED[key]


def build(settings: Settings, select: list[str] | None = None, *,
          log: Callable[[str], None] = lambda _: None) -> list[NodeOutcome]:
    """``dbt build`` of the project on the warehouse of ``settings``, in this process.

    A dbt process costs about 4 s before its first node (Python importing dbt, the adapter, the
    parse), as much again under load, for every build: a run does it once (the code server's runs
    are forked with dbt already imported and the project parsed, see ``pipelines/code_server.py``)
    and a process parses once. The caller holds the writer lock; dbt-duckdb's database is closed when the build ends.
    Raises ``DbtBuildFailed`` naming each failed node; the outcome of every node otherwise."""
    from dbt.cli.main import dbtRunner

    started = time.monotonic()
    manifest = _parsed_project(settings)
    finished = []

    def on_event(event) -> None:  # the robustness tests' kill point, twenty nodes into a build
        if event.info.name == "NodeFinished":
            finished.append(1)
            if len(finished) == 20:
                fault_point("during_dbt")

    # dbt calls back on every event (thousands a build): only when that kill point is asked for
    callbacks = [on_event] if os.environ.get("OBSERVATORY_FAULT") == "during_dbt" else []
    TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="build-", dir=TARGET_DIR) as target:
        with _in_warehouse_folder(settings):
            result = dbtRunner(manifest=manifest, callbacks=callbacks).invoke(
                [*build_args(select), *_common_args(Path(target))])
    outcomes = [NodeOutcome(node.node.unique_id, getattr(node.status, "value", str(node.status)),
                            node.message)
                for node in (result.result.results if result.result is not None else [])]
    failed = [o for o in outcomes if o.status in ("error", "fail")]
    if not result.success:
        detail = "\n".join(f"{o.unique_id}: {o.status}: {o.message}" for o in failed)
        raise DbtBuildFailed(f"dbt build failed:\n{detail or result.exception}")
    log(f"dbt build: {len(outcomes)} nodes in {time.monotonic() - started:.1f} s")
    return outcomes


def _absolute(value: str) -> str:
    return str(Path(value).absolute())


def main() -> None:
    """``observatory-dbt``: dbt, started in the warehouse's folder.

    The profile names the warehouse by its file name only, relative to the working directory,
    not by its absolute path: dbt throws its partial parse away whenever the profile changes, and
    an absolute path changed it with every home (an as-of export's private copy, every test's
    home), which cost a full parse of the project (about 9 s here) instead of about 1 s.

    The warehouse is ``$OBSERVATORY_WAREHOUSE`` or the home's; the project and profile default to
    the repository's, so ``observatory-dbt build`` works from any folder. Relative paths given
    to it keep meaning what they meant where it was started."""
    from pipelines.lib.i18n import DEFAULT_LANGUAGE, t

    lang = os.environ.get("OBSERVATORY_LANG", DEFAULT_LANGUAGE)  # as `observatory` chooses it
    chosen = os.environ.get("OBSERVATORY_WAREHOUSE")
    warehouse = Path(chosen).absolute() if chosen else get_settings().warehouse_path
    if warehouse.name != WAREHOUSE_FILE:
        sys.exit(t("cli.dbt.warehouse_name", lang, expected=WAREHOUSE_FILE, name=warehouse.name,
                   path=warehouse))
    args = list(sys.argv[1:])
    for i, arg in enumerate(args):
        option, equals, value = arg.partition("=")
        if option in _CWD_PATH_OPTIONS:
            if equals:
                args[i] = f"{option}={_absolute(value)}"
            elif i + 1 < len(args):
                args[i + 1] = _absolute(args[i + 1])
    for name in ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_LOG_PATH"):
        if os.environ.get(name):
            os.environ[name] = _absolute(os.environ[name])
    os.environ.setdefault("DBT_PROJECT_DIR", str(DBT_PROJECT_DIR))
    os.environ.setdefault("DBT_PROFILES_DIR", str(DBT_PROJECT_DIR))
    os.environ["OBSERVATORY_WAREHOUSE"] = str(warehouse)
    try:  # a fresh clone's home does not exist yet when `make setup` parses the project
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        os.chdir(warehouse.parent)
    except OSError as error:
        sys.exit(t("cli.dbt.cannot_work", lang, folder=warehouse.parent, reason=error.strerror))
    from dbt.cli.main import cli  # about 3 s: only once the arguments are known to be usable

    sys.exit(cli(args, prog_name="dbt"))
