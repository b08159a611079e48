"""The notification of a job's end: pure, built from the job record alone (as logic/notification.py for tasks).

Its own message type (`braket-task-tracker.job-finished`) on the same topic as tasks', with the
attributes `kind: job` and `type: job-finished` for filter policies (task notifications say `kind: task`,
`type: task-finished`), and the same
exactly-once rules: one message per final status of a job (a correction names the status it corrects).
It tells how many of the job's tasks ended, and how many failed, as counted when it is sent
(`taskCounts`: tasks whose end is recorded later, or corrected, adjust the job's item, not the message).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from tracker.job_domain import JobRecord, JobStatus
from tracker.logic.notification import MAX_ATTRIBUTES, SUBJECT_LIMIT, Notification, _duration, _number, _printable_ascii

DOCUMENT_TYPE = "braket-task-tracker.job-finished"
STATUS_DOCUMENT_TYPE = "braket-task-tracker.job-status"
DOCUMENT_VERSION = "1"
KIND = "job"
ATTRIBUTE_TYPE = "job-finished"
"""The `type` message attribute of a job's end (a task's is `task-finished`, a budget alert's `budget-alert`)."""


def notification_id(record: JobRecord) -> str:
    return f"{record.job.arn}#{record.status.value}"


def build(record: JobRecord, corrects: JobStatus | None = None) -> Notification:
    if not record.status.finished:
        raise ValueError(f"{record.job.arn} has not finished ({record.status.value})")
    return Notification(
        notification_id=notification_id(record),
        subject=subject(record, corrects),
        text=text(record, corrects),
        document=document(record, corrects),
        attributes=attributes(record, corrects),
    )


def _tasks(record: JobRecord) -> str:
    count, failed = record.task_count, record.failed_task_count
    return f"{count:,} task{'s' if count != 1 else ''}" + (f" ({failed:,} failed)" if failed else "")


def subject(record: JobRecord, corrects: JobStatus | None = None) -> str:
    """`Braket job COMPLETED: vqe-h2, 12 tasks (1 failed), ran 5 min 31 s`."""
    parts = [record.name or record.job.job_id, _tasks(record)]
    if record.run_seconds is not None:
        parts.append(f"ran {_duration(record.run_seconds)}")
    head = f"Braket job {record.status.value}"
    if corrects is not None:
        head = f"Correction: {head}, not {corrects.value}"
    line = _printable_ascii(f"{head}: {', '.join(parts)}")
    return line if len(line) <= SUBJECT_LIMIT else line[: SUBJECT_LIMIT - 3] + "..."


def text(record: JobRecord, corrects: JobStatus | None = None) -> str:
    details = record.details
    opening = [f"Your Amazon Braket hybrid job {record.status.value.lower()}."]
    if corrects is not None:
        opening = [
            f"Correction: your Amazon Braket hybrid job {record.status.value.lower()}.",
            f"An earlier message said {corrects.value}: Braket has since reported {record.status.value}.",
        ]
    counts = ", ".join(f"{n:,} {s.lower()}" for s, n in sorted(record.task_counts.items()) if n) or "none recorded"
    lines = [
        *opening,
        "",
        f"Job:         {record.job.arn}",
        f"Name:        {record.name or 'unknown'}",
        f"Device:      {(details.device_arn if details else None) or 'unknown'}",
        f"Created:     {record.created_at}",
        f"Started:     {record.started_at or 'unknown'}",
        f"Ended:       {record.ended_at or 'unknown'}",
        f"Ran for:     {_duration(record.run_seconds) if record.run_seconds is not None else 'unknown'}",
        f"Tasks:       {record.task_count:,} ended ({counts})",
    ]
    if record.status is JobStatus.COMPLETED and record.results_uri:
        lines.append(f"Results:     {record.results_uri}")
    if details and details.failure_reason:
        lines.append(f"Failure:     {details.failure_reason}")
    lines += ["", f"Console:     {console_url(record)}", "", f"Notification id: {notification_id(record)}"]
    return "\n".join(lines)


def document(record: JobRecord, corrects: JobStatus | None = None) -> dict[str, Any]:
    """The job as programs read it (also what the live channel pushes)."""
    details = record.details
    return {
        "type": DOCUMENT_TYPE if record.status.finished else STATUS_DOCUMENT_TYPE,
        "version": DOCUMENT_VERSION,
        "kind": KIND,
        "notificationId": notification_id(record),
        "correction": corrects is not None,
        "previousStatus": None if corrects is None else corrects.value,
        "jobArn": record.job.arn,
        "jobId": record.job.job_id,
        "jobName": record.name,
        "status": record.status.value,
        "region": record.job.region,
        "account": record.job.account,
        "deviceArn": details.device_arn if details else None,
        "createdAt": record.created_at,
        "startedAt": record.started_at,
        "endedAt": record.ended_at,
        "queueSeconds": _number(record.queue_seconds),
        "runSeconds": _number(record.run_seconds),
        "billableDuration": details.billable_duration if details else None,
        "instanceType": details.instance_type if details else None,
        "instanceCount": details.instance_count if details else None,
        "outputS3Path": details.output_s3_path if details else None,
        "resultsUri": record.results_uri if record.status is JobStatus.COMPLETED else None,
        "failureReason": details.failure_reason if details else None,
        "taskCount": record.task_count,
        "failedTaskCount": record.failed_task_count,
        "taskCounts": {s: record.task_counts.get(s, 0) for s in ("COMPLETED", "FAILED", "CANCELLED")},
        "tags": dict(details.tags) if details else {},
        "consoleUrl": console_url(record),
    }


def attributes(record: JobRecord, corrects: JobStatus | None = None) -> dict[str, dict[str, str]]:
    details = record.details
    found = {
        "type": _string(ATTRIBUTE_TYPE),
        "notificationId": _string(notification_id(record)),
        "kind": _string(KIND),
        "status": _string(record.status.value),
        "region": _string(record.job.region),
    }
    if details and details.device_arn:
        found["deviceArn"] = _string(details.device_arn)
        found["device"] = _string(details.device_arn.rsplit("/", 1)[-1])
    if record.name:
        found["jobName"] = _string(record.name)
    if corrects is not None:
        found["previousStatus"] = _string(corrects.value)
    if details and details.tags:
        pairs = [f"{key}={value}" for key, value in sorted(details.tags.items())]
        found["tags"] = {"DataType": "String.Array", "StringValue": json.dumps(pairs)}
    assert len(found) <= MAX_ATTRIBUTES
    return found


def console_url(record: JobRecord) -> str:
    region = record.job.region
    return f"https://{region}.console.aws.amazon.com/braket/home?region={region}#/jobs/{quote(record.job.arn, safe='')}"


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}
