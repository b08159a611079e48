"""Data access for the jobs table: the only code that reads or writes job items.

Every write is conditional on the item's `version` (a number each writer increments): the recorder's
merge, the notifier's mark, the reconciler's check mark, and the job-task counter's update. A write that
finds another version gets the stored item back with the error (ReturnValuesOnConditionCheckFailure),
merges again and retries: jobs are few (a handful of events each), so one read-merge-write path suffices.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from tracker.constants import INDEX_BY_JOB_ID, INDEX_UNFINISHED, INDEX_UNNOTIFIED, JOB_KEY
from tracker.data.task_table import StorageError
from tracker.job_domain import JobRecord, JobStatus
from tracker.models.job_item import from_item, to_item

MAX_ATTEMPTS = 8
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class JobChanged(Exception):
    """A conditional write found another version of the job's item (`current`, None if there is none)."""

    def __init__(self, current: JobRecord | None) -> None:
        super().__init__("the job item changed since it was read")
        self.current = current


class JobTable:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb")

    def get(self, job_arn: str) -> JobRecord | None:
        response = self._call(
            self._client.get_item, TableName=self.table_name, Key={JOB_KEY: {"S": job_arn}}, ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else from_item(deserialize(item))

    def find_by_id(self, job_id: str, limit: int = 10) -> list[JobRecord]:
        """The jobs with this id, whatever their Region (one, normally)."""
        response = self._call(
            self._client.query,
            TableName=self.table_name,
            IndexName=INDEX_BY_JOB_ID,
            KeyConditionExpression="jobId = :id",
            ExpressionAttributeValues={":id": {"S": job_id}},
            Limit=limit,
        )
        return [from_item(deserialize(item)) for item in response.get("Items", [])]

    def query(self, request: dict[str, Any]) -> tuple[list[JobRecord], dict[str, Any] | None]:
        """One page of a Query on the table or an index (a planned listing)."""
        try:
            response = self._client.query(TableName=self.table_name, **request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ValidationException" and "ExclusiveStartKey" in request:
                raise ValueError("the start key does not fit this index") from exc
            raise StorageError(str(exc)) from exc
        records = [from_item(deserialize(item)) for item in response.get("Items", [])]
        return records, response.get("LastEvaluatedKey")

    def stale(self, region: str, before: str) -> list[str]:
        """Unfinished jobs of `region` whose latest event is older than `before`, oldest first."""
        return self._sparse(INDEX_UNFINISHED, "unfinishedRegion", region, before)

    def unnotified(self, region: str, before: str) -> list[str]:
        return self._sparse(INDEX_UNNOTIFIED, "awaitingNotification", region, before)

    def _sparse(self, index: str, partition: str, region: str, before: str) -> list[str]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#p = :region AND lastEventAt < :before",
            "ExpressionAttributeNames": {"#p": partition},
            "ExpressionAttributeValues": {":region": {"S": region}, ":before": {"S": before}},
            "ProjectionExpression": JOB_KEY,
        }
        found: list[str] = []
        while True:
            response = self._call(self._client.query, **request)
            found += [item[JOB_KEY]["S"] for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def write(self, record: JobRecord, expected: JobRecord | None) -> JobRecord:
        """Write `record` if the stored item is still `expected` (None: absent); JobChanged otherwise.
        Returns the record as written (its version one more)."""
        written = replace(record, version=(expected.version if expected else 0) + 1)
        if expected is None:
            condition: dict[str, Any] = {"ConditionExpression": f"attribute_not_exists({JOB_KEY})"}
        else:
            condition = {
                "ConditionExpression": "version = :version",
                "ExpressionAttributeValues": {":version": {"N": str(expected.version)}},
            }
        self._write(self._client.put_item, Item=serialize(to_item(written)), **condition)
        return written

    def mark_announced(self, record: JobRecord, status: JobStatus, at: str) -> JobRecord | None:
        """Record that the topic announced `status` of the job: on the version read, merged into the
        current one if another writer changed it. None if there is no item or it was marked already."""
        current: JobRecord | None = record
        for _ in range(MAX_ATTEMPTS):
            if current is None or status in current.announced:
                return None
            marked = replace(
                current, notifications={**current.announced, status: at}, notified_at=current.notified_at or at
            )
            try:
                return self.write(marked, current)
            except JobChanged as changed:
                current = changed.current
        raise StorageError(f"the item of {record.job.arn} kept changing while its notification was marked")

    def mark_checked(self, record: JobRecord, at: str) -> None:
        """The reconciler asked Braket about this unfinished job (its back-off); skipped if it changed."""
        with contextlib.suppress(JobChanged):
            self.write(replace(record, checked_at=at), record)

    def _write(self, operation: Any, **request: Any) -> None:
        try:
            operation(TableName=self.table_name, ReturnValuesOnConditionCheckFailure="ALL_OLD", **request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StorageError(str(exc)) from exc
            item: Mapping[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            raise JobChanged(None if not item else from_item(deserialize(item))) from exc

    def _call(self, operation: Any, **request: Any) -> Any:
        try:
            return operation(**request)
        except ClientError as exc:
            raise StorageError(str(exc)) from exc


def serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(_to_dynamo(value)) for name, value in values.items()}


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}
