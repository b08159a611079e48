"""Backfill: import the tasks Braket already has (SearchQuantumTasks, per Region, from a date) through
the recorder's own logic, as silent `backfill` items.

- Idempotent: a task is written only when the table lacks it or Braket reports a later status, and
  each status observed through the API has one event id (`braket-api:<STATUS>`), so a second run
  writes nothing. Tasks the tracker already recorded from events keep their origin.
- Resumable: the range is searched one window (a day by default) at a time, and each finished
  window is checkpointed in the reconciler's state table; a new run continues after the last one
  (`--restart` searches the whole range again).
- Under the request rate: every Braket request goes through a per-Region limiter, shared by the
  workers that record a page's tasks side by side.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tracker.constants import ORIGIN_BACKFILL, STATE_KEY
from tracker.data.braket_api import BraketApi, ObservedTasks
from tracker.data.braket_tasks import BraketUnavailable
from tracker.data.reconciliation import TaskIndex
from tracker.data.task_table import StorageError, TaskTable
from tracker.domain import Status, TaskRecord, normalize_time
from tracker.logic.reconcile import InvalidObservation, is_news, observed_event
from tracker.recorder.service import Recorder


@dataclass
class Totals:
    found: int = 0
    recorded: int = 0  # task items written (new tasks, or a later status)
    unchanged: int = 0  # already recorded as Braket reports them
    errors: int = 0

    def add(self, other: Totals) -> None:
        self.found += other.found
        self.recorded += other.recorded
        self.unchanged += other.unchanged
        self.errors += other.errors


class Checkpoints:
    """`backfill#<region>#<since>` items in the state table: how far a backfill got."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb")

    @staticmethod
    def key(region: str, since: datetime) -> dict[str, Any]:
        return {STATE_KEY: {"S": f"backfill#{region}#{normalize_time(since)}"}}

    def load(self, region: str, since: datetime) -> datetime | None:
        try:
            item = self._client.get_item(
                TableName=self.table_name, Key=self.key(region, since), ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise StorageError(str(exc)) from exc
        return None if item is None else datetime.fromisoformat(item["through"]["S"].replace("Z", "+00:00"))

    def save(self, region: str, since: datetime, through: datetime) -> None:
        item = self.key(region, since) | {
            "through": {"S": normalize_time(through)},
            "updatedAt": {"S": normalize_time(datetime.now(UTC))},
        }
        try:
            self._client.put_item(TableName=self.table_name, Item=item)
        except ClientError as exc:
            raise StorageError(str(exc)) from exc


class Backfill:
    def __init__(
        self,
        *,
        index: TaskIndex,
        recorder: Recorder,
        api: BraketApi,
        checkpoints: Checkpoints | None,
        report: Callable[[str], None] = print,
        workers: int = 4,
    ) -> None:
        self.workers = workers
        self.index = index
        self.recorder = recorder
        self.api = api
        self.checkpoints = checkpoints
        self.report = report

    @classmethod
    def for_tables(
        cls,
        task_table: str,
        state_table: str | None,
        requests_per_second: float,
        *,
        report: Callable[[str], None],
        workers: int = 4,
        home_region: str | None = None,
    ) -> Backfill:
        dynamodb = boto3.client("dynamodb", region_name=home_region)
        api = BraketApi(requests_per_second)
        return cls(
            index=TaskIndex(task_table, dynamodb),
            recorder=Recorder(TaskTable(task_table, dynamodb), ObservedTasks(api)),
            api=api,
            checkpoints=Checkpoints(state_table, dynamodb) if state_table else None,
            report=report,
            workers=workers,
        )

    def run(
        self,
        region: str,
        since: datetime,
        until: datetime | None = None,
        window: timedelta = timedelta(days=1),
        restart: bool = False,
    ) -> Totals:
        end = until or datetime.now(UTC)
        start = since
        if self.checkpoints is not None and not restart:
            through = self.checkpoints.load(region, since)
            if through is not None and through > start:
                self.report(f"{region}: resuming after {normalize_time(through)} (--restart searches it all again)")
                start = through
        totals = Totals()
        while start < end:
            stop = min(start + window, end)
            part = self._window(region, start, stop)
            totals.add(part)
            self.report(
                f"{region} {normalize_time(start)} .. {normalize_time(stop)}: {part.found} found, "
                f"{part.recorded} recorded, {part.unchanged} already recorded, {part.errors} errors "
                f"(so far: {totals.found} found, {totals.recorded} recorded)"
            )
            if part.errors:
                self.report(f"{region}: stopped at {normalize_time(start)}: run again to retry from there")
                return totals
            if self.checkpoints is not None:
                self.checkpoints.save(region, since, stop)
            start = stop
        return totals

    def _window(self, region: str, start: datetime, stop: datetime) -> Totals:
        totals = Totals()
        observed_at = datetime.now(UTC)
        lock = threading.Lock()

        def one(summary: dict[str, Any], record: TaskRecord | None) -> None:
            try:
                if not is_news(record.status if record else None, Status(summary["status"])):
                    outcome = "unchanged"
                else:
                    self.recorder.record_over(record, observed_event(summary, observed_at, ORIGIN_BACKFILL))
                    outcome = "recorded"
            except (BraketUnavailable, StorageError, InvalidObservation, ValueError) as exc:
                outcome = "errors"
                self.report(f"  {summary.get('quantumTaskArn')}: {exc}")
            with lock:
                setattr(totals, outcome, getattr(totals, outcome) + 1)

        try:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                for page in self.api.search(region, start, stop):
                    stored = self.index.get_many(str(summary["quantumTaskArn"]) for summary in page)
                    totals.found += len(page)
                    futures = [pool.submit(one, s, stored.get(str(s["quantumTaskArn"]))) for s in page]
                    for future in futures:
                        future.result()
                    self.report(f"  {region}: {totals.found} found in this window, {totals.recorded} recorded")
        except (BraketUnavailable, StorageError) as exc:
            totals.errors += 1
            self.report(f"  {region}: {exc}")
        return totals
