"""The daily backup: a Dagster schedule the daemon runs, writing ``observatory backup`` folders
into ``$OBSERVATORY_BACKUP_DIR`` and keeping the newest ``$OBSERVATORY_BACKUP_KEEP`` (7). The
schedule runs only where that folder is set (off by default: a backup belongs on another disk)."""

import os

import dagster as dg

from pipelines.lib.backup import scheduled_backup
from pipelines.settings import get_settings


@dg.op(description="Write a backup into $OBSERVATORY_BACKUP_DIR and prune the oldest.")
def backup_op(context: dg.OpExecutionContext) -> dg.Output:
    written, removed = scheduled_backup(get_settings())
    context.log.info(f"backup {written}; removed {', '.join(removed) or 'none'}")
    return dg.Output(str(written))


@dg.job(executor_def=dg.in_process_executor,
        description="A backup of the home (warehouse, archive, accounts, snapshot).")
def backup_job():
    backup_op()


backup_schedule = dg.ScheduleDefinition(
    name="backup_schedule", job=backup_job, cron_schedule="30 2 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING if os.environ.get("OBSERVATORY_BACKUP_DIR")
    else dg.DefaultScheduleStatus.STOPPED,
    description="Daily backup at 02:30 UTC into $OBSERVATORY_BACKUP_DIR (when set).")
