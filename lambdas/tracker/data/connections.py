"""Data access for the connections table: open WebSocket connections and what each is subscribed to.

One partition per connection (`connectionId`):
- the connection item, `entry` = `#connection`: the principal that connected, when, and its expiry;
- one subscription item per target, `entry` = `target` = `task#<task ARN>` or `submitter#<principal>`.
The sparse keys-only index `by-target` (`target`, `connectionId`) lists the connections subscribed to
a target. So both lookups are one paginated Query: a task's subscribers (however many) and a
connection's subscriptions (however many). Every item carries `expiresAt` (TTL), so a connection whose
$disconnect never ran disappears after API Gateway's 2-hour connection limit has passed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tracker.constants import (
    CONNECTIONS_KEY,
    CONNECTIONS_SORT_KEY,
    CONNECTIONS_TARGET,
    CONNECTIONS_TTL_ATTRIBUTE,
    INDEX_BY_TARGET,
)

CONNECTION_ENTRY = "#connection"
BATCH_WRITE_LIMIT = 25  # DynamoDB's BatchWriteItem limit
_UNPROCESSED_ATTEMPTS = 8


class ConnectionsError(Exception):
    """DynamoDB did not take a read or write (throttling, an outage): worth a retry."""


@dataclass(frozen=True)
class Connection:
    connection_id: str
    principal: str
    connected_at: str
    expires_at: int


class ConnectionsTable:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb")

    def connect(self, connection: Connection) -> None:
        self._call(
            self._client.put_item,
            TableName=self.table_name,
            Item={
                CONNECTIONS_KEY: {"S": connection.connection_id},
                CONNECTIONS_SORT_KEY: {"S": CONNECTION_ENTRY},
                "principal": {"S": connection.principal},
                "connectedAt": {"S": connection.connected_at},
                CONNECTIONS_TTL_ATTRIBUTE: {"N": str(connection.expires_at)},
            },
        )

    def connection(self, connection_id: str) -> Connection | None:
        item = self._call(
            self._client.get_item,
            TableName=self.table_name,
            Key=_key(connection_id, CONNECTION_ENTRY),
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        return Connection(
            connection_id=connection_id,
            principal=item["principal"]["S"],
            connected_at=item["connectedAt"]["S"],
            expires_at=int(item[CONNECTIONS_TTL_ATTRIBUTE]["N"]),
        )

    def task_subscription_count(self, connection_id: str) -> int:
        """How many task subscriptions the connection holds (a keys-only count, paginated)."""
        return self.subscription_count(connection_id, "task#")

    def subscription_count(self, connection_id: str, prefix: str) -> int:
        """How many subscriptions whose target starts with `prefix` the connection holds."""
        count = 0
        for page in self._pages(
            self._client.query,
            TableName=self.table_name,
            KeyConditionExpression="#c = :c AND begins_with(#e, :task)",
            ExpressionAttributeNames={"#c": CONNECTIONS_KEY, "#e": CONNECTIONS_SORT_KEY},
            ExpressionAttributeValues={":c": {"S": connection_id}, ":task": {"S": prefix}},
            Select="COUNT",
        ):
            count += int(page["Count"])
        return count

    def subscribe(self, connection: Connection, targets: Iterable[str]) -> None:
        self._batch_write(
            {
                "PutRequest": {
                    "Item": {
                        **_key(connection.connection_id, target),
                        CONNECTIONS_TARGET: {"S": target},
                        CONNECTIONS_TTL_ATTRIBUTE: {"N": str(connection.expires_at)},
                    }
                }
            }
            for target in targets
        )

    def unsubscribe(self, connection_id: str, targets: Iterable[str]) -> None:
        self._batch_write({"DeleteRequest": {"Key": _key(connection_id, target)}} for target in targets)

    def subscribers(self, target: str) -> Iterator[str]:
        """The connections subscribed to `target`, page by page (the index is eventually consistent)."""
        for page in self._pages(
            self._client.query,
            TableName=self.table_name,
            IndexName=INDEX_BY_TARGET,
            KeyConditionExpression="#t = :t",
            ExpressionAttributeNames={"#t": CONNECTIONS_TARGET},
            ExpressionAttributeValues={":t": {"S": target}},
        ):
            for item in page.get("Items", []):
                yield item[CONNECTIONS_KEY]["S"]

    def forget(self, connection_id: str) -> int:
        """Delete the connection and all its subscriptions; the number of items deleted."""
        entries = [
            item[CONNECTIONS_SORT_KEY]["S"]
            for page in self._pages(
                self._client.query,
                TableName=self.table_name,
                KeyConditionExpression="#c = :c",
                ExpressionAttributeNames={"#c": CONNECTIONS_KEY, "#e": CONNECTIONS_SORT_KEY},
                ExpressionAttributeValues={":c": {"S": connection_id}},
                ProjectionExpression="#e",
                ConsistentRead=True,
            )
            for item in page.get("Items", [])
        ]
        self.unsubscribe(connection_id, entries)
        return len(entries)

    def _pages(self, operation: Any, **request: Any) -> Iterator[dict[str, Any]]:
        while True:
            page: dict[str, Any] = self._call(operation, **request)
            yield page
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _batch_write(self, requests: Iterable[dict[str, Any]]) -> None:
        pending = list(requests)
        for start in range(0, len(pending), BATCH_WRITE_LIMIT):
            batch = pending[start : start + BATCH_WRITE_LIMIT]
            for attempt in range(_UNPROCESSED_ATTEMPTS):
                answer = self._call(self._client.batch_write_item, RequestItems={self.table_name: batch})
                batch = answer.get("UnprocessedItems", {}).get(self.table_name, [])
                if not batch:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))  # DynamoDB's advice for unprocessed items: back off
            else:
                raise ConnectionsError(f"{len(batch)} write(s) stayed unprocessed after {_UNPROCESSED_ATTEMPTS} tries")

    def _call(self, operation: Any, **request: Any) -> Any:
        try:
            return operation(**request)
        except (ClientError, BotoCoreError) as exc:
            raise ConnectionsError(str(exc)) from exc


def _key(connection_id: str, entry: str) -> dict[str, Any]:
    return {CONNECTIONS_KEY: {"S": connection_id}, CONNECTIONS_SORT_KEY: {"S": entry}}
