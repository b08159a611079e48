"""The live-updates API's job routes (subscribeJobs, unsubscribeJobs): see live_routes.py. The connection
was authorized (IAM) and recorded at $connect by the live-updates connections handler."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.config import LiveConfig
from tracker.data.connections import ConnectionsTable
from tracker.data.connections_api import ConnectionsApi
from tracker.data.job_table import JobTable
from tracker.data.job_tasks import JobTasks
from tracker.jobs.config import JobsConfig
from tracker.jobs.live_routes import JobLiveRoutes
from tracker.models.websocket import parse_websocket_event

config = LiveConfig.from_env()
jobs_config = JobsConfig.from_env(constants.RECONCILER_GET_JOB_RATE)
logger = Logger(service=constants.JOB_LIVE_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.JOB_LIVE_SERVICE)
dynamodb = boto3.client("dynamodb")
routes = JobLiveRoutes(
    ConnectionsTable(config.connections_table, dynamodb),
    JobTable(jobs_config.job_table, dynamodb),
    JobTasks(config.task_table, jobs_config.job_table, dynamodb),
    ConnectionsApi(config.connections_endpoint),
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_websocket_event(event)
    logger.append_keys(connection_id=request.connection_id, route=request.route_key)
    snapshots = routes.handle(request.connection_id, request.body)
    metrics.add_metric(name="SnapshotsSent", unit=MetricUnit.Count, value=snapshots)
    logger.info("Answered a job subscription", snapshots=snapshots)
    return {"statusCode": 200}
