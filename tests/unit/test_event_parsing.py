"""The event boundary: real-shaped Braket events in, validated domain events out."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.events import all_fixture_events, load_fixture, state_change, task_arn
from tracker.domain import Status
from tracker.models.event import InvalidEvent, parse_task_event

PARAMETER_ID = "5f0c3a52-8d3e-4c6b-9a1e-2b7d4e6f8a90"  # fixed, so every collection names the tests alike


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


# -- the parser is the only gate (issue 14): whatever it accepts can be stored and indexed -----------


def _with(path: str, value: Any) -> dict[str, Any]:
    event = state_change(task_arn(), "COMPLETED", "2026-11-20T08:00:05Z")
    target = event
    *parents, name = path.split(".")
    for parent in parents:
        target = target[parent]
    target[name] = value
    return event


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("detail.createdAt", "9999-12-31T23:59:59-01:00"),  # overflows when converted to UTC
        ("detail.createdAt", "0001-01-01T00:00:00+01:00"),
        ("detail.endedAt", "9999-12-31T23:59:59-01:00"),
        ("time", "9999-12-31T23:59:59-01:00"),
        ("time", "0001-01-01T00:00:00+01:00"),
        ("detail.createdAt", "0999-01-01T00:00:00Z"),  # stored unpadded, it sorted after 2026
        ("detail.createdAt", "2018-12-31T23:59:59Z"),  # before Braket existed
        ("time", "2090-01-01T00:00:00Z"),  # far in the future: it would lead every listing
        ("detail.endedAt", "2026-11-20T08:00:05"),  # no time zone
        ("time", 1763625600),  # a number is not an ISO-8601 time
    ],
)
def test_times_outside_the_plausible_window_are_rejected_not_overflowed(path: str, value: Any) -> None:
    with pytest.raises(InvalidEvent, match=path.rsplit(".", maxsplit=1)[-1]):
        parse_task_event(json.dumps(_with(path, value)))


def test_the_window_runs_from_2019_to_a_day_ahead_of_the_clock() -> None:
    now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert parse_task_event(_with("detail.createdAt", "2019-01-01T00:00:00Z"), now).created_at.startswith("2019")
    assert parse_task_event(_with("time", "2026-11-21T07:59:59Z"), now).time == "2026-11-21T07:59:59.000Z"
    with pytest.raises(InvalidEvent, match=re.escape("outside 2019-01-01T00:00:00.000Z .. 2026-11-21T08:00:00.000Z")):
        parse_task_event(_with("time", "2026-11-21T08:00:01Z"), now)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("detail.quantumTaskArn", task_arn(PARAMETER_ID) + "\n"),  # `$` matched before a final newline
        ("detail.quantumTaskArn", "x" + task_arn(PARAMETER_ID)),
        ("detail.quantumTaskArn", task_arn(region="us-" + "e" * 3000 + "-1")),  # a Region as long as a key
        # \d matched other digits
        ("detail.quantumTaskArn", task_arn(PARAMETER_ID).replace("012345678901", "\u0661" * 12)),
        ("detail.deviceArn", "arn:aws:braket:::device/qpu/x/" + "y" * 3000),  # over 2,048 bytes: an index key
        ("detail.deviceArn", "arn:aws:braket:::device/quantum-simulator/amazon/sv1\n"),
        ("detail.deviceArn", "sv1"),
        ("detail.outputS3Bucket", "amazon-braket-" + "b" * 60),
        ("detail.outputS3Bucket", "Amazon-Braket"),
        ("detail.outputS3Directory", "\u00e9" * 600),  # 600 characters, 1,200 bytes: over S3's 1,024
        ("detail.outputS3Directory", "tasks/\x00"),
        ("id", "x" * 129),
        ("id", "7bf9c4ea-1a06-4c61-9b8c-0df4aa1b5a1c\n"),
        ("id", "id with spaces"),
        ("detail.shots", "\u0661\u0662"),  # digits, but not ASCII ones
    ],
)
def test_values_beyond_what_can_be_stored_or_indexed_are_rejected(path: str, value: Any) -> None:
    with pytest.raises(InvalidEvent, match=path.rsplit(".", maxsplit=1)[-1]):
        parse_task_event(json.dumps(_with(path, value)))


@pytest.mark.parametrize(
    "body",
    [
        '{"id": "\ud800"}',  # a lone surrogate (not JSON's escape: the character itself)
        "\udcff",
        '{"version": "0", "detail": {"createdAt": "\ud83d"}}',
    ],
)
def test_text_that_is_not_unicode_is_rejected(body: str) -> None:
    with pytest.raises(InvalidEvent):
        parse_task_event(body)


def test_an_accepted_event_is_within_the_key_limits() -> None:
    """The longest values the parser accepts fit DynamoDB's keys (2,048 bytes, sort keys 1,024)."""
    longest = _with("detail.deviceArn", "arn:aws-us-gov-abcdefgh:braket:" + "a" * 32 + "::device/" + "d" * 200)
    longest["detail"]["quantumTaskArn"] = (
        "arn:aws-abcdefghijklmno:braket:" + "r" * 32 + ":012345678901:quantum-task/" + "t" * 128
    )
    longest["detail"]["outputS3Directory"] = "\u00e9" * 512
    parsed = parse_task_event(longest)

    assert len(parsed.task.arn.encode()) <= 256  # also the connections table's sort key, after "task#"
    assert len(parsed.device_arn.encode()) <= 2048
    assert len(parsed.output_s3_directory.encode()) <= 1024
