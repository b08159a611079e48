"""The job side of the task table's stream, run by the live-updates pusher for each record it reads
(DynamoDB Streams serve two readers per shard without throttling: the notifier and the pusher are the task
table's two, so the job side rides on the pusher's mapping, whose filter passes every INSERT and MODIFY).

`handle` reads the record (logic/job_tasks.py) before any I/O: a record of a task with no job, and not
under `jobs/`, costs nothing. Configured once per cold start from the pusher's environment.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from tracker import constants
from tracker.config import LiveConfig
from tracker.data.braket_jobs import BraketJobs, TaskJobs
from tracker.data.connections import ConnectionsTable
from tracker.data.connections_api import ConnectionsApi
from tracker.data.job_table import JobTable
from tracker.data.job_tasks import JobTasks
from tracker.jobs.config import JobsConfig
from tracker.jobs.recorder import JobRecorder
from tracker.jobs.updates import Fanout, JobUpdates
from tracker.logic import job_tasks
from tracker.models.item import from_item

_built: list[JobUpdates] = []


def check_configuration() -> None:
    """The environment the job side needs (the pusher's, and the jobs table's name): ConfigError if wrong."""
    LiveConfig.from_env()
    JobsConfig.from_env(constants.RECONCILER_GET_JOB_RATE)


def updates(client: Any = None) -> JobUpdates:
    if not _built:
        live, jobs = LiveConfig.from_env(), JobsConfig.from_env(constants.RECONCILER_GET_JOB_RATE)
        dynamodb = client or boto3.client("dynamodb")
        table = JobTable(jobs.job_table, dynamodb)
        _built.append(
            JobUpdates(
                JobTasks(live.task_table, jobs.job_table, dynamodb),
                JobRecorder(table, BraketJobs(jobs.get_job_rate)),
                TaskJobs(constants.LINK_RATE),
                Fanout(ConnectionsTable(live.connections_table, dynamodb), ConnectionsApi(live.connections_endpoint)),
            )
        )
    return _built[0]


def handle(record: DynamoDBRecord) -> dict[str, object] | None:
    """Link, count and push for one task table record; None when it concerns no job."""
    change = record.dynamodb
    if change is None:
        return None
    event_name = str(record.get("eventName"))
    found = job_tasks.read(event_name, change.old_image, change.new_image)
    if found is None:
        return None
    task = from_item(dict(change.new_image)) if found.push else None
    return {"job": found.job_arn, **updates().task_changed(found, task)}
