"""Reconciling the task table with Braket, per Region, in three passes:

1. heal: unfinished tasks with no event for `stale_after` (the `unfinished-by-last-event` index, not
   a Scan), each checked again only after its back-off (`lastCheckedAt`), are asked about with
   GetQuantumTask in their own Region; a status the table lacks is recorded by the recorder's own
   logic (`Recorder.record`, the merge), as if its event had arrived;
2. sweep: SearchQuantumTasks from the Region's stored watermark (first: the tracker's deployment)
   finds tasks whose every event was lost; they are recorded the same way (origin `reconciler`)
   and their ends notified;
3. notify: finished tasks still awaiting their notification after `notify_grace` (the stream's
   records expire after 24 hours, or the notifier gave up) are notified by the notifier's own code.

Every Braket request goes through the API's per-Region rate limiter. A task that fails is counted
and left for the next run; nothing one task does stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import TypeVar

from tracker.constants import ORIGIN_RECONCILER
from tracker.data.braket_api import BraketApi, ObservedTasks, TaskNotFound
from tracker.data.braket_tasks import BraketUnavailable
from tracker.data.reconciliation import IndexedTask, SweepState, TaskIndex
from tracker.data.task_table import StorageError
from tracker.data.topic import PublishFailed
from tracker.domain import TaskRecord, normalize_time
from tracker.logic.reconcile import InvalidObservation, check_due, is_news, observed_event, sweep_window
from tracker.notifier.service import Notifier
from tracker.recorder.service import Recorder

T = TypeVar("T")
BATCH = 100
MAX_ERRORS_KEPT = 20
TASK_RESERVE_SECONDS = 15.0
"""Stop taking new work when the invocation has less time left than this."""

_FAILURES = (BraketUnavailable, StorageError, InvalidObservation, PublishFailed, TaskNotFound)


@dataclass(frozen=True)
class Settings:
    regions: tuple[str, ...]
    stale_after: timedelta
    notify_grace: timedelta


@dataclass
class Report:
    checked: int = 0  # GetQuantumTask answers about stale tasks
    repaired: int = 0  # tasks whose record changed: healed, or found by the sweep
    found: int = 0  # of which found by the sweep (every event lost)
    backed_off: int = 0  # stale tasks not due for a check yet
    notified: int = 0  # notifications that had not gone out
    errors: int = 0
    unfinished_work: bool = False  # stopped early (time): the next run continues
    error_messages: list[str] = field(default_factory=list)
    repaired_tasks: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_messages) < MAX_ERRORS_KEPT:
            self.error_messages.append(message)


class Reconciler:
    def __init__(
        self,
        *,
        index: TaskIndex,
        state: SweepState,
        recorder: Recorder,
        api: BraketApi,
        observed: ObservedTasks,
        notifier: Notifier,
    ) -> None:
        self.index = index
        self.state = state
        self.recorder = recorder
        self.api = api
        self.observed = observed
        self.notifier = notifier

    def run(self, settings: Settings, now: datetime, seconds_left: Callable[[], float] | None = None) -> Report:
        report = Report()

        def out_of_time() -> bool:
            if seconds_left is not None and seconds_left() < TASK_RESERVE_SECONDS:
                report.unfinished_work = True
                return True
            return False

        for region in settings.regions:
            for step in (self.heal, self.sweep, self.notify):
                if out_of_time():
                    return report
                try:
                    step(region, settings, now, report, out_of_time)
                except _FAILURES as exc:  # a failed query or search: the next run retries
                    report.error(f"{step.__name__} {region}: {exc}")
        return report

    def heal(
        self, region: str, settings: Settings, now: datetime, report: Report, out_of_time: Callable[[], bool]
    ) -> None:
        stale = self.index.stale(region, normalize_time(now - settings.stale_after))
        for batch in _chunks(stale, BATCH):
            records = self.index.get_many(entry.task_arn for entry in batch)
            for entry in batch:
                record = records.get(entry.task_arn)
                if record is None or record.status.finished:
                    continue  # finished since the query
                if not check_due(record.last_event_at, record.checked_at, now, settings.stale_after):
                    report.backed_off += 1
                    continue
                if out_of_time():
                    return
                self._check(record, now, report)

    def _check(self, record: TaskRecord, now: datetime, report: Report) -> None:
        arn = record.task.arn
        try:
            answer = self.api.get_task(record.task)
            report.checked += 1
            event = observed_event(answer, now, ORIGIN_RECONCILER)
            if not is_news(record.status, event.status):
                self.index.mark_checked(arn, normalize_time(now))
                return
            self.observed.remember(answer)
            try:
                self.recorder.record_over(record, event)
            finally:
                self.observed.forget(arn)
            report.repaired += 1
            report.repaired_tasks.append(arn)
        except TaskNotFound as exc:
            report.error(str(exc))
            self._mark_quietly(arn, now, report)  # back off: asking again every run would not help
        except _FAILURES as exc:
            report.error(f"{arn}: {exc}")

    def _mark_quietly(self, arn: str, now: datetime, report: Report) -> None:
        try:
            self.index.mark_checked(arn, normalize_time(now))
        except StorageError as exc:
            report.error(f"{arn}: {exc}")

    def sweep(
        self, region: str, settings: Settings, now: datetime, report: Report, out_of_time: Callable[[], bool]
    ) -> None:
        window = sweep_window(self.state.watermark(region) or self.state.deployed_at(), now, settings.stale_after)
        if window.empty:
            return
        errors_before = report.errors
        for page in self.api.search(region, window.start, window.end):
            known = self.index.get_many(str(summary["quantumTaskArn"]) for summary in page)
            for summary in page:
                if str(summary["quantumTaskArn"]) in known:
                    continue  # recorded: the heal pass looks after it
                if out_of_time():
                    return  # the watermark stays: the next run searches this window again
                self._found(summary, now, report)
        if report.errors == errors_before:
            self.state.advance(region, normalize_time(window.end), normalize_time(now))

    def _found(self, summary: dict[str, object], now: datetime, report: Report) -> None:
        arn = str(summary.get("quantumTaskArn"))
        try:
            event = observed_event(summary, now, ORIGIN_RECONCILER)
            result = self.recorder.record_over(None, event)  # the batch read found no item
            report.repaired += 1
            report.found += 1
            report.repaired_tasks.append(arn)
            if result.status.finished and self.notifier.notify(arn).sent:
                report.notified += 1  # the stream notifies only ends recorded from events
        except _FAILURES as exc:
            report.error(f"{arn}: {exc}")

    def notify(
        self, region: str, settings: Settings, now: datetime, report: Report, out_of_time: Callable[[], bool]
    ) -> None:
        entries: Iterable[IndexedTask] = self.index.unnotified(region, normalize_time(now - settings.notify_grace))
        for entry in entries:
            if out_of_time():
                return
            try:
                if self.notifier.notify(entry.task_arn).sent:
                    report.notified += 1
            except _FAILURES as exc:
                report.error(f"{entry.task_arn}: {exc}")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
