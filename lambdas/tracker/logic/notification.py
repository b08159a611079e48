"""The notification of a task's end: pure, built from the task record alone.

A correction: should a task's final status change after its end was announced (a FAILED event
with an earlier end after COMPLETED, see the merge rules), one more message announces the new
status, marked `"correction": true` and naming the status it corrects (`previousStatus`). Its
notification id is the task and its new status, like any end: so each final status of a task is
announced at most once.

One message, three readers:
- people (email) get a subject and a text body;
- programs (SQS, Lambda, HTTP/S, email-json) get a versioned JSON document;
- SNS filter policies see message attributes (status, device, Region, submitter, tags).
SNS delivers message attributes only with a plain String message, not with a per-protocol (JSON)
message structure, so every attribute is also in the JSON document: filtering works on the
attributes, and a subscriber reads the document.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from tracker.domain import Status, TaskRecord
from tracker.models.item import action_metadata_attribute

DOCUMENT_TYPE = "braket-task-tracker.task-finished"
DOCUMENT_VERSION = "1"
STATUS_DOCUMENT_TYPE = "braket-task-tracker.task-status"
"""The same document for a task that has not finished (live updates push every status change)."""
SUBJECT_LIMIT = 99  # SNS: "less than 100 characters", ASCII, no line breaks or control characters
MAX_ATTRIBUTES = 10  # SNS's limit for SQS subscribers with raw message delivery
_JSON_PROTOCOLS = ("default", "sqs", "lambda", "http", "https", "email-json", "firehose", "application")


@dataclass(frozen=True)
class Notification:
    notification_id: str
    subject: str
    text: str
    document: dict[str, Any]
    attributes: dict[str, dict[str, str]]

    def message(self) -> str:
        """The per-protocol message (MessageStructure=json): text for email, the document elsewhere."""
        document = json.dumps(self.document, sort_keys=True)
        return json.dumps({"email": self.text, **dict.fromkeys(_JSON_PROTOCOLS, document)})


def notification_id(record: TaskRecord) -> str:
    """Stable for a task's end: a duplicate (a crash between publish and mark) carries the same id."""
    return f"{record.task.arn}#{record.status.value}"


def build(record: TaskRecord, corrects: Status | None = None) -> Notification:
    """The message announcing the task's end, or (`corrects`: the status announced before) its correction."""
    if not record.status.finished:
        raise ValueError(f"{record.task.arn} has not finished ({record.status.value})")
    return Notification(
        notification_id=notification_id(record),
        subject=subject(record, corrects),
        text=text(record, corrects),
        document=document(record, corrects),
        attributes=attributes(record, corrects),
    )


def subject(record: TaskRecord, corrects: Status | None = None) -> str:
    """`Braket task COMPLETED: sv1, 1,000 shots, ran 2.1 s`: what an inbox shows. A correction:
    `Correction: Braket task FAILED, not COMPLETED: sv1, 1,000 shots`."""
    parts = [record.device_name, f"{record.shots:,} shots"]
    if record.run_seconds is not None:
        parts.append(f"ran {_duration(record.run_seconds)}")
    elif record.status is not Status.COMPLETED and record.enrichment and record.enrichment.failure_reason:
        parts.append(record.enrichment.failure_reason)
    head = f"Braket task {record.status.value}"
    if corrects is not None:
        head = f"Correction: {head}, not {corrects.value}"
    line = _printable_ascii(f"{head}: {', '.join(parts)}")
    return line if len(line) <= SUBJECT_LIMIT else line[: SUBJECT_LIMIT - 3] + "..."


