"""Data access for a task item's cost attributes (`costUsd`, `costBasis`): the cost keeper's one
write to the task table, beside data.task_table (which owns every other write).

The write is conditional on the status it priced, so a cost never lands on an item whose final
status has changed since (that change brings its own stream record, and its own cost). The
recorder's whole-item writes check these attributes too (task_writes.VERSIONED_ATTRIBUTES), so
neither writer undoes the other's.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tracker.data.cost_totals import serialize
from tracker.data.task_table import StorageError


class TaskCosts:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb")

    def write(self, task_arn: str, status: str, cost_usd: Decimal | None, basis: Mapping[str, Any]) -> bool:
        """Set the task's cost (remove `costUsd` if unpriced). False if its status is no longer `status`."""
        update = "SET costBasis = :basis" + (", costUsd = :usd" if cost_usd is not None else " REMOVE costUsd")
        values: dict[str, Any] = {":basis": dict(basis), ":status": status}
        if cost_usd is not None:
            values[":usd"] = cost_usd
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"taskArn": {"S": task_arn}},
                UpdateExpression=update,
                ConditionExpression="attribute_exists(taskArn) AND #status = :status",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=serialize(values),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StorageError(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(str(exc)) from exc
        return True
