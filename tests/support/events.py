"""Braket task state change events: the real-shaped fixtures in tests/events, and builders like them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "events"
ACCOUNT = "012345678901"


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def all_fixture_events(detail_type: str = "Braket Task State Change") -> list[dict[str, Any]]:
    """Every fixture event of one kind (task state changes by default; "Braket Job State Change" for jobs)."""
    events: list[dict[str, Any]] = []
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        events.extend(data if isinstance(data, list) else [data])
    return [event for event in events if event.get("detail-type") == detail_type]


def job_arn(job_id: str | None = None, region: str = "us-east-1") -> str:
    return f"arn:aws:braket:{region}:{ACCOUNT}:job/{job_id or uuid.uuid4()}"


def job_state_change(
    arn: str,
    status: str,
    time: str,
    *,
    event_id: str | None = None,
    started_at: str | None = "2026-11-20T09:00:40.512Z",
    ended_at: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A job event in the shape local mode sends: startedAt from RUNNING on, endedAt on finished statuses."""
    detail: dict[str, Any] = {"jobArn": arn, "status": status, **extra}
    if status != "QUEUED" and started_at is not None:
        detail["startedAt"] = started_at
    if status in ("COMPLETED", "FAILED", "CANCELLED"):
        detail["endedAt"] = ended_at or time.replace("Z", "").split(".")[0] + ".250Z"
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Braket Job State Change",
        "source": "aws.braket",
        "account": ACCOUNT,
        "time": time,
        "region": arn.split(":")[3],
        "resources": [arn],
        "detail": detail,
    }


def task_arn(task_id: str | None = None, region: str = "us-east-1") -> str:
    return f"arn:aws:braket:{region}:{ACCOUNT}:quantum-task/{task_id or uuid.uuid4()}"


def state_change(
    arn: str,
    status: str,
    time: str,
    *,
    event_id: str | None = None,
    device_arn: str = "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
    shots: str = "1000",
    created_at: str = "2026-11-20T08:00:00.250Z",
    ended_at: str | None = None,
) -> dict[str, Any]:
    """An event in the exact shape Braket sends (shots as a string, endedAt only at the end)."""
    task_id = arn.rsplit("/", 1)[-1]
    region = arn.split(":")[3]
    detail: dict[str, Any] = {
        "quantumTaskArn": arn,
        "status": status,
        "deviceArn": device_arn,
        "shots": shots,
        "outputS3Bucket": f"amazon-braket-{region}-{ACCOUNT}",
        "outputS3Directory": f"tasks/{task_id}",
        "createdAt": created_at,
        "eventName": "INSERT" if status == "CREATED" else "MODIFY",
    }
    if status in ("COMPLETED", "FAILED", "CANCELLED"):
        detail["endedAt"] = ended_at or time.replace("Z", "").split(".")[0] + ".500Z"
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Braket Task State Change",
        "source": "aws.braket",
        "account": ACCOUNT,
        "time": time,
        "region": region,
        "resources": [arn],
        "detail": detail,
    }


def sqs_batch(bodies: list[str], queue_arn: str = f"arn:aws:sqs:us-east-1:{ACCOUNT}:capture") -> dict[str, Any]:
    """The event the Lambda SQS event source passes to the recorder."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"handle-{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1763625601000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1763625601001",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }
