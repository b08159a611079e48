"""What the recorder tells CloudWatch about the tasks it records, besides its event counts: the
operator dashboard's tasks, queue and run times, and freshness (stacks/dashboard.py).

Pure: the handler publishes what `recorded` returns (tracker.metrics). Each point is emitted when a
write changes what it measures, so redeliveries and duplicates add nothing; a crash between the
write and the metrics' flush loses that point (metrics are at most once; the table is exact).

- `TasksByStatus` (Count; dimension `status`): a task's recorded status became this one.
- At a task's first end (its item became finished; a correction is no new end):
  - `TasksEnded` (Count; dimension `device`),
  - `QueueTime` and `RunTime` (Seconds; dimension `device`): the item's `queueSeconds` and
    `runSeconds`, for percentiles per device. A task with no RUNNING time at its end (that event
    was lost, or comes later) has neither;
  - `RecordDelay` (Milliseconds; no dimension): from Braket's `endedAt` to the recorder's write of
    the end, how far the table is behind Braket.

The device dimension is the device's short name (`sv1`, `Forte-1`): Braket has a few dozen devices
at most, and each series costs only in the hours it gets data, so the cardinality stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracker import constants
from tracker.domain import Status, TaskRecord, parse_time

COUNT, SECONDS, MILLISECONDS = "Count", "Seconds", "Milliseconds"


@dataclass(frozen=True)
class MetricPoint:
    name: str
    unit: str  # a CloudWatch unit: Count, Seconds, Milliseconds
    value: float
    dimensions: tuple[tuple[str, str], ...] = ()  # besides the function's `service`


def recorded(status: Status, previous: Status | None, record: TaskRecord | None, now: datetime) -> list[MetricPoint]:
    """The points for one recorded event: `status` is the item's status after the write, `previous`
    the status it replaced (None: no item before, or the in-order write, which always moves the task
    forward), `record` the item as written (always given for a finished status), `now` the write's time."""
    if previous is status:
        return []  # a duplicate, a late event or a redelivery: the item's status did not change
    points = [MetricPoint(constants.METRIC_TASKS_BY_STATUS, COUNT, 1, ((constants.DIMENSION_STATUS, status.value),))]
    first_end = status.finished and (previous is None or not previous.finished)
    if not first_end or record is None:
        return points
    device = ((constants.DIMENSION_DEVICE, record.device_name),)
    points.append(MetricPoint(constants.METRIC_TASKS_ENDED, COUNT, 1, device))
    if record.queue_seconds is not None:
        points.append(MetricPoint(constants.METRIC_QUEUE_TIME, SECONDS, float(record.queue_seconds), device))
    if record.run_seconds is not None:
        points.append(MetricPoint(constants.METRIC_RUN_TIME, SECONDS, float(record.run_seconds), device))
    if record.ended_at is not None:
        delay = (now - parse_time(record.ended_at)).total_seconds() * 1000
        points.append(MetricPoint(constants.METRIC_RECORD_DELAY, MILLISECONDS, round(max(delay, 0.0), 3)))
    return points
