"""The costs' pure logic: the ledger's moves keep the totals exactly once (hypothesis, like the merge),
budgets and their thresholds, a simulator's duration from the tail of results.json, Braket's spending
limit events, and the notification's id of a final state."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.events import state_change, task_arn
from tracker.domain import Status
from tracker.logic import execution_time
from tracker.logic.budgets import Budget, parse_budgets
from tracker.logic.merge import fold
from tracker.logic.notification import build, notification_id
from tracker.logic.spending_limits import InvalidSpendingLimit, from_event
from tracker.logic.totals import Changes, Counted, Delta, LedgerEntry, Reservation, changes, totals_of
from tracker.models.event import parse_task_event

# --- the ledger: any delivery of any sequence of truths leaves the totals of the final truth -------

TARGETS = st.builds(
    Counted,
    month=st.sampled_from(["2026-11", "2026-12"]),
    scopes=st.sampled_from([("account", "tag:p=a"), ("account", "tag:p=b"), ("account", "tag:p=")]),
    usd=st.decimals(min_value=0, max_value=100, places=5),
    priced=st.booleans(),
)


@settings(max_examples=300)
@given(
    truths=st.lists(st.lists(TARGETS, min_size=1, max_size=4), min_size=1, max_size=4),
    held=st.lists(st.booleans(), min_size=4, max_size=4),
    data=st.data(),
)
def test_moving_ledger_entries_keeps_the_totals_of_the_final_truths(
    truths: list[list[Counted]], held: list[bool], data: st.DataObject
) -> None:
    """Each task's truth changes in order; each is delivered 0 to 3 times (the last at least once),
    interleaved with the other tasks'. A delivery moves the entry only if it is not at the truth
    delivered (the keeper's condition: the revision it read); the totals get exactly the deltas."""
    entries = {
        i: LedgerEntry(
            f"task-{i}", reservation=Reservation(f"r{i}", "2026-11", Decimal(1), ("account",)) if held[i] else None
        )
        for i in range(len(truths))
    }
    table = Changes()
    for entry in entries.values():  # the holds made at submission
        if entry.holds is not None:
            table.add("2026-11", ("account",), Delta(reserved=entry.holds.usd))
    steps = [(i, j) for i, states in enumerate(truths) for j in range(len(states))]
    for i, j in sorted(steps, key=lambda step: (data.draw(st.integers(0, 9)), step[1])):
        last = j == len(truths[i]) - 1
        for _ in range(data.draw(st.integers(1 if last else 0, 3))):
            target = truths[i][j]
            if not entries[i].at_target(target):
                for key, delta in changes(entries[i], target).items():
                    table.add(key[0], (key[1],), delta)
                entries[i] = entries[i].counting(target, "k", target.usd, {})
    # Writes of one task arrive in order (the stream, then the queue, read the item as it is): the
    # last delivery of each task is of its final truth.
    for i, states in enumerate(truths):
        if not entries[i].at_target(states[-1]):
            for key, delta in changes(entries[i], states[-1]).items():
                table.add(key[0], (key[1],), delta)
            entries[i] = entries[i].counting(states[-1], "k", states[-1].usd, {})

    assert table.nonzero() == totals_of(entries.values())
    final = [states[-1] for states in truths]
    account = sum((truth.usd for truth in final), Decimal(0))
    found = {key: delta for key, delta in table.nonzero().items() if key[1] == "account"}
    assert sum((delta.usd for delta in found.values()), Decimal(0)) == account
    assert sum(delta.reserved for delta in found.values()) == 0  # every hold given back
    assert sum(delta.tasks for delta in found.values()) == len(truths)


def test_a_correction_to_another_month_moves_the_cost_and_gives_the_hold_back_once() -> None:
    hold = Reservation("r", "2026-11", Decimal("0.5"), ("tag:p=a",))
    entry = LedgerEntry("t", reservation=hold)
    first = Counted("2026-11", ("account", "tag:p=a"), Decimal("0.38"), True)
    second = Counted("2026-10", ("account", "tag:p=a"), Decimal(0), True)

    counted = changes(entry, first)
    moved = changes(entry.counting(first, "k", first.usd, {}), second)

    assert counted[("2026-11", "tag:p=a")] == Delta(usd=Decimal("0.38"), tasks=1, reserved=Decimal("-0.5"))
    assert moved == {
        ("2026-11", "account"): Delta(usd=Decimal("-0.38"), tasks=-1),
        ("2026-11", "tag:p=a"): Delta(usd=Decimal("-0.38"), tasks=-1),
        ("2026-10", "account"): Delta(tasks=1),
        ("2026-10", "tag:p=a"): Delta(tasks=1),
    }


# --- budgets ---------------------------------------------------------------------------------------


def test_budgets_parse_strictly_and_reach_their_thresholds() -> None:
    (budget,) = parse_budgets(json.dumps([{"scope": "tag:p=a", "monthlyUsd": "500", "alertAt": ["100", "50", "80"]}]))

    assert budget == Budget("tag:p=a", Decimal(500), (Decimal(50), Decimal(80), Decimal(100)))
    assert budget.reached(Decimal("399.99")) == [Decimal(50)]
    assert budget.reached(Decimal(400)) == [Decimal(50), Decimal(80)]
    assert budget.room(Decimal("80.30")) == Decimal("419.70")
    assert budget.remaining(Decimal(600)) == 0
    for wrong in (
        '[{"scope": "account", "monthlyUsd": 500, "alertAt": ["50"]}]',  # a number, not a decimal string
        '[{"scope": "account", "monthlyUsd": "0", "alertAt": ["50"]}]',
        '[{"scope": "account", "monthlyUsd": "1", "alertAt": ["50"], "extra": 1}]',
        '[{"scope": "account", "monthlyUsd": "1", "alertAt": []},'
        ' {"scope": "account", "monthlyUsd": "2", "alertAt": []}]',
        "{}",
    ):
        with pytest.raises(ValueError):
            parse_budgets(wrong)


# --- a simulator's duration, from the tail of results.json -----------------------------------------


def test_the_duration_is_the_last_simulator_metadata_key_not_a_string_that_looks_like_it() -> None:
    document = {
        "measurements": [[0, 1]] * 1000,
        "additionalMetadata": {
            "action": {"source": '"simulatorMetadata": {"executionDuration": 99999}'},
            "simulatorMetadata": {"braketSchemaHeader": {"name": "x", "version": "1"}, "executionDuration": 12},
        },
    }
    text = json.dumps(document).encode()

    assert execution_time.from_tail(text[-300:]) == 12
    assert execution_time.from_tail(text[:-300]) is None  # cut before the field: read the whole document
    assert execution_time.from_document(document) == 12
    assert execution_time.from_tail(b'"simulatorMetadata": {"executionDuration": true}') is None
    assert execution_time.from_tail(b'"simulatorMetadata": {"executionDuration": -1}') is None


@given(st.binary(max_size=300))
def test_any_tail_gives_a_duration_or_none_never_an_error(tail: bytes) -> None:
    found = execution_time.from_tail(b'"simulatorMetadata":' + tail)
    assert found is None or found >= 0


# --- Braket's spend change events ------------------------------------------------------------------

DOCUMENTED = {  # the Amazon Braket Developer Guide's example
    "version": "0",
    "id": "c1a22f1f-3e86-46ea-87f9-0ca6f2234d83",
    "detail-type": "Braket Spending Limit Spend Change",
    "source": "aws.braket",
    "account": "123456789012",
    "time": "2026-02-28T12:00:00Z",
    "region": "us-west-2",
    "resources": [],
    "detail": {
        "quantumTaskArn": "arn:aws:braket:us-west-2:123456789012:quantum-task/4cf7bd26-0eb7-44bf-bc3b-3d0d0bbdc6a2",
        "deviceArn": "arn:aws:braket:us-west-2::device/qpu/amazon/example-device",
        "spendingLimit": "10.00",
        "spendingLimitArn": "arn:aws:braket:us-west-2:123456789012:spending-limit/b6951b86-8222-45b1-9908-2df6c3ac717d",
        "totalSpend": "5.00",
        "queuedSpend": "1.00",
        "timePeriod": {"startAt": 1764893800000, "endAt": 4922726400000},
    },
}


def test_the_documented_spend_change_event_is_read_and_a_later_report_sorts_after() -> None:
    limit = from_event(DOCUMENTED)

    assert (limit.limit_usd, limit.total_spend_usd, limit.queued_spend_usd) == (Decimal(10), Decimal(5), Decimal(1))
    assert (limit.month, limit.remaining_usd, limit.period_start) == ("2026-02", Decimal(4), "2025-12-05T00:16:40.000Z")
    later = from_event({**DOCUMENTED, "detail": {**DOCUMENTED["detail"], "totalSpend": "6.00"}})
    assert later.version > limit.version


@pytest.mark.parametrize(
    "change",
    [
        {"source": "aws.events"},
        {"detail-type": "Braket Task State Change"},
        {"time": "1999-01-01T00:00:00Z"},
        {"detail": {**DOCUMENTED["detail"], "totalSpend": 5}},
        {"detail": {**DOCUMENTED["detail"], "spendingLimitArn": "arn:aws:braket:us-west-2:1:spending-limit/x\n"}},
        {"detail": {**DOCUMENTED["detail"], "timePeriod": {"startAt": "now", "endAt": 1}}},
    ],
)
def test_a_spend_change_event_that_cannot_be_trusted_is_refused_with_a_reason(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidSpendingLimit):
        from_event({**DOCUMENTED, **change})


# --- the notification id of a final state ----------------------------------------------------------


@given(st.lists(st.tuples(st.sampled_from(["COMPLETED", "FAILED", "CANCELLED"]), st.integers(1, 50)), max_size=6))
def test_every_final_state_a_task_goes_through_has_an_id_of_its_own(ends: list[tuple[str, int]]) -> None:
    """Events arrive one by one; whenever the final status differs from the one announced last, it is
    announced: a return to a status announced before (with an earlier time) never repeats an id."""
    arn = task_arn()
    events = [parse_task_event(state_change(arn, "CREATED", "2026-11-20T08:00:00Z"))]
    ids: list[str] = []
    last: Status | None = None
    for index, (status, second) in enumerate(ends):
        event = state_change(arn, status, f"2026-11-20T08:01:{second:02d}Z", event_id=f"e{index}")
        events.append(parse_task_event(event))
        record = fold(events)
        assert record is not None
        if record.status.finished and record.status is not last:
            last = record.status
            ids.append(notification_id(record))
    assert len(ids) == len(set(ids))


def test_an_ends_notification_carries_its_cost() -> None:
    arn = task_arn()
    record = fold(
        [
            parse_task_event(state_change(arn, "CREATED", "2026-11-20T08:00:00Z")),
            parse_task_event(state_change(arn, "COMPLETED", "2026-11-20T08:00:09Z")),
        ]
    )
    assert record is not None
    basis = {
        "rule": "simulator",
        "billedMs": 3000,
        "prices": [{"usd": "0.075", "unit": "minute"}],
        "status": "COMPLETED",
    }

    notification = build(record, cost=(Decimal("0.00375"), basis))
    stored = build(replace(record, cost_usd=Decimal("0.00375"), cost_basis=basis))

    assert notification.document["costUsd"] == stored.document["costUsd"] == "0.00375"
    assert notification.subject.endswith(", $0.00375")
    assert "Cost:        $0.00375 (simulator: 3,000 ms billed at $0.075 per minute)" in notification.text
    assert notification.attributes["type"] == {"DataType": "String", "StringValue": "task-finished"}
    stale = replace(record, cost_usd=Decimal(1), cost_basis={**basis, "status": "FAILED"})
    assert build(stale).document["costUsd"] is None  # a cost of another status is not this end's
