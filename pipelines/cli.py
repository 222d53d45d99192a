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
import sys
from pathlib import Path

from pipelines.lib.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from pipelines.settings import Settings, get_settings

MAX_FINDINGS_SHOWN = 25


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="observatory", description=__doc__.split("\n")[0])
    parser.add_argument("--lang", choices=LANGUAGES,
                        default=os.environ.get("OBSERVATORY_LANG", DEFAULT_LANGUAGE))
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit", help="validate, store and publish submission files")
    submit.add_argument("files", nargs="+", type=Path)
    submit.add_argument("--country", help="the submitting member (ISO3); rows of another country are rejected")
    demo = commands.add_parser("demo", help="write the deterministic demo submissions and load them")
    demo.add_argument("--no-load", action="store_true", help="only write the files")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    settings = get_settings()
    if args.command == "submit":
        missing = [p for p in args.files if not p.is_file()]
        if missing:
            for path in missing:
                print(t("cli.missing_file", args.lang, path=path), file=sys.stderr)
            return 2
        files = [p.resolve() for p in args.files]
        return run_submission(settings, files, lang=args.lang, channel="cli", actor="operator",
                              submitter_country=args.country)
    if args.command == "demo":
        return run_demo(settings, lang=args.lang, load=not args.no_load)
    return 2


def run_submission(settings: Settings, files: list[Path], *, lang: str, channel: str, actor: str,
                   received_on: list[dt.date] | None = None,
                   submitter_country: str | None = None, quiet: bool = False) -> int:
    """Run the submission job on ``files`` and print a report for each; return the exit code."""
    from dagster import DagsterInstance

    from pipelines.lib.dagster_home import prepare_dagster_home
    from pipelines.lib.intake import load_report, report_path, sha256_of
    from pipelines.lib.publish import current_snapshot

    settings.ensure_dirs()
    prepare_dagster_home(settings)
    hashes = [sha256_of(p.read_bytes()) for p in files]
    seen_before = {sha for sha in hashes if report_path(settings, sha).exists()}
    from pipelines.definitions import defs

    config = {"files": [str(p) for p in files], "channel": channel, "actor": actor,
              "received_on": [d.isoformat() for d in received_on or []],
              "submitter_country": submitter_country}
    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def("submission_job").execute_in_process(
            run_config={"ops": {"intake": {"config": config}},
                        "loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            instance=instance, raise_on_error=False, tags={"observatory/channel": channel},
        )
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
        error = next((e.event_specific_data.error.message.strip()
                      for e in result.all_events if e.is_failure and e.event_specific_data
                      and getattr(e.event_specific_data, "error", None)), "")
        print(t("cli.pipeline_failed", lang, error=error[:500]), file=sys.stderr)
        return 1
    accepted = sum(o.accepted for o in outcomes)
    snapshot = current_snapshot(settings)
    print(t("cli.summary", lang, accepted=accepted, total=len(files),
            snapshot=snapshot.name if snapshot else "-"))
    return 0 if accepted == len(files) else 1


def print_report(outcome, settings: Settings, lang: str, name: str | None = None) -> None:
    from pipelines.lib.intake import report_path

    print(t("cli.file", lang, name=name or outcome.file_name, sha=outcome.sha256[:16]))
    if outcome.duplicate:
        print(t("cli.duplicate", lang, when=outcome.received_at[:19].replace("T", " ")))
    for unit in outcome.units:
        status = t(f"cli.status.{unit.status}", lang)
        if unit.dataset:
            print(t("cli.unit", lang, dataset=unit.dataset, country=unit.country,
                    period=unit.period, version=unit.version, status=status,
                    errors=unit.errors, warnings=unit.warnings))
        else:
            print(t("cli.unit_unknown", lang, status=status, errors=unit.errors))
        for finding in unit.findings[:MAX_FINDINGS_SHOWN]:
            where = t("cli.where", lang, sheet=finding["sheet"] or "-",
                      row=finding["row"] or "-", column=finding["column"] or "-")
            message = finding["message_es"] if lang == "es" else finding["message_en"]
            print(f"    [{finding['rule']} {t('cli.severity.' + finding['severity'], lang)}] "
                  f"{where}: {message}")
        hidden = len(unit.findings) - MAX_FINDINGS_SHOWN
        if hidden > 0:
            print(t("cli.more_findings", lang, count=hidden,
                    path=report_path(settings, outcome.sha256)))


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
    return 0 if code in (0, 1) else code


if __name__ == "__main__":
    sys.exit(main())
