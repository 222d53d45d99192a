"""A review decision or an explanation as the pages and the command line make it, checked before
any job runs, and the answer read back from the job (:func:`outcome_of`). Nothing here touches
the warehouse: ``pipelines.lib.review.apply_decision`` does, inside ``review_job``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from pipelines.lib.auth import PermissionDenied, User, require

ACTIONS = ("accept", "return", "explain", "grant_exception")
ACTION_PERMISSION = {"accept": "review", "return": "review", "explain": "explain",
                     "grant_exception": "grant_exception"}
MAX_TEXT = 4000
MAX_ACTOR = 64  # an account name is at most 64 characters; a forged one is cut there
TEXT_REQUIRED = ("return", "explain", "grant_exception")  # a reason or explanation is required


class ReviewRefused(Exception):
    """A decision that cannot be applied; ``key`` is a ``workflow.refused.*`` translation key."""

    def __init__(self, key: str, **values: object):
        self.key = key
        self.values = values
        super().__init__(f"{key} {json.dumps(values, default=str)}")


@dataclass
class Decision:
    action: str
    actor: str
    actor_role: str
    actor_country: str | None = None
    submission_id: str | None = None
    reason: str = ""  # the reason (accept, return, exception) or the explanation text
    country: str | None = None  # grant_exception
    dataset: str | None = None
    period: str | None = None
    valid_until: str | None = None  # ISO date, inclusive

    @property
    def user(self) -> User:
        return User(self.actor, self.actor_role, self.actor_country)

    def as_config(self) -> dict:
        return asdict(self)


def authorize(decision: Decision, unit_country: str | None) -> None:
    """Raise :class:`PermissionDenied` unless the decision's author may take it for this country."""
    if decision.action not in ACTIONS:
        raise ReviewRefused("workflow.refused.unknown_action", action=decision.action)
    require(decision.user, ACTION_PERMISSION[decision.action], unit_country)


def check_text(decision: Decision, required: bool = True) -> str:
    text = (decision.reason or "").strip()
    if required and not text:
        raise ReviewRefused("workflow.refused.reason_required")
    return text[:MAX_TEXT]



@dataclass
class ReviewOutcome:
    ok: bool  # the decision was recorded
    key: str = ""  # translation key of the refusal (workflow.refused.*) or of a failure
    values: dict | None = None
    written: dict | None = None
    published: bool = False  # the rebuild and the new snapshot succeeded too


def precheck(decision: Decision) -> ReviewOutcome | None:
    """The refusal a decision gets before any run starts (role, required reason), or None.
    The country is only known inside the warehouse: the job checks it, and everything again."""
    try:
        if decision.action != "grant_exception":
            require(decision.user, ACTION_PERMISSION.get(decision.action, "-"))
        else:
            authorize(decision, (decision.country or "").upper())
        if decision.action in TEXT_REQUIRED:
            check_text(decision)  # an empty reason never starts a run
    except PermissionDenied:
        return ReviewOutcome(False, "workflow.refused.forbidden")
    except ReviewRefused as refused:
        return ReviewOutcome(False, refused.key, refused.values)
    return None


def outcome_of(written: dict | None, errors: list[list[str]], finished_ok: bool,
               finished: bool = True) -> ReviewOutcome:
    """The outcome of ``review_job`` from what its run reported: the decision its ``review`` step
    recorded (``written``), else the refusal in its errors (each error's messages, outermost
    first), else, for a run that has not ended (still queued when its follower gave up), that it
    is still to come, else a failure."""
    if written is not None:
        # Recorded; if the rebuild failed, the next run publishes it (nothing is lost).
        return ReviewOutcome(True, written=written, published=finished_ok)
    for chain in errors:
        for text in chain:
            marker = text.find("workflow.refused.")
            if marker >= 0:
                key, _, rest = text[marker:].partition(" ")
                try:
                    values = json.loads(rest.strip().splitlines()[0]) if rest.strip() else {}
                except (ValueError, IndexError):
                    values = {}
                return ReviewOutcome(False, key.strip(), values)
            if "PermissionDenied" in text or "may not" in text:
                return ReviewOutcome(False, "workflow.refused.forbidden")
    if not finished and not errors:
        return ReviewOutcome(False, "workflow.review.still_queued")
    return ReviewOutcome(False, "workflow.refused.failed")
