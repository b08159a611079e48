"""Data access for the idempotency table: one record per (caller, Idempotency-Key).

A record is written before Braket is asked, with the clientToken that every retry reuses, so
Braket itself creates the task at most once; it holds the task's ARN once the submission is done.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tracker.constants import IDEMPOTENCY_KEY, IDEMPOTENCY_TTL_ATTRIBUTE
from tracker.data.task_table import StorageError

MAX_KEY_BYTES = 2048  # DynamoDB's limit on a partition key value


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    client_token: str
    task_arn: str | None = None


class IdempotencyStore:
    def __init__(self, table_name: str, retention_seconds: int, client: Any | None = None) -> None:
        self.table_name = table_name
        self.retention_seconds = retention_seconds
        self._client = client or boto3.client("dynamodb")

    @staticmethod
    def key_of(caller: str, idempotency_key: str) -> str:
        """The record's partition key. IAM keeps principal ARNs far below DynamoDB's 2,048 bytes;
        should one ever be longer, its digest stands in for it, so the key always fits."""
        key = f"{caller}#{idempotency_key}"
        if len(key.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES:
            return key
        return f"sha256:{hashlib.sha256(caller.encode('utf-8', 'surrogatepass')).hexdigest()}#{idempotency_key}"

    def begin(self, key: str, fingerprint: str) -> IdempotencyRecord:
        """The record for `key`: a new one (with a new clientToken), or the one already stored."""
        record = IdempotencyRecord(key, fingerprint, str(uuid.uuid4()))
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={
                    IDEMPOTENCY_KEY: {"S": key},
                    "requestFingerprint": {"S": fingerprint},
                    "clientToken": {"S": record.client_token},
                    IDEMPOTENCY_TTL_ATTRIBUTE: {"N": str(int(time.time()) + self.retention_seconds)},
                },
                ConditionExpression=f"attribute_not_exists({IDEMPOTENCY_KEY})",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StorageError(str(exc)) from exc
            stored: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            if not stored:
                raise StorageError(f"the idempotency record {key!r} changed while it was read") from exc
            return IdempotencyRecord(
                key,
                stored["requestFingerprint"]["S"],
                stored["clientToken"]["S"],
                stored.get("taskArn", {}).get("S"),
            )
        return record

    def complete(self, key: str, task_arn: str) -> None:
        self._update(key, "SET taskArn = :arn", {":arn": {"S": task_arn}})

    def forget(self, key: str) -> None:
        """Drop a record whose submission Braket refused, so the caller may fix the request and retry."""
        try:
            self._client.delete_item(TableName=self.table_name, Key={IDEMPOTENCY_KEY: {"S": key}})
        except ClientError as exc:
            raise StorageError(str(exc)) from exc

    def _update(self, key: str, expression: str, values: dict[str, Any]) -> None:
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={IDEMPOTENCY_KEY: {"S": key}},
                UpdateExpression=expression,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
