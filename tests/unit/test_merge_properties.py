"""The recording invariant: the item is a pure function of the set of distinct events."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.strategies import deliveries, task_events
from tracker.domain import (
    ActionMetadata,
    Enrichment,
    Status,
    TaskEvent,
    TaskRecord,
    normalize_time,
    parse_time,
    seconds_between,
)
from tracker.logic.merge import fold, is_conflict, merge
from tracker.logic.submission import SubmitRequest, submitted_record
from tracker.models.item import from_item, to_item

ENRICHMENT = Enrichment(
    complete=True,
    failure_reason="device error",
    tags={"team": "qml"},
    num_successful_shots=10,
    device_parameters='{"braketSchemaHeader": {"name": "braket.device_schema.simulators.parameters"}}',
    action_metadata=ActionMetadata("braket.ir.openqasm.program_set", program_count=2, executable_count=6),
    associations=(
        {"arn": "arn:aws:braket:us-east-1:012345678901:reservation/r", "type": "RESERVATION_TIME_WINDOW_ARN"},
    ),
)


@settings(max_examples=1500, deadline=None)
@given(data=st.data(), events=task_events())
def test_any_delivery_order_with_duplicates_gives_the_same_record(data: st.DataObject, events: list[TaskEvent]) -> None:
    reference = fold(sorted(events, key=lambda e: e.event_id), ENRICHMENT)

    for _ in range(3):
        delivered = data.draw(deliveries(events))
        assert fold(delivered, ENRICHMENT) == reference


@settings(max_examples=800, deadline=None)
@given(data=st.data(), events=task_events())
def test_status_never_goes_backwards_and_a_finished_task_stays_finished(
    data: st.DataObject, events: list[TaskEvent]
) -> None:
    record = None
    for event in data.draw(deliveries(events)):
        before = record
        record = merge(record, event, ENRICHMENT)
        if before is not None:
            assert record.status.rank >= before.status.rank
            assert not before.status.finished or record.status.finished


@settings(max_examples=800, deadline=None)
@given(data=st.data(), events=task_events())
def test_a_redelivered_event_changes_nothing(data: st.DataObject, events: list[TaskEvent]) -> None:
    record = fold(data.draw(deliveries(events)), ENRICHMENT)
    assert record is not None

    again = data.draw(st.sampled_from(events))

    assert merge(record, again, ENRICHMENT) == record


@settings(max_examples=500, deadline=None)
@given(events=task_events())
def test_item_mapping_round_trips(events: list[TaskEvent]) -> None:
    record = fold(events, ENRICHMENT)
    assert record is not None

    assert from_item(to_item(record)) == record


def _submitted(events: list[TaskEvent]) -> TaskRecord:
    first = events[0]
    request = SubmitRequest(first.device_arn, first.shots, "OPENQASM 3;", tags={"project": "qaoa"})
    return submitted_record(
        first.task.arn,
        request,
        submitter="arn:aws:iam::012345678901:user/ada",
        tags={"project": "qaoa"},
        bucket=first.output_s3_bucket,
        prefix=first.output_s3_directory.split("/")[0],
        at=datetime.fromisoformat(first.created_at.replace("Z", "+00:00")) + timedelta(milliseconds=30),
    )


@settings(max_examples=500, deadline=None)
@given(data=st.data(), events=task_events())
def test_a_task_submitted_through_the_api_records_the_same_in_any_order(
    data: st.DataObject, events: list[TaskEvent]
) -> None:
    submitted = _submitted(events)
    reference = _fold_from(submitted, sorted(events, key=lambda e: e.event_id))

    for _ in range(3):
        assert _fold_from(submitted, data.draw(deliveries(events))) == reference
    assert (reference.submitter, reference.origin) == (submitted.submitter, "api")
    assert reference.event_ids == {event.event_id for event in events}
    if reference.enrichment is not None:  # the submitted tags now live with Braket's details
        assert reference.tags == {}
        assert reference.enrichment.tags["project"] == "qaoa"
    else:
        assert reference.tags == {"project": "qaoa"}
    assert from_item(to_item(reference)) == reference
    assert from_item(to_item(submitted)) == submitted


def _fold_from(record: TaskRecord, events: list[TaskEvent]) -> TaskRecord:
    for event in events:
        record = merge(record, event, ENRICHMENT)
    return record


@st.composite
def conflicting_bodies(draw: st.DrawFn, events: list[TaskEvent]) -> list[TaskEvent]:
    """Other bodies for some of the events' ids: another time, status or end (one id, two bodies)."""
    others = []
    for event in draw(st.lists(st.sampled_from(events), min_size=1, max_size=3)):
        status = draw(st.sampled_from(list(Status)))
        moved = parse_time(event.time) + timedelta(seconds=draw(st.integers(-3000, 3000)))
        time = normalize_time(max(moved, parse_time(event.created_at)))
        others.append(replace(event, status=status, time=time, ended_at=time if status.finished else None))
    return others


@settings(max_examples=300, deadline=None)
@given(data=st.data(), events=task_events())
def test_one_event_id_with_two_bodies_gives_the_same_record_in_any_order(
    data: st.DataObject, events: list[TaskEvent]
) -> None:
    """Issue 14: the second body was dropped, so the record depended on which body came first."""
    bodies = [*events, *data.draw(conflicting_bodies(events))]
    reference = fold(sorted(bodies, key=lambda e: (e.event_id, e.time, e.status.value)), ENRICHMENT)

    for _ in range(3):
        assert fold(data.draw(deliveries(bodies)), ENRICHMENT) == reference


@settings(max_examples=300, deadline=None)
@given(data=st.data(), events=task_events())
def test_a_conflict_is_told_apart_from_a_redelivery(data: st.DataObject, events: list[TaskEvent]) -> None:
    record = fold(events, ENRICHMENT)
    assert record is not None
    assert not any(is_conflict(record, event) for event in events)  # a redelivery is never a conflict

    other = data.draw(conflicting_bodies(events))[0]
    assert is_conflict(record, other) == (merge(record, other) != record)


@settings(max_examples=500, deadline=None)
@given(events=task_events())
def test_durations_are_never_negative_and_add_up(events: list[TaskEvent]) -> None:
    """Issue 14: RUNNING at +5 s then COMPLETED ending at +2 s gave runSeconds = -3."""
    record = fold(events, ENRICHMENT)
    assert record is not None

    if record.queue_seconds is not None:
        assert record.queue_seconds >= 0
    if record.run_seconds is not None:
        assert record.run_seconds >= 0
        assert record.queue_seconds is not None and record.ended_at is not None
        if record.ended_at >= record.created_at:
            assert record.queue_seconds + record.run_seconds == seconds_between(record.created_at, record.ended_at)
