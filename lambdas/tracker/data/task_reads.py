"""Reads of the task table for live updates: many tasks by ARN, and a submitter's latest tasks."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from tracker.constants import INDEX_BY_SUBMITTER, TASK_KEY
from tracker.data.task_table import StorageError
from tracker.domain import TaskRecord
from tracker.models.item import from_item

BATCH_GET_LIMIT = 100  # DynamoDB's BatchGetItem limit
_UNPROCESSED_ATTEMPTS = 8
_deserializer = TypeDeserializer()


class TaskReads:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb")

    def get_many(self, task_arns: Iterable[str]) -> dict[str, TaskRecord]:
        """The tasks that exist among `task_arns` (consistent reads), by ARN."""
        arns = list(dict.fromkeys(task_arns))
        found: dict[str, TaskRecord] = {}
        for start in range(0, len(arns), BATCH_GET_LIMIT):
            keys: list[dict[str, Any]] = [{TASK_KEY: {"S": arn}} for arn in arns[start : start + BATCH_GET_LIMIT]]
            for attempt in range(_UNPROCESSED_ATTEMPTS):
                answer = self._call(
                    self._client.batch_get_item,
                    RequestItems={self.table_name: {"Keys": keys, "ConsistentRead": True}},
                )
                for item in answer.get("Responses", {}).get(self.table_name, []):
                    record = _record(item)
                    found[record.task.arn] = record
                keys = answer.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
                if not keys:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise StorageError(f"{len(keys)} task read(s) stayed unprocessed")
        return found

    def latest_of_submitter(self, principal: str, limit: int) -> tuple[list[TaskRecord], bool]:
        """The submitter's `limit` most recently created tasks, and whether there are more."""
        answer = self._call(
            self._client.query,
            TableName=self.table_name,
            IndexName=INDEX_BY_SUBMITTER,
            KeyConditionExpression="submitter = :p",
            ExpressionAttributeValues={":p": {"S": principal}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_record(item) for item in answer.get("Items", [])], "LastEvaluatedKey" in answer

    def _call(self, operation: Any, **request: Any) -> Any:
        try:
            return operation(**request)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(str(exc)) from exc


def _record(item: dict[str, Any]) -> TaskRecord:
    return from_item({name: _deserializer.deserialize(value) for name, value in item.items()})
