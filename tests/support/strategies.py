"""Hypothesis strategies: the events of one task, and deliveries of them (shuffled, repeated)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from tracker.domain import Status, TaskArn, TaskEvent, normalize_time

BASE = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)


@st.composite
def task_events(draw: st.DrawFn, region: str = "us-east-1", max_events: int = 9) -> list[TaskEvent]:
    """Distinct events (distinct ids) of one task.

    Half are real lifecycles (statuses in order, times rising, some intermediate ones missing,
    sometimes a status reported twice); half are arbitrary: any statuses, times that tie or run
    backwards, conflicting finished statuses.
    """
    task = TaskArn.parse(f"arn:aws:braket:{region}:012345678901:quantum-task/{draw(st.uuids())}")
    created = BASE + timedelta(milliseconds=draw(st.integers(0, 999)))
    if draw(st.booleans()):
        statuses = draw(_lifecycle())
        offsets = sorted(draw(st.lists(st.integers(1, 5000), min_size=len(statuses), max_size=len(statuses))))
    else:
        statuses = draw(st.lists(st.sampled_from(list(Status)), min_size=1, max_size=max_events))
        offsets = draw(st.lists(st.integers(0, 5000), min_size=len(statuses), max_size=len(statuses)))
    events = []
    for index, (status, offset) in enumerate(zip(statuses, offsets, strict=True)):
        time = BASE + timedelta(seconds=offset)
        ended = time - timedelta(milliseconds=draw(st.integers(0, 900))) if status.finished else None
        events.append(
            TaskEvent(
                event_id=f"{task.task_id[:8]}-{index}",
                time=normalize_time(time),
                task=task,
                status=status,
                device_arn="arn:aws:braket:::device/quantum-simulator/amazon/sv1",
                shots=1000,
                output_s3_bucket=f"amazon-braket-{region}-012345678901",
                output_s3_directory=f"tasks/{task.task_id}",
                created_at=normalize_time(created),
                ended_at=normalize_time(ended) if ended else None,
            )
        )
    return events


@st.composite
def _lifecycle(draw: st.DrawFn) -> list[Status]:
    path = [Status.CREATED, Status.QUEUED, Status.RUNNING]
    if draw(st.booleans()):
        path.append(Status.CANCELLING)
    path.append(draw(st.sampled_from([Status.COMPLETED, Status.FAILED, Status.CANCELLED])))
    end = draw(st.integers(1, len(path)))
    kept = [status for status in path[:end] if draw(st.integers(0, 4)) > 0] or [path[0]]
    repeated = draw(st.lists(st.sampled_from(kept), max_size=2))
    return sorted([*kept, *repeated], key=path.index)


@st.composite
def deliveries(draw: st.DrawFn, events: list[TaskEvent], max_repeats: int = 3) -> list[TaskEvent]:
    """At-least-once, out-of-order delivery: every event at least once, in any order."""
    delivered = [event for event in events for _ in range(draw(st.integers(1, max_repeats)))]
    return draw(st.permutations(delivered))
