"""Data access for the cost totals and the cost ledger: the only code that writes them (with the Task
API's budget holds, data.budget_holds).

- The totals table: one item per UTC month and scope (`month` = `2026-12`, `scope` = `account`,
  `device:<ARN>`, `submitter:<ARN>`, `tag:<key>=<value>`), with `usd`, `tasks`, `unpricedTasks`,
  `reservedUsd`, `committedUsd`, each budget threshold's alert (`alert:80`) and, on a device's
  item, Braket's spending limit as last reported (`braketSpendingLimit`). Any total is one GetItem;
  a month's breakdown by submitter, device or a tag is one Query (`begins_with(scope, ...)`).
- The ledger table: one entry per task (`entry` = `task#<task ARN>`): what the totals count for it.
  A task's count moves in one transaction, conditional on the entry's revision (logic.totals).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from tracker.constants import LEDGER_KEY, TOTALS_KEY, TOTALS_SORT_KEY
from tracker.data.task_table import StorageError
from tracker.logic.totals import Counted, Delta, LedgerEntry, Reservation, TotalKey

MAX_CONFLICT_RETRIES = 6
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class Total:
    month: str
    scope: str
    usd: Decimal = Decimal(0)
    tasks: int = 0
    unpriced_tasks: int = 0
    reserved_usd: Decimal = Decimal(0)
    committed_usd: Decimal = Decimal(0)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    spending_limit: dict[str, Any] | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Total:
        return cls(
            month=str(item[TOTALS_KEY]),
            scope=str(item[TOTALS_SORT_KEY]),
            usd=Decimal(item.get("usd", 0)),
            tasks=int(item.get("tasks", 0)),
            unpriced_tasks=int(item.get("unpricedTasks", 0)),
            reserved_usd=Decimal(item.get("reservedUsd", 0)),
            committed_usd=Decimal(item.get("committedUsd", 0)),
            alerts={name.split(":", 1)[1]: dict(value) for name, value in item.items() if name.startswith("alert:")},
            spending_limit=dict(item["braketSpendingLimit"]) if "braketSpendingLimit" in item else None,
        )


def total_key(month: str, scope: str) -> dict[str, Any]:
    return {TOTALS_KEY: {"S": month}, TOTALS_SORT_KEY: {"S": scope}}


def total_adds(delta: Delta) -> dict[str, Any]:
    """What a total gains, by attribute; empty when the delta moves nothing."""
    adds = {
        "usd": delta.usd,
        "tasks": delta.tasks,
        "unpricedTasks": delta.unpriced,
        "reservedUsd": delta.reserved,
        "committedUsd": delta.committed,
    }
    return {name: value for name, value in adds.items() if value}


def total_update(table: str, key: TotalKey, delta: Delta, now: str) -> dict[str, Any]:
    """One total's share of a transaction: ADD what it gains (committedUsd always with usd and reservedUsd).
    A delta that moves nothing only sets updatedAt: an empty ADD clause is not an expression DynamoDB takes."""
    present = total_adds(delta)
    values = {f":{name}": value for name, value in present.items()} | {":now": now}
    adds = ("ADD " + ", ".join(f"{name} :{name}" for name in present) + " ") if present else ""
    expression = adds + "SET updatedAt = :now"
    return {
        "Update": {
            "TableName": table,
            "Key": total_key(*key),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": serialize(values),
        }
    }


class CostTotals:
    def __init__(
        self,
        totals_table: str,
        ledger_table: str,
        client: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.totals_table = totals_table
        self.ledger_table = ledger_table
        self._client = client or boto3.client("dynamodb")
        self._sleep = sleep

    # --- the ledger ---

    def ledger(self, task_arn: str) -> LedgerEntry:
        """The task's entry (revision 0 when it has none yet)."""
        item = self._call(
            self._client.get_item,
            TableName=self.ledger_table,
            Key={LEDGER_KEY: {"S": LedgerEntry(task_arn).entry}},
            ConsistentRead=True,
        ).get("Item")
        return LedgerEntry(task_arn) if item is None else entry_from_item(task_arn, deserialize(item))

    def move(self, before: LedgerEntry, after: LedgerEntry, deltas: Mapping[TotalKey, Delta], now: str) -> bool:
        """Write `after` and add `deltas` to the totals, in one transaction, if the entry is still
        `before`'s revision. False if it is not (read it again); StorageError if DynamoDB failed."""
        put: dict[str, Any] = {
            "TableName": self.ledger_table,
            "Item": serialize(entry_item(after, now)),
        }
        if before.revision == 0:
            put["ConditionExpression"] = "attribute_not_exists(#entry)"
            put["ExpressionAttributeNames"] = {"#entry": LEDGER_KEY}
        else:
            put["ConditionExpression"] = "revision = :revision"
            put["ExpressionAttributeValues"] = serialize({":revision": before.revision})
        moved = {key: delta for key, delta in deltas.items() if total_adds(delta)}  # all zero: nothing to add
        items = [{"Put": put}] + [total_update(self.totals_table, key, delta, now) for key, delta in moved.items()]
        failed = self.transact_or_reasons(items)
        if not failed:
            return True
        if failed[0][0] == "ConditionalCheckFailed":
            return False
        raise StorageError(f"an unexpected condition failed: {[code for code, _ in failed]}")

    def transact_or_reasons(self, items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any] | None]]:
        """TransactWriteItems, retried while it conflicts with another transaction on the same items
        (hot totals). [] when it was written; else, when a condition failed, each item's cancellation
        reason code and (if asked for) the item as it was."""
        for attempt in range(MAX_CONFLICT_RETRIES):
            try:
                self._client.transact_write_items(TransactItems=items)
                return []
            except ClientError as exc:
                reasons = exc.response.get("CancellationReasons", [])
                codes = [str(reason.get("Code") or "None") for reason in reasons]
                code = exc.response.get("Error", {}).get("Code")
                if "ConditionalCheckFailed" in codes:
                    return [
                        (c, dict(reason.get("Item") or {}) or None) for c, reason in zip(codes, reasons, strict=True)
                    ]
                if code in ("TransactionConflictException", "TransactionInProgressException") or (
                    "TransactionConflict" in codes
                ):
                    self._sleep(random.uniform(0, 0.05 * 2**attempt))
                    continue
                raise StorageError(str(exc)) from exc
            except BotoCoreError as exc:
                raise StorageError(str(exc)) from exc
        raise StorageError("the transaction kept conflicting with others on the same totals")

    # --- the totals ---

    def total(self, month: str, scope: str) -> Total:
        item = self._call(
            self._client.get_item, TableName=self.totals_table, Key=total_key(month, scope), ConsistentRead=True
        ).get("Item")
        return Total(month, scope) if item is None else Total.from_item(deserialize(item))

    def totals(self, keys: Iterable[TotalKey]) -> dict[TotalKey, Total]:
        """Several totals, read consistently (one BatchGetItem per 100)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[TotalKey, Total] = {key: Total(*key) for key in wanted}
        for start in range(0, len(wanted), 100):
            request = {
                self.totals_table: {
                    "Keys": [total_key(*key) for key in wanted[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = self._call(self._client.batch_get_item, RequestItems=request)
                for item in answer.get("Responses", {}).get(self.totals_table, []):
                    total = Total.from_item(deserialize(item))
                    found[(total.month, total.scope)] = total
                request = answer.get("UnprocessedKeys") or {}
                if request:
                    self._sleep(0.05)
        return found

    def breakdown(self, month: str, prefix: str, limit: int, start: str | None) -> tuple[list[Total], str | None]:
        """One page of a month's totals whose scope starts with `prefix`: one Query."""
        rows, last = self._query(month, prefix, limit, start)
        return [Total.from_item(row) for row in rows], last

    def items_with_prefix(self, month: str, prefix: str) -> list[dict[str, Any]]:
        """Every item of the month whose scope starts with `prefix` (all pages of one Query)."""
        found: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            rows, start = self._query(month, prefix, 1000, start)
            found += rows
            if start is None:
                return found

    def _query(self, month: str, prefix: str, limit: int, start: str | None) -> tuple[list[dict[str, Any]], str | None]:
        request: dict[str, Any] = {
            "TableName": self.totals_table,
            "KeyConditionExpression": "#month = :month AND begins_with(#scope, :prefix)",
            "ExpressionAttributeNames": {"#month": TOTALS_KEY, "#scope": TOTALS_SORT_KEY},
            "ExpressionAttributeValues": serialize({":month": month, ":prefix": prefix}),
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = total_key(month, start)
        answer = self._call(self._client.query, **request)
        last = answer.get("LastEvaluatedKey")
        return [deserialize(item) for item in answer.get("Items", [])], None if not last else str(
            last[TOTALS_SORT_KEY]["S"]
        )

    # --- a budget threshold's alert: claimed, published, confirmed ---

    def claim_alert(
        self, key: TotalKey, attribute: str, threshold_usd: Decimal, claim: Mapping[str, Any], stale_before: str
    ) -> bool:
        """Claim the alert of one threshold, if the total has reached it and no one has sent it, or
        holds a claim older than `stale_before` (its sender died before publishing). One claimer wins."""
        return self._conditional_update(
            key,
            "SET #alert = :claim",
            "usd >= :threshold AND (attribute_not_exists(#alert) OR "
            "(attribute_not_exists(#alert.sentAt) AND #alert.claimedAt < :stale))",
            attribute,
            {":claim": dict(claim), ":threshold": threshold_usd, ":stale": stale_before},
        )

    def confirm_alert(self, key: TotalKey, attribute: str, claimed_at: str, message_id: str, now: str) -> bool:
        return self._conditional_update(
            key,
            "SET #alert.sentAt = :now, #alert.messageId = :message",
            "#alert.claimedAt = :claimed",
            attribute,
            {":now": now, ":message": message_id, ":claimed": claimed_at},
        )

    def unclaim_alert(self, key: TotalKey, attribute: str, claimed_at: str) -> bool:
        """Give a claim back (its publish failed), so the retry can claim it again."""
        return self._conditional_update(
            key,
            "REMOVE #alert",
            "#alert.claimedAt = :claimed AND attribute_not_exists(#alert.sentAt)",
            attribute,
            {":claimed": claimed_at},
        )

    def _conditional_update(
        self, key: TotalKey, update: str, condition: str, attribute: str, values: Mapping[str, Any]
    ) -> bool:
        for attempt in range(MAX_CONFLICT_RETRIES):
            try:
                self._client.update_item(
                    TableName=self.totals_table,
                    Key=total_key(*key),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#alert": attribute},
                    ExpressionAttributeValues=serialize(values),
                )
                return True
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "ConditionalCheckFailedException":
                    return False
                if code == "TransactionConflictException":
                    self._sleep(random.uniform(0, 0.05 * 2**attempt))
                    continue
                raise StorageError(str(exc)) from exc
            except BotoCoreError as exc:
                raise StorageError(str(exc)) from exc
        raise StorageError("the total kept conflicting with transactions")

    def _call(self, operation: Callable[..., Any], **request: Any) -> Any:
        try:
            return operation(**request)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(str(exc)) from exc


def entry_item(entry: LedgerEntry, now: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        LEDGER_KEY: entry.entry,
        "taskArn": entry.task_arn,
        "revision": entry.revision,
        "updatedAt": now,
    }
    if entry.counted is not None:
        item["counted"] = entry.counted.to_item()
    if entry.reservation is not None:
        item["reservation"] = entry.reservation.to_item()
        item["settled"] = entry.settled
    if entry.usage_key is not None:
        item["usageKey"] = entry.usage_key
    if entry.cost_usd is not None:
        item["costUsd"] = entry.cost_usd
    if entry.cost_basis is not None:
        item["costBasis"] = dict(entry.cost_basis)
    return item


def entry_from_item(task_arn: str, item: Mapping[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        task_arn=task_arn,
        revision=int(item.get("revision", 0)),
        counted=Counted.from_item(item["counted"]) if "counted" in item else None,
        reservation=Reservation.from_item(item["reservation"]) if "reservation" in item else None,
        settled=bool(item.get("settled", False)),
        usage_key=item.get("usageKey"),
        cost_usd=item.get("costUsd"),
        cost_basis=dict(item["costBasis"]) if "costBasis" in item else None,
    )


def serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}
