"""How the task table's writes are expressed: the in-order UpdateItem that applies one event
without a read, the version condition of whole-item writes (every attribute another writer can
change), and the attribute (de)serialization. Pure request building: data/task_table.py sends them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from tracker.constants import ORIGIN_BACKFILL
from tracker.domain import MAX_EVENTS_PER_TASK, Enrichment, Status, TaskEvent, seconds_between
from tracker.models.item import Item, enrichment_attributes

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class InOrderUpdate:
    """Builds the UpdateItem request that applies one in-order event."""

    def __init__(self, event: TaskEvent, enrichment: Enrichment | None, promoted_tag_keys: Sequence[str]) -> None:
        self.event = event
        self.enrichment = enrichment
        self.promoted_tag_keys = promoted_tag_keys
        self.names: dict[str, str] = {"#status": "status", "#new": event.status.value}
        self.values: dict[str, Any] = {}
        self.conditions: list[str] = []
        self.sets: list[str] = []
        self.removes: list[str] = []

    def value(self, name: str, value: Any) -> str:
        self.values[f":{name}"] = value
        return f":{name}"

    def request(self) -> dict[str, Any]:
        event = self.event
        lower = [s for s in Status if s.rank < event.status.rank]
        if not lower:
            raise ValueError("a CREATED event cannot move a task forward")
        older = ", ".join(self.value(f"lower{i}", s.value) for i, s in enumerate(lower))
        self.conditions += [
            "attribute_exists(taskArn)",
            f"#status IN ({older})",
            f"lastEventAt <= {self.value('time', event.time)}",
            f"NOT contains(eventIds, {self.value('eventId', event.event_id)})",
            f"eventCount < {self.value('maxEvents', MAX_EVENTS_PER_TASK)}",
        ]
        for attribute, value in (
            ("deviceArn", event.device_arn),
            ("shots", event.shots),
            ("createdAt", event.created_at),
            ("outputS3Bucket", event.output_s3_bucket),
            ("outputS3Directory", event.output_s3_directory),
        ):
            self.conditions.append(f"{attribute} = {self.value(attribute, value)}")
        self.sets += [
            f"#status = {self.value('status', event.status.value)}",
            "statusTimes.#new = :time",
            "lastEventAt = :time",
            f"eventCount = eventCount + {self.value('one', 1)}",
            # Items written before `origin` existed get it here, so the notifier's filter sees them.
            f"origin = if_not_exists(origin, {self.value('origin', event.origin)})",
        ]
        if event.status is Status.RUNNING:
            queue = seconds_between(event.created_at, max(event.time, event.created_at))  # as TaskRecord.started_at
            self.sets.append(f"queueSeconds = {self.value('queueSeconds', queue)}")
        if event.status.finished:
            self._finish()
        expression = "SET " + ", ".join(self.sets) + " ADD eventIds :eventIds"
        self.values[":eventIds"] = {event.event_id}
        if self.removes:
            expression += " REMOVE " + ", ".join(self.removes)
        return {
            "ConditionExpression": " AND ".join(self.conditions),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": serialize(self.values),
        }

    def _finish(self) -> None:
        """A finished event also records the end, the run time and what Braket added."""
        event = self.event
        self.removes.append("unfinishedRegion")
        # A backfilled task is silent: it never awaits a notification, so the merge path (which
        # knows the origin) writes its end.
        self.conditions.append(f"(attribute_not_exists(origin) OR origin <> {self.value('silent', ORIGIN_BACKFILL)})")
        # The stored item was unfinished, so its end has not been notified yet.
        self.sets.append(f"awaitingNotification = {self.value('region', event.task.region)}")
        if event.ended_at is not None:
            # runSeconds = endedAt - RUNNING time = (endedAt - createdAt) - queueSeconds, so the
            # item needs no read. Without a RUNNING time, or with one after the end (times that
            # disagree: TaskRecord.started_at), the merge path computes it instead.
            total = seconds_between(event.created_at, event.ended_at)
            self.conditions += [
                "attribute_not_exists(endedAt)",
                "attribute_exists(queueSeconds)",
                f"queueSeconds <= {self.value('totalSeconds', total)}",
            ]
            self.sets += [
                f"endedAt = {self.value('endedAt', event.ended_at)}",
                f"runSeconds = {self.value('totalSeconds', total)} - queueSeconds",
            ]
        if self.enrichment is not None:
            attributes = enrichment_attributes(self.enrichment, self.promoted_tag_keys)
            for i, (attribute, value) in enumerate(attributes.items()):
                self.names[f"#enrichment{i}"] = attribute
                self.sets.append(f"#enrichment{i} = {self.value(f'enrichment{i}', value)}")


VERSIONED_ATTRIBUTES = (
    "eventCount",
    "statusTimes",
    "lastEventAt",
    "createdAt",
    "endedAt",
    "deviceArn",
    "shots",
    "outputS3Bucket",
    "outputS3Directory",
    "enriched",
    "submitter",
    "notifiedAt",
    "notifications",
    "queueInfoReadAt",
    "queueInfo",
    "costUsd",
    "costBasis",
    "jobArn",  # linked early by the job-updates function (issue 18)
    "jobCountedStatus",  # the job-task counter's ledger
)
"""What a whole-item write checks is still as it read it: every attribute that another writer
(the recorder, the API's submission and queue reads, the notifier's marks, the cost keeper, the
job-updates function's link and count) can change. The event count alone is not enough: a
conflicting body (one event id, two bodies) or Braket's details filled in later change the item
without adding an event."""


def version_condition(expected: Item) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The condition that the stored item still has `expected`'s VERSIONED_ATTRIBUTES."""
    parts: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for i, attribute in enumerate(VERSIONED_ATTRIBUTES):
        names[f"#v{i}"] = attribute
        if attribute in expected:
            parts.append(f"#v{i} = :v{i}")
            values[f":v{i}"] = expected[attribute]
        else:
            parts.append(f"attribute_not_exists(#v{i})")
    return " AND ".join(parts), names, values


def serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(_to_dynamo(value)) for name, value in values.items()}


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    return value


def deserialize(item: Mapping[str, Any]) -> Item:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}
