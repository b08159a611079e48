"""The jobs table's item: plain attribute names, mapped to and from the job record.

People read this table directly, so, as for tasks: attributes named for what they hold, times as
ISO-8601 UTC strings, durations in seconds, and GetJob's configuration flattened (jobName,
deviceArn, instanceType, hyperParameters, outputS3Path, ...). `billableDuration` is GetJob's figure
as given: Braket does not document its unit.
"""

from __future__ import annotations

from typing import Any

from tracker.constants import ORIGIN_BACKFILL
from tracker.job_domain import JobArn, JobDetails, JobRecord, JobStatus

Item = dict[str, Any]
FINISHED_NAMES = ("COMPLETED", "FAILED", "CANCELLED")

# GetJob's answer: item attribute <-> JobDetails field.
_DETAIL_ATTRIBUTES = (
    ("jobName", "job_name"),
    ("deviceArn", "device_arn"),
    ("roleArn", "role_arn"),
    ("instanceType", "instance_type"),
    ("instanceCount", "instance_count"),
    ("volumeSizeInGb", "volume_size_gb"),
    ("outputS3Path", "output_s3_path"),
    ("checkpointS3Uri", "checkpoint_s3_uri"),
    ("entryPoint", "entry_point"),
    ("scriptS3Uri", "script_s3_uri"),
    ("containerImage", "container_image"),
    ("maxRuntimeInSeconds", "max_runtime_seconds"),
    ("billableDuration", "billable_duration"),
    ("failureReason", "failure_reason"),
    ("reservationArn", "reservation_arn"),
)
_INTEGERS = {"instance_count", "volume_size_gb", "max_runtime_seconds", "billable_duration"}


def to_item(record: JobRecord) -> Item:
    status = record.status
    item: Item = {
        "jobArn": record.job.arn,
        "jobId": record.job.job_id,
        "region": record.job.region,
        "account": record.job.account,
        "status": status.value,
        "statusTimes": {s.value: time for s, time in record.status_times.items()},
        "createdAt": record.created_at,
        "lastEventAt": record.last_event_at,
        "eventCount": record.event_count,
        "origin": record.origin,
        "taskCounts": {name: int(record.task_counts.get(name, 0)) for name in FINISHED_NAMES},
        "version": record.version,
    }
    optional: Item = {
        "eventIds": set(record.event_ids) or None,
        "startedAt": record.started_at,
        "endedAt": record.ended_at,
        "queueSeconds": record.queue_seconds,
        "runSeconds": record.run_seconds,
        "reportedStartedAt": record.reported_started_at,
        "reportedEndedAt": record.reported_ended_at,
        "unknownDetail": dict(record.unknown) or None,
        "unfinishedRegion": record.job.region if needs_check(record) else None,
        "awaitingNotification": record.job.region if awaits_notification(record) else None,
        "notifiedAt": record.notified_at,
        "notifications": {s.value: at for s, at in record.notifications.items()} or None,
        "lastCheckedAt": record.checked_at,
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    if record.details is not None:
        item.update(detail_attributes(record.details))
    return item


def detail_attributes(details: JobDetails) -> Item:
    attributes: Item = {
        "enriched": details.complete,
        "detailsReadAt": details.observed_at,
    }
    if details.status is not None:
        attributes["detailsStatus"] = details.status.value
    for attribute, name in _DETAIL_ATTRIBUTES:
        value = getattr(details, name)
        if value is not None and value != "":
            attributes[attribute] = value
    for attribute, value in (
        ("braketCreatedAt", details.created_at),
        ("braketStartedAt", details.started_at),
        ("braketEndedAt", details.ended_at),
    ):
        if value:
            attributes[attribute] = value
    if details.hyperparameters:
        attributes["hyperParameters"] = dict(details.hyperparameters)
    if details.hyperparameters_truncated:
        attributes["hyperParametersTruncated"] = True
    if details.input_channels:
        attributes["inputDataConfig"] = [{"channelName": n, "s3Uri": uri} for n, uri in details.input_channels]
    if details.events:
        attributes["jobEvents"] = [dict(event) for event in details.events]
    if details.tags:
        attributes["tags"] = dict(details.tags)
    return attributes


def from_item(item: Item) -> JobRecord:
    details = None
    if "enriched" in item:
        values: dict[str, Any] = {}
        for attribute, name in _DETAIL_ATTRIBUTES:
            if attribute in item:
                values[name] = int(item[attribute]) if name in _INTEGERS else item[attribute]
        details = JobDetails(
            complete=bool(item["enriched"]),
            observed_at=str(item.get("detailsReadAt", "")),
            status=JobStatus(item["detailsStatus"]) if item.get("detailsStatus") else None,
            created_at=item.get("braketCreatedAt"),
            started_at=item.get("braketStartedAt"),
            ended_at=item.get("braketEndedAt"),
            hyperparameters=dict(item.get("hyperParameters") or {}),
            hyperparameters_truncated=bool(item.get("hyperParametersTruncated", False)),
            input_channels=tuple((c["channelName"], c["s3Uri"]) for c in item.get("inputDataConfig") or ()),
            events=tuple(dict(e) for e in item.get("jobEvents") or ()),
            tags=dict(item.get("tags") or {}),
            **values,
        )
    return JobRecord(
        job=_stored_job(item),
        status_times={JobStatus(s): t for s, t in item["statusTimes"].items()},
        last_event_at=item["lastEventAt"],
        event_ids=frozenset(item.get("eventIds", ())),
        reported_started_at=item.get("reportedStartedAt"),
        reported_ended_at=item.get("reportedEndedAt"),
        unknown=dict(item.get("unknownDetail") or {}),
        details=details,
        origin=item.get("origin", "event"),
        notified_at=item.get("notifiedAt"),
        notifications={JobStatus(s): at for s, at in (item.get("notifications") or {}).items()},
        checked_at=item.get("lastCheckedAt"),
        task_counts={str(k): int(v) for k, v in (item.get("taskCounts") or {}).items() if int(v)},
        version=int(item.get("version", 0)),
    )


def _stored_job(item: Item) -> JobArn:
    if all(isinstance(item.get(name), str) for name in ("region", "account", "jobId")):
        return JobArn(str(item["jobArn"]), item["region"], item["account"], item["jobId"])
    return JobArn.parse(item["jobArn"])


def needs_check(record: JobRecord) -> bool:
    """The reconciler's to ask about (the sparse `unfinished-by-last-event` index): an unfinished job, or a
    finished one recorded without Braket's final details (GetJob was throttled or did not answer)."""
    details = record.details
    described = details is not None and details.complete and details.status is not None and details.status.finished
    return not record.status.finished or not described


def awaits_notification(record: JobRecord) -> bool:
    """Finished with a status not announced: its first end (unless backfilled: silent), or a correction."""
    if not record.status.finished:
        return False
    announced = record.announced
    return record.status not in announced and (bool(announced) or record.origin != ORIGIN_BACKFILL)
