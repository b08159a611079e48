"""Data access for a job's tasks: the task table's by-job index, the early link of a job's task, and the
job-task counter's writes (the task's ledger and the job's counts, in one transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tracker.constants import INDEX_BY_JOB, JOB_KEY, TASK_KEY
from tracker.data.job_table import deserialize
from tracker.data.task_table import StorageError
from tracker.domain import TaskRecord
from tracker.models.item import from_item


class JobNotRecorded(Exception):
    """The job's item does not exist (yet): its events were lost or are late."""


@dataclass(frozen=True)
class Ledger:
    """A task as the counter sees it: its current status and the final status it was counted under."""

    status: str | None
    job_arn: str | None
    counted: str | None
    created_at: str | None = None


class JobTasks:
    def __init__(self, task_table: str, job_table: str, client: Any | None = None) -> None:
        self.task_table = task_table
        self.job_table = job_table
        self._client = client or boto3.client("dynamodb")

    def page(
        self, job_arn: str, limit: int, start_key: dict[str, Any] | None = None
    ) -> tuple[list[TaskRecord], dict[str, Any] | None]:
        """One page of the job's tasks, newest first: one Query of the by-job index."""
        request: dict[str, Any] = {
            "TableName": self.task_table,
            "IndexName": INDEX_BY_JOB,
            "KeyConditionExpression": "jobArn = :job",
            "ExpressionAttributeValues": {":job": {"S": job_arn}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        try:
            response = self._client.query(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ValidationException" and start_key:
                raise ValueError("the start key does not fit this index") from exc
            raise StorageError(str(exc)) from exc
        return [from_item(deserialize(i)) for i in response.get("Items", [])], response.get("LastEvaluatedKey")

    def link(self, task_arn: str, job_arn: str) -> bool:
        """Note the task's job on its item (unless known already); False if the item is gone."""
        try:
            self._client.update_item(
                TableName=self.task_table,
                Key={TASK_KEY: {"S": task_arn}},
                UpdateExpression="SET jobArn = if_not_exists(jobArn, :job)",
                ConditionExpression=f"attribute_exists({TASK_KEY})",
                ExpressionAttributeValues={":job": {"S": job_arn}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StorageError(str(exc)) from exc
        return True

    def ledger(self, task_arn: str) -> Ledger:
        try:
            item = self._client.get_item(
                TableName=self.task_table,
                Key={TASK_KEY: {"S": task_arn}},
                ConsistentRead=True,
                ProjectionExpression="#s, jobArn, jobCountedStatus, createdAt",
                ExpressionAttributeNames={"#s": "status"},
            ).get("Item", {})
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        values = deserialize(item)
        return Ledger(
            values.get("status"), values.get("jobArn"), values.get("jobCountedStatus"), values.get("createdAt")
        )

    def count(self, task_arn: str, job_arn: str, status: str, previous: str | None) -> None:
        """Move the task's count in its job from `previous` (None: not counted) to `status`, once: the task's
        ledger must still say `previous` and its status `status`. Raises LedgerMoved (the task's side) or
        JobNotRecorded (the job's)."""
        counted = "jobCountedStatus = :previous" if previous else "attribute_not_exists(jobCountedStatus)"
        task_values: dict[str, Any] = {":status": {"S": status}, ":job": {"S": job_arn}}
        if previous:
            task_values[":previous"] = {"S": previous}
        # SET, not ADD: DynamoDB's ADD takes top-level attributes only; the job item always has the three counts.
        job_update = "SET taskCounts.#new = taskCounts.#new + :one, version = version + :one"
        job_names = {"#new": status}
        job_values: dict[str, Any] = {":one": {"N": "1"}}
        if previous:
            job_update += ", taskCounts.#old = taskCounts.#old + :minus"
            job_names["#old"] = previous
            job_values[":minus"] = {"N": "-1"}
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.task_table,
                            "Key": {TASK_KEY: {"S": task_arn}},
                            "UpdateExpression": "SET jobCountedStatus = :status",
                            "ConditionExpression": f"jobArn = :job AND #s = :status AND {counted}",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": task_values,
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.job_table,
                            "Key": {JOB_KEY: {"S": job_arn}},
                            "UpdateExpression": job_update,
                            "ConditionExpression": f"attribute_exists({JOB_KEY})",
                            "ExpressionAttributeNames": job_names,
                            "ExpressionAttributeValues": job_values,
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise StorageError(str(exc)) from exc
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) == 2 and reasons[1] == "ConditionalCheckFailed":
                raise JobNotRecorded(job_arn) from exc
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise LedgerMoved(task_arn) from exc
            raise StorageError(str(exc)) from exc


class LedgerMoved(Exception):
    """The task's ledger or status is not what the count assumed: read it again."""
