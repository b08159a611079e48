"""Job updates: the jobs table's stream (push each job's status change) and the task table's stream,
filtered to a job's tasks (link, count, push: see updates.py).

Error mapping: a failed read, write, GetQuantumTask or push raises, so the record is a batch item
failure; the mapping retries it (bisecting the batch), then sends it to its on-failure queue.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.config import LiveConfig
from tracker.data.braket_api import BraketApi
from tracker.data.braket_jobs import BraketJobs
from tracker.data.connections import ConnectionsTable
from tracker.data.connections_api import ConnectionsApi
from tracker.data.job_table import JobTable
from tracker.data.job_tasks import JobTasks
from tracker.jobs.config import JobsConfig
from tracker.jobs.recorder import JobRecorder
from tracker.jobs.updates import Fanout, JobUpdates, corrects_of
from tracker.logic import job_tasks
from tracker.logic.job_live import job_status_changed
from tracker.models.item import from_item as task_from_item
from tracker.models.job_item import from_item as job_from_item

config = LiveConfig.from_env()
logger = Logger(service=constants.JOB_UPDATES_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.JOB_UPDATES_SERVICE)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
dynamodb = boto3.client("dynamodb")
jobs_config = JobsConfig.from_env(constants.RECONCILER_GET_JOB_RATE)
job_table = JobTable(jobs_config.job_table, dynamodb)
updates = JobUpdates(
    JobTasks(config.task_table, job_table.table_name, dynamodb),
    JobRecorder(job_table, BraketJobs(jobs_config.get_job_rate)),
    BraketApi(constants.LINK_RATE),
    Fanout(ConnectionsTable(config.connections_table, dynamodb), ConnectionsApi(config.connections_endpoint)),
)


def update_record(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    if change is None or change.keys is None:
        return
    event_name = str(record.get("eventName"))
    old, new = change.old_image, change.new_image
    if constants.JOB_KEY in change.keys:
        if not job_status_changed(event_name, old, new):
            return
        job = job_from_item(dict(new))
        logger.set_correlation_id(job.job.arn)
        pushed = updates.job_changed(job, corrects_of((old or {}).get("status"), new.get("status")))
        metrics.add_metric(name=constants.METRIC_PUSHES_SENT, unit=MetricUnit.Count, value=pushed.sent)
        logger.info("Pushed a job's status", status=job.status.value, sent=pushed.sent)
        return
    found = job_tasks.read(event_name, old, new)
    if found is None:
        return
    logger.set_correlation_id(found.task_arn)
    done = updates.task_changed(found, task_from_item(dict(new)) if found.push else None)
    if found.link:
        metrics.add_metric(name=constants.METRIC_JOB_TASKS_LINKED, unit=MetricUnit.Count, value=1)
    if done.get("counted"):
        metrics.add_metric(name=constants.METRIC_JOB_TASK_ENDS_COUNTED, unit=MetricUnit.Count, value=1)
    logger.info("A job's task", job=found.job_arn, done={k: str(v) for k, v in done.items()})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=update_record, processor=processor, context=context)
