"""Data access for the rejected-events table: events that can never be recorded, kept with why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tracker.data.task_table import StorageError

MAX_BODY_BYTES = 300_000
MAX_REASON_BYTES = 4_000
"""In UTF-8 bytes, as DynamoDB counts an item's size: with the other attributes, far below its 400 KB."""


def cut_utf8(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut to at most `limit` UTF-8 bytes at a character boundary, and whether it was cut.
    Characters UTF-8 cannot hold (lone surrogates) become "?", so the result can always be stored."""
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= limit:
        return encoded.decode("utf-8"), False
    return encoded[:limit].decode("utf-8", "ignore"), True


class RejectedEvents:
    def __init__(self, table_name: str, retention_days: int, client: Any | None = None) -> None:
        self.table_name = table_name
        self.retention = timedelta(days=retention_days)
        self._client = client or boto3.client("dynamodb")

    def put(self, message_id: str, body: str, reason: str, now: datetime | None = None) -> None:
        """Keep a rejected message. A redelivered message keeps its first rejection."""
        now = now or datetime.now(UTC)
        kept, truncated = cut_utf8(body, MAX_BODY_BYTES)
        item = {
            "messageId": {"S": message_id},
            "reason": {"S": cut_utf8(reason, MAX_REASON_BYTES)[0] or "(none)"},
            "body": {"S": kept or "(empty)"},
            "bodyTruncated": {"BOOL": truncated},
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
