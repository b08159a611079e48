"""The merge rules, one example each. The properties over random deliveries are in test_merge_properties."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.support.events import load_fixture, state_change, task_arn
from tracker.domain import Enrichment, Status, TaskEvent
from tracker.logic.merge import fold, merge
from tracker.models.event import parse_task_event

ARN = task_arn("a3e1f6d2-7c44-4f0b-8b1e-3d5c9e2f7a41")


def event(status: str, time: str, event_id: str | None = None, **kwargs: str) -> TaskEvent:
    return parse_task_event(state_change(ARN, status, time, event_id=event_id or f"{status}-{time}", **kwargs))


LIFECYCLE = [
    event("CREATED", "2026-11-20T08:00:01Z"),
    event("QUEUED", "2026-11-20T08:00:02Z"),
    event("RUNNING", "2026-11-20T09:41:10Z"),
    event("COMPLETED", "2026-11-20T09:41:19Z", ended_at="2026-11-20T09:41:18.504Z"),
]


def test_lifecycle_in_order_records_every_status_time_and_the_durations() -> None:
    record = fold(LIFECYCLE)

    assert record is not None
    assert record.status is Status.COMPLETED
    assert record.status_times == {
        Status.CREATED: "2026-11-20T08:00:01.000Z",
        Status.QUEUED: "2026-11-20T08:00:02.000Z",
        Status.RUNNING: "2026-11-20T09:41:10.000Z",
        Status.COMPLETED: "2026-11-20T09:41:19.000Z",
    }
    assert record.queue_seconds == Decimal("6069.750")  # createdAt 08:00:00.250 -> RUNNING 09:41:10
    assert record.run_seconds == Decimal("8.504")  # RUNNING -> endedAt
    assert record.event_count == 4
    assert record.last_event_at == "2026-11-20T09:41:19.000Z"


def test_late_queued_never_overwrites_running() -> None:
    record = fold([LIFECYCLE[0], LIFECYCLE[2], LIFECYCLE[1]])

    assert record is not None
    assert record.status is Status.RUNNING
    assert Status.QUEUED in record.status_times


def test_finished_status_is_never_replaced_by_an_earlier_one() -> None:
    record = fold([LIFECYCLE[3], LIFECYCLE[2], LIFECYCLE[1], LIFECYCLE[0]])

    assert record is not None
    assert record.status is Status.COMPLETED
    assert record.ended_at == "2026-11-20T09:41:18.504Z"


def test_redelivered_event_returns_the_same_record() -> None:
    record = fold(LIFECYCLE[:2])
    assert record is not None

    assert merge(record, LIFECYCLE[1]) == record


def test_first_seen_time_of_a_status_is_the_earliest_event_for_it() -> None:
    later = event("QUEUED", "2026-11-20T08:00:09Z", event_id="queued-again")
    record = fold([LIFECYCLE[0], later, LIFECYCLE[1]])

    assert record is not None
    assert record.status_times[Status.QUEUED] == "2026-11-20T08:00:02.000Z"
    assert record.event_count == 3


def test_a_task_first_seen_finished_is_recorded_whole() -> None:
    record = merge(None, parse_task_event(load_fixture("task-state-change-completed.json")))

    assert record.status is Status.COMPLETED
    assert record.queue_seconds is None  # no RUNNING seen
    assert record.run_seconds is None
    assert record.results_uri == (
        "s3://amazon-braket-0260a8bc871e/sns-testing/834b21ed-77a7-4b36-a90c-c776afc9a71e/results.json"
    )


def test_conflicting_finished_statuses_resolve_to_the_earliest_whatever_the_order() -> None:
    cancelled = event("CANCELLED", "2026-11-20T09:00:00Z")
    completed = event("COMPLETED", "2026-11-20T09:00:05Z")

    one = fold([cancelled, completed])
    other = fold([completed, cancelled])

    assert one == other
    assert one is not None
    assert one.status is Status.CANCELLED


def test_disagreeing_task_properties_resolve_the_same_whatever_the_order() -> None:
    a = event("QUEUED", "2026-11-20T08:00:02Z", shots="100")
    b = event("RUNNING", "2026-11-20T08:00:03Z", shots="99")

    assert fold([a, b]) == fold([b, a])


def test_enrichment_applies_only_to_a_finished_event() -> None:
    enrichment = Enrichment(complete=True, failure_reason="boom")

    assert merge(None, LIFECYCLE[1], enrichment).enrichment is None
    assert merge(None, LIFECYCLE[3], enrichment).enrichment == enrichment


def test_complete_enrichment_replaces_an_incomplete_one() -> None:
    incomplete = merge(None, LIFECYCLE[3], Enrichment(complete=False))
    duplicate_end = replace(LIFECYCLE[3], event_id="completed-redriven-by-reconciler")
    complete = Enrichment(complete=True, tags={"team": "qml"})

    assert merge(incomplete, duplicate_end, complete).enrichment == complete
    assert merge(merge(None, duplicate_end, complete), LIFECYCLE[3], Enrichment(complete=False)).enrichment == complete


def test_a_task_running_within_a_second_of_creation_never_queues_negative_time() -> None:
    # EventBridge's time has one-second resolution; createdAt has milliseconds.
    created = event("CREATED", "2026-11-20T08:00:00Z", created_at="2026-11-20T08:00:00.600Z")
    running = event("RUNNING", "2026-11-20T08:00:00Z", created_at="2026-11-20T08:00:00.600Z")
    done = event(
        "COMPLETED", "2026-11-20T08:00:01Z", created_at="2026-11-20T08:00:00.600Z", ended_at="2026-11-20T08:00:01.100Z"
    )

    record = fold([created, running, done])

    assert record is not None
    assert record.queue_seconds == Decimal("0.000")
    assert record.run_seconds == Decimal("0.500")


def test_a_redelivered_end_fills_in_details_braket_could_not_give_the_first_time() -> None:
    incomplete = merge(None, LIFECYCLE[3], Enrichment(complete=False))
    complete = Enrichment(complete=True, failure_reason=None, tags={"team": "qml"})

    again = merge(incomplete, LIFECYCLE[3], complete)

    assert again.enrichment == complete
    assert again.event_ids == incomplete.event_ids  # still the same set of events
    assert merge(again, LIFECYCLE[3], Enrichment(complete=False)) == again  # and never back
