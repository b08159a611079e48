"""The event boundary: real-shaped Braket events in, validated domain events out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.events import all_fixture_events, load_fixture, state_change, task_arn
from tracker.domain import Status
from tracker.models.event import InvalidEvent, parse_task_event


@pytest.mark.parametrize("event", all_fixture_events(), ids=lambda e: f"{e['detail']['status']}-{e['id'][-4:]}")
def test_every_fixture_parses_from_json_text(event: dict[str, Any]) -> None:
    parsed = parse_task_event(json.dumps(event))

    assert parsed.event_id == event["id"]
    assert parsed.task.arn == event["detail"]["quantumTaskArn"]
    assert parsed.status is Status(event["detail"]["status"])
    assert parsed.shots == int(event["detail"]["shots"])


def test_shots_string_becomes_a_number() -> None:
    parsed = parse_task_event(load_fixture("task-state-change-created-qpu.json"))

    assert parsed.shots == 50
    assert isinstance(parsed.shots, int)


def test_times_are_normalized_to_milliseconds_utc() -> None:
    parsed = parse_task_event(load_fixture("task-state-change-completed.json"))

    assert parsed.time == "2021-10-28T01:17:45.000Z"
    assert parsed.created_at == "2021-10-28T01:17:42.898Z"
    assert parsed.ended_at == "2021-10-28T01:17:44.735Z"


def test_ended_at_is_kept_only_for_finished_statuses() -> None:
    event = state_change(task_arn(), "RUNNING", "2026-11-20T08:00:05Z")
    event["detail"]["endedAt"] = "2026-11-20T08:00:06.000Z"

    assert parse_task_event(event).ended_at is None


def test_region_and_account_come_from_the_task_arn_not_the_envelope() -> None:
    event = load_fixture("task-state-change-failed.json")
    event["region"] = "us-east-1"  # as a forwarder might rewrite it
    event["account"] = "999999999999"

    parsed = parse_task_event(event)

    assert parsed.task.region == "us-west-2"
    assert parsed.task.account == "012345678901"
    assert parsed.task.task_id == "f0e1d2c3-b4a5-4968-8776-655443322110"


def test_unknown_fields_are_ignored() -> None:
    event = load_fixture("task-state-change-completed.json")
    event["detail"]["someFieldAwsAddsLater"] = {"x": 1}
    event["newEnvelopeField"] = "y"

    assert parse_task_event(event).status is Status.COMPLETED


def _with(path: str, value: Any) -> dict[str, Any]:
    event = load_fixture("task-state-change-completed.json")
    target = event
    *parents, leaf = path.split(".")
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[leaf]
    else:
        target[leaf] = value
    return event


_DELETE = object()


@pytest.mark.parametrize(
    ("event", "complaint"),
    [
        (_with("detail.quantumTaskArn", _DELETE), "detail.quantumTaskArn"),
        (_with("detail.quantumTaskArn", "arn:aws:braket:us-east-1:012345678901:job/x"), "quantum task ARN"),
        (_with("detail.status", "PAUSED"), "detail.status"),
        (_with("detail.status", None), "detail.status"),
        (_with("detail.shots", "many"), "detail.shots"),
        (_with("detail.shots", True), "detail.shots"),
        (_with("detail.shots", 1.5), "detail.shots"),
        (_with("detail.shots", -1), "detail.shots"),
        (_with("detail.createdAt", "yesterday"), "detail.createdAt"),
        (_with("detail.deviceArn", ""), "detail.deviceArn"),
        (_with("detail", "not an object"), "detail"),
        (_with("source", "aws.batch"), "source"),
        (_with("detail-type", "Braket Job State Change"), "detail-type"),
        (_with("id", ""), "id"),
        (_with("time", _DELETE), "time"),
    ],
)
def test_invalid_events_are_rejected_with_the_field_named(event: dict[str, Any], complaint: str) -> None:
    with pytest.raises(InvalidEvent, match=complaint):
        parse_task_event(json.dumps(event))


@pytest.mark.parametrize("body", ["", "{", "[]", "null", "42", '"text"', "\x00\xff"])
def test_bodies_that_are_not_an_event_object_are_rejected(body: str) -> None:
    with pytest.raises(InvalidEvent):
        parse_task_event(body)


def test_an_envelope_without_account_or_region_is_still_recorded() -> None:
    event = load_fixture("task-state-change-created-qpu.json")
    del event["account"], event["region"]

    parsed = parse_task_event(event)

    assert (parsed.task.account, parsed.task.region) == ("012345678901", "us-west-1")


def test_shots_beyond_any_device_are_rejected_not_retried() -> None:
    event = load_fixture("task-state-change-completed.json")
    event["detail"]["shots"] = "9" * 40  # more digits than a DynamoDB number holds

    with pytest.raises(InvalidEvent, match=r"detail\.shots"):
        parse_task_event(event)
