"""Hand work to the orchestrator: queue a job on the running Dagster instance and follow it.

The dashboard's server and the command line never run a job themselves: they ask Dagster's
webserver (the operator UI, ``pipelines/operator_ui.py``) to launch it. The run is queued on the
instance and executed by the daemon in a process of its own, so the public-facing server never
opens the warehouse for writing, nor loads Dagster, dbt or Great Expectations.

This speaks the webserver's GraphQL over plain HTTP (two documents: launch a run, read its state
and events) rather than through ``dagster_graphql``'s client, which would load Dagster into the
dashboard's process to send a JSON POST. The ``Host`` it sends is the loopback name the guard
accepts; it sends no ``Origin``, as a program (not a page in a browser) does.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.lib.auth import AuthStore
from pipelines.lib.dagster_home import LOCATION
from pipelines.lib.decisions import Decision, ReviewOutcome, outcome_of, precheck
from pipelines.lib.reports import FileOutcome, report_for, sha256_of
from pipelines.lib.upload import display_name
from pipelines.settings import Settings

REPOSITORY = "__repository__"  # a Definitions object's repository
TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")
POLL_SECONDS = 0.25
FOLLOW_PATIENCE_S = 30  # how long a launched run is followed through an unanswering webserver

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
    ... on RunConflict { message }
    ... on UnauthorizedError { message }
    ... on PresetNotFoundError { message }
    ... on ConflictingExecutionParamsError { message }
    ... on NoModeProvidedError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { invalidOutputName }
  }
}
"""

FOLLOW = """
query Follow($runId: ID!, $after: String) {
  runOrError(runId: $runId) { __typename ... on Run { status } }
  logsForRun(runId: $runId, afterCursor: $after) {
    __typename
    ... on EventConnection {
      cursor
      events {
        __typename
        ... on MaterializationEvent {
          stepKey
          metadataEntries { label ... on JsonMetadataEntry { jsonString } }
        }
        ... on ExecutionStepFailureEvent { stepKey error { message causes { message } } }
        ... on RunFailureEvent { error { message causes { message } } }
      }
    }
  }
}
"""


class OrchestratorUnavailable(RuntimeError):
    """The orchestrator did not answer (not started, or stopped): nothing was launched."""


class LaunchRefused(RuntimeError):
    """The orchestrator answered but did not launch the run (bad configuration, unknown job)."""


class ExportRefused(RuntimeError):
    """An as-of export whose figures do not pass the disclosure audit: nothing was written."""


def operator_url() -> str:
    """Where the operator UI listens: ``OBSERVATORY_OPERATOR_URL``, else localhost on
    ``DAGSTER_PORT`` (3000), as ``scripts/serve.sh`` starts it."""
    url = os.environ.get("OBSERVATORY_OPERATOR_URL", "").strip()
    return url.rstrip("/") if url else f"http://127.0.0.1:{os.environ.get('DAGSTER_PORT', '3000')}"


