"""Backfill of hybrid jobs: import the jobs Braket already has (SearchJobs, per Region, from a date) through
the job recorder's own logic, as silent `backfill` items; each finished one described by GetJob.

Idempotent and resumable like the tasks' backfill (ops/backfill.py): a job is written only when the table
lacks it or Braket reports a later status; each window is checkpointed (`backfill#jobs#<region>#<since>`
in the reconciler's state table). Every GetJob and SearchJobs request goes through a per-Region limiter
(GetJob's quota is 5 requests/s per account and Region, shared with researchers' `AwsQuantumJob.state()`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from ops.backfill import Checkpoints, Totals
from tracker.constants import ORIGIN_BACKFILL
from tracker.data.braket_jobs import BraketJobs, JobNotFound
from tracker.data.braket_tasks import BraketUnavailable
from tracker.data.job_table import JobTable
from tracker.data.task_table import StorageError
from tracker.domain import EventRefused, normalize_time
from tracker.job_domain import JobArn, JobStatus
from tracker.jobs.recorder import JobRecorder
from tracker.logic.job_observation import is_news

DEFAULT_RATE = 2.0
"""GetJob and SearchJobs requests per second per Region: under half of GetJob's quota."""


class JobBackfill:
    def __init__(
        self, *, table: JobTable, recorder: JobRecorder, checkpoints: Checkpoints | None, report: Callable[[str], None]
    ) -> None:
        self.table = table
        self.recorder = recorder
        self.checkpoints = checkpoints
        self.report = report

    @classmethod
    def for_tables(
        cls,
        job_table: str,
        state_table: str | None,
        requests_per_second: float,
        *,
        report: Callable[[str], None],
        home_region: str | None = None,
        client_factory: Callable[[str], Any] | None = None,
    ) -> JobBackfill:
        dynamodb = boto3.client("dynamodb", region_name=home_region)
        table = JobTable(job_table, dynamodb)
        braket = BraketJobs(requests_per_second, client_factory=client_factory)
        return cls(
            table=table,
            recorder=JobRecorder(table, braket),
            checkpoints=Checkpoints(state_table, dynamodb) if state_table else None,
            report=report,
        )

    def run(
        self,
        region: str,
        since: datetime,
        until: datetime | None = None,
        window: timedelta = timedelta(days=1),
        restart: bool = False,
    ) -> Totals:
        end, start, name = until or datetime.now(UTC), since, f"jobs#{region}"
        if self.checkpoints is not None and not restart:
            through = self.checkpoints.load(name, since)
            if through is not None and through > start:
                self.report(f"{region}: jobs: resuming after {normalize_time(through)}")
                start = through
        totals = Totals()
        while start < end:
            stop = min(start + window, end)
            part = self._window(region, start, stop)
            totals.add(part)
            self.report(
                f"{region} jobs {normalize_time(start)} .. {normalize_time(stop)}: {part.found} found, "
                f"{part.recorded} recorded, {part.unchanged} already recorded, {part.errors} errors"
            )
            if part.errors:
                self.report(f"{region}: jobs: stopped at {normalize_time(start)}: run again to retry from there")
                return totals
            if self.checkpoints is not None:
                self.checkpoints.save(name, since, stop)
            start = stop
        return totals

    def _window(self, region: str, start: datetime, stop: datetime) -> Totals:
        totals = Totals()
        try:
            for page in self.recorder.braket.search(region, start, stop):
                for summary in page:
                    totals.found += 1
                    arn = str(summary.get("jobArn"))
                    try:
                        record = self.table.get(arn)
                        if not is_news(record.status if record else None, JobStatus(str(summary.get("status")))):
                            totals.unchanged += 1
                            continue
                        self.recorder.observe(JobArn.parse(arn), dict(summary), ORIGIN_BACKFILL, complete=False)
                        totals.recorded += 1
                    except (BraketUnavailable, StorageError, JobNotFound, EventRefused, ValueError) as exc:
                        totals.errors += 1
                        self.report(f"  {arn}: {exc}")
        except (BraketUnavailable, StorageError) as exc:
            totals.errors += 1
            self.report(f"  {region}: jobs: {exc}")
        return totals
