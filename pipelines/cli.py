"""The observatory's command line: ``observatory submit FILE...``, ``observatory demo``.

Commands that change data run the same Dagster job as the landing-folder sensor (in this
process, recorded in the same Dagster instance), so the dashboard reflects the new data when
they return. Exit codes: 0 every file accepted, 1 any file rejected (or the run failed),
2 usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
from pathlib import Path

from pipelines.lib.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from pipelines.settings import Settings, get_settings

MAX_FINDINGS_SHOWN = 25


# argparse's own messages (Python 3.11), said again in the reader's language: the key, and the
# pattern of the English text it stands for.
USAGE_PROBLEMS = (
    ("cli.usage.required", r"the following arguments are required: (?P<arguments>.+)"),
    ("cli.usage.unrecognized", r"unrecognized arguments: (?P<arguments>.+)"),
    ("cli.usage.choice", r"argument (?P<argument>\S+): invalid choice: '?(?P<value>.*?)'? "
                         r"\(choose from (?P<choices>.+)\)"),
    ("cli.usage.needs_value", r"argument (?P<argument>\S+): expected .*argument"),
    ("cli.usage.bad_value", r"argument (?P<argument>\S+): invalid \w+ value: '?(?P<value>.*?)'?"),
)


def _language(argv: list[str]) -> str:
    """The language asked for on the command line (read before argparse, which may fail first)."""
    for i, arg in enumerate(argv):
        value = arg.removeprefix("--lang=") if arg.startswith("--lang=") else (
            argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else None)
        if value in LANGUAGES:
            return value
    language = os.environ.get("OBSERVATORY_LANG", DEFAULT_LANGUAGE)
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def _h(key: str, **values: object) -> str:
    """A help text of the command line, in its language (:attr:`_Parser.language`)."""
    return t(f"cli.help.{key}", _Parser.language, **values)


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        # argparse passes prefix="" when it builds a sub-command's name: only None is the heading
        super().add_usage(usage, actions, groups,
                          prefix=f"{_h('usage')} " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse in the reader's language: its help (headings and every option's text) and its
    usage errors, said in one line with the command to get help rather than the usage block and
    argparse's English (exit code 2, as argparse's). The language is the command line's own
    (``--lang``), as :func:`main` finds it before parsing."""

    language = DEFAULT_LANGUAGE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "add_help": False, "formatter_class": _Formatter})
        self._positionals.title = _h("positionals")
        self._optionals.title = _h("options")
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help=_h("help"))

    def error(self, message: str):
        problem = message.rstrip(".")
        for key, pattern in USAGE_PROBLEMS:
            found = re.fullmatch(pattern, problem)
            if found:
                values = found.groupdict()
                if "choices" in values:
                    values["choices"] = values["choices"].replace("'", "")
                if values.get("argument", "").endswith("command"):  # a sub-command itself
                    key = "cli.usage.command"
                if values.get("arguments", "").endswith("command"):  # no sub-command given
                    key = "cli.usage.no_command"
                problem = t(key, self.language, **values)
                break
        print(t("cli.usage.error", self.language, command=self.prog, problem=problem),
              file=sys.stderr)
        self.exit(2)


