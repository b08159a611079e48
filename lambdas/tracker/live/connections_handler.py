"""The WebSocket API's routes: $connect, $disconnect, subscribe, unsubscribe and $default.

$connect is authorized by IAM (SigV4) before this runs: API Gateway puts the caller's principal in
requestContext.identity.userArn, which is recorded with the connection (later messages carry no
identity). Every answer to a message is sent through @connections, not as the route's response, so
that the answer and the snapshot that follows it arrive in order.
"""

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
from tracker.data.task_reads import TaskReads
from tracker.live.service import LiveUpdates
from tracker.models.websocket import parse_websocket_event

config = LiveConfig.from_env()
logger = Logger(service=constants.LIVE_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.LIVE_SERVICE)
dynamodb = boto3.client("dynamodb")
service = LiveUpdates(
    ConnectionsTable(config.connections_table, dynamodb),
    TaskReads(config.task_table, dynamodb),
    ConnectionsApi(config.connections_endpoint),
)
OK = {"statusCode": 200}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_websocket_event(event)
    logger.append_keys(connection_id=request.connection_id, route=request.route_key)
    if request.route_key == "$connect":
        if not request.principal:
            # IAM authorization on $connect always supplies it; refuse rather than record an anonymous connection.
            logger.error("A $connect without a principal: is the route IAM-authorized?")
            metrics.add_metric(name="RefusedConnections", unit=MetricUnit.Count, value=1)
            return {"statusCode": 403}
        service.connect(request.connection_id, request.principal, request.connected_at_ms)
        metrics.add_metric(name="Connections", unit=MetricUnit.Count, value=1)
        logger.info("Connected", principal=request.principal)
        return OK
    if request.route_key == "$disconnect":
        forgotten = service.disconnect(request.connection_id)
        metrics.add_metric(name="Disconnections", unit=MetricUnit.Count, value=1)
        logger.info("Disconnected", items_deleted=forgotten)
        return OK
    if request.route_key in ("subscribe", "unsubscribe"):
        result = service.handle(request.connection_id, request.body)
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        if result is not None:
            metrics.add_metric(name="SnapshotsSent", unit=MetricUnit.Count, value=result.snapshots)
            logger.info("Subscribed", snapshots=result.snapshots, unknown_tasks=len(result.unknown), gone=result.gone)
        return OK
    service.unknown_route(request.connection_id, request.body)
    metrics.add_metric(name="UnknownActions", unit=MetricUnit.Count, value=1)
    return OK
