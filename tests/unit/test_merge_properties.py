"""The recording invariant: the item is a pure function of the set of distinct events."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.strategies import deliveries, task_events
from tracker.domain import Enrichment, TaskEvent, TaskRecord
from tracker.logic.merge import fold, merge
from tracker.logic.submission import SubmitRequest, submitted_record
from tracker.models.item import from_item, to_item

ENRICHMENT = Enrichment(complete=True, failure_reason="device error", tags={"team": "qml"}, num_successful_shots=10)


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

    assert merge(record, again, ENRICHMENT) is record


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