def main(argv: list[str] | None = None) -> int:
    _Parser.language = _language(sys.argv[1:] if argv is None else argv)
    parser = _Parser(prog="observatory", description=_h("description"))
    parser.add_argument("--lang", choices=LANGUAGES, help=_h("lang"),
                        default=os.environ.get("OBSERVATORY_LANG", DEFAULT_LANGUAGE))
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit", help=_h("submit"))
    submit.add_argument("files", nargs="+", type=Path, metavar=_h("arg.files"))
    submit.add_argument("--country", help=_h("submit.country"))
    demo = commands.add_parser("demo", help=_h("demo"))
    demo.add_argument("--no-load", action="store_true", help=_h("demo.no_load"))
    glotip = commands.add_parser(
        "import-glotip", help=_h("import_glotip"))
    glotip.add_argument("file", type=Path, metavar=_h("arg.file"))
    _add_export_command(commands)
    template = commands.add_parser(
        "template", help=_h("template"))
    template.add_argument("--country", required=True, help=_h("template.country"))
    template.add_argument("--period", required=True,
                          help=_h("template.period"))
    template.add_argument("--datasets", nargs="+", help=_h("template.datasets"))
    template.add_argument("--out", type=Path, required=True, help=_h("template.out"))
    _add_plan_commands(commands)
    _add_workflow_commands(commands)
    _add_backup_commands(commands)
    api = commands.add_parser("api", help=_h("api"))
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=int(os.environ.get("OBSERVATORY_API_PORT", 8000)))
    api.add_argument("--workers", type=int,
                     default=int(os.environ.get("OBSERVATORY_API_WORKERS", 1)),
                     help=_h("api.workers"))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    settings = get_settings()
    problem = settings.problem()
    if problem:
        print(t(problem[0], args.lang, value=problem[1]), file=sys.stderr)
        return 2
    from pipelines.lib.migrations import StateTooNew
    from pipelines.orchestrator import LaunchRefused, OrchestratorUnavailable

    try:
        return _run_command(settings, args)
    except StateTooNew as error:
        print(t(error.key, args.lang, store=t(f"state.store.{error.store}", args.lang),
                **error.values), file=sys.stderr)
        return 1
    except OrchestratorUnavailable:  # it stopped between the check and the launch
        print(t("workflow.orchestrator_down", args.lang), file=sys.stderr)
        return 1
    except LaunchRefused as refused:
        print(t("cli.pipeline_failed", args.lang, error=str(refused)[:500]), file=sys.stderr)
        return 1


def _run_command(settings: Settings, args) -> int:
    if args.command not in ("migrate", "restore"):  # restore may replace a newer state
        from pipelines.lib.upgrade import check_home

        check_home(settings)
    if args.command == "submit":
        return run_submission(settings, args.files, lang=args.lang, channel="cli", actor="operator",
                              submitter_country=args.country.strip().upper() if args.country
                              else None)
    if args.command == "demo":
        return run_demo(settings, lang=args.lang, load=not args.no_load)
    if args.command == "import-glotip":
        return run_glotip_import(settings, args.file, lang=args.lang)
    if args.command == "plan":
        return run_plan_command(settings, args)
    if args.command == "template":
        return run_template(args)
    if args.command == "users":
        return run_users(settings, args)
    if args.command == "review":
        return run_review_command(settings, args)
    if args.command == "export":
        return run_export_command(settings, args)
    if args.command in ("backup", "restore", "verify"):
        return run_backup_command(settings, args)
    if args.command == "migrate":
        from pipelines.lib.dagster_home import prepare_dagster_home
        from pipelines.lib.upgrade import migrate_home

        settings.ensure_dirs()  # the home's folders and Dagster's configuration, then the stores
        prepare_dagster_home(settings)
        for store, found, now in migrate_home(settings):
            name = t(f"state.store.{store}", args.lang)
            name = name[:1].upper() + name[1:]  # it starts the line
            key = ("state.absent" if found is None else
                   "state.current" if found == now else "state.migrated")
            print(t(key, args.lang, store=name, found=found, now=now))
        return 0
    if args.command == "api":
        from api.app import main as serve_api

        serve_api(["--host", args.host, "--port", str(args.port), "--workers",
                   str(args.workers)])
        return 0
    return 2


# --- evaluator exports (issue 5) --------------------------------------------------------------


def _add_export_command(commands) -> None:
    from pipelines.lib.export import FORMATS

    export = commands.add_parser(
        "export", help=_h("export"))
    export.add_argument("--format", dest="formats", action="append", nargs="+", metavar="FORMAT",
                        help=_h("export.format", formats=", ".join(FORMATS)))
    export.add_argument("--out", type=Path, required=True, help=_h("export.out"))
    export.add_argument("--as-of", dest="as_of",
                        help=_h("export.as_of"))
    export.add_argument("--indicators", nargs="+", help=_h("export.indicators"))


