"""Data access for reconciliation: the task table's two sparse indexes, batched reads, the
reconciler's per-task check mark, and its per-Region sweep watermark (the state table)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from tracker.constants import INDEX_UNFINISHED, INDEX_UNNOTIFIED, STATE_KEY, TASK_KEY
from tracker.data.task_table import StorageError
from tracker.domain import Status, TaskRecord, normalize_time
from tracker.models.item import from_item

BATCH_GET_SIZE = 100  # BatchGetItem's maximum
_deserialize = TypeDeserializer().deserialize
_serialize = TypeSerializer().serialize


@dataclass(frozen=True)
class IndexedTask:
    """A task as the sparse indexes project it."""

    task_arn: str
    status: Status
    last_event_at: str


class TaskIndex:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb")

    def stale(self, region: str, before: str) -> Iterator[IndexedTask]:
        """Unfinished tasks of `region` whose latest event is older than `before`, oldest first."""
        yield from self._query(INDEX_UNFINISHED, "unfinishedRegion", region, before)

    def unnotified(self, region: str, before: str) -> Iterator[IndexedTask]:
        """Finished tasks of `region`, not yet notified, whose latest event is older than `before`."""
        yield from self._query(INDEX_UNNOTIFIED, "awaitingNotification", region, before)

    def _query(self, index: str, partition: str, region: str, before: str) -> Iterator[IndexedTask]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#partition = :region AND lastEventAt < :before",
            "ExpressionAttributeNames": {"#partition": partition, "#status": "status"},
            "ExpressionAttributeValues": {":region": {"S": region}, ":before": {"S": before}},
            "ProjectionExpression": "taskArn, #status, lastEventAt",
        }
        while True:
            try:
                response = self._client.query(**request)
            except ClientError as exc:
                raise StorageError(str(exc)) from exc
            for raw in response.get("Items", []):
                item = {name: _deserialize(value) for name, value in raw.items()}
                yield IndexedTask(item[TASK_KEY], Status(item["status"]), item["lastEventAt"])
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def get_many(self, task_arns: Iterable[str]) -> dict[str, TaskRecord]:
        """The stored records of the tasks that exist, by ARN (consistent reads, 100 per request)."""
        arns = list(dict.fromkeys(task_arns))
        found: dict[str, TaskRecord] = {}
        for start in range(0, len(arns), BATCH_GET_SIZE):
            keys: list[dict[str, Any]] = [{TASK_KEY: {"S": arn}} for arn in arns[start : start + BATCH_GET_SIZE]]
            while keys:
                try:
                    response = self._client.batch_get_item(
                        RequestItems={self.table_name: {"Keys": keys, "ConsistentRead": True}}
                    )
                except ClientError as exc:
                    raise StorageError(str(exc)) from exc
                for raw in response.get("Responses", {}).get(self.table_name, []):
                    record = from_item({name: _deserialize(value) for name, value in raw.items()})
                    found[record.task.arn] = record
                keys = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
        return found

    def mark_checked(self, task_arn: str, at: str) -> bool:
        """Note that Braket was asked about this unfinished task. False if it has finished meanwhile."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={TASK_KEY: {"S": task_arn}},
                UpdateExpression="SET lastCheckedAt = :at",
                ConditionExpression="attribute_exists(unfinishedRegion)",
                ExpressionAttributeValues={":at": {"S": at}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StorageError(str(exc)) from exc
        return True


class SweepState:
    """The reconciler's state table: one item per Region, `sweep#<region>`, with its watermark."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb")

    def watermark(self, region: str) -> str | None:
        try:
            response = self._client.get_item(
                TableName=self.table_name, Key={STATE_KEY: {"S": f"sweep#{region}"}}, ConsistentRead=True
            )
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        item = response.get("Item")
        return None if item is None else str(_deserialize(item["watermark"]))

    def deployed_at(self) -> str:
        """When the state table, and so the tracker, was created: where a first sweep starts."""
        try:
            created = self._client.describe_table(TableName=self.table_name)["Table"]["CreationDateTime"]
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        return normalize_time(created)

    def advance(self, region: str, watermark: str, at: str) -> None:
        """Store a later watermark; never moves one back (two runs racing keep the later)."""
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={
                    STATE_KEY: _serialize(f"sweep#{region}"),
                    "watermark": _serialize(watermark),
                    "updatedAt": _serialize(at),
                },
                ConditionExpression="attribute_not_exists(watermark) OR watermark < :watermark",
                ExpressionAttributeValues={":watermark": _serialize(watermark)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return
            raise StorageError(str(exc)) from exc
