"""Intake as Dagster assets: the five raw tables, written together from a batch of files."""


import datetime as dt
import time

import dagster as dg

from pipelines.lib.auth import AuthStore, intake_actor_refusal
from pipelines.lib.i18n import refusal_text
from pipelines.lib.inputs import InputRefused, check_owned, owned_dirs
from pipelines.lib.intake import Delivery, published_is_current, run_tags, take_in
from pipelines.lib.review import MAX_ACTOR, record_refusal
from pipelines.settings import get_settings

RAW_TABLES = ("files", "submissions", "observations", "findings", "audit_events")


class IntakeConfig(dg.Config):
    """The files of one run and how they arrived."""

    files: list[str]
    channel: str = "landing"
    actor: str = "landing-folder"
    # The receipt date on record per file (ISO dates, same order as files); empty = today.
    received_on: list[str] = []
    submitter_country: str | None = None
    # 'submitter' for a ministry's upload (the 120-day window applies), else 'operator'.
    role: str = "operator"
    remove_after: bool = False
    # The names the users gave (same order as files; browser uploads): recorded as text only.
    original_names: list[str] = []
    # A browser upload's single-use grant (pipelines.lib.auth.AuthStore.grant), made by the page.
    grant: str = ""


@dg.multi_asset(
    name="intake",
    group_name="ingest",
    specs=[
        dg.AssetSpec(dg.AssetKey(["raw", table]), description=f"raw.{table} (append-only)",
                     skippable=True)
        for table in RAW_TABLES
    ],
)
def intake(context: dg.AssetExecutionContext, config: IntakeConfig):
    """Validate and store each file; every file gets a report, accepted or not."""
    settings = get_settings()
    # The configuration may come from anyone who reaches the orchestrator: the run's author and
    # every file are checked before anything is read.
    refusal = intake_actor_refusal(AuthStore(settings), channel=config.channel, actor=config.actor,
                                   role=config.role, submitter_country=config.submitter_country,
                                   grant=config.grant)
    if refusal:
        record_refusal(settings, actor=config.actor, reason=refusal,
                       details={"channel": config.channel, "claimed_role": config.role,
                                "claimed_country": config.submitter_country})
        raise dg.Failure(description=refusal_text(refusal, actor=config.actor[:MAX_ACTOR]))
    actor = config.actor.strip().lower()  # as the accounts store spells it
    # A receipt date other than today is the demo's (and a documented back-load's), never a
    # browser upload's or the landing folder's.
    if config.received_on and config.channel not in ("demo", "cli"):
        raise dg.Failure(description="received_on is accepted for the demo and the CLI only")
    received = [dt.date.fromisoformat(d) for d in config.received_on] or [None] * len(config.files)
    names = config.original_names or [None] * len(config.files)
    present = []
    for path, day, name in zip(config.files, received, names, strict=True):
        try:
            present.append((check_owned(settings, path, config.channel), day, name))
        except InputRefused as refused:
            if refused.key == "input.missing":
                continue  # taken in (and removed) by an earlier run of the same batch
            raise dg.Failure(description=refusal_text(refused.key, path=refused.path)) from None
    deliveries = [
        Delivery(path=path, channel=config.channel, actor=actor, received_on=day,
                 submitter_country=config.submitter_country, role=config.role,
                 remove_after=config.remove_after, original_name=name or None,
                 confined_to=tuple(owned_dirs(settings, config.channel)))
        for path, day, name in present
    ]
    started = time.perf_counter()
    outcomes = take_in(deliveries, settings)
    units = [u for o in outcomes for u in o.units]
    for outcome in outcomes:
        statuses = ", ".join(f"{u.dataset}: {u.status}" for u in outcome.units)
        context.log.info(f"{outcome.file_name} ({outcome.sha256[:12]})"
                         f"{' duplicate' if outcome.duplicate else ''}: {statuses}")
    # What the run did, on the run itself: the operator UI's run list shows which members, data
    # sets and quarters came in and whether they were taken, not only "Success".
    context.instance.add_run_tags(context.run.run_id, run_tags(outcomes))
    metadata = {
        "files": len(outcomes),
        "duplicates": sum(o.duplicate for o in outcomes),
        "units_validated": sum(u.status == "validated" for u in units),
        "units_rejected": sum(u.status == "rejected" for u in units),
        "units_unchanged": sum(u.status == "unchanged" for u in units),
        "file_hashes": ", ".join(o.sha256[:12] for o in outcomes),
        "seconds": round(time.perf_counter() - started, 3),
    }
    if not any(o.stored for o in outcomes) and published_is_current(settings):
        # Files received before, or nothing left to take in, and the snapshot already shows
        # everything stored: dbt, the audit and the publication (which depend on these assets)
        # are skipped. (An earlier run killed between its commit and its publication leaves a
        # newer change than the snapshot: then this run rebuilds.)
        context.log.info(f"nothing new stored, nothing to rebuild: {metadata}")
        return
    for table in RAW_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", table]), metadata=metadata)
