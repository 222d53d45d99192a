"""The secretariat's decisions and the submitters' explanations as a Dagster asset (issue 7).

``review`` writes one decision (pipelines.lib.review.apply_decision, under the writer lock):
rows in ``raw.explanations`` / ``raw.lock_exceptions`` and, for accept and return, a status event
in ``raw.audit_events``. dbt reads both tables through the ``workflow`` source, so in
``review_job`` the build and the publication run after it.
"""

import json

import dagster as dg

from pipelines.lib.auth import AuthStore
from pipelines.lib.review import (
    MAX_ACTOR,
    Decision,
    ReviewRefused,
    apply_decision,
    record_refusal,
)
from pipelines.settings import get_settings

WORKFLOW_TABLES = ("explanations", "lock_exceptions")


class ReviewConfig(dg.Config):
    """One decision: who takes it (user, role, country) and on what."""

    action: str  # accept | return | explain | grant_exception
    actor: str
    actor_role: str
    actor_country: str | None = None
    submission_id: str | None = None
    reason: str = ""
    country: str | None = None
    dataset: str | None = None
    period: str | None = None
    valid_until: str | None = None
    # The single-use grant the page or the command line made for this decision
    # (pipelines.lib.auth.AuthStore.grant): without it the run acts for nobody.
    grant: str = ""


@dg.multi_asset(
    name="review",
    group_name="workflow",
    specs=[
        dg.AssetSpec(dg.AssetKey(["raw", table]), description=f"raw.{table} (append-only)",
                     skippable=True)
        for table in WORKFLOW_TABLES
    ],
)
def review(context: dg.AssetExecutionContext, config: ReviewConfig):
    """Check and record one decision; status changes also go to raw.audit_events."""
    settings = get_settings()
    values = config.model_dump()
    grant = values.pop("grant")
    decision = Decision(**values)
    store = AuthStore(settings)
    if store.active_user(decision.actor) is not None and not store.redeem(
            grant, decision.actor.strip().lower(), "review"):
        record_refusal(settings, actor=decision.actor, reason="workflow.refused.unverified",
                       submission_id=decision.submission_id,
                       details={"action": decision.action, "claimed_role": decision.actor_role})
        raise ReviewRefused("workflow.refused.unverified", actor=decision.actor[:MAX_ACTOR])
    written = apply_decision(settings, decision)
    context.log.info(f"{config.actor} ({config.actor_role}): {written}")
    # What the operator reads in the runs list: which unit, and what became of it.
    context.instance.add_run_tags(context.run.run_id, {
        "observatory/countries": str(written.get("country") or "-"),
        "observatory/datasets": str(written.get("dataset") or "-"),
        "observatory/periods": str(written.get("period") or "-"),
        "observatory/result": str(written.get("to_status") or written["action"])})
    # JSON metadata: the page that asked reads it back from the run's events.
    metadata = {"decision": dg.MetadataValue.json(json.loads(json.dumps(written, default=str))),
                "action": config.action,
                "actor": config.actor}
    for table in WORKFLOW_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", table]), metadata=metadata)