def text(record: TaskRecord, corrects: Status | None = None) -> str:
    enrichment = record.enrichment
    opening = [f"Your Amazon Braket quantum task {record.status.value.lower()}."]
    if corrects is not None:
        opening = [
            f"Correction: your Amazon Braket quantum task {record.status.value.lower()}.",
            f"An earlier message said {corrects.value}: Braket has since reported {record.status.value}, with an",
            "earlier end, and that is the task's final status.",
        ]
    lines = [
        *opening,
        "",
        f"Task:        {record.task.arn}",
        f"Device:      {record.device_arn}",
        f"Shots:       {record.shots:,}",
        f"Created:     {record.created_at}",
        f"Ended:       {record.ended_at or 'unknown'}",
        f"Queued for:  {_duration(record.queue_seconds) if record.queue_seconds is not None else 'unknown'}",
        f"Ran for:     {_duration(record.run_seconds) if record.run_seconds is not None else 'unknown'}",
    ]
    if record.status is Status.COMPLETED:
        lines.append(f"Results:     {record.results_uri}")
    if enrichment and enrichment.failure_reason:
        lines.append(f"Failure:     {enrichment.failure_reason}")
    if record.submitter:
        lines.append(f"Submitter:   {record.submitter}")
    if enrichment and enrichment.tags:
        lines.append("Tags:        " + ", ".join(f"{k}={v}" for k, v in sorted(enrichment.tags.items())))
    lines += ["", f"Console:     {console_url(record)}", "", f"Notification id: {notification_id(record)}"]
    return "\n".join(lines)


def document(record: TaskRecord, corrects: Status | None = None) -> dict[str, Any]:
    """The task as programs read it. `corrects`: the final status this document corrects."""
    enrichment = record.enrichment
    return {
        "type": DOCUMENT_TYPE if record.status.finished else STATUS_DOCUMENT_TYPE,
        "version": DOCUMENT_VERSION,
        "notificationId": notification_id(record),
        "correction": corrects is not None,
        "previousStatus": None if corrects is None else corrects.value,
        "taskArn": record.task.arn,
        "taskId": record.task.task_id,
        "status": record.status.value,
        "region": record.task.region,
        "account": record.task.account,
        "deviceArn": record.device_arn,
        "deviceName": record.device_name,
        "shots": record.shots,
        "createdAt": record.created_at,
        "endedAt": record.ended_at,
        "queueSeconds": _number(record.queue_seconds),
        "runSeconds": _number(record.run_seconds),
        "resultsUri": record.results_uri if record.status is Status.COMPLETED else None,
        "consoleUrl": console_url(record),
        "failureReason": enrichment.failure_reason if enrichment else None,
        "tags": dict(enrichment.tags) if enrichment else {},
        "numSuccessfulShots": enrichment.num_successful_shots if enrichment else None,
        "jobArn": enrichment.job_arn if enrichment else None,
        "submitter": record.submitter,
        # What the SDK reads at an end (TrackerSession answers from pushes): the action type of a FAILED
        # task, and whether a reservation applied (the SDK's Tracker prices by it). Not deviceParameters (48 KB).
        "actionMetadata": action_metadata_attribute(enrichment.action_metadata)
        if enrichment and enrichment.action_metadata
        else None,
        "associations": [dict(association) for association in enrichment.associations]
        if enrichment and enrichment.associations
        else None,
    }


def attributes(record: TaskRecord, corrects: Status | None = None) -> dict[str, dict[str, str]]:
    """SNS message attributes for filter policies (names: letters, digits, '-', '_', '.'; no empty values).
    A correction also has `previousStatus` (filter on it with `{"previousStatus": [{"exists": true}]}`)."""
    found: dict[str, dict[str, str]] = {
        "notificationId": _string(notification_id(record)),
        "status": _string(record.status.value),
        "device": _string(record.device_name),
        "deviceArn": _string(record.device_arn),
        "region": _string(record.task.region),
    }
    if corrects is not None:
        found["previousStatus"] = _string(corrects.value)
    if record.submitter:
        found["submitter"] = _string(record.submitter)
    tags = record.enrichment.tags if record.enrichment else {}
    if tags:
        pairs = [f"{key}={value}" for key, value in sorted(tags.items())]
        found["tags"] = {"DataType": "String.Array", "StringValue": json.dumps(pairs)}
    assert len(found) <= MAX_ATTRIBUTES
    return found


def console_url(record: TaskRecord) -> str:
    region = record.task.region
    return (
        f"https://{region}.console.aws.amazon.com/braket/home?region={region}#/tasks/{quote(record.task.arn, safe='')}"
    )


def _duration(seconds: Decimal) -> str:
    value = float(seconds)
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} d {hours % 24} h"


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _printable_ascii(text: str) -> str:
    """What SNS accepts as a subject: accents dropped, other characters and control codes removed."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join("".join(c if " " <= c < "\x7f" else " " for c in ascii_text).split())


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}
