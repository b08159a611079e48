"""A cancel recorded by the Task API is an observation the merge orders like any event: in any order
and with any redelivery, the record is the same, CANCELLING shows at once, and it never undoes an end."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.strategies import deliveries, task_events
from tracker.api.observations import CANCEL_EVENT_ID, cancel_observation, last_read, not_queued
from tracker.domain import Enrichment, Status, TaskArn, TaskEvent, parse_time
from tracker.logic.merge import fold, merge

ENRICHMENT = Enrichment(complete=True)


@st.composite
def events_and_a_cancel(draw: st.DrawFn) -> tuple[list[TaskEvent], TaskEvent]:
    """A task's events, and the API's cancel observation made from the record after some of them
    (the item the API read), at a time within the task's life."""
    events = draw(task_events())
    seen = draw(st.integers(1, len(events)))
    read = fold(events[:seen], ENRICHMENT)
    assert read is not None
    at = parse_time(read.created_at) + timedelta(milliseconds=draw(st.integers(0, 6_000_000)))
    return events, cancel_observation(read, at)


@settings(max_examples=600, deadline=None)
@given(data=st.data(), drawn=events_and_a_cancel())
def test_the_cancel_observation_merges_the_same_in_any_order(
    data: st.DataObject, drawn: tuple[list[TaskEvent], TaskEvent]
) -> None:
    events, cancel = drawn
    reference = fold(sorted([*events, cancel], key=lambda e: e.event_id), ENRICHMENT)
    assert reference is not None

    for _ in range(3):
        assert fold(data.draw(deliveries([*events, cancel])), ENRICHMENT) == reference
    assert CANCEL_EVENT_ID in reference.event_ids


@settings(max_examples=600, deadline=None)
@given(drawn=events_and_a_cancel())
def test_a_late_cancel_never_undoes_an_end_and_otherwise_reads_cancelling(
    drawn: tuple[list[TaskEvent], TaskEvent],
) -> None:
    events, cancel = drawn
    without = fold(events, ENRICHMENT)
    assert without is not None

    with_cancel = merge(without, cancel, ENRICHMENT)

    if without.status.finished:
        assert with_cancel.status is without.status
        assert with_cancel.ended_at == without.ended_at
    else:
        assert with_cancel.status is Status.CANCELLING
    assert merge(with_cancel, cancel, ENRICHMENT) == with_cancel  # a retried cancel changes nothing


def _event(status: Status, time: str) -> TaskEvent:
    task = TaskArn.parse("arn:aws:braket:us-east-1:012345678901:quantum-task/3f4e5d6c-7b8a-4990-8a1b-2c3d4e5f6a7b")
    return TaskEvent(
        event_id=f"e-{status.value}",
        time=time,
        task=task,
        status=status,
        device_arn="arn:aws:braket:::device/quantum-simulator/amazon/sv1",
        shots=100,
        output_s3_bucket="amazon-braket-us-east-1-012345678901",
        output_s3_directory=f"tasks/{task.task_id}",
        created_at="2026-11-20T08:00:00.000Z",
        ended_at=time if status.finished else None,
    )


def test_not_queued_is_braket_s_answer_with_the_priority_once_known() -> None:
    running = fold([_event(Status.RUNNING, "2026-11-20T08:00:01.000Z")])
    assert running is not None
    of_a_job = merge(
        running,
        _event(Status.COMPLETED, "2026-11-20T08:00:02.000Z"),
        Enrichment(complete=True, job_arn="arn:aws:braket:us-east-1:012345678901:job/vqe"),
    )

    assert not_queued(running) == {
        "queue": "QUANTUM_TASKS_QUEUE",
        "position": "None",
        "message": "Task is in RUNNING status. AmazonBraket does not show queue position for this status.",
    }
    assert not_queued(of_a_job)["queuePriority"] == "Priority"
    assert "position" not in last_read(running)  # asked before the first read has answered
