"""The event boundary: real-shaped Braket events in, validated domain events out."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import pydantic_event_model as reference
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


# -- the hand-written gate accepts exactly what the pydantic model did -------------------------------

_ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "COMPLETED",
            "PAUSED",
            "12",
            "0",
            "1" * 12,
            "2026-11-20T08:00:05Z",
            "2026-11-20T08:00:05",
            "2018-01-01T00:00:00Z",
            "aws.braket",
            "Braket Task State Change",
            "arn:aws:braket:us-east-1:012345678901:quantum-task/abc",
            "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
            "amazon-braket-us-east-1-012345678901",
            "tasks/x\n",
            "\u0661",
        ]
    ),
    st.lists(st.text(max_size=5), max_size=3),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)
_ENVELOPE_KEYS = [
    "version",
    "id",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail-type",
    "detail_type",  # the pydantic model's field name (populate_by_name)
    "replay-name",
    "replay_name",
    "detail",
]
_CLOCKS = [
    datetime(2027, 1, 1, tzinfo=UTC),  # every fixture in the window
    datetime(2026, 11, 20, 8, 0, tzinfo=UTC),  # some fixtures from the future
    datetime(2022, 1, 1, tzinfo=UTC),
]
_DETAIL_KEYS = [
    "quantumTaskArn",
    "status",
    "deviceArn",
    "shots",
    "outputS3Bucket",
    "outputS3Directory",
    "createdAt",
    "endedAt",
    "eventName",
]


@settings(max_examples=300, deadline=None)
@given(
    fixture=st.sampled_from(all_fixture_events()),
    changes=st.lists(
        st.tuples(
            st.sampled_from([*_ENVELOPE_KEYS, *(f"detail.{key}" for key in _DETAIL_KEYS)]),
            st.one_of(st.just(_DELETE), _ODD_VALUES),
        ),
        max_size=3,
    ),
    as_text=st.booleans(),
    now=st.sampled_from(_CLOCKS),
)
def test_the_gate_accepts_and_maps_exactly_what_the_pydantic_model_did(
    fixture: dict[str, Any], changes: list[tuple[str, Any]], as_text: bool, now: datetime
) -> None:
    event = json.loads(json.dumps(fixture))
    for path, value in changes:
        target: Any = event
        *parents, leaf = path.split(".")
        for part in parents:
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            continue
        if value is _DELETE:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    body: str | dict[str, Any] = json.dumps(event) if as_text else event

    assert _outcome(parse_task_event, body, now) == _outcome(reference.parse_task_event, body, now)


def _outcome(parse: Any, body: str | dict[str, Any], now: datetime) -> Any:
    """The domain event, or "refused" (each parser raises its own InvalidEvent, and nothing else)."""
    try:
        return parse(body, now)
    except (InvalidEvent, reference.InvalidEvent):
        return "refused"


def test_both_gates_accept_every_fixture_with_the_same_result() -> None:
    now = _CLOCKS[0]
    for event in all_fixture_events():
        for body in (event, json.dumps(event)):
            found = _outcome(parse_task_event, body, now)
            assert found != "refused"
            assert found == _outcome(reference.parse_task_event, body, now)


def _with_extra(json_value: str, *, in_detail: bool = False) -> str:
    """A fixture's JSON text with one more (ignored) field, written as raw JSON text."""
    text = json.dumps(load_fixture("task-state-change-completed.json"))
    if in_detail:
        return text.replace('"detail": {', f'"detail": {{"extra": {json_value}, ', 1)
    return text[:-1] + f', "extra": {json_value}}}'


@pytest.mark.parametrize("depth", [198, 199, 200, 201])
@pytest.mark.parametrize(
    "shape",
    [
        lambda d: "[" * d + "]" * d,  # the innermost array is empty
        lambda d: '{"a": ' * d + "1" + "}" * d,
        lambda d: '[{"a": ' * (d // 2) + "[0]" + "}]" * (d // 2),
    ],
    ids=["arrays", "objects", "mixed"],
)
@pytest.mark.parametrize("in_detail", [False, True])
def test_json_text_nested_past_the_parser_limit_is_refused_as_pydantic_did(
    depth: int, shape: Any, in_detail: bool
) -> None:
    body = _with_extra(shape(depth), in_detail=in_detail)
    now = _CLOCKS[0]

    assert _outcome(parse_task_event, body, now) == _outcome(reference.parse_task_event, body, now)


def test_the_nesting_limit_is_where_pydantic_had_it() -> None:
    now = _CLOCKS[0]
    deepest = _with_extra("[" * 199 + "1" + "]" * 199)  # with the event itself: 200 containers

    assert _outcome(parse_task_event, deepest, now) != "refused"
    assert _outcome(parse_task_event, _with_extra("[" * 200 + "1" + "]" * 200), now) == "refused"
    assert _outcome(reference.parse_task_event, deepest, now) != "refused"


@pytest.mark.parametrize(
    "extra",
    ['"\\ud800"', '"\\udc00x"', '{"\\ud800": 1}', '"\\ud83d\\ude00"', '"\\u00e9"', "NaN", "1e999", '"a\\u0000b"'],
)
def test_escapes_in_json_text_are_judged_as_pydantic_did(extra: str) -> None:
    body = _with_extra(extra)
    now = _CLOCKS[0]
    expected = _outcome(reference.parse_task_event, body, now)

    assert _outcome(parse_task_event, body, now) == expected
    assert (expected == "refused") == ("\\ud800" in extra or "\\udc00" in extra)  # a pair is one character


def test_python_values_json_cannot_carry_are_refused_not_coerced() -> None:
    """Where the dict is not JSON's (bytes, a tuple), the gate is stricter than pydantic's lax mode was."""
    for field, value in (("version", b"0"), ("resources", ("arn",))):
        event = load_fixture("task-state-change-completed.json")
        event[field] = value
        assert _outcome(reference.parse_task_event, event, _CLOCKS[0]) != "refused"
        with pytest.raises(InvalidEvent, match=field):
            parse_task_event(event, _CLOCKS[0])