def _graphql(document: str, variables: dict, timeout: float = 10, url: str | None = None) -> dict:
    body = json.dumps({"query": document, "variables": variables}).encode()
    request = urllib.request.Request(f"{url or operator_url()}/graphql", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:  # the server answered: GraphQL says why in the body
        try:
            answer = json.loads(error.read())
        except ValueError:
            raise LaunchRefused(f"HTTP {error.code}") from error
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
        raise OrchestratorUnavailable(str(getattr(error, "reason", error))) from error
    except ValueError as error:  # not JSON: something else listens there
        raise OrchestratorUnavailable(f"not a Dagster webserver: {error}") from error
    if answer.get("errors"):
        raise LaunchRefused("; ".join(e.get("message", "") for e in answer["errors"]))
    return answer["data"]


INSTANCE = """
{ instance { info daemonHealth { allDaemonStatuses { daemonType healthy } } } }
"""


def check_serves(settings: Settings, url: str | None = None) -> None:
    """Raise :class:`OrchestratorUnavailable` unless an orchestrator answers for this home (its
    Dagster instance is ``settings.dagster_home``: another home's server must never take this
    one's work) and its daemon dequeues runs (else a queued run would wait for ever)."""
    try:
        instance = _graphql(INSTANCE, {}, timeout=5, url=url)["instance"]
    except LaunchRefused as error:
        raise OrchestratorUnavailable(str(error)) from error
    if f"base_dir: {settings.dagster_home}\n" not in instance["info"] + "\n":
        raise OrchestratorUnavailable(f"{url or operator_url()} serves another home")
    daemons = {d["daemonType"]: d["healthy"] for d in
               instance["daemonHealth"]["allDaemonStatuses"]}
    if not daemons.get("QUEUED_RUN_COORDINATOR"):
        raise OrchestratorUnavailable("the Dagster daemon is not running")


def available(settings: Settings) -> bool:
    try:
        check_serves(settings)
    except OrchestratorUnavailable:
        return False
    return True


# Runs launched here have a person waiting (a page, the command line): they leave the queue
# before the landing sensor's, which nobody watches (Dagster's queue takes the highest priority
# first, in order of arrival among equals).
PERSON_WAITING = {"dagster/priority": "1"}


def launch(settings: Settings, job: str, op: str, config: dict, tags: dict[str, str], *,
           person_waiting: bool = True, url: str | None = None) -> str:
    """Queue ``job`` with ``config`` for its op ``op``; return the run's id."""
    check_serves(settings, url)
    tags = {**tags, **PERSON_WAITING} if person_waiting else tags
    params = {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY,
                     "jobName": job},
        "runConfigData": {"ops": {op: {"config": config}},
                          "loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    # Creating the run makes the webserver plan the job (about 2 s, more on a loaded machine).
    answer = _graphql(LAUNCH, {"params": params}, timeout=120, url=url)["launchRun"]
    if answer["__typename"] == "LaunchRunSuccess":
        return answer["run"]["runId"]
    detail = answer.get("message") or "; ".join(e["message"] for e in answer.get("errors", []))
    raise LaunchRefused(f"{answer['__typename']}: {detail}")


@dataclass
class RunState:
    """What a run has done so far, as the pages need it."""

    run_id: str
    status: str = "QUEUED"
    # The JSON metadata its steps attached to their materialisations: {label: value}.
    metadata: dict[str, object] = field(default_factory=dict)
    errors: list[list[str]] = field(default_factory=list)  # per failure, outermost cause first
    cursor: str | None = None

    def first_error(self) -> str:
        """The innermost cause of the first failure ("" if none): what went wrong, rather than
        Dagster's "Error occurred while executing op"."""
        return self.errors[0][-1].strip() if self.errors else ""

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def success(self) -> bool:
        return self.status == "SUCCESS"


def refresh(state: RunState, timeout: float = 10) -> RunState:
    """Read the run's status and the events since the last call into ``state``."""
    data = _graphql(FOLLOW, {"runId": state.run_id, "after": state.cursor}, timeout=timeout)
    run = data["runOrError"]
    state.status = run.get("status", state.status) if run["__typename"] == "Run" else "FAILURE"
    logs = data["logsForRun"]
    if logs["__typename"] == "EventConnection":
        state.cursor = logs["cursor"]
        for event in logs["events"]:
            for entry in event.get("metadataEntries") or []:
                if "jsonString" in entry:
                    state.metadata[entry["label"]] = json.loads(entry["jsonString"])
            error = event.get("error")
            if error:
                state.errors.append([error["message"],
                                     *(c["message"] for c in error.get("causes", []))])
    return state


def follow(run_id: str, timeout: float = 600,
           until: Callable[[RunState], bool] | None = None) -> RunState:
    """Poll the run until it ends, ``until`` holds for what it reported so far, or ``timeout``
    seconds pass."""
    state = RunState(run_id)
    deadline = time.monotonic() + timeout
    silent_since = None
    while True:
        try:
            refresh(state)
            silent_since = None
        except OrchestratorUnavailable:
            # The run is queued and goes on without the webserver: a restart of the operator UI
            # is waited out for a while rather than reported as "nothing recorded".
            silent_since = silent_since or time.monotonic()
            if time.monotonic() - silent_since > FOLLOW_PATIENCE_S:
                raise
        if state.finished or (until is not None and until(state)) \
                or time.monotonic() > deadline:
            return state
        time.sleep(POLL_SECONDS)


# --- what the pages and the command line run -------------------------------------------------

# A runner runs a job and returns its state: ``queued`` (the orchestrator) everywhere, or
# ``pipelines.defs.local.run_here`` where no orchestrator runs (the command line on its own,
# tests of the jobs themselves).
Runner = Callable[..., RunState]


def queued(settings: Settings, until: Callable[[RunState], bool] | None = None) -> Runner:
    """A runner that queues the job on the orchestrator and follows it to its end (or until
    ``until`` holds: see :func:`follow`)."""

    def run(job: str, op: str, config: dict, tags: dict[str, str]) -> RunState:
        return follow(launch(settings, job, op, config, tags), until=until)

    return run


RECENT = """
query Recent($filter: RunsFilter!) {
  runsOrError(filter: $filter, limit: 20) { __typename ... on Runs { results { runId } } }
}
"""
DECISIONS_TIMEOUT_S = 2.0  # a page waits no longer for them: the snapshot's state is shown


def decisions_since(since: float, country: str) -> list[dict]:
    """What review runs recorded for ``country``'s submissions (status changes, explanations)
    since ``since`` (a Unix time), oldest first, as each run's ``decision`` metadata says: the
    pages show them at once, before the snapshot that holds them is published. Empty when the
    orchestrator does not answer."""
    try:
        found = _graphql(RECENT, {"filter": {
            "pipelineName": "review_job", "updatedAfter": since,
            "tags": [{"key": "observatory/countries", "value": country}]}},
            timeout=DECISIONS_TIMEOUT_S)["runsOrError"]
        written = [refresh(RunState(run["runId"]), DECISIONS_TIMEOUT_S).metadata.get("decision")
                   for run in found.get("results", [])]
    except (OrchestratorUnavailable, LaunchRefused):
        return []
    return sorted((w for w in written if w and w.get("country") == country and w.get("at")),
                  key=lambda w: w["at"])


def _decided(state: RunState) -> bool:
    return "decision" in state.metadata


def upload_config(settings: Settings, path: Path, *, actor: str, country: str,
                  original_name: str | None) -> dict:
    """``submission_job``'s configuration for one stored upload, sent by a ministry submitter of
    ``country`` (channel ``upload``: the 120-day window applies), with the single-use grant the
    job acts on. ``original_name``, the name the user gave, is recorded as text only."""
    return {"files": [str(path)], "channel": "upload", "actor": actor, "received_on": [],
            "submitter_country": country, "role": "submitter", "remove_after": True,
            "original_names": [display_name(original_name or "")],
            "grant": AuthStore(settings).grant(actor, "submit")}


@dataclass
class PendingUpload:
    """A submission job launched for one upload; its report appears as soon as intake has
    stored the file, while dbt and the publication go on."""

    sha256: str
    country: str
    seen_before: bool  # answered about these bytes before ("already received")
    run_id: str  # "" when no run was needed (seen before)
    started: float
    error: str = ""


def start_upload(settings: Settings, path: Path, *, actor: str, country: str,
                 original_name: str | None = None) -> PendingUpload:
    """Queue the submission job for a stored upload (raises :class:`OrchestratorUnavailable`
    or :class:`LaunchRefused`: the upload is then removed, nothing was received)."""
    started = time.perf_counter()
    sha = sha256_of(path.read_bytes())
    seen = report_for(settings, sha, country) is not None
    if seen:
        # These bytes from this member were answered before (a second click, a re-send): that
        # report stands and says "already received"; no run is started for nothing.
        path.unlink(missing_ok=True)
        return PendingUpload(sha, country, True, "", started)
    config = upload_config(settings, path, actor=actor, country=country,
                           original_name=original_name)
    try:
        run_id = launch(settings, "submission_job", "intake", config,
                        {"observatory/channel": "upload", "observatory/actor": actor})
    except (OrchestratorUnavailable, LaunchRefused):
        path.unlink(missing_ok=True)
        raise
    return PendingUpload(sha, country, seen, run_id, started)


def wait_for_report(settings: Settings, pending: PendingUpload,
                    timeout: float = 300) -> FileOutcome | None:
    """The upload's report once intake wrote it, or None if the run ended without one (its
    first error is then in ``pending.error``) or ``timeout`` passed."""
    state = RunState(pending.run_id)
    deadline = time.monotonic() + timeout
    checked = 0.0
    while time.monotonic() < deadline:
        outcome = report_for(settings, pending.sha256, pending.country)
        if outcome is not None:
            outcome.duplicate = pending.seen_before
            return outcome
        if time.monotonic() - checked > 1:  # the run's state once a second, the file more often
            checked = time.monotonic()
            try:
                refresh(state)
            except OrchestratorUnavailable:  # the run goes on without the webserver: wait on
                pass
            if state.finished:
                outcome = report_for(settings, pending.sha256, pending.country)
                if outcome is None:
                    pending.error = state.first_error()[:500]
                else:
                    outcome.duplicate = pending.seen_before
                return outcome
        time.sleep(0.1)
    return None


@dataclass
class UploadOutcome:
    ok: bool  # the run succeeded (the file may still be rejected: see outcome)
    outcome: FileOutcome | None = None
    seconds: float = 0.0
    error: str = ""


def submit_upload(settings: Settings, path: Path, *, actor: str, country: str,
                  original_name: str | None = None, runner: Runner | None = None
                  ) -> UploadOutcome:
    """Run the submission job on one stored upload to its end; return its report."""
    started = time.perf_counter()
    sha = sha256_of(path.read_bytes())
    seen = report_for(settings, sha, country) is not None
    state = (runner or queued(settings))("submission_job", "intake",
                   upload_config(settings, path, actor=actor, country=country,
                                 original_name=original_name),
                   {"observatory/channel": "upload", "observatory/actor": actor})
    path.unlink(missing_ok=True)
    outcome = report_for(settings, sha, country)
    if outcome is not None:
        outcome.duplicate = seen
    return UploadOutcome(state.success, outcome, time.perf_counter() - started,
                         "" if state.success else state.first_error()[:500])


def run_review(settings: Settings, decision: Decision, runner: Runner | None = None,
               wait_for_publication: bool = True) -> ReviewOutcome:
    """Run ``review_job`` (decision → dbt build → publish) to its end, or, without
    ``wait_for_publication``, until its decision is recorded or refused: a person at a page
    learns that at once, while the rebuild and the publication go on (``published`` is then
    False). Permission and a required reason are checked here first, so a refused decision
    never starts a run (the job checks everything again against the accounts store and the
    warehouse)."""
    refused = precheck(decision)
    if refused is not None:
        return refused
    # The caller vouches for the author (the page's signed-in session, the CLI's account
    # lookup): the job acts only with this single-use grant.
    grant = AuthStore(settings).grant(decision.actor.strip().lower(), "review")
    runner = runner or queued(settings, until=None if wait_for_publication else _decided)
    state = runner("review_job", "review", {**decision.as_config(), "grant": grant},
                   {"observatory/action": decision.action, "observatory/actor": decision.actor,
                    "observatory/submission": decision.submission_id or "-"})
    return outcome_of(state.metadata.get("decision"), state.errors, state.success,
                      state.finished)


def export_as_of(settings: Settings, formats: list[str], *, as_of, indicators: list[str] | None,
                 lang: str, runner: Runner | None = None) -> dict[str, bytes] | None:
    """Run ``export_job`` for a past day; return its files by name (manifest.json included), or
    None when nothing was published on that day for these indicators. Raises
    :class:`ExportRefused` when the figures of that day do not pass the disclosure audit, and
    RuntimeError with the run's first error when it failed otherwise."""
    name = f"as-of-{uuid.uuid4().hex[:16]}"
    folder = settings.exports_dir / name
    try:
        state = (runner or queued(settings))("export_job", "export_as_of_op",
                       {"formats": formats, "as_of": as_of.isoformat(), "out_name": name,
                        "indicators": indicators or [], "lang": lang},
                       {"observatory/action": "export"})
        if not state.success:
            if any("NothingToExport" in text for chain in state.errors for text in chain):
                return None
            if any("DisclosureAuditFailed" in text for chain in state.errors for text in chain):
                raise ExportRefused(as_of)
            raise RuntimeError(state.first_error()[:500] or state.status)
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- the regional plan from the Plan page (DOMAIN.md §9) ----------------------------------------


def start_plan_upload(settings: Settings, path: Path, *, actor: str, role: str) -> str:
    """Queue the plan job for a plan file the secretariat uploaded (stored in uploads/), acting
    for ``actor`` with a single-use grant; return the run's id. On :class:`OrchestratorUnavailable`
    or :class:`LaunchRefused` the upload is removed: nothing was received."""
    config = {"file": str(path), "actor": actor, "channel": "upload", "role": role,
              "grant": AuthStore(settings).grant(actor, "manage_plan")}
    try:
        return launch(settings, "plan_job", "plan_import", config,
                      {"observatory/channel": "upload", "observatory/actor": actor})
    except (OrchestratorUnavailable, LaunchRefused):
        path.unlink(missing_ok=True)
        raise


def wait_for_plan_report(settings: Settings, run_id: str, timeout: float = 300):
    """(the plan job's report once it is written, or None; the run's first error): the report
    comes before dbt and the publication, which go on."""
    from pipelines.lib.plan import PlanReport, report_path

    path = report_path(settings, run_id)
    state = RunState(run_id)
    deadline = time.monotonic() + timeout
    checked = 0.0
    while time.monotonic() < deadline:
        if path.exists():
            return PlanReport.from_json(path.read_text(encoding="utf-8")), ""
        if time.monotonic() - checked > 1:
            checked = time.monotonic()
            try:
                refresh(state)
            except OrchestratorUnavailable:
                pass
            if state.finished:
                if path.exists():
                    return PlanReport.from_json(path.read_text(encoding="utf-8")), ""
                return None, state.first_error()[:500]
        time.sleep(0.2)
    return None, ""
