"""The task table's item: plain attribute names, mapped to and from the domain record.

People read this table directly (console, CLI, boto3), so every attribute is named for what it
holds, times are ISO-8601 UTC strings that sort as they read, and durations are in seconds.
Promoted tags (a deployment setting) are copied to top-level `tag:<key>` attributes, which the
`by-tag-<key>` indexes list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from tracker.constants import ORIGIN_BACKFILL, TAG_ATTRIBUTE_PREFIX
from tracker.domain import ActionMetadata, Enrichment, Status, TaskArn, TaskRecord

Item = dict[str, Any]


def to_item(record: TaskRecord, promoted_tag_keys: Sequence[str] = ()) -> Item:
    item: Item = {
        "taskArn": record.task.arn,
        "taskId": record.task.task_id,
        "region": record.task.region,
        "account": record.task.account,
        "deviceArn": record.device_arn,
        "deviceName": record.device_name,
        "shots": record.shots,
        "status": record.status.value,
        "statusTimes": {status.value: time for status, time in record.status_times.items()},
        "createdAt": record.created_at,
        "outputS3Bucket": record.output_s3_bucket,
        "outputS3Directory": record.output_s3_directory,
        "resultsUri": record.results_uri,
        "lastEventAt": record.last_event_at,
        "eventCount": record.event_count,
        "origin": record.origin,
    }
    optional: Item = {
        "eventIds": set(record.event_ids) or None,  # DynamoDB has no empty sets: a submitted task has no events yet
        "tags": dict(record.tags) or None,
        "endedAt": record.ended_at,
        "queueSeconds": record.queue_seconds,
        "runSeconds": record.run_seconds,
        "submitter": record.submitter,
        "unfinishedRegion": None if record.status.finished else record.task.region,
        "notifiedAt": record.notified_at,
        "awaitingNotification": record.task.region if awaits_notification(record) else None,
        "lastCheckedAt": record.checked_at,
        "notifications": {status.value: at for status, at in record.notifications.items()} or None,
        "queueInfo": dict(record.queue_info) if record.queue_info else None,
        "queueInfoReadAt": record.queue_info_read_at,
        "costUsd": record.cost_usd,
        "costBasis": record.cost_basis,
        "jobCountedStatus": record.job_counted,
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    item.update(promoted_tag_attributes(record.tags, promoted_tag_keys))
    if record.enrichment is not None:
        item.update(enrichment_attributes(record.enrichment, promoted_tag_keys))
    if record.job_arn:
        item["jobArn"] = record.job_arn
    return item


def promoted_tag_attributes(tags: Mapping[str, str], promoted_tag_keys: Sequence[str]) -> Item:
    return {TAG_ATTRIBUTE_PREFIX + key: tags[key] for key in promoted_tag_keys if tags.get(key)}


def enrichment_attributes(enrichment: Enrichment, promoted_tag_keys: Sequence[str] = ()) -> Item:
    attributes: Item = {"enriched": enrichment.complete}
    if enrichment.failure_reason:
        attributes["failureReason"] = enrichment.failure_reason
    if enrichment.tags:
        attributes["tags"] = dict(enrichment.tags)
        attributes.update(promoted_tag_attributes(enrichment.tags, promoted_tag_keys))
    if enrichment.num_successful_shots is not None:
        attributes["numSuccessfulShots"] = enrichment.num_successful_shots
    if enrichment.job_arn:
        attributes["jobArn"] = enrichment.job_arn
    if enrichment.device_parameters:
        attributes["deviceParameters"] = enrichment.device_parameters
    if enrichment.action_metadata is not None:
        attributes["actionMetadata"] = action_metadata_attribute(enrichment.action_metadata)
    if enrichment.associations:
        attributes["associations"] = [dict(association) for association in enrichment.associations]
    return attributes


def action_metadata_attribute(metadata: ActionMetadata) -> Item:
    """GetQuantumTask's actionMetadata, spelled as Braket spells it (counts only where Braket gave them)."""
    found: Item = {"actionType": metadata.action_type}
    if metadata.program_count is not None:
        found["programCount"] = metadata.program_count
    if metadata.executable_count is not None:
        found["executableCount"] = metadata.executable_count
    return found


def from_item(item: Item) -> TaskRecord:
    enrichment = None
    if "enriched" in item:
        enrichment = Enrichment(
            complete=bool(item["enriched"]),
            failure_reason=item.get("failureReason"),
            tags=dict(item.get("tags", {})),
            num_successful_shots=_int_or_none(item.get("numSuccessfulShots")),
            job_arn=item.get("jobArn"),
            device_parameters=item.get("deviceParameters"),
            action_metadata=_action_metadata(item.get("actionMetadata")),
            associations=tuple({"arn": str(a["arn"]), "type": str(a["type"])} for a in item.get("associations") or ()),
        )
    return TaskRecord(
        task=_stored_task(item),
        device_arn=item["deviceArn"],
        shots=int(item["shots"]),
        output_s3_bucket=item["outputS3Bucket"],
        output_s3_directory=item["outputS3Directory"],
        created_at=item["createdAt"],
        status_times={Status(status): time for status, time in item["statusTimes"].items()},
        last_event_at=item["lastEventAt"],
        event_ids=frozenset(item.get("eventIds", ())),
        ended_at=item.get("endedAt"),
        enrichment=enrichment,
        submitter=item.get("submitter"),
        origin=item.get("origin", "event"),
        notified_at=item.get("notifiedAt"),
        tags=dict(item.get("tags", {})) if enrichment is None else {},
        checked_at=item.get("lastCheckedAt"),
        notifications={Status(status): at for status, at in (item.get("notifications") or {}).items()},
        queue_info=dict(item["queueInfo"]) if item.get("queueInfo") else None,
        queue_info_read_at=item.get("queueInfoReadAt"),
        cost_usd=item.get("costUsd"),
        cost_basis=dict(item["costBasis"]) if isinstance(item.get("costBasis"), dict) else None,
        job_arn=item.get("jobArn"),
        job_counted=item.get("jobCountedStatus"),
    )


def _action_metadata(attribute: Item | None) -> ActionMetadata | None:
    if not attribute:
        return None
    return ActionMetadata(
        attribute["actionType"],
        _int_or_none(attribute.get("programCount")),
        _int_or_none(attribute.get("executableCount")),
    )


def _stored_task(item: Item) -> TaskArn:
    """The task of a stored item, from the attributes the writer took from its ARN. Not parsed
    again: an item written under an older, looser parser stays readable (listed, pushed, served)."""
    if all(isinstance(item.get(name), str) for name in ("region", "account", "taskId")):
        return TaskArn(str(item["taskArn"]), item["region"], item["account"], item["taskId"])
    return TaskArn.parse(item["taskArn"])


def awaits_notification(record: TaskRecord) -> bool:
    """Finished with a status other than the one the topic announced last: its first end (if
    notifiable: a backfilled task is silent), or a correction of an end that was announced (also
    back to a status announced before it: the topic must end on the table's status)."""
    if not record.status.finished:
        return False
    last = record.last_announced
    return record.status is not last and (last is not None or record.origin != ORIGIN_BACKFILL)


def _int_or_none(value: Decimal | int | None) -> int | None:
    return None if value is None else int(value)
