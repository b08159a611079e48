"""Data access for Braket's spending limits: SearchSpendingLimits in each Braket Region (on demand),
and the latest report of each limit kept beside the tracker's own figures, on its device's total
of the month (`braketSpendingLimit`), written only by a later report (logic.spending_limits)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tracker.data.braket_tasks import BraketUnavailable
from tracker.data.cost_totals import serialize, total_key
from tracker.data.task_table import StorageError
from tracker.logic.spending_limits import InvalidSpendingLimit, SpendingLimit, from_summary
from tracker.logic.task_costs import DEVICE_PREFIX

PAGE_SIZE = 100  # SearchSpendingLimits' maximum
MAX_PAGES = 20


class SpendingLimitReports:
    """The latest report of each limit, on the totals table."""

    def __init__(self, totals_table: str, client: Any | None = None) -> None:
        self.totals_table = totals_table
        self._client = client or boto3.client("dynamodb")

    def record(self, limit: SpendingLimit) -> bool:
        """Keep `limit` unless a later report of it is kept already. True if it was written."""
        try:
            self._client.update_item(
                TableName=self.totals_table,
                Key=total_key(limit.month, DEVICE_PREFIX + limit.device_arn),
                UpdateExpression="SET braketSpendingLimit = :limit, braketSpendingLimitVersion = :version",
                ConditionExpression="attribute_not_exists(braketSpendingLimitVersion) OR "
                "braketSpendingLimitVersion < :version",
                ExpressionAttributeValues=serialize({":limit": limit.to_item(), ":version": limit.version}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StorageError(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(str(exc)) from exc
        return True


class BraketSpendingLimits:
    """SearchSpendingLimits, in each Region (a limit belongs to one device, so to one Region)."""

    def __init__(self, client_factory: Callable[[str], Any] | None = None) -> None:
        config = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=2, read_timeout=5)
        self._factory = client_factory or (lambda region: boto3.client("braket", region_name=region, config=config))
        self._clients: dict[str, Any] = {}

    def search(
        self, regions: Iterable[str], clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> tuple[list[SpendingLimit], list[str]]:
        """Every limit of these Regions, and the problems met (a Region that did not answer, a summary
        that could not be read): one Region's failure does not hide the others'."""
        found: list[SpendingLimit] = []
        problems: list[str] = []
        for region in regions:
            try:
                summaries = self._summaries(region)
            except BraketUnavailable as exc:
                problems.append(f"{region}: {exc}")
                continue
            for summary in summaries:
                try:
                    found.append(from_summary(summary, clock()))
                except InvalidSpendingLimit as exc:
                    problems.append(f"{region}: {exc}")
        return found, problems

    def _summaries(self, region: str) -> list[Any]:
        if region not in self._clients:
            self._clients[region] = self._factory(region)
        client = self._clients[region]
        summaries: list[Any] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            request: dict[str, Any] = {"maxResults": PAGE_SIZE}
            if token:
                request["nextToken"] = token
            try:
                answer = client.search_spending_limits(**request)
            except (ClientError, BotoCoreError) as exc:
                raise BraketUnavailable(f"SearchSpendingLimits: {exc}") from exc
            summaries += list(answer.get("spendingLimits") or [])
            token = answer.get("nextToken")
            if not token:
                break
        return summaries
