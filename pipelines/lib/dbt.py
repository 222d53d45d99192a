"""How the pipeline runs dbt: one project, its manifest prepared once, the warehouse from settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    No manifest.json or run_results.json: nothing reads a build's (its folder is removed after
    it), and writing them costs about a second a build.
    """
    args = ["build", "--no-write-json", "--exclude", "test_type:unit"]
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
