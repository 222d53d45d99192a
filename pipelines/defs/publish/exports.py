"""An export as the platform knew it on a past day (``as_of``): a dbt rebuild in a private copy
of the warehouse, so it is queued work like any other writer-side job, never run by the
dashboard's server. The files go to a folder of its own under ``exports/``, where the page that
asked reads them and then removes them."""

import datetime as dt
from pathlib import Path

import dagster as dg

from pipelines.lib.disclosure.gate import DisclosureAuditFailed
from pipelines.lib.export import FORMATS, NothingToExport
from pipelines.lib.vintage import export_as_of
from pipelines.settings import get_settings


class ExportConfig(dg.Config):
    formats: list[str]
    as_of: str  # ISO date, not after today
    out_name: str  # a folder name under exports/ (no path: the job writes nowhere else)
    indicators: list[str] = []
    lang: str = "es"


@dg.op(description="Write an as-of export into exports/<out_name>/ (files and manifest.json).")
def export_as_of_op(context: dg.OpExecutionContext, config: ExportConfig) -> dg.Output:
    settings = get_settings()
    as_of = dt.date.fromisoformat(config.as_of)
    name = Path(config.out_name).name
    if name != config.out_name or name in ("", ".", "..") or as_of > settings.today:
        raise ValueError(f"refused: out_name={config.out_name!r} as_of={config.as_of}")
    if not set(config.formats) <= set(FORMATS):
        raise ValueError(f"unknown formats: {sorted(set(config.formats) - set(FORMATS))}")
    out_dir = settings.exports_dir / name
    try:
        manifest = export_as_of(settings, config.formats, out_dir, as_of=as_of,
                                indicators=config.indicators or None, lang=config.lang,
                                log=context.log.info)
    except NothingToExport as nothing:
        # Said once, by name, for the page that asked (it reads this run's errors).
        raise RuntimeError(f"NothingToExport {nothing}") from None
    except DisclosureAuditFailed as refused:  # the cells for the operator's log, not the page
        context.log.error(str(refused))
        raise RuntimeError("DisclosureAuditFailed") from None
    context.log.info(f"{manifest['rows']} rows as of {as_of} into {out_dir}")
    return dg.Output(manifest["rows"])


@dg.job(executor_def=dg.in_process_executor,
        description="An export as of a past day, rebuilt from the history in a private copy.")
def export_job():
    export_as_of_op()
