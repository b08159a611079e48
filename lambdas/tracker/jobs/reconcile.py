"""Reconciling the jobs table with Braket, per Region, after the tasks' passes (reconciler/service.py),
in the same three passes:

1. heal: jobs that need Braket's word (unfinished with no event for `stale_after`, or finished without
   GetJob's final details) from the sparse `unfinished-by-last-event` index, each after its back-off,
   are asked about with GetJob; what it says is recorded by the job recorder's own logic;
2. sweep: SearchJobs from the Region's job watermark (`sweep#jobs#<region>` in the state table) finds
   jobs whose every event was lost, and jobs that moved on unseen (SearchJobs has no status filter, so
   every job of the window comes back: jobs are few); a finished one is then described by GetJob;
3. notify: finished jobs still awaiting their notification after `notify_grace`.

Every GetJob and SearchJobs request goes through this function's own limiter, far below Braket's quota
(constants.RECONCILER_GET_JOB_RATE: GetJob's quota is 5/s per account and Region, shared with every
researcher's `AwsQuantumJob.state()`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tracker.constants import ORIGIN_RECONCILER
from tracker.data.braket_jobs import JobNotFound
from tracker.data.braket_tasks import BraketUnavailable
from tracker.data.job_table import JobTable
from tracker.data.reconciliation import SweepState
from tracker.data.task_table import StorageError
from tracker.data.topic import PublishFailed
from tracker.domain import EventRefused, normalize_time
from tracker.job_domain import JobArn, JobStatus
from tracker.jobs.notifier import JobNotifier
from tracker.jobs.recorder import JobRecorder, Outcome
from tracker.logic.job_observation import check_due, is_news
from tracker.logic.reconcile import sweep_window
from tracker.models.job_item import needs_check

_FAILURES = (BraketUnavailable, StorageError, PublishFailed, JobNotFound, EventRefused, ValueError)
MAX_ERRORS_KEPT = 20


@dataclass
class JobReport:
    checked: int = 0  # GetJob answers about jobs that needed Braket's word
    repaired: int = 0  # jobs whose record changed
    found: int = 0  # of which found by the sweep (every event lost)
    backed_off: int = 0
    notified: int = 0
    errors: int = 0
    error_messages: list[str] = field(default_factory=list)
    repaired_jobs: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_messages) < MAX_ERRORS_KEPT:
            self.error_messages.append(message)


class JobReconciler:
    def __init__(self, table: JobTable, recorder: JobRecorder, notifier: JobNotifier, state: SweepState) -> None:
        self.table = table
        self.recorder = recorder
        self.notifier = notifier
        self.state = state

    def run(
        self,
        regions: tuple[str, ...],
        stale_after: timedelta,
        notify_grace: timedelta,
        now: datetime,
        out_of_time: Callable[[], bool] = lambda: False,
    ) -> JobReport:
        report = JobReport()
        for region in regions:
            for step in (self.heal, self.sweep):
                if out_of_time():
                    return report
                try:
                    step(region, stale_after, now, report, out_of_time)
                except _FAILURES as exc:
                    report.error(f"jobs {step.__name__} {region}: {exc}")
            try:
                for arn in self.table.unnotified(region, normalize_time(now - notify_grace)):
                    if out_of_time():
                        return report
                    report.notified += int(self.notifier.notify(arn).sent)
            except _FAILURES as exc:
                report.error(f"jobs notify {region}: {exc}")
        return report

    def heal(
        self, region: str, stale_after: timedelta, now: datetime, report: JobReport, out_of_time: Callable[[], bool]
    ) -> None:
        for arn in self.table.stale(region, normalize_time(now - stale_after)):
            record = self.table.get(arn)
            if record is None or not needs_check(record):
                continue
            if not check_due(record.last_event_at, record.checked_at, now, stale_after):
                report.backed_off += 1
                continue
            if out_of_time():
                return
            try:
                answer = self.recorder.braket.get(record.job)
                report.checked += 1
                result = self.recorder.observe(record.job, answer, ORIGIN_RECONCILER)
                if result.outcome is Outcome.DUPLICATE or result.record.status == record.status:
                    self.table.mark_checked(result.record, normalize_time(now))
                if result.record.status != record.status or needs_check(record) != needs_check(result.record):
                    report.repaired += 1
                    report.repaired_jobs.append(arn)
            except _FAILURES as exc:
                report.error(f"{arn}: {exc}")

    def sweep(
        self, region: str, stale_after: timedelta, now: datetime, report: JobReport, out_of_time: Callable[[], bool]
    ) -> None:
        name = f"jobs#{region}"
        window = sweep_window(self.state.watermark(name) or self.state.deployed_at(), now, stale_after)
        if window.empty:
            return
        errors_before = report.errors
        for page in self.recorder.braket.search(region, window.start, window.end):
            for summary in page:
                if out_of_time():
                    return  # the watermark stays: the next run searches this window again
                self._found(summary, report)
        if report.errors == errors_before:
            self.state.advance(name, normalize_time(window.end), normalize_time(now))

    def _found(self, summary: dict[str, object], report: JobReport) -> None:
        arn = str(summary.get("jobArn"))
        try:
            job = JobArn.parse(arn)
            status = JobStatus(str(summary.get("status")))
            record = self.table.get(arn)
            if not is_news(record.status if record else None, status):
                return
            result = self.recorder.observe(job, dict(summary), ORIGIN_RECONCILER, complete=False)
            report.repaired += 1
            report.found += int(record is None)
            report.repaired_jobs.append(arn)
            if result.record.status.finished and self.notifier.notify(arn).sent:
                report.notified += 1
        except _FAILURES as exc:
            report.error(f"{arn}: {exc}")
