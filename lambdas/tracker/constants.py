"""Names shared by the Lambda code and the CDK stacks.

This module imports nothing, so `stacks/` can read it without pulling in handler code.
"""

POWERTOOLS_VERSION = "3.37.0"
"""Powertools release used by the functions (the managed layer) and pinned for tests."""

METRICS_NAMESPACE = "BraketTaskTracker"
RECORDER_SERVICE = "task-recorder"
NOTIFIER_SERVICE = "task-notifier"

# Environment variables read once at cold start (see tracker.config).
ENV_TASK_TABLE = "TASK_TABLE_NAME"
ENV_REJECTED_TABLE = "REJECTED_EVENTS_TABLE_NAME"
ENV_ENRICH_MAX_ATTEMPTS = "ENRICH_MAX_ATTEMPTS"
ENV_TOPIC_ARN = "NOTIFICATION_TOPIC_ARN"

# Task table: key and indexes (name, partition key, sort key). Indexes sorted by createdAt
# list newest first with ScanIndexForward=False.
TASK_KEY = "taskArn"
INDEX_BY_STATUS = "by-status"
INDEX_BY_DEVICE = "by-device"
INDEX_BY_SUBMITTER = "by-submitter"  # sparse: only tasks with a known submitter
INDEX_BY_ACCOUNT = "by-account"  # all tasks of an account, newest first
INDEX_BY_TASK_ID = "by-task-id"  # a task by its id alone, whatever its Region
INDEX_UNFINISHED = "unfinished-by-last-event"  # sparse: only tasks that have not finished
INDEX_UNNOTIFIED = "unnotified-by-last-event"  # sparse: finished tasks whose end was not notified
TASK_INDEXES: tuple[tuple[str, str, str | None], ...] = (
    (INDEX_BY_STATUS, "status", "createdAt"),
    (INDEX_BY_DEVICE, "deviceArn", "createdAt"),
    (INDEX_BY_SUBMITTER, "submitter", "createdAt"),
    (INDEX_BY_ACCOUNT, "account", "createdAt"),
    (INDEX_BY_TASK_ID, "taskId", None),
    (INDEX_UNFINISHED, "unfinishedRegion", "lastEventAt"),
    (INDEX_UNNOTIFIED, "awaitingNotification", "lastEventAt"),
)
UNFINISHED_INDEX_PROJECTION = ("status", "taskId", "deviceArn")
"""The two sparse indexes carry only what reconciliation needs (besides the keys)."""
SPARSE_INDEXES = (INDEX_UNFINISHED, INDEX_UNNOTIFIED)

# Rejected-events table.
REJECTED_KEY = "messageId"
REJECTED_TTL_ATTRIBUTE = "expiresAt"
REJECTED_RETENTION_DAYS = 90

# Metrics (EMF) emitted by the recorder.
METRIC_EVENTS_RECORDED = "EventsRecorded"
METRIC_DUPLICATE_EVENTS = "DuplicateEvents"
METRIC_STALE_EVENTS = "StaleEvents"
METRIC_REJECTED_EVENTS = "RejectedEvents"
METRIC_ENRICHMENT_FAILURES = "EnrichmentFailures"
METRIC_NOTIFICATIONS_SENT = "NotificationsSent"
METRIC_NOTIFICATIONS_ALREADY_SENT = "NotificationsAlreadySent"

# Task origins (the item's `origin`): only ends recorded from events are notified by default.
ORIGIN_EVENT = "event"
FINISHED_STATUSES = ("COMPLETED", "FAILED", "CANCELLED")
UNFINISHED_STATUSES = ("CREATED", "QUEUED", "RUNNING", "CANCELLING")

# EventBridge pattern of the capture rule.
BRAKET_EVENT_SOURCE = "aws.braket"
TASK_STATE_CHANGE = "Braket Task State Change"

# Live updates (WebSocket API): the connections table, its index, the functions' variables and metrics.
LIVE_SERVICE = "live-updates"
LIVE_PUSHER_SERVICE = "live-pusher"
ENV_CONNECTIONS_TABLE = "CONNECTIONS_TABLE_NAME"
ENV_CONNECTIONS_ENDPOINT = "CONNECTIONS_ENDPOINT"
"""The WebSocket stage's management (@connections) URL: https://{api-id}.execute-api.{region}.amazonaws.com/{stage}."""
CONNECTIONS_KEY = "connectionId"
CONNECTIONS_SORT_KEY = "entry"
CONNECTIONS_TARGET = "target"
"""Present on subscription items only: `task#<task ARN>` or `submitter#<principal ARN>`."""
CONNECTIONS_TTL_ATTRIBUTE = "expiresAt"
INDEX_BY_TARGET = "by-target"  # sparse, keys only: the connections subscribed to a task or a submitter
LIVE_ROUTES = ("$connect", "$disconnect", "subscribe", "unsubscribe", "$default")
LIVE_STAGE = "live"
METRIC_PUSHES_SENT = "PushesSent"
METRIC_GONE_CONNECTIONS = "GoneConnections"
