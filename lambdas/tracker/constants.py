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
ENV_DETAILS_AFTER_END = "DETAILS_AFTER_END"
"""The recorder writes and pushes a task's end before asking Braket for its details ("true"), or
after ("false": one write per end, which then waits for GetQuantumTask). docs/latency.md."""

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
METRIC_CONFLICTING_EVENTS = "ConflictingEvents"  # one event id, two bodies
METRIC_STALE_EVENTS = "StaleEvents"
METRIC_REJECTED_EVENTS = "RejectedEvents"
METRIC_ENRICHMENT_FAILURES = "EnrichmentFailures"
METRIC_NOTIFICATIONS_SENT = "NotificationsSent"
METRIC_NOTIFICATIONS_ALREADY_SENT = "NotificationsAlreadySent"
METRIC_CORRECTIONS_SENT = "CorrectionsSent"  # a final status that replaced one already announced
# ... and about the tasks it records (tracker.logic.task_metrics), for the dashboard (stacks/dashboard.py).
METRIC_TASKS_BY_STATUS = "TasksByStatus"  # dimension: status
METRIC_TASKS_ENDED = "TasksEnded"  # dimension: device
METRIC_QUEUE_TIME = "QueueTime"  # seconds; dimension: device
METRIC_RUN_TIME = "RunTime"  # seconds; dimension: device
METRIC_RECORD_DELAY = "RecordDelay"  # milliseconds from Braket's endedAt to the end's write
DIMENSION_SERVICE = "service"  # Powertools' dimension on every metric: the function's service name
DIMENSION_STATUS = "status"
DIMENSION_DEVICE = "device"  # a device's short name (sv1, Forte-1)

# Task origins (the item's `origin`): only ends recorded from events are notified by default.
ORIGIN_EVENT = "event"
FINISHED_STATUSES = ("COMPLETED", "FAILED", "CANCELLED")
UNFINISHED_STATUSES = ("CREATED", "QUEUED", "RUNNING", "CANCELLING")

# EventBridge pattern of the capture rule.
BRAKET_EVENT_SOURCE = "aws.braket"
TASK_STATE_CHANGE = "Braket Task State Change"

# Task API.
API_SERVICE = "task-api"
ENV_IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE_NAME"
ENV_RESULTS_BUCKETS = "RESULTS_BUCKETS"  # JSON object: Region -> the stack's results bucket there
ENV_READABLE_BUCKETS = "READABLE_RESULTS_BUCKETS"  # JSON list: users' own buckets whose results may be read
ENV_DEVICE_ALLOWLIST = "DEVICE_ALLOWLIST"  # JSON list of device ARNs that POST /tasks accepts
ENV_ADMIN_PRINCIPALS = "ADMIN_PRINCIPALS"  # JSON list of IAM ARNs that may cancel anyone's task
ENV_PROMOTED_TAG_KEYS = "PROMOTED_TAG_KEYS"  # JSON list of tag keys that GET /tasks can filter on
ORIGIN_API = "api"
NOTIFIED_ORIGINS = (ORIGIN_EVENT, ORIGIN_API)
"""Origins whose ends are notified by default: live tasks, not imported history."""
RESERVED_TAG_PREFIX = "braket-tracker:"
"""Tag keys the tracker sets itself: a submission that sets one is refused, so none can be forged."""
SUBMITTER_TAG = RESERVED_TAG_PREFIX + "submitter"
RESULTS_BUCKET_PREFIX = "amazon-braket-"
"""Braket's service-linked role writes results only to buckets whose names start with this."""
RESULTS_PREFIX = "tasks"
MAX_PROGRAM_BYTES = 1_048_576
"""The API's limit on an OpenQASM program (UTF-8 bytes): far below Lambda's 6 MB payload and
Braket's 5 MB action, even when JSON escaping doubles every character."""
MAX_PAGE_SIZE = 100
PRESIGNED_URL_SECONDS = 300
IDEMPOTENCY_KEY = "idempotencyKey"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiresAt"
IDEMPOTENCY_RETENTION_HOURS = 24
MAX_PROMOTED_TAG_KEYS = 5


