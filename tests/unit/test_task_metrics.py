"""The recorder's task metrics (tracker.logic.task_metrics): what each recorded event adds to the
dashboard's tasks by status and device, queue and run times, and freshness."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.support.strategies import task_events
from tracker import constants
from tracker.domain import Status, TaskArn, TaskEvent, TaskRecord, parse_time
from tracker.logic.merge import merge
from tracker.logic.task_metrics import MetricPoint, recorded

NOW = datetime(2026, 11, 20, 9, 41, 20, 4000, tzinfo=UTC)
TASK = TaskArn.parse("arn:aws:braket:eu-north-1:012345678901:quantum-task/a3e1f6d2-7c44-4f0b-8b1e-3d5c9e2f7a41")


def event(status: Status, time: str, ended_at: str | None = None, event_id: str | None = None) -> TaskEvent:
    return TaskEvent(
        event_id=event_id or f"id-{status.value}",
        time=time,
        task=TASK,
        status=status,
        device_arn="arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet",
        shots=1000,
        output_s3_bucket="amazon-braket-eu-north-1-012345678901",
        output_s3_directory=f"tasks/{TASK.task_id}",
        created_at="2026-11-20T08:00:01.120Z",
        ended_at=ended_at,
    )


def lifecycle() -> list[TaskEvent]:
    return [
        event(Status.CREATED, "2026-11-20T08:00:01.000Z"),
        event(Status.QUEUED, "2026-11-20T08:00:02.000Z"),
        event(Status.RUNNING, "2026-11-20T09:41:10.000Z"),
        event(Status.COMPLETED, "2026-11-20T09:41:19.000Z", ended_at="2026-11-20T09:41:18.504Z"),
    ]


def deliver(events: list[TaskEvent], now: datetime = NOW) -> tuple[TaskRecord | None, list[MetricPoint]]:
    """Record each event as the recorder's merge path does, collecting the metric points."""
    current: TaskRecord | None = None
    points: list[MetricPoint] = []
    for delivered in events:
        merged = merge(current, delivered, None)
        previous = current.status if current is not None else None
        points += recorded(merged.status, previous, merged, now)
        current = merged
    return current, points


def named(points: list[MetricPoint], name: str) -> list[MetricPoint]:
    return [p for p in points if p.name == name]


def test_a_lifecycle_counts_each_status_once_and_its_end_by_device() -> None:
    _, points = deliver(lifecycle())

    assert named(points, constants.METRIC_TASKS_BY_STATUS) == [
        MetricPoint("TasksByStatus", "Count", 1, (("status", s),))
        for s in ("CREATED", "QUEUED", "RUNNING", "COMPLETED")
    ]
    garnet = (("device", "Garnet"),)
    assert named(points, "TasksEnded") == [MetricPoint("TasksEnded", "Count", 1, garnet)]
    assert named(points, "QueueTime") == [MetricPoint("QueueTime", "Seconds", 6068.88, garnet)]
    assert named(points, "RunTime") == [MetricPoint("RunTime", "Seconds", 8.504, garnet)]
    # 09:41:18.504 to 09:41:20.004: the table was 1.5 s behind Braket.
    assert named(points, "RecordDelay") == [MetricPoint("RecordDelay", "Milliseconds", 1500.0)]


def test_a_redelivered_or_late_event_adds_nothing() -> None:
    record, _ = deliver(lifecycle())
    assert record is not None
    assert recorded(record.status, record.status, record, NOW) == []  # a duplicate end
    late_queued = merge(record, event(Status.QUEUED, "2026-11-20T08:00:03.000Z", event_id="again"), None)
    assert recorded(late_queued.status, record.status, late_queued, NOW) == []


def test_an_in_order_write_counts_its_status_without_the_item() -> None:
    """The in-order UpdateItem returns no item for an unfinished status: the status is enough."""
    assert recorded(Status.RUNNING, None, None, NOW) == [
        MetricPoint("TasksByStatus", "Count", 1, (("status", "RUNNING"),))
    ]


def test_a_correction_counts_its_new_status_but_is_no_new_end() -> None:
    record, _ = deliver(lifecycle())
    assert record is not None
    failed = merge(record, event(Status.FAILED, "2026-11-20T09:41:15.000Z", ended_at="2026-11-20T09:41:14.900Z"), None)
    assert failed.status is Status.FAILED

    assert recorded(failed.status, record.status, failed, NOW) == [
        MetricPoint("TasksByStatus", "Count", 1, (("status", "FAILED"),))
    ]


def test_an_end_without_a_running_time_has_no_queue_or_run_time() -> None:
    _, points = deliver([lifecycle()[0], lifecycle()[3]])
    assert {p.name for p in points} == {"TasksByStatus", "TasksEnded", "RecordDelay"}


def test_an_end_recorded_before_braket_reported_it_is_no_negative_delay() -> None:
    _, points = deliver(lifecycle(), now=parse_time("2026-11-20T09:41:17.000Z"))
    assert named(points, "RecordDelay") == [MetricPoint("RecordDelay", "Milliseconds", 0.0)]


@given(task_events(), st.data())
def test_any_delivery_counts_one_end_and_one_status_change_at_a_time(
    events: list[TaskEvent], data: st.DataObject
) -> None:
    """Shuffled and repeated deliveries: a finished task has exactly one end; each TasksByStatus
    point is a change of the item's status; durations and delays are never negative."""
    delivery = data.draw(st.lists(st.sampled_from(events), min_size=len(events), max_size=3 * len(events)))
    delivery = [*delivery, *events]  # every event at least once
    record, points = deliver(delivery, now=NOW + timedelta(days=1))
    assert record is not None

    ended = named(points, constants.METRIC_TASKS_ENDED)
    assert len(ended) == (1 if record.status.finished else 0)
    statuses = Counter(dict(p.dimensions)["status"] for p in named(points, constants.METRIC_TASKS_BY_STATUS))
    assert statuses[record.status.value] >= 1
    assert sum(statuses.values()) <= len(delivery)
    assert all(p.value >= 0 for p in points)
    for point in named(points, "QueueTime") + named(points, "RunTime"):
        assert Decimal(str(point.value)) <= Decimal(60 * 60 * 2)
