"""Recording one job event: ask GetJob when the record needs it (first sight, and the end), merge, write.

GetJob is asked at most twice per job in the common case: when a job is first seen (its name, device,
configuration and creation time, which the event lacks), and when it ends (failure reason, billable
duration, the final times). Both calls go through the limiter of this function's GetJob rate; when it
would wait too long, or Braket does not answer, the event is recorded without them (`enriched: false`)
and the reconciler asks later. The answer's status is merged as an observed event (`braket-api:<S>`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from tracker.data.braket_jobs import BraketJobs, GetJobRefused, JobNotFound, details_from
from tracker.data.braket_tasks import BraketUnavailable
from tracker.data.job_table import MAX_ATTEMPTS, JobChanged, JobTable
from tracker.data.task_table import StorageError
from tracker.domain import EventRefused
from tracker.job_domain import JobArn, JobDetails, JobEvent, JobRecord, JobStatus
from tracker.logic.job_merge import merge, too_big
from tracker.logic.job_observation import observed_event

GET_JOB_MAX_WAIT = 2.0
"""The longest the recorder waits for its GetJob limiter before recording without Braket's details."""
WRITE_RESERVE_SECONDS = 5.0


class Outcome(StrEnum):
    RECORDED = "recorded"
    LATE = "late"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class JobResult:
    outcome: Outcome
    record: JobRecord
    details_error: str | None = None


class JobRecorder:
    def __init__(
        self,
        table: JobTable,
        braket: BraketJobs,
        *,
        max_wait: float = GET_JOB_MAX_WAIT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table = table
        self.braket = braket
        self.max_wait = max_wait
        self.clock = clock

    def record(self, event: JobEvent, seconds_left: float | None = None) -> JobResult:
        """Record `event`; `seconds_left`: the invocation's remaining time (GetJob is skipped when short)."""
        current = self.table.get(event.job.arn)
        details, error = None, None
        if needs_details(current, event.status):
            details, error = self.ask(event.job, seconds_left)
        return self.write(current, event, details, error)

    def observe(self, job: JobArn, answer: dict[str, object], origin: str, *, complete: bool = True) -> JobResult:
        """Record what Braket's API said about a job (GetJob, or a SearchJobs summary: incomplete)."""
        details = details_from(dict(answer), self.clock(), complete=complete)
        event = observed_event(job, details, origin)
        if event is None:
            raise BraketUnavailable(f"Braket's answer about {job.arn} names no status")
        current = self.table.get(job.arn)
        if not complete and event.status.finished and needs_details(current, event.status):
            full, error = self.ask(job, None)
            return self.write(current, event, full or details, error)
        return self.write(current, event, details, None)

    def ask(self, job: JobArn, seconds_left: float | None) -> tuple[JobDetails | None, str | None]:
        """GetJob's answer as details, or (None, why not)."""
        if seconds_left is not None and seconds_left < self.max_wait + 5 * 3 + WRITE_RESERVE_SECONDS:
            return None, f"not enough time left to ask Braket ({seconds_left:.0f} s)"
        try:
            answer = self.braket.get(job, self.max_wait)
        except (GetJobRefused, JobNotFound, BraketUnavailable) as exc:
            return None, str(exc)
        return details_from(answer, self.clock()), None

    def write(
        self, current: JobRecord | None, event: JobEvent, details: JobDetails | None, error: str | None
    ) -> JobResult:
        """Merge and write, merging again while another writer changes the item."""
        if details is None and error is not None and event.status.finished:
            details = JobDetails(complete=False, observed_at=event.time)  # the end, without Braket's word
        observed = observed_event(event.job, details, event.origin) if details and details.complete else None
        for _ in range(MAX_ATTEMPTS):
            merged = merge(current, event, details)
            if observed is not None:
                merged = merge(merged, observed)
            if merged == current:
                return JobResult(Outcome.DUPLICATE, merged, error)
            refused = too_big(merged)
            if refused:
                raise EventRefused(refused)
            try:
                written = self.table.write(merged, current)
            except JobChanged as changed:
                current = changed.current
                continue
            late = current is not None and event.time < current.last_event_at
            return JobResult(Outcome.LATE if late else Outcome.RECORDED, written, error)
        raise StorageError(f"the item of {event.job.arn} kept changing; giving up for a retry")


def needs_details(current: JobRecord | None, status: JobStatus) -> bool:
    """GetJob is worth asking: the job was never described, or it ends and Braket's last word is older."""
    details = current.details if current is not None else None
    if details is None or not details.complete:
        return True
    return status.finished and not (details.status is not None and details.status.finished)