def tag_index_name(key: str) -> str:
    """The GSI that lists tasks by a promoted tag's value (index names allow [A-Za-z0-9_.-])."""
    return "by-tag-" + "".join(c if c.isalnum() or c in "_.-" else "_" for c in key)


TAG_ATTRIBUTE_PREFIX = "tag:"
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
METRIC_PUSHES_FAILED = "PushesFailed"  # a push the recorder could not send (the subscriber's snapshot covers it)
METRIC_END_DELAY = "EndDelay"
"""Milliseconds from Braket's endedAt to the end written and pushed by the recorder (docs/latency.md)."""

# Reconciliation (issue 8): the reconciler heals what lost events left behind; the backfill imports history.
RECONCILER_SERVICE = "task-reconciler"
ORIGIN_RECONCILER = "reconciler"  # a task whose every event was lost, found by the reconciler's sweep
ORIGIN_BACKFILL = "backfill"  # imported by `python -m ops backfill`: silent, never notified by default
OBSERVED_EVENT_PREFIX = "braket-api:"
"""Event ids of statuses observed through Braket's API (GetQuantumTask, SearchQuantumTasks), not
received as events: `braket-api:COMPLETED`. One per status, so observing it again changes nothing."""
BRAKET_REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-2", "eu-north-1")
"""The Regions where Amazon Braket runs tasks (its endpoints, 2026)."""
ENV_STATE_TABLE = "RECONCILER_STATE_TABLE_NAME"
ENV_BRAKET_REGIONS = "BRAKET_REGIONS"
ENV_STALE_AFTER_MINUTES = "STALE_AFTER_MINUTES"
ENV_BRAKET_RATE = "BRAKET_REQUESTS_PER_SECOND"
ENV_NOTIFY_GRACE_MINUTES = "NOTIFY_GRACE_MINUTES"
STATE_KEY = "name"
METRIC_TASKS_CHECKED = "TasksChecked"
METRIC_TASKS_REPAIRED = "TasksRepaired"
METRIC_RECONCILE_ERRORS = "ReconcileErrors"
METRIC_NOTIFICATIONS_RECOVERED = "NotificationsRecovered"

# Prices (issue 19): the price catalogue, read from the AWS Price List on a schedule.
PRICES_SERVICE = "price-refresher"
ENV_PRICES_TABLE = "PRICES_TABLE_NAME"
ENV_PRICE_LIST_REGION = "PRICE_LIST_REGION"
PRICE_LIST_REGION = "us-east-1"
"""The Price List Query API answers in us-east-1, eu-central-1 and ap-south-1 only (AWS Billing User
Guide, "Using the AWS Price List Query API"); us-east-1 is the endpoint every version of it lists."""
PRICES_KEY = "catalogue"
"""Items of the prices table: `current` (the catalogue in use) and `version#<digest>` (each one taken)."""
METRIC_PRICES_READ = "PricesRead"
METRIC_PRICE_PRODUCTS_REFUSED = "PriceProductsRefused"

