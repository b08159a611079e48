"""The recording invariant: the item is a pure function of the set of distinct events."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.strategies import deliveries, task_events
from tracker.domain import Enrichment, TaskEvent
from tracker.logic.merge import fold, merge
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