def run_export_command(settings: Settings, args) -> int:
    from pipelines.lib.disclosure.gate import DisclosureAuditFailed
    from pipelines.lib.export import FORMATS, NothingToExport, run_export

    def fail(key: str, code: int = 2, **values) -> int:
        print(t(key, args.lang, **values), file=sys.stderr)
        return code

    as_of = None
    if args.as_of:
        try:
            as_of = dt.date.fromisoformat(args.as_of)
        except ValueError:
            return fail("export.cli.bad_date", value=args.as_of)
        if as_of > settings.today:
            return fail("export.cli.future_date", value=args.as_of, today=settings.today)
    formats = [f.strip().lower() for group in args.formats or [FORMATS] for item in group
               for f in item.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        return fail("export.cli.bad_format", value=", ".join(unknown), known=", ".join(FORMATS))
    out = args.out.expanduser()
    if out.exists() and not out.is_dir():
        return fail("export.cli.out_not_folder", path=out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".observatory-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        return fail("export.cli.out_unwritable", path=out, error=error.strerror or error)
    try:
        if as_of is None:
            manifest = run_export(settings, formats, out.resolve(), indicators=args.indicators,
                                  lang=args.lang)
        else:  # the operator's own command may rebuild a vintage here (it is not the web server)
            from pipelines.lib.vintage import export_as_of

            manifest = export_as_of(settings, formats, out.resolve(), as_of=as_of,
                                    indicators=args.indicators, lang=args.lang)
    except FileNotFoundError:
        return fail("export.cli.no_snapshot", 1)
    except DisclosureAuditFailed:
        return fail("export.cli.disclosure_refused", PROCESSING_FAILED)
    except NothingToExport:
        return fail("export.cli.nothing", 1, indicators=" ".join(args.indicators or ["*"]),
                    as_of=args.as_of or "-")
    print(t("export.cli.done", args.lang, count=len(manifest["files"]) + 1, path=args.out,
            rows=manifest["rows"]))
    return 0


# --- the regional plan (DOMAIN.md §9) ----------------------------------------------------------


def run_template(args) -> int:
    """``observatory template``: the submitter page's XLSX template (the same rows, the same
    workbook), written without the web. Exit 2 with one line on a bad country, quarter, data set
    or path."""
    from pipelines.lib.contracts import load_contracts
    from pipelines.lib.template import template_rows, write_xlsx

    contracts = load_contracts()
    country = args.country.strip().upper()
    expected = list(contracts.reporting["expected_datasets"])
    datasets = [d.strip().upper() for d in args.datasets] if args.datasets else expected
    # One period per file: quarterly data sets, or the annual ones (POLICY_FRAMEWORK, a year).
    annual = [d for d in datasets if d in contracts.annual_datasets]
    known = expected if not annual else contracts.annual_datasets
    problem = None
    if country not in contracts.members:
        problem = t("cli.template.country", args.lang, value=args.country,
                    members=", ".join(sorted(contracts.members)))
    else:
        try:
            quarter = contracts.period(annual[0] if annual else None, args.period.strip())
        except ValueError:
            problem = t("cli.template.year" if annual else "cli.template.period", args.lang,
                        value=args.period)
    unknown = [d for d in datasets if d not in known]
    out = args.out.expanduser()
    if problem is None and annual and len(annual) < len(datasets):
        problem = t("cli.template.mixed", args.lang, annual=", ".join(annual))
    elif problem is None and unknown:
        problem = t("cli.template.datasets", args.lang, value=", ".join(unknown),
                    known=", ".join(expected) + " | " + ", ".join(contracts.annual_datasets))
    if problem is None and (out.exists() or not out.parent.is_dir()
                            or out.suffix.lower() != ".xlsx"):
        problem = t("cli.template.out", args.lang, path=out)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        write_xlsx(tmp, {d: template_rows(d, country, quarter) for d in datasets}, lang=args.lang)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    print(t("cli.template.written", args.lang, path=out, country=country, period=str(quarter),
            datasets=", ".join(datasets)))
    return 0


def _add_plan_commands(commands) -> None:
    plan = commands.add_parser("plan", help=_h("plan"))
    plan_commands = plan.add_subparsers(dest="plan_command", required=True)
    load = plan_commands.add_parser(
        "import", help=_h("plan.import"))
    load.add_argument("file", type=Path, metavar=_h("arg.file"))
    out = plan_commands.add_parser(
        "export", help=_h("plan.export"))
    out.add_argument("--out", type=Path, required=True, help=_h("plan.out"))


def run_plan_command(settings: Settings, args) -> int:
    if args.plan_command == "import":
        return run_plan_import(settings, args.file, lang=args.lang)
    return run_plan_export(settings, args.out, lang=args.lang)


def run_plan_import(settings: Settings, path: Path, *, lang: str, actor: str = "operator",
                    illustrative: bool = False, quiet: bool = False) -> int:
    """Run the plan job on one plan file and print its report: 0 accepted, 1 rejected (or the
    run failed), 2 a path that is not a readable file."""
    from pipelines.lib.inputs import clear_staged
    from pipelines.lib.plan import PlanFileError, PlanReport, read_plan, render_report, report_path
    from pipelines.lib.publish import current_snapshot

    staged = _stage_all(settings, [path], lang)
    if staged is None:
        return 2
    try:
        read_plan(staged[0])  # a file that is not a plan is refused here, in one line
    except PlanFileError as error:
        clear_staged(staged)
        print(error.text(lang), file=sys.stderr)
        return 1
    try:
        result = runner_for(settings)("plan_job", "plan_import",
                                      {"file": str(staged[0]), "actor": actor,
                                       "illustrative": illustrative},
                                      {"observatory/channel": "cli"})
    finally:
        clear_staged(staged)
    report_file = report_path(settings, result.run_id)
    report = None
    if report_file.exists():
        report = PlanReport.from_json(report_file.read_text(encoding="utf-8"))
        report.file_name = path.name
        snapshot = current_snapshot(settings)
        if not quiet:
            print("\n".join(render_report(report, lang,
                                           snapshot=snapshot.name if snapshot else "-")))
    if not result.success:
        print(t("cli.pipeline_failed", lang, error=result.first_error()[:500]), file=sys.stderr)
        return PROCESSING_FAILED
    return 0 if report is not None and report.status == "accepted" else 1


def run_plan_export(settings: Settings, out: Path, *, lang: str) -> int:
    """The plan in force, from the serving snapshot (never the warehouse), as plan.xlsx and
    plan.csv; headers only when no plan is published yet."""
    from pipelines.lib.plan import plan_in_snapshot, write_plan_files
    from pipelines.lib.publish import current_snapshot

    out = out.expanduser()
    if out.exists() and not out.is_dir():
        print(t("export.cli.out_not_folder", lang, path=out), file=sys.stderr)
        return 2
    snapshot = current_snapshot(settings)
    rows, version = plan_in_snapshot(snapshot) if snapshot else ([], None)
    try:
        write_plan_files(rows, out)
    except OSError as error:
        print(t("export.cli.out_unwritable", lang, path=out, error=error.strerror or error),
              file=sys.stderr)
        return 2
    if version is None:
        print(t("plan.cli.exported_empty", lang, path=out))
    else:
        print(t("plan.cli.exported", lang, version=version, rows=len(rows), path=out))
    return 0


# --- accounts and review decisions (issue 7) --------------------------------------------------


def _add_workflow_commands(commands) -> None:
    from pipelines.lib.auth import ROLES

    users = commands.add_parser("users", help=_h("users"))
    user_commands = users.add_subparsers(dest="users_command", required=True)
    add = user_commands.add_parser("add", help=_h("users.add"))
    add.add_argument("name", metavar=_h("arg.name"))
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--country", help=_h("users.country"))
    add.add_argument("--password-stdin", action="store_true",
                     help=_h("users.password_stdin"))
    user_commands.add_parser("list", help=_h("users.list"))
    disable = user_commands.add_parser("disable", help=_h("users.disable"))
    disable.add_argument("name", metavar=_h("arg.name"))

    review = commands.add_parser("review", help=_h("review"))
    review.add_argument("decision", choices=("accept", "return"), metavar=_h("arg.decision"),
                        help=_h("review.decision"))
    review.add_argument("submission_id", metavar=_h("arg.submission"))
    review.add_argument("--reason", default="")
    review.add_argument("--as", dest="reviewer", required=True,
                        help=_h("review.as"))


def _add_backup_commands(commands) -> None:
    backup = commands.add_parser("backup", help=_h("backup"))
    backup.add_argument("--out", type=Path, required=True)
    restore = commands.add_parser("restore", help=_h("restore"))
    restore.add_argument("source", type=Path, metavar=_h("arg.source"))
    restore.add_argument("--replace", action="store_true",
                         help=_h("restore.replace"))
    commands.add_parser("verify", help=_h("verify"))
    commands.add_parser("migrate", help=_h("migrate"))


def run_backup_command(settings: Settings, args) -> int:
    from pipelines.lib.backup import BackupError, backup, restore, verify

    try:
        if args.command == "backup":
            manifest = backup(settings, args.out.expanduser().resolve())
            print(t("backup.done", args.lang, path=args.out, count=len(manifest["files"])))
            return 0
        if args.command == "restore":
            if not args.source.expanduser().exists():
                print(t("backup.missing", args.lang, path=args.source), file=sys.stderr)
                return 2
            manifest = restore(settings, args.source.expanduser().resolve(), replace=args.replace)
            print(t("backup.restored", args.lang, count=len(manifest["files"]),
                    created=manifest["created_at"][:19].replace("T", " "), path=settings.home))
            return 0
    except BackupError as error:
        print(t(error.key, args.lang, **error.values), file=sys.stderr)
        return 1 if error.key in ("backup.bad_file", "backup.no_manifest",
                                  "backup.bad_format") else 2
    except OSError as error:  # a full disk, a folder that cannot be written: one line
        print(t("input.unreadable", args.lang, path=f"{error.filename} ({error.strerror})"),
              file=sys.stderr)
        return 1
    if not settings.warehouse_path.exists():
        print(t("backup.nothing", args.lang, path=settings.home), file=sys.stderr)
        return 2
    result = verify(settings)
    for key, what in result.problems:
        print(t(key, args.lang, what=what), file=sys.stderr)
    if result.ok:
        print(t("backup.verify.ok", args.lang, files=result.files, archived=result.archived))
    return 0 if result.ok else 1


def run_users(settings: Settings, args) -> int:
    import getpass

    from pipelines.lib.auth import AuthError, AuthStore

    store = AuthStore(settings)
    if args.users_command == "add":
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass(t("workflow.cli.password", args.lang))
            if getpass.getpass(t("workflow.cli.password_again", args.lang)) != password:
                print(t("workflow.cli.password_mismatch", args.lang), file=sys.stderr)
                return 2
        try:
            user = store.add_user(args.name, args.role, password, args.country)
        except AuthError as error:
            print(t("workflow.cli.user_refused", args.lang, error=error.text(args.lang)),
                  file=sys.stderr)
            return 2
        print(t("workflow.cli.user_added", args.lang, name=user.username, role=user.role,
                country=user.country or "-"))
        return 0
    if args.users_command == "list":
        for user in store.list_users():
            state = t("workflow.cli.active" if user["active"] else "workflow.cli.disabled",
                      args.lang)
            print(f"{user['username']:<24} {user['role']:<10} {user['country'] or '-':<4} {state}")
        return 0
    if args.users_command == "disable":
        if not store.disable_user(args.name):
            print(t("workflow.cli.no_user", args.lang, name=args.name), file=sys.stderr)
            return 2  # as for a review in an unknown name: the argument names nobody
        print(t("workflow.cli.user_disabled", args.lang, name=args.name))
        return 0
    return 2


def run_review_command(settings: Settings, args) -> int:
    """``observatory review accept|return ID --reason ... --as REVIEWER``: the account must exist
    and be a reviewer (the operator acts in the name of a secretariat member, on record)."""
    from pipelines.lib.auth import AuthStore
    from pipelines.lib.decisions import Decision
    from pipelines.orchestrator import run_review

    accounts = {u["username"]: u for u in AuthStore(settings).list_users() if u["active"]}
    account = accounts.get(args.reviewer.strip().lower())
    if account is None:
        print(t("workflow.cli.no_user", args.lang, name=args.reviewer), file=sys.stderr)
        return 2
    outcome = run_review(settings, Decision(
        action=args.decision, actor=account["username"], actor_role=account["role"],
        actor_country=account["country"], submission_id=args.submission_id, reason=args.reason),
        runner=runner_for(settings))
    if not outcome.ok:
        print(t(outcome.key, args.lang, **(outcome.values or {})), file=sys.stderr)
        return 1
    print(t(f"workflow.review.done_{args.decision}", args.lang, submission=args.submission_id))
    return 0


def run_submission(settings: Settings, files: list[Path], *, lang: str, channel: str, actor: str,
                   received_on: list[dt.date] | None = None,
                   submitter_country: str | None = None, quiet: bool = False,
                   role: str = "operator") -> int:
    """Run the submission job on copies of ``files`` (the job reads only the platform's folders)
    and print a report for each; return the exit code (2: a path that is not a readable file)."""
    from pipelines.lib.inputs import clear_staged
    from pipelines.lib.publish import current_snapshot
    from pipelines.lib.reports import load_report, report_path, sha256_of

    staged = _stage_all(settings, files, lang)
    if staged is None:
        return 2
    hashes = [sha256_of(p.read_bytes()) for p in staged]
    seen_before = {sha for sha in hashes if report_path(settings, sha).exists()}
    config = {"files": [str(p) for p in staged], "channel": channel, "actor": actor,
              "received_on": [d.isoformat() for d in received_on or []],
              "submitter_country": submitter_country, "role": role, "remove_after": True,
              "original_names": [p.name for p in files]}
    try:
        result = runner_for(settings)("submission_job", "intake", config,
                                      {"observatory/channel": channel})
    finally:
        clear_staged(staged)
    outcomes = []
    for sha in hashes:
        try:
            outcome = load_report(settings, sha)
            outcome.duplicate = sha in seen_before
            outcomes.append(outcome)
        except FileNotFoundError:
            pass
    if not quiet:
        for outcome, path in zip(outcomes, files, strict=False):
            print_report(outcome, settings, lang, name=path.name)
    if not result.success:
        print(t("cli.pipeline_failed", lang, error=result.first_error()[:500]), file=sys.stderr)
        return PROCESSING_FAILED
    accepted = sum(o.accepted for o in outcomes)
    snapshot = current_snapshot(settings)
    print(t("cli.summary", lang, accepted=accepted, total=len(files),
            snapshot=snapshot.name if snapshot else "-"))
    return 0 if accepted == len(files) else 1


def runner_for(settings: Settings):
    """The orchestrator serving this home when one runs (``make run``): the job is queued there
    and shows in its run history like the pages' jobs. Else the job runs in this command's own
    process: the operator's command line is no public server, and the writer lock keeps it from
    running beside another writer."""
    from pipelines import orchestrator

    if orchestrator.available(settings):
        return orchestrator.queued(settings)
    from pipelines.defs.local import run_here

    return run_here(settings, log_level="CRITICAL")


def _stage_all(settings: Settings, files: list[Path], lang: str) -> list[Path] | None:
    """Copies of ``files`` in the inbox, or None after saying which path cannot be read and why."""
    from pipelines.lib.inputs import InputRefused, clear_staged, stage

    staged: list[Path] = []
    for path in files:
        try:
            staged.append(stage(settings, Path(path)))
        except InputRefused as refused:
            clear_staged(staged)
            print(t(refused.key, lang, path=refused.path), file=sys.stderr)
            return None
        except OSError as error:  # the inbox itself (a full disk, ...): one line, no traceback
            clear_staged(staged)
            print(t("input.unreadable", lang, path=f"{path} ({error.strerror or error})"),
                  file=sys.stderr)
            return None
    return staged


def print_report(outcome, settings: Settings, lang: str, name: str | None = None) -> None:
    from pipelines.lib.findings import finding_message
    from pipelines.lib.reports import report_path

    print(t("cli.file", lang, name=name or outcome.file_name, sha=outcome.sha256[:16]))
    if outcome.duplicate:
        print(t("cli.duplicate", lang, when=outcome.received_at[:19].replace("T", " ")))
    for unit in outcome.units:
        status = t(f"cli.status.{unit.status}", lang)
        if unit.dataset:
            print(t("cli.unit", lang, dataset=unit.dataset, country=unit.country,
                    period=unit.period, version=unit.version or "-", status=status,
                    errors=unit.errors, warnings=unit.warnings))
        else:
            print(t("cli.unit_unknown", lang, status=status, errors=unit.errors))
        for finding in unit.findings[:MAX_FINDINGS_SHOWN]:
            where = t("cli.where", lang, sheet=finding["sheet"] or "-",
                      row=finding["row"] or "-", column=finding["column"] or "-")
            message = finding_message(finding, lang)
            print(f"    [{finding['rule']} {t('cli.severity.' + finding['severity'], lang)}] "
                  f"{where}: {message}")
        hidden = len(unit.findings) - MAX_FINDINGS_SHOWN
        if hidden > 0:
            print(t("cli.more_findings", lang, count=hidden,
                    path=report_path(settings, outcome.sha256)))


def run_glotip_import(settings: Settings, path: Path, *, lang: str, actor: str = "operator") -> int:
    """Run the reference job on one UNODC GLOTIP file and print its import report (issue 6)."""
    from pipelines.lib.glotip import ImportReport, render_report, report_path
    from pipelines.lib.inputs import clear_staged
    from pipelines.lib.publish import current_snapshot

    started = time.perf_counter()
    from pipelines.lib.glotip import GlotipFileError, read_glotip

    staged = _stage_all(settings, [path], lang)
    if staged is None:
        return 2
    try:
        read_glotip(staged[0])  # a file that is not UNODC's is refused here, in one line
    except GlotipFileError as error:
        clear_staged(staged)
        print(error.text(lang), file=sys.stderr)
        return 1
    try:
        result = runner_for(settings)("reference_job", "glotip_import",
                                      {"file": str(staged[0]), "actor": actor},
                                      {"observatory/channel": "cli"})
    finally:
        clear_staged(staged)
    report_file = report_path(settings, result.run_id)
    if report_file.exists():
        report = ImportReport.from_json(report_file.read_text(encoding="utf-8"))
        snapshot = current_snapshot(settings)
        print("\n".join(render_report(report, lang, snapshot=snapshot.name if snapshot else "-",
                                       total_seconds=time.perf_counter() - started)))
    if not result.success:
        print(t("cli.pipeline_failed", lang, error=result.first_error()[:500]), file=sys.stderr)
        return PROCESSING_FAILED
    return 0


# Exit code of a submission whose files were received but whose processing failed (nothing new
# published): distinct from 1, a file rejected, which the demo expects.
PROCESSING_FAILED = 3


def run_demo(settings: Settings, *, lang: str, load: bool = True) -> int:
    """Write the demo submissions (deterministic) and load them in the order they were 'sent'."""
    from pipelines.lib.demo import generate_demo

    files = generate_demo(settings.demo_dir, settings.today)
    print(t("cli.demo_written", lang, count=len(files), path=settings.demo_dir))
    if not load:
        return 0
    code = run_submission(settings, [f.path for f in files], lang=lang, channel="demo",
                          actor="demo-generator", received_on=[f.received_on for f in files],
                          quiet=True)
    # The demo holds one file that must be rejected, so 1 is its expected outcome.
    if code not in (0, 1):
        return code
    return run_demo_plan(settings, lang=lang)


def run_demo_plan(settings: Settings, *, lang: str) -> int:
    """The demo's ILLUSTRATIVE regional plan: baselines from the published demo figures three
    years before the last complete year (at the earliest the collection's first year), targets
    six years after; imported flagged illustrative (every page and export that shows it says
    so). Nothing when the baseline year is not published (a demo shorter than a year)."""
    from pipelines.lib.contracts import load_contracts
    from pipelines.lib.demo_plan import write_demo_plan
    from pipelines.lib.periods import Quarter
    from pipelines.lib.publish import current_snapshot

    snapshot = current_snapshot(settings)
    if snapshot is None:
        return 0
    last = Quarter.last_complete(settings.today)
    last_year = last.year if last.quarter == 4 else last.year - 1
    first_year = Quarter.parse(load_contracts().reporting["first_period"]).year
    baseline_year = max(first_year, last_year - 3)
    path = write_demo_plan(snapshot, settings.demo_dir / "plan", baseline_year, baseline_year + 6)
    if path is None:
        return 0
    code = run_plan_import(settings, path, lang=lang, actor="demo-generator", illustrative=True,
                           quiet=True)
    return 0 if code == 0 else code


if __name__ == "__main__":
    sys.exit(main())