# Costs (issue 19): the cost keeper (the notifier's cost queue -> each ended task's cost, monthly
# totals, budget alerts), the budgets the Task API enforces, and Braket's spending limits beside them.
COSTS_SERVICE = "cost-keeper"
SPENDING_LIMITS_SERVICE = "spending-limits"
ENV_TOTALS_TABLE = "COST_TOTALS_TABLE_NAME"
ENV_LEDGER_TABLE = "COST_LEDGER_TABLE_NAME"
ENV_COST_QUEUE_URL = "COST_QUEUE_URL"  # the notifier hands the cost keeper its tasks here
ENV_NOTIFY_IMPORTED = "NOTIFY_IMPORTED"  # "true": the notifier announces backfilled tasks' ends too
ENV_BUDGETS = "BUDGETS"  # JSON list of {scope, monthlyUsd, alertAt}, amounts as decimal strings
TOTALS_KEY = "month"  # the totals table: one item per UTC month (YYYY-MM) ...
TOTALS_SORT_KEY = "scope"  # ... and scope: account, device:<ARN>, submitter:<ARN>, tag:<key>=<value>
LEDGER_KEY = "entry"  # the cost ledger: task#<task ARN>, what the totals count for each task
RESERVATION_SCOPE_PREFIX = "reservation:"
"""Budget holds of submissions not yet linked to their task, under the month they were made in."""
SPENDING_LIMIT_SPEND_CHANGE = "Braket Spending Limit Spend Change"
METRIC_TASKS_COSTED = "TasksCosted"
METRIC_COSTS_MOVED = "CostsMoved"  # a counted task moved: a corrected end, details filled in later
METRIC_UNPRICED_TASKS = "UnpricedTasks"
METRIC_BUDGET_ALERTS_SENT = "BudgetAlertsSent"
METRIC_SPENDING_LIMITS_RECORDED = "SpendingLimitsRecorded"
METRIC_SPEND = "SpendUsd"
"""USD the cost keeper moved into the totals (a task's cost when first counted; the difference when
its count moves, so negative for a correction that costs less). Summed over a day: what was counted
that day, by the time it was counted (the totals table keeps each task under the month it ended in)."""
# Hybrid jobs (issue 18): the jobs table, its indexes, the job functions and their settings.
JOB_STATE_CHANGE = "Braket Job State Change"
JOB_KEY = "jobArn"
INDEX_BY_JOB = "by-job"  # on the task table, sparse: a job's tasks, newest first
INDEX_BY_JOB_ID = "by-job-id"  # on the jobs table: a job by its id alone, whatever its Region
JOB_INDEXES: tuple[tuple[str, str, str | None], ...] = (
    (INDEX_BY_STATUS, "status", "createdAt"),
    (INDEX_BY_ACCOUNT, "account", "createdAt"),
    (INDEX_BY_JOB_ID, "jobId", None),
    (INDEX_UNFINISHED, "unfinishedRegion", "lastEventAt"),
    (INDEX_UNNOTIFIED, "awaitingNotification", "lastEventAt"),
)
JOB_SPARSE_INDEX_PROJECTION = ("status", "jobId")
JOBS_PREFIX = "jobs/"
"""Where the SDK puts a job's tasks' results (AMZN_BRAKET_TASK_RESULTS_S3_URI = s3://<bucket>/jobs/<name>/tasks):
a task whose output directory starts with it is asked for its job as soon as it is recorded."""
ENV_JOB_TABLE = "JOB_TABLE_NAME"
ENV_GET_JOB_RATE = "GET_JOB_REQUESTS_PER_SECOND"
ENV_LINK_RATE = "LINK_REQUESTS_PER_SECOND"
JOB_UPDATES_SERVICE = "job-updates"
JOB_NOTIFIER_SERVICE = "job-notifier"
JOB_LIVE_SERVICE = "job-live"
JOB_LIVE_ROUTES = ("subscribeJobs", "unsubscribeJobs")
GET_JOB_QUOTA = 5.0
"""GetJob's quota per account and Region (requests per second; burst 25): the tracker's share is far below."""
RECORDER_GET_JOB_RATE = 0.5
"""GetJob requests per second that one recorder instance may make (at most 5 instances: 2.5/s)."""
RECONCILER_GET_JOB_RATE = 0.2
"""GetJob (and SearchJobs) requests per second for the reconciler's job passes, per Region."""
LINK_RATE = 5.0
"""GetQuantumTask requests per second that the job-updates function makes to link a job's tasks."""
METRIC_JOB_EVENTS_RECORDED = "JobEventsRecorded"
METRIC_JOB_TASKS_LINKED = "JobTasksLinked"
METRIC_JOB_TASK_ENDS_COUNTED = "JobTaskEndsCounted"
METRIC_JOBS_REPAIRED = "JobsRepaired"
