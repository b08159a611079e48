"""Live updates, pure: the client messages the protocol accepts, the server's messages, which stream
records are pushed, and the local runner's route selection."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local.runner.websocket import RouteSpec, select_route
from tests.support.events import state_change, task_arn
from tracker.config import ConfigError, LiveConfig
from tracker.data.connections_api import PostFailed
from tracker.domain import Enrichment, Status, TaskRecord
from tracker.live.fan_out import OutOfTime, Pusher
from tracker.logic import live
from tracker.logic.ends import EndChange, end_change
from tracker.logic.merge import fold, merge
from tracker.logic.notification import DOCUMENT_TYPE, STATUS_DOCUMENT_TYPE, document
from tracker.models.event import parse_task_event
from tracker.models.item import to_item
from tracker.models.websocket import InvalidWebSocketEvent, parse_websocket_event

ARN = task_arn("5f1e8a52-3c0d-4d8e-9a34-0b7c2a9e6f10")
OTHER = task_arn("0c2d6e71-9b4a-4f3e-8d21-7a5b3c9e1f22")
PRINCIPAL = "arn:aws:sts::123456789012:assumed-role/Researcher/alice"


def record(*statuses: str) -> TaskRecord:
    events = [state_change(ARN, status, f"2026-11-20T08:00:0{i}Z") for i, status in enumerate(statuses, start=1)]
    folded = fold([parse_task_event(e) for e in events], Enrichment(complete=True) if "COMPLETED" in statuses else None)
    assert folded is not None
    return folded


# -- client messages ---------------------------------------------------------------------------------


def test_subscribe_to_tasks_and_to_mine_with_an_id() -> None:
    request = live.parse_request(
        json.dumps({"action": "subscribe", "tasks": [ARN, OTHER, ARN], "mine": True, "id": "c1"})
    )

    assert request == live.Request("subscribe", (ARN, OTHER), True, "c1")  # duplicates dropped, order kept
    assert request.targets(PRINCIPAL) == [f"task#{ARN}", f"task#{OTHER}", f"submitter#{PRINCIPAL}"]


def test_unsubscribe_from_mine_alone() -> None:
    request = live.parse_request('{"action": "unsubscribe", "mine": true}')

    assert request.targets(PRINCIPAL) == [f"submitter#{PRINCIPAL}"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ("not json", "BadRequest", "not JSON"),
        ("[1, 2]", "BadRequest", "JSON object"),
        ('{"action": "watch"}', "UnknownAction", "unknown action 'watch'"),
        ('{"action": "subscribe"}', "BadRequest", "needs tasks, mine, or both"),
        ('{"action": "subscribe", "tasks": []}', "BadRequest", "needs tasks, mine, or both"),
        ('{"action": "subscribe", "tasks": "arn"}', "BadRequest", "list of quantum task ARNs"),
        ('{"action": "subscribe", "tasks": ["arn:aws:s3:::bucket"]}', "BadRequest", "not a Braket quantum task ARN"),
        ('{"action": "subscribe", "mine": "yes"}', "BadRequest", "mine must be true or false"),
        ('{"action": "subscribe", "mine": true, "since": 1}', "BadRequest", "unknown field(s): since"),
        ('{"action": "subscribe", "mine": true, "id": 7}', "BadRequest", "id must be a string"),
    ],
)
def test_a_bad_message_is_refused_with_what_is_wrong(body: str, code: str, message: str) -> None:
    with pytest.raises(live.BadRequest) as refused:
        live.parse_request(body)

    assert refused.value.code == code
    assert message in refused.value.message


def test_at_most_a_hundred_tasks_per_message_and_the_error_echoes_the_id() -> None:
    arns = [task_arn(f"00000000-0000-4000-8000-{i:012d}") for i in range(live.MAX_TASKS_PER_REQUEST + 1)]

    live.parse_request(json.dumps({"action": "subscribe", "tasks": arns[:-1]}))
    with pytest.raises(live.BadRequest) as refused:
        live.parse_request(json.dumps({"action": "subscribe", "tasks": arns, "id": "big"}))

    assert refused.value.request_id == "big"
    assert "at most 100 tasks" in refused.value.message


@given(st.text(max_size=200))
def test_any_text_is_either_a_valid_request_or_a_bad_request(body: str) -> None:
    try:
        request = live.parse_request(body)
    except live.BadRequest as refused:
        assert refused.message
    else:
        assert request.action in live.ACTIONS and (request.tasks or request.mine)


# -- server messages ---------------------------------------------------------------------------------


def test_a_push_carries_the_notification_document_and_its_identity() -> None:
    finished = record("CREATED", "RUNNING", "COMPLETED")

    message = json.loads(live.push(finished, snapshot=False))

    assert message == {"type": "task", "snapshot": False, "document": json.loads(json.dumps(document(finished)))}
    assert message["document"]["type"] == DOCUMENT_TYPE
    assert live.update_id(message["document"]) == f"{ARN}#COMPLETED"
    assert live.is_final(message["document"])


def test_an_unfinished_status_is_the_same_document_typed_as_a_status() -> None:
    running = json.loads(live.push(record("CREATED", "RUNNING"), snapshot=True))

    assert running["snapshot"] is True
    assert running["document"]["type"] == STATUS_DOCUMENT_TYPE
    assert running["document"]["status"] == "RUNNING"
    assert running["document"]["endedAt"] is None
    assert live.update_id(running["document"]) == f"{ARN}#RUNNING"
    assert not live.is_final(running["document"])


def test_answers_name_the_request() -> None:
    request = live.Request("subscribe", (ARN, OTHER), True, "c1")

    assert json.loads(live.subscribed(request, [OTHER], 1, 3, True)) == {
        "type": "subscribed",
        "id": "c1",
        "tasks": [ARN, OTHER],
        "mine": True,
        "unknownTasks": [OTHER],
        "snapshot": {"tasks": 1, "mine": 3, "mineTruncated": True},
    }
    assert json.loads(live.unsubscribed(request))["type"] == "unsubscribed"
    assert json.loads(live.unknown_route('{"id": "z", "hello": 1}')) == {
        "type": "error",
        "id": "z",
        "code": "UnknownAction",
        "message": "send JSON with an action: subscribe or unsubscribe",
    }
    assert json.loads(live.unknown_route("\x00binary"))["id"] is None


# -- which stream records are pushed ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_name", "old", "new", "pushed"),
    [
        ("INSERT", None, {"status": "CREATED"}, True),
        ("MODIFY", {"status": "QUEUED"}, {"status": "RUNNING"}, True),
        ("MODIFY", {"status": "RUNNING"}, {"status": "COMPLETED"}, True),
        ("MODIFY", {"status": "COMPLETED"}, {"status": "COMPLETED", "notifiedAt": "x"}, False),  # the notifier's mark
        ("MODIFY", {"status": "RUNNING"}, {"status": "RUNNING", "eventCount": 3}, False),  # a late event merged
        ("REMOVE", {"status": "RUNNING"}, None, False),
    ],
)
def test_only_a_new_item_or_a_new_status_is_pushed(
    event_name: str, old: dict[str, Any] | None, new: dict[str, Any] | None, pushed: bool
) -> None:
    assert live.status_changed(event_name, old, new) is pushed


# -- events and configuration -----------------------------------------------------------------------


def test_connect_event_gives_the_principal_and_a_message_event_the_body() -> None:
    context = {"routeKey": "$connect", "connectionId": "abc=", "connectedAt": 1764000000000, "requestId": "r"}
    connect = parse_websocket_event({"requestContext": {**context, "identity": {"userArn": PRINCIPAL}}})
    message = parse_websocket_event(
        {"requestContext": {**context, "routeKey": "subscribe", "identity": {"sourceIp": "1.2.3.4"}}, "body": "{}"}
    )

    assert (connect.principal, connect.connected_at_ms) == (PRINCIPAL, 1764000000000)
    assert (message.principal, message.body, message.route_key) == (None, "{}", "subscribe")
    with pytest.raises(InvalidWebSocketEvent):
        parse_websocket_event({"requestContext": {"routeKey": "$connect"}})


def test_live_config_needs_the_tables_and_a_stage_url() -> None:
    env = {"TASK_TABLE_NAME": "t", "CONNECTIONS_TABLE_NAME": "c", "CONNECTIONS_ENDPOINT": "https://a.b/live/"}
    assert LiveConfig.from_env(env).connections_endpoint == "https://a.b/live"
    with pytest.raises(ConfigError, match="CONNECTIONS_ENDPOINT"):
        LiveConfig.from_env({**env, "CONNECTIONS_ENDPOINT": "wss://a.b/live"})
    with pytest.raises(ConfigError, match="missing"):
        LiveConfig.from_env({"TASK_TABLE_NAME": "t"})


# -- the local runner's route selection -------------------------------------------------------------

ROUTES = {key: RouteSpec(key, "NONE", "AWS_PROXY", "Fn") for key in ("$connect", "subscribe", "$default")}


@pytest.mark.parametrize(
    ("body", "route"),
    [
        ('{"action": "subscribe"}', "subscribe"),
        ('{"action": "unsubscribe"}', "$default"),  # no such route
        ('{"action": "$connect"}', "$default"),  # special routes cannot be selected by a message
        ('{"action": 3}', "$default"),
        ("not json", "$default"),
        (None, "$default"),  # a binary frame
    ],
)
def test_route_selection_reads_the_action_else_default(body: str | None, route: str) -> None:
    assert select_route("$request.body.action", body, ROUTES) == route


def test_without_a_default_route_an_unmatched_message_has_no_route() -> None:
    assert select_route("$request.body.action", "{}", {"subscribe": ROUTES["subscribe"]}) is None


# -- the pusher's fan-out, with in-memory doubles of its two data-access classes ---------------------


class FakeConnections:
    def __init__(self, subscribers: dict[str, list[str]]) -> None:
        self.by_target = subscribers
        self.forgotten: list[str] = []

    def subscribers(self, target: str) -> list[str]:
        return self.by_target.get(target, [])

    def forget(self, connection_id: str) -> int:
        self.forgotten.append(connection_id)
        return 1


class FakeApi:
    def __init__(self, gone: set[str] = frozenset(), failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.gone, self.failing = gone, failing
        self.sent: list[str] = []

    def post(self, connection_id: str, data: str) -> bool:
        if connection_id in self.failing:
            raise PostFailed(f"{connection_id}: throttled")
        if connection_id in self.gone:
            return False
        self.sent.append(connection_id)
        return True


def pusher_for(subscribers: dict[str, list[str]], api: FakeApi) -> tuple[Pusher, FakeConnections]:
    connections = FakeConnections(subscribers)
    return Pusher(connections, api, workers=4, chunk=3), connections  # type: ignore[arg-type]


def test_fan_out_reaches_each_connection_once_and_forgets_the_gone_ones() -> None:
    task = replace(record("CREATED"), submitter=PRINCIPAL)
    many = [f"c{i}=" for i in range(10)]
    api = FakeApi(gone={"c3=", "c7="})
    pusher, connections = pusher_for({f"task#{ARN}": many, f"submitter#{PRINCIPAL}": ["c0=", "mine="]}, api)

    result = pusher.push(task, lambda: 60_000)

    assert sorted(api.sent) == sorted({*many, "mine="} - {"c3=", "c7="})
    assert (result.sent, sorted(result.gone), connections.forgotten) == (9, ["c3=", "c7="], ["c3=", "c7="])


def test_a_failed_post_fails_the_record_after_the_others_are_served() -> None:
    api = FakeApi(failing={"c1="})
    pusher, _ = pusher_for({f"task#{ARN}": ["c0=", "c1=", "c2="]}, api)

    with pytest.raises(PostFailed, match="1 of 3 push"):
        pusher.push(record("CREATED"), lambda: 60_000)
    assert sorted(api.sent) == ["c0=", "c2="]


def test_too_little_time_left_fails_the_record_before_posting() -> None:
    api = FakeApi()
    pusher, _ = pusher_for({f"task#{ARN}": ["c0="]}, api)

    with pytest.raises(OutOfTime):
        pusher.push(record("CREATED"), lambda: 4_000)
    assert api.sent == []


def test_running_out_of_time_mid_fan_out_still_forgets_the_gone_connections() -> None:
    api = FakeApi(gone={"c1="})
    pusher, connections = pusher_for({f"task#{ARN}": [f"c{i}=" for i in range(6)]}, api)
    clock = iter([60_000, 1_000])  # enough for the first chunk of 3, not for the second

    with pytest.raises(OutOfTime):
        pusher.push(record("CREATED"), lambda: next(clock))

    assert (sorted(api.sent), connections.forgotten) == (["c0=", "c2="], ["c1="])


# -- corrections (issue 14): a change of final status is pushed, and snapshotted, as a correction -----


def test_a_change_of_final_status_is_pushed_as_a_correction_naming_the_previous_one() -> None:
    events = [
        state_change(ARN, "COMPLETED", "2026-11-20T08:00:09Z"),
        state_change(ARN, "FAILED", "2026-11-20T08:00:07Z"),
    ]
    completed = fold([parse_task_event(events[0])])
    failed = fold([parse_task_event(e) for e in events])
    assert completed is not None and failed is not None

    change = end_change("MODIFY", to_item(completed), to_item(failed))
    assert change == EndChange(ARN, "FAILED", "COMPLETED")
    pushed = json.loads(live.push(failed, snapshot=False, corrects=Status(change.previous or "")))["document"]

    assert (pushed["status"], pushed["correction"], pushed["previousStatus"]) == ("FAILED", True, "COMPLETED")
    assert live.is_correction(pushed)
    snapshot = json.loads(live.push(failed, snapshot=True, corrects=failed.superseded))["document"]
    assert (snapshot["correction"], snapshot["previousStatus"]) == (True, "COMPLETED")
    # The id names the final state (a status once another was reported: with its time), so a push
    # and a snapshot of it agree, and a later return to COMPLETED would not share the first end's id.
    assert live.update_id(snapshot) == live.update_id(pushed) == f"{ARN}#FAILED#2026-11-20T08:00:07.000Z"


@pytest.mark.parametrize(
    ("event_name", "old", "new", "expected"),
    [
        ("INSERT", None, "COMPLETED", ("COMPLETED", None)),
        ("MODIFY", "RUNNING", "FAILED", ("FAILED", None)),
        ("MODIFY", "COMPLETED", "FAILED", ("FAILED", "COMPLETED")),
        ("MODIFY", "COMPLETED", "COMPLETED", None),  # a duplicate, a mark, details filled in
        ("MODIFY", "QUEUED", "RUNNING", None),
        ("INSERT", None, "CREATED", None),
        ("REMOVE", "COMPLETED", None, None),
    ],
)
def test_stream_records_as_ends_for_counting(
    event_name: str, old: str | None, new: str | None, expected: tuple[str, str | None] | None
) -> None:
    images = [None if s is None else {"taskArn": ARN, "status": s} for s in (old, new)]

    change = end_change(event_name, images[0], images[1])

    assert (None if change is None else (change.status, change.previous)) == expected


@given(st.lists(st.sampled_from(["CREATED", "QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]), max_size=12))
def test_a_counter_following_the_stream_always_equals_the_table(statuses: list[str]) -> None:
    """The hook for counting ends: whatever sequence of statuses a task's item goes through (each
    write a stream record, some delivered twice), a counter that keeps the status it counted per
    task and moves it only from there counts the task once, under its current final status."""
    counts: dict[str, int] = {}
    counted: str | None = None
    finished_from = next((i for i, s in enumerate(statuses) if s in live.FINISHED_STATUSES), len(statuses))
    table = statuses[:finished_from] + [s for s in statuses[finished_from:] if s in live.FINISHED_STATUSES]
    writes = [s for i, s in enumerate(table) if i == 0 or s != table[i - 1]]  # a finished task stays finished
    records = [("INSERT" if i == 0 else "MODIFY", writes[i - 1] if i else None, s) for i, s in enumerate(writes)]
    for event_name, old, new in [r for r in records for _ in range(2)]:  # every record delivered twice
        change = end_change(event_name, old and {"status": old}, {"taskArn": ARN, "status": new})
        if change is not None and counted == change.previous:  # the counter's conditional write
            if change.previous:
                counts[change.previous] -= 1
            counts[change.status] = counts.get(change.status, 0) + 1
            counted = change.status

    final = writes[-1] if writes and writes[-1] in live.FINISHED_STATUSES else None
    assert {status: n for status, n in counts.items() if n} == ({final: 1} if final else {})


# -- who pushes a status change: the recorder (ends it writes) or the stream pusher (the rest) --------

WRITES = st.lists(
    st.tuples(
        st.sampled_from(["CREATED", "QUEUED", "RUNNING", "CANCELLING", "COMPLETED", "FAILED", "CANCELLED"]),
        st.integers(min_value=0, max_value=59),  # the event's second: ends may arrive out of order
        st.sampled_from(["captured", "observed", "repeat"]),  # a new EventBridge id, a reconciler id, an id seen
    ),
    min_size=1,
    max_size=10,
)


@given(WRITES)
def test_every_status_change_is_pushed_by_exactly_one_of_the_recorder_and_the_stream_pusher(
    writes: list[tuple[str, int, str]],
) -> None:
    """Whatever arrives (captured or observed ids, ends out of order, an id again with another body),
    each write that changes the task's status is pushed once: by the recorder if `recorder_pushes`,
    else by the stream pusher, which reads the same rule from the stream record (`pushed_by_recorder`)."""
    current: TaskRecord | None = None
    seen: list[str] = []
    for n, (status, second, kind) in enumerate(writes):
        if kind == "observed":
            event_id = f"braket-api:{status}"
        elif kind == "repeat" and seen:
            event_id = seen[n % len(seen)]
        else:
            event_id = f"0f6c8a42-1111-4e8b-9d1e-{n:012d}"
        ended = f"2026-11-20T08:00:{second:02d}.000Z" if status in live.FINISHED_STATUSES else None
        body = state_change(ARN, status, f"2026-11-20T08:00:{second:02d}Z", ended_at=ended)
        event = replace(parse_task_event(body), event_id=event_id)
        after = fold([event]) if current is None else merge(current, event)
        assert after is not None
        if after == current:
            continue  # a duplicate: no write, no stream record
        added = event_id if current is None or event_id not in current.event_ids else None
        old, new = (None if current is None else to_item(current)), to_item(after)
        changed = live.status_changed("INSERT" if old is None else "MODIFY", old, new)

        by_recorder = live.recorder_pushes(None if current is None else current.status, after.status, added)
        by_stream = changed and not live.pushed_by_recorder(old, new)

        assert (by_recorder or by_stream) is changed
        assert not (by_recorder and by_stream)
        seen.append(event_id)
        current = after
