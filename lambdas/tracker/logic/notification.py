"""The notification of a task's end: pure, built from the task record alone.

A correction: should a task's final status change after its end was announced (a FAILED event
with an earlier end after COMPLETED, see the merge rules), one more message announces the new
status, marked `"correction": true` and naming the status it corrects (`previousStatus`): whenever
the table's final status differs from the last one announced, even if it returns to a status
announced earlier. Each message still goes out at most once: its notification id names the final
state it announces (see `notification_id`), which no later state repeats.

The cost: a finished task's document carries `costUsd` (an exact decimal string) and `costBasis`
(how it was reached), as the notifier priced it or the item records it for this status.

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
from tracker.logic.task_costs import cost_for_status
from tracker.models.item import action_metadata_attribute

DOCUMENT_TYPE = "braket-task-tracker.task-finished"
ATTRIBUTE_TYPE = "task-finished"
"""The `type` message attribute of a task's end (a budget alert's is `budget-alert`)."""
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


Cost = tuple[Decimal | None, dict[str, Any]]
"""A task's cost in USD (None: unpriced) and its basis (logic.task_costs.basis_item)."""


def notification_id(record: TaskRecord) -> str:
    """What a subscriber dedupes on: the final state announced. `<task ARN>#<status>` for a task's
    end, the same for a duplicate (a crash between publish and mark). Once the task has had another
    final status reported, `<task ARN>#<status>#<that status's time>`: the merge keeps each status's
    earliest time, so a status that becomes final again (COMPLETED, FAILED with an earlier time,
    then COMPLETED with an even earlier one) does so with another time, and another id. The id is
    a function of the item alone, so the topic, the live channel and snapshots agree on it."""
    base = f"{record.task.arn}#{record.status.value}"
    if record.superseded is None:
        return base
    return f"{base}#{record.status_times[record.status]}"


def build(record: TaskRecord, corrects: Status | None = None, cost: Cost | None = None) -> Notification:
    """The message announcing the task's end, or (`corrects`: the status announced before) its
    correction. `cost`: its price, if known (else the item's, if it prices this status)."""
    if not record.status.finished:
        raise ValueError(f"{record.task.arn} has not finished ({record.status.value})")
    cost = cost or cost_for_status(record)
    return Notification(
        notification_id=notification_id(record),
        subject=subject(record, corrects, cost),
        text=text(record, corrects, cost),
        document=document(record, corrects, cost),
        attributes=attributes(record, corrects),
    )


def subject(record: TaskRecord, corrects: Status | None = None, cost: Cost | None = None) -> str:
    """`Braket task COMPLETED: sv1, 1,000 shots, ran 2.1 s, $0.00375`: what an inbox shows. A
    correction: `Correction: Braket task FAILED, not COMPLETED: sv1, 1,000 shots, ran 1.5 s, $0`."""
    parts = [record.device_name, f"{record.shots:,} shots"]
    if record.run_seconds is not None:
        parts.append(f"ran {_duration(record.run_seconds)}")
    elif record.status is not Status.COMPLETED and record.enrichment and record.enrichment.failure_reason:
        parts.append(record.enrichment.failure_reason)
    if cost is not None and cost[0] is not None:
        parts.append(usd(cost[0]))
    head = f"Braket task {record.status.value}"
    if corrects is not None:
        head = f"Correction: {head}, not {corrects.value}"
    return printable_subject(f"{head}: {', '.join(parts)}")


def printable_subject(line: str) -> str:
    """What SNS takes as a subject: printable ASCII, under 100 characters."""
    line = _printable_ascii(line)
    return line if len(line) <= SUBJECT_LIMIT else line[: SUBJECT_LIMIT - 3] + "..."


def text(record: TaskRecord, corrects: Status | None = None, cost: Cost | None = None) -> str:
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
    if cost is not None:
        lines.append(f"Cost:        {cost_line(*cost)}")
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


def document(record: TaskRecord, corrects: Status | None = None, cost: Cost | None = None) -> dict[str, Any]:
    """The task as programs read it. `corrects`: the final status this document corrects; `cost`:
    its price (else the item's, if it prices this status)."""
    enrichment = record.enrichment
    cost = cost or cost_for_status(record)
    return {
        "type": DOCUMENT_TYPE if record.status.finished else STATUS_DOCUMENT_TYPE,
        "version": DOCUMENT_VERSION,
        "kind": "task",
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
        "costUsd": None if cost is None or cost[0] is None else _decimal(cost[0]),
        "costBasis": None if cost is None else _plain(cost[1]),
    }


def cost_line(usd_amount: Decimal | None, basis: dict[str, Any]) -> str:
    """`$0.00375 (simulator: 3,000 ms billed at $0.075 per minute)`, or why the task is not priced."""
    rule = basis.get("rule")
    if usd_amount is None:
        return f"not priced: {basis.get('reason', 'unknown')}"
    prices = ", ".join(f"${p['usd']} per {p['unit']}" for p in basis.get("prices", ()))
    if rule == "simulator":
        detail = f"{int(basis.get('billedMs', 0)):,} ms billed at {prices}"
    elif rule == "qpu":
        detail = f"{int(basis.get('shots', 0)):,} shots ({basis.get('shotsCounted')}) at {prices}"
    else:
        detail = str(basis.get("reason", rule))
    return f"{usd(usd_amount)} ({rule}: {detail})"


def usd(value: Decimal) -> str:
    """Exact: `$80.30`, `$0.00375`."""
    text = _decimal(value)
    whole, _, fraction = text.partition(".")
    return f"${int(whole):,}.{(fraction + '00')[: max(2, len(fraction))]}"


def attributes(record: TaskRecord, corrects: Status | None = None) -> dict[str, dict[str, str]]:
    """SNS message attributes for filter policies (names: letters, digits, '-', '_', '.'; no empty values).
    A correction also has `previousStatus` (filter on it with `{"previousStatus": [{"exists": true}]}`)."""
    found: dict[str, dict[str, str]] = {
        "type": _string(ATTRIBUTE_TYPE),
        "notificationId": _string(notification_id(record)),
        "kind": _string("task"),  # hybrid jobs' ends say "job" (logic/job_notification.py)
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


def _decimal(value: Decimal) -> str:
    """An exact amount as a decimal string, without exponent or trailing zeros ("0.00375", "80.3")."""
    text = f"{Decimal(value).normalize():f}"
    return text


def _plain(value: Any) -> Any:
    """A stored basis as JSON: numbers as ints (counts and milliseconds are whole)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else _decimal(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _printable_ascii(text: str) -> str:
    """What SNS accepts as a subject: accents dropped, other characters and control codes removed."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join("".join(c if " " <= c < "\x7f" else " " for c in ascii_text).split())


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}
