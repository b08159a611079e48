"""Data access for the task table: the only code that reads or writes task items.

Writes are conditional so that concurrent and out-of-order deliveries never lose an update:
- `apply_in_order` is the common case, one UpdateItem: it applies an event that moves the task
  forward, under a condition that proves the stored item is what the update assumes;
- `insert_first` is the common case for a task's first event, one PutItem if the item is absent;
- `replace` writes a merged record if the item is still the version it was merged from.
The requests' expressions and conditions are built in data/task_writes.py.
When a condition fails, DynamoDB returns the stored item with the error
(ReturnValuesOnConditionCheckFailure), so falling back to a merge costs no extra read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tracker.constants import INDEX_BY_TASK_ID
from tracker.data.task_writes import InOrderUpdate, deserialize, serialize, version_condition
from tracker.domain import (
    Enrichment,
    Status,
    TaskEvent,
    TaskRecord,
    normalize_time,
    parse_time,
)
from tracker.logic.listing import QueryPlan
from tracker.models.item import (
    awaits_notification,
    from_item,
    promoted_tag_attributes,
    to_item,
)

MAX_MARK_ATTEMPTS = 8


class StorageError(Exception):
    """DynamoDB did not take a read or write (throttling, an outage): worth a retry."""


class ItemChanged(Exception):
    """A conditional write found another version of the item, returned as `current`."""

    def __init__(self, current: TaskRecord | None) -> None:
        super().__init__("the task item changed since it was read")
        self.current = current


class TaskTable:
    def __init__(self, table_name: str, client: Any | None = None, promoted_tag_keys: Sequence[str] = ()) -> None:
        self.table_name = table_name
        self.promoted_tag_keys = tuple(promoted_tag_keys)
        self._client = client or boto3.client("dynamodb")

    def get(self, task_arn: str) -> TaskRecord | None:
        try:
            response = self._client.get_item(
                TableName=self.table_name, Key={"taskArn": {"S": task_arn}}, ConsistentRead=True
            )
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        item = response.get("Item")
        return None if item is None else from_item(deserialize(item))

    def find_by_id(self, task_id: str, limit: int = 10) -> list[TaskRecord]:
        """The tasks with this id, whatever their Region (one, normally): one read of the by-task-id
        index, at most `limit` of them."""
        try:
            response = self._client.query(
                TableName=self.table_name,
                IndexName=INDEX_BY_TASK_ID,
                KeyConditionExpression="taskId = :id",
                ExpressionAttributeValues={":id": {"S": task_id}},
                Limit=limit,
            )
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        return [from_item(deserialize(item)) for item in response.get("Items", [])]

    def query_page(self, plan: QueryPlan) -> tuple[list[TaskRecord], dict[str, Any] | None]:
        """One page of a planned listing, newest first: one Query, no filter expression."""
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": {"S": plan.partition_value}}
        if plan.created_from and plan.created_to:
            condition += " AND createdAt BETWEEN :from AND :to"
        elif plan.created_from:
            condition += " AND createdAt >= :from"
        elif plan.created_to:
            condition += " AND createdAt <= :to"
        values |= {
            name: {"S": value} for name, value in ((":from", plan.created_from), (":to", plan.created_to)) if value
        }
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": plan.index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": plan.partition_attribute},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": plan.limit,
        }
        if plan.start_key:
            request["ExclusiveStartKey"] = plan.start_key
        try:
            response = self._client.query(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ValidationException" and plan.start_key:
                raise ValueError("the start key does not fit this index") from exc
            raise StorageError(str(exc)) from exc
        records = [from_item(deserialize(item)) for item in response.get("Items", [])]
        return records, response.get("LastEvaluatedKey")

    def insert_submission(self, record: TaskRecord) -> None:
        """Write a task just submitted through the API. If its first event won the race, add who
        submitted it (and the tags it was submitted with) to the item the event wrote."""
        try:
            self.insert_first(record)
        except ItemChanged:
            names: dict[str, str] = {}
            values: dict[str, Any] = {":submitter": record.submitter}
            sets = ["submitter = if_not_exists(submitter, :submitter)"]
            attributes = {"tags": record.tags} if record.tags else {}
            attributes |= promoted_tag_attributes(record.tags, self.promoted_tag_keys)
            for i, (attribute, value) in enumerate(attributes.items()):
                names[f"#a{i}"], values[f":a{i}"] = attribute, value
                sets.append(f"#a{i} = if_not_exists(#a{i}, :a{i})")
            self._write(
                self._client.update_item,
                Key={"taskArn": {"S": record.task.arn}},
                UpdateExpression="SET " + ", ".join(sets),
                ExpressionAttributeValues=serialize(values),
                **({"ExpressionAttributeNames": names} if names else {}),
            )

    def insert_first(self, record: TaskRecord) -> None:
        """Write the first version of a task's item. Raises ItemChanged if it already exists."""
        self._write(
            self._client.put_item,
            Item=serialize(to_item(record, self.promoted_tag_keys)),
            ConditionExpression="attribute_not_exists(taskArn)",
        )

    def replace(self, record: TaskRecord, expected: TaskRecord | None) -> None:
        """Write `record` if the stored item is still `expected`. Raises ItemChanged otherwise."""
        if expected is None:
            self.insert_first(record)
            return
        condition, names, values = version_condition(to_item(expected, self.promoted_tag_keys))
        self._write(
            self._client.put_item,
            Item=serialize(to_item(record, self.promoted_tag_keys)),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(values),
        )

    def apply_in_order(
        self, event: TaskEvent, enrichment: Enrichment | None, *, return_new: bool = False
    ) -> TaskRecord | None:
        """Apply an event that moves an existing task forward, in one UpdateItem.

        The condition holds only when the stored item is an older, unfinished state of the same
        task that has not seen this event; the update then equals `merge(stored, event)`.
        Raises ItemChanged (with the stored item, or None) when that is not the case.
        With `return_new`, returns the item as written (ReturnValues ALL_NEW: no extra request).
        """
        update = InOrderUpdate(event, enrichment, self.promoted_tag_keys)
        answer = self._write(
            self._client.update_item,
            Key={"taskArn": {"S": event.task.arn}},
            **update.request(),
            **({"ReturnValues": "ALL_NEW"} if return_new else {}),
        )
        written = answer.get("Attributes")
        return from_item(deserialize(written)) if return_new and written else None

    def mark_announced(self, record: TaskRecord, status: Status, at: str) -> TaskRecord | None:
        """Record that the topic announced `status` (a first end, or a correction) at `at`, on the
        item as it is now: one conditional UpdateItem on the version `record` was read at, merged
        again into the current item if another writer changed it meanwhile. Touches only the
        notification attributes (`notifications`, `notifiedAt`, `awaitingNotification`).

        Returns the item as marked, or None if there is no item or `status` is the last one marked.
        A status announced again (a correction back to it) is marked at a time after every earlier
        mark, so the last announced status is always the one with the latest time.
        """
        current: TaskRecord | None = record
        for _ in range(MAX_MARK_ATTEMPTS):
            if current is None or current.last_announced is status:
                return None
            when = _after(at, current.announced.values())
            marked = replace(
                current,
                notifications={**current.announced, status: when},
                notified_at=current.notified_at or when,
            )
            condition, names, values = version_condition(to_item(current, self.promoted_tag_keys))
            names["#region"] = "awaitingNotification"
            update = "SET notifications = :notifications, notifiedAt = :notifiedAt"
            values |= {
                ":notifications": {s.value: time for s, time in marked.notifications.items()},
                ":notifiedAt": marked.notified_at,
            }
            if awaits_notification(marked):  # the status moved on meanwhile: a correction is due
                update += ", #region = :region"
                values[":region"] = marked.task.region
            else:
                update += " REMOVE #region"
            try:
                self._write(
                    self._client.update_item,
                    Key={"taskArn": {"S": current.task.arn}},
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=serialize(values),
                )
            except ItemChanged as changed:
                current = changed.current
                continue
            return marked
        raise StorageError(f"the item of {record.task.arn} kept changing while its notification was marked")

    def claim_queue_read(self, task_arn: str, at: str, not_before: str) -> None:
        """Claim the task's next read of its queue position from Braket, at `at`: one conditional
        UpdateItem, which holds only while the task is QUEUED and no read is more recent than
        `not_before`. So however many callers ask at once, one of them asks Braket. Raises
        ItemChanged (with the item as it is) when another caller has the claim, or the task moved on."""
        self._write(
            self._client.update_item,
            Key={"taskArn": {"S": task_arn}},
            UpdateExpression="SET queueInfoReadAt = :at",
            ConditionExpression=(
                "attribute_exists(taskArn) AND #status = :queued"
                " AND (attribute_not_exists(queueInfoReadAt) OR queueInfoReadAt < :notBefore)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=serialize({":at": at, ":queued": Status.QUEUED.value, ":notBefore": not_before}),
        )

    def store_queue_info(self, task_arn: str, queue_info: Mapping[str, str], read_at: str) -> None:
        """Store what the claimed read (`read_at`) answered, if that claim still stands. Raises ItemChanged if not."""
        self._write(
            self._client.update_item,
            Key={"taskArn": {"S": task_arn}},
            UpdateExpression="SET queueInfo = :info",
            ConditionExpression="queueInfoReadAt = :at",
            ExpressionAttributeValues=serialize({":info": dict(queue_info), ":at": read_at}),
        )

    def _write(self, operation: Any, **request: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = operation(
                TableName=self.table_name, ReturnValuesOnConditionCheckFailure="ALL_OLD", **request
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") != "ConditionalCheckFailedException":
                raise StorageError(str(exc)) from exc
            item: Mapping[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            raise ItemChanged(None if not item else from_item(deserialize(item))) from exc
        return answer


def _after(at: str, earlier: Iterable[str]) -> str:
    """`at`, or one millisecond after the latest of `earlier` if that is not before it."""
    latest = max(earlier, default=None)
    if latest is None or latest < at:
        return at
    return normalize_time(parse_time(latest) + timedelta(milliseconds=1))
