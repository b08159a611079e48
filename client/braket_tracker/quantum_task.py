"""GetQuantumTask's answer, in the shape the Braket SDK reads, built from what the tracker knows.

What the pinned SDK reads from it (braket/aws/aws_session.py, aws_quantum_task.py):
- `quantumTaskArn` and `status`: `AwsSession.get_quantum_task` broadcasts them to `braket.tracking.Tracker`;
- `status`, and `failureReason` when FAILED (logged);
- `actionMetadata.actionType` when FAILED (`AwsQuantumTask._status` reads it, KeyError without it);
- `queueInfo` on every poll while QUEUED (`queue_position()`; the SDK always asks for QueueInfo);
- `outputS3Bucket` and `outputS3Directory` (where `result()` reads results.json);
- `associations` (whether a reservation applied, for the Tracker's costs);
- `ResponseMetadata` (the Braket guide prints `metadata()['ResponseMetadata']['HTTPHeaders']['date']`).
Times are datetimes, as botocore parses them; the Task API and the CLI keep ISO strings.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

QUEUED = "QUEUED"
TIMES = ("createdAt", "endedAt")
SAME_NAME = (
    "status",
    "failureReason",
    "deviceArn",
    "deviceParameters",
    "shots",
    "outputS3Bucket",
    "outputS3Directory",
    "tags",
    "jobArn",
    "associations",
    "numSuccessfulShots",
    "actionMetadata",
    "experimentalCapabilities",
)
"""GetQuantumTask's keys that the tracker's item and documents spell the same way."""
GET_QUANTUM_TASK_KEYS = frozenset({"quantumTaskArn", *SAME_NAME, *TIMES, "queueInfo"})
REQUIRED = ("quantumTaskArn", "deviceArn", "shots", "outputS3Bucket", "outputS3Directory", "createdAt")
"""Required in botocore's model of the answer (with status and deviceParameters), and known for every task
the tracker records. deviceParameters comes with Braket's details at the end (the item's, from the Task
API), or from the session's own create request; live pushes leave it out (up to 48 KB), and the SDK does
not read it."""
NOT_QUEUED = "Task is in {status} status. AmazonBraket does not show queue position for this status."
"""Braket's message when a task is not queued (the SDK's queue_position() docstring quotes it)."""


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time (the tracker's) as an aware datetime; a datetime as it is."""
    if value is None or isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def from_tracker(record: Mapping[str, Any]) -> dict[str, Any]:
    """GetQuantumTask's keys from a Task API item or a live-channel document (only those it has)."""
    found: dict[str, Any] = {"quantumTaskArn": record["taskArn"]}
    for key in SAME_NAME:
        if record.get(key) is not None:
            found[key] = record[key]
    for key in TIMES:
        moment = parse_time(record.get(key))
        if moment is not None:
            found[key] = moment
    return found


def tracker_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item's own fields (statusTimes, submitter, resultsUri, ...), as the Task API gives them."""
    return {key: value for key, value in item.items() if key not in GET_QUANTUM_TASK_KEYS and key != "taskArn"}


def from_braket(response: Mapping[str, Any]) -> dict[str, Any]:
    """A GetQuantumTask answer of Braket's, without what belongs to that one answer."""
    return {key: value for key, value in response.items() if key not in ("ResponseMetadata", "queueInfo")}


def from_create(arn: str, params: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """What a CreateQuantumTask request tells of its task, before the tracker records it. Braket puts
    results under `<outputS3KeyPrefix>/<task id>`; `createdAt` is this machine's time of the answer
    until the tracker's (Braket's) arrives."""
    found: dict[str, Any] = {
        "quantumTaskArn": arn,
        "deviceArn": params["deviceArn"],
        "shots": params["shots"],
        "outputS3Bucket": params["outputS3Bucket"],
        "outputS3Directory": f"{params['outputS3KeyPrefix']}/{arn.rsplit('/', 1)[-1]}",
        "createdAt": at,
        "tags": dict(params.get("tags") or {}),
    }
    for key in ("deviceParameters", "associations", "experimentalCapabilities"):
        if params.get(key):
            found[key] = params[key]
    action_type = _action_type(params.get("action"))
    if action_type is not None:
        found["actionMetadata"] = {"actionType": action_type}
    return found


def _action_type(action: Any) -> str | None:
    try:
        name = json.loads(action)["braketSchemaHeader"]["name"]
    except (TypeError, ValueError, KeyError):
        return None
    return name if isinstance(name, str) else None


def queue_info(status: str, job_arn: str | None, read: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """QueueInfo as GetQuantumTask gives it: the read one while QUEUED, else Braket's "not queued" answer.
    A hybrid job's tasks wait in the Priority queue. Always with `queue` and `queuePriority`, which the
    SDK's queue_position() reads (KeyError without them), also when the tracker's read lacks them."""
    priority = "Priority" if job_arn else "Normal"
    if status != QUEUED:
        return {
            "queue": "QUANTUM_TASKS_QUEUE",
            "position": "None",
            "queuePriority": priority,
            "message": NOT_QUEUED.format(status=status),
        }
    known = {"queue": "QUANTUM_TASKS_QUEUE", "queuePriority": priority}  # queue_position() reads both
    if read:
        return known | {key: value for key, value in read.items() if value is not None}
    return known | {"message": "The queue position could not be read from the tracker."}


def response_metadata(
    at: datetime,
    *,
    source: str,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    attempts: int = 0,
) -> dict[str, Any]:
    """ResponseMetadata as botocore builds it: the request id, the status, the (lower-cased) HTTP
    headers with the answer's `date`, and the retries. `x-braket-tracker-source` tells who answered:
    `live` (the live channel's view), `api` (a Task API read) or `session` (what this session did)."""
    found = {name.lower(): value for name, value in (headers or {}).items()}
    request_id = request_id or found.get("x-amzn-requestid") or str(uuid.uuid4())
    found.setdefault("date", format_datetime(at.astimezone(UTC), usegmt=True))
    found.setdefault("content-type", "application/json")
    found.setdefault("x-amzn-requestid", request_id)
    found["x-braket-tracker-source"] = source
    return {"RequestId": request_id, "HTTPStatusCode": 200, "HTTPHeaders": found, "RetryAttempts": attempts}
