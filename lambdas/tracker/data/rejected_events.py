"""Data access for the rejected-events table: events that can never be recorded, kept with why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tracker.data.task_table import StorageError

MAX_BODY_CHARS = 300_000  # well under DynamoDB's 400 KB item limit


class RejectedEvents:
    def __init__(self, table_name: str, retention_days: int, client: Any | None = None) -> None:
        self.table_name = table_name
        self.retention = timedelta(days=retention_days)
        self._client = client or boto3.client("dynamodb")

    def put(self, message_id: str, body: str, reason: str, now: datetime | None = None) -> None:
        """Keep a rejected message. A redelivered message keeps its first rejection."""
        now = now or datetime.now(UTC)
        item = {
            "messageId": {"S": message_id},
            "reason": {"S": reason[:2000]},
            "body": {"S": body[:MAX_BODY_CHARS] or "(empty)"},
            "bodyTruncated": {"BOOL": len(body) > MAX_BODY_CHARS},
            "rejectedAt": {"S": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "expiresAt": {"N": str(int((now + self.retention).timestamp()))},
        }
        try:
            self._client.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(messageId)"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StorageError(str(exc)) from exc
