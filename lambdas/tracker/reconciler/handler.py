"""Reconciler: a scheduled function that heals what lost events left behind (see service.py).

Its input is EventBridge's "Scheduled Event". An operator may also invoke it by hand with
overrides, for example after an outage: `{"staleAfterMinutes": 0, "regions": ["eu-north-1"]}`.
An invalid input fails the invocation with the reason; a task that cannot be reconciled is
counted (ReconcileErrors), logged and left for the next run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.config import ReconcilerConfig
from tracker.data.braket_api import BraketApi, ObservedTasks
from tracker.data.braket_jobs import BraketJobs
from tracker.data.job_table import JobTable
from tracker.data.reconciliation import SweepState, TaskIndex
from tracker.data.task_table import TaskTable
from tracker.data.topic import NotificationTopic
from tracker.jobs.config import JobsConfig
from tracker.jobs.notifier import JobNotifier
from tracker.jobs.reconcile import JobReconciler
from tracker.jobs.recorder import JobRecorder
from tracker.notifier.service import Notifier
from tracker.reconciler.service import TASK_RESERVE_SECONDS, Reconciler, Settings
from tracker.recorder.service import Recorder

config = ReconcilerConfig.from_env()
logger = Logger(service=constants.RECONCILER_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.RECONCILER_SERVICE)
dynamodb = boto3.client("dynamodb")
api = BraketApi(config.requests_per_second, config.enrich_max_attempts)
observed = ObservedTasks(api, config.enrich_max_attempts)
table = TaskTable(config.task_table, dynamodb)
reconciler = Reconciler(
    index=TaskIndex(config.task_table, dynamodb),
    state=SweepState(config.state_table, dynamodb),
    recorder=Recorder(table, observed),
    api=api,
    observed=observed,
    notifier=Notifier(table, NotificationTopic(config.topic_arn)),
)
jobs_config = JobsConfig.from_env(constants.RECONCILER_GET_JOB_RATE)
job_table = JobTable(jobs_config.job_table, dynamodb)
jobs = JobReconciler(  # hybrid jobs: the same passes, under GetJob's own rate limit
    job_table,
    JobRecorder(job_table, BraketJobs(jobs_config.get_job_rate)),
    JobNotifier(job_table, NotificationTopic(config.topic_arn)),
    SweepState(config.state_table, dynamodb),
)
SETTINGS = Settings(
    regions=config.regions,
    stale_after=timedelta(minutes=config.stale_after_minutes),
    notify_grace=timedelta(minutes=config.notify_grace_minutes),
)


class InvalidInput(ValueError):
    """A hand-made invocation's overrides are wrong."""


def settings_for(event: Any) -> Settings:
    """The configured settings, with an operator's overrides (a scheduled event has none)."""
    if not isinstance(event, dict):
        raise InvalidInput(f"the input must be a JSON object, not {type(event).__name__}")
    if event.get("source") == "aws.events":
        return SETTINGS
    unknown = set(event) - {"staleAfterMinutes", "regions"}
    if unknown:
        raise InvalidInput(f"unknown input keys: {', '.join(sorted(unknown))} (use staleAfterMinutes, regions)")
    settings = SETTINGS
    if "staleAfterMinutes" in event:
        minutes = event["staleAfterMinutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= 525_600:
            raise InvalidInput(f"staleAfterMinutes must be a whole number of minutes, not {minutes!r}")
        settings = replace(settings, stale_after=timedelta(minutes=minutes))
    if "regions" in event:
        regions = event["regions"]
        if not isinstance(regions, list) or not regions or not set(regions) <= set(config.regions):
            raise InvalidInput(f"regions must be a list among {', '.join(config.regions)}, not {regions!r}")
        settings = replace(settings, regions=tuple(regions))
    return settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = settings_for(event)
    now = datetime.now(UTC)
    report = reconciler.run(settings, now, lambda: context.get_remaining_time_in_millis() / 1000)
    job_report = jobs.run(
        settings.regions,
        settings.stale_after,
        settings.notify_grace,
        now,
        lambda: context.get_remaining_time_in_millis() / 1000 < TASK_RESERVE_SECONDS,
    )
    for message in job_report.error_messages:
        logger.warning("Could not reconcile a job", error=message)
    if job_report.repaired:
        logger.warning("Repaired jobs that events had not recorded", jobs=job_report.repaired_jobs[:50])
        metrics.add_metric(name=constants.METRIC_JOBS_REPAIRED, unit=MetricUnit.Count, value=job_report.repaired)
    for name, value in (
        (constants.METRIC_TASKS_CHECKED, report.checked),
        (constants.METRIC_TASKS_REPAIRED, report.repaired),
        (constants.METRIC_RECONCILE_ERRORS, report.errors + job_report.errors),
        (constants.METRIC_NOTIFICATIONS_RECOVERED, report.notified + job_report.notified),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for message in report.error_messages:
        logger.warning("Could not reconcile", error=message)
    if report.repaired:
        logger.warning("Repaired tasks that events had not recorded", tasks=report.repaired_tasks[:50])
    summary = {
        "checked": report.checked,
        "repaired": report.repaired,
        "found": report.found,
        "backedOff": report.backed_off,
        "notified": report.notified,
        "errors": report.errors,
        "unfinishedWork": report.unfinished_work,
        "jobs": {
            "checked": job_report.checked,
            "repaired": job_report.repaired,
            "found": job_report.found,
            "backedOff": job_report.backed_off,
            "notified": job_report.notified,
            "errors": job_report.errors,
        },
    }
    logger.info("Reconciled", extra=summary)
    return summary
