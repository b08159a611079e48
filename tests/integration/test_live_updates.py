"""Live updates against moto server: the connections table, subscriptions, snapshots, the fan-out of
real task-table stream records, and the cleanup of gone (410) connections.

The functions' @connections client talks to the local runner's management endpoint over HTTP (SigV4
checked), which sends to real WebSocket connections: every message a test asserts on was received
by a websockets client.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from local.runner.deployed import CallerIdentity, Credentials
from local.runner.sigv4 import SigV4Verifier
from local.runner.websocket import WebSocketApi, WebSocketApiSpec
from tests.integration.conftest import Recorder
from tests.support.app import SynthesizedApp
from tests.support.events import state_change, task_arn
from tests.support.lambda_context import FakeLambdaContext
from tests.support.streams import FilteredStream
from tracker import constants
from tracker.data.connections import Connection, ConnectionsTable
from tracker.data.connections_api import ConnectionsApi
from tracker.data.task_table import TaskTable
from tracker.live.fan_out import Pusher
from tracker.logic import live
from tracker.logic.merge import fold
from tracker.models.event import parse_task_event

pytestmark = pytest.mark.integration
ALICE = "arn:aws:sts::123456789012:assumed-role/Researcher/alice"
BOB = "arn:aws:iam::123456789012:user/bob-live"  # no other module submits as bob-live: the task table is the session's


@pytest.fixture(scope="module")
def api() -> Iterator[WebSocketApi]:
    """A WebSocket API with a `live` stage and no routes: connections open without running a function,
    so the tests drive the handler themselves; its @connections endpoint is the real one."""
    spec = WebSocketApiSpec("Api", "$request.body.action", {"live": {}}, {})
    server = WebSocketApi(
        spec,
        api_id="testapi",
        functions={},
        verifier=SigV4Verifier(Credentials("testing", "testing"), "us-east-1"),
        identity=CallerIdentity("123456789012", ALICE, "AROA:alice"),
        account="123456789012",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def modules(recorder_module: ModuleType, table_names: dict[str, str], api: WebSocketApi) -> Iterator[tuple[Any, Any]]:
    os.environ["CONNECTIONS_TABLE_NAME"] = table_names["connectionId"]
    os.environ["CONNECTIONS_ENDPOINT"] = api.callback_url("live")
    # A cold start: another module (test_job_updates) may have imported the pusher with its own endpoint.
    for name in ("tracker.live.connections_handler", "tracker.live.pusher_handler"):
        sys.modules.pop(name, None)
    # The recorder pushes the ends it records, as the stack sets it up (its module was imported before).
    recorder = recorder_module.recorder
    recorder.live = Pusher(
        ConnectionsTable(table_names["connectionId"], boto3.client("dynamodb")),
        ConnectionsApi(api.callback_url("live")),
    )
    yield (
        importlib.import_module("tracker.live.connections_handler"),
        importlib.import_module("tracker.live.pusher_handler"),
    )
    recorder.live = None


class Client:
    """A WebSocket client, its connection id, and the route events API Gateway would send for it."""

    def __init__(self, api: WebSocketApi, handler: ModuleType, principal: str = ALICE) -> None:
        before = set(api.open_connections())
        # Unbounded queue: a test reads only after the handler returns (a full queue stops answering pings).
        self.socket: ClientConnection = connect(api.url("live"), open_timeout=10, max_queue=None).__enter__()
        (self.connection_id,) = _wait(lambda: set(api.open_connections()) - before)
        self.handler = handler
        self.connected_at = int(time.time() * 1000)
        assert self.route("$connect", identity={"userArn": principal, "sourceIp": "127.0.0.1"}) == {"statusCode": 200}

    def route(self, key: str, body: Any = None, identity: dict[str, Any] | None = None) -> Any:
        context = {
            "routeKey": key,
            "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(key, "MESSAGE"),
            "connectionId": self.connection_id,
            "connectedAt": self.connected_at,
            "requestId": uuid.uuid4().hex,
            "identity": identity or {"sourceIp": "127.0.0.1"},
            "stage": "live",
            "apiId": "testapi",
        }
        event = {"requestContext": context, "isBase64Encoded": False}
        if body is not None:
            event["body"] = body if isinstance(body, str) else json.dumps(body)
        return self.handler.lambda_handler(event, FakeLambdaContext())

    def send(self, message: dict[str, Any]) -> None:
        """As API Gateway would route `message`: by its action, else to $default."""
        action = message.get("action")
        self.route(action if action in ("subscribe", "unsubscribe") else "$default", message)

    def until(self, request_id: str) -> list[dict[str, Any]]:
        """Every message received up to the answer to `request_id` (a marker: messages arrive in order)."""
        received = []
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            received.append(message)
            if message.get("type") in ("subscribed", "unsubscribed", "error") and message.get("id") == request_id:
                return received

    def mark(self) -> list[dict[str, Any]]:
        """The messages pushed since the last mark: an answer to a no-op request closes the list."""
        marker = uuid.uuid4().hex
        self.send({"action": "unsubscribe", "tasks": [task_arn()], "id": marker})
        return self.until(marker)[:-1]

    def close(self) -> None:
        self.socket.close()


def _wait(found: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("not reached")


def lifecycle(arn: str) -> list[str]:
    return [
        json.dumps(state_change(arn, "CREATED", "2026-11-20T08:00:01Z")),
        json.dumps(state_change(arn, "QUEUED", "2026-11-20T08:00:02Z")),
        json.dumps(state_change(arn, "RUNNING", "2026-11-20T08:00:05Z")),
        json.dumps(state_change(arn, "COMPLETED", "2026-11-20T08:00:09Z", ended_at="2026-11-20T08:00:08.750Z")),
    ]


@pytest.fixture(scope="module")
def stream(table_names: dict[str, str], synthesized: SynthesizedApp, recorder_module: ModuleType) -> FilteredStream:
    return FilteredStream(table_names["taskArn"], synthesized, "Pusher")


def push(pusher: ModuleType, records: list[dict[str, Any]]) -> dict[str, Any]:
    return pusher.lambda_handler({"Records": records}, FakeLambdaContext())  # type: ignore[no-any-return]


def items_of(modules: tuple[Any, Any], connection_id: str) -> list[dict[str, Any]]:
    """The connection's items in the connections table."""
    return boto3.client("dynamodb").query(  # type: ignore[no-any-return]
        TableName=modules[0].config.connections_table,
        KeyConditionExpression="connectionId = :c",
        ExpressionAttributeValues={":c": {"S": connection_id}},
        ConsistentRead=True,
    )["Items"]


def statuses(messages: list[dict[str, Any]]) -> list[str]:
    return [m["document"]["status"] for m in messages if m["type"] == "task"]


def test_every_subscriber_of_a_task_gets_each_status_change_once(
    api: WebSocketApi, modules: tuple[Any, Any], recorder: Recorder, stream: FilteredStream
) -> None:
    handler, pusher = modules
    arn = task_arn()
    clients = [Client(api, handler) for _ in range(30)]
    for client in clients:
        client.send({"action": "subscribe", "tasks": [arn], "id": "s"})
        (answer,) = client.until("s")
        assert answer["unknownTasks"] == [arn] and answer["snapshot"] == {"tasks": 0}  # not recorded yet

    recorder.deliver(lifecycle(arn))
    ends = [client.mark() for client in clients]  # before the stream is read: the recorder pushed the end
    records = stream.records({arn})
    assert push(pusher, records) == {"batchItemFailures": []}

    for client, end in zip(clients, ends, strict=True):
        received = client.mark()
        assert statuses(end) == ["COMPLETED"]
        assert statuses(received) == ["CREATED", "QUEUED", "RUNNING"]  # the stream pusher leaves the end alone
        assert all(m["snapshot"] is False and m["document"]["taskArn"] == arn for m in end + received)
        client.close()


def test_the_recorder_pushes_the_end_once_and_again_only_for_a_redelivered_message(
    api: WebSocketApi, modules: tuple[Any, Any], recorder: Recorder, stream: FilteredStream
) -> None:
    handler, pusher = modules
    arn = task_arn()
    client = Client(api, handler)
    client.send({"action": "subscribe", "tasks": [arn], "id": "s"})
    client.until("s")
    events = lifecycle(arn)
    recorder.deliver(events)

    recorder.deliver(events[-1:])  # Braket or SQS delivered the end twice: nothing new
    quiet = client.mark()
    recorder.deliver(events[-1:], receive_count=2)  # a redelivery: its first attempt may not have pushed

    assert statuses(quiet) == ["COMPLETED"]
    again = client.mark()
    assert [live.update_id(m["document"]) for m in again] == [f"{arn}#COMPLETED"]  # the same id: deduped
    assert push(pusher, stream.records({arn})) == {"batchItemFailures": []}
    assert statuses(client.mark()) == ["CREATED", "QUEUED", "RUNNING"]
    client.close()


def test_an_end_observed_by_the_reconciler_is_pushed_from_the_stream(
    api: WebSocketApi, modules: tuple[Any, Any], recorder: Recorder, stream: FilteredStream
) -> None:
    handler, pusher = modules
    recorder_module = recorder.module
    arn = task_arn()
    client = Client(api, handler)
    client.send({"action": "subscribe", "tasks": [arn], "id": "s"})
    client.until("s")
    events = [parse_task_event(json.loads(body)) for body in lifecycle(arn)]
    observed = replace(events[-1], event_id=f"{constants.OBSERVED_EVENT_PREFIX}COMPLETED")
    table = recorder_module.recorder.table
    for event in events[:-1]:
        recorder_module.recorder.record_over(table.get(arn), event)
    tail = stream.tail()

    recorder_module.recorder.record_over(table.get(arn), observed)  # as the reconciler records what it read

    assert client.mark() == []  # record_over does not push: the reconciler has no live channel
    assert push(pusher, tail.records({arn})) == {"batchItemFailures": []}
    assert statuses(client.mark()) == ["COMPLETED"]
    client.close()


def test_a_redelivered_stream_batch_repeats_identical_documents_that_dedupe_to_one_per_status(
    api: WebSocketApi, modules: tuple[Any, Any], recorder: Recorder, stream: FilteredStream
) -> None:
    handler, pusher = modules
    arn = task_arn()
    client = Client(api, handler)
    client.send({"action": "subscribe", "tasks": [arn], "id": "s"})
    client.until("s")
    recorder.deliver(lifecycle(arn))
    records = stream.records({arn})

    push(pusher, records)
    push(pusher, records)  # the stream retries a batch (at least once)

    received = client.mark()
    assert len(received) == 1 + 2 * 3  # the end from the recorder, the statuses before it twice
    assert {live.update_id(m["document"]) for m in received} == {
        f"{arn}#{s}" for s in ("CREATED", "QUEUED", "RUNNING", "COMPLETED")
    }
    client.close()


def test_subscribing_after_the_end_sends_the_final_state_at_once(
    api: WebSocketApi, modules: tuple[Any, Any], recorder: Recorder
) -> None:
    handler, _ = modules
    arn = task_arn()
    recorder.deliver(lifecycle(arn))
    client = Client(api, handler)

    client.send({"action": "subscribe", "tasks": [arn], "id": "late"})

    answer, snapshot = client.until("late")[-1], json.loads(client.socket.recv(timeout=30))
    assert answer["snapshot"] == {"tasks": 1} and answer["unknownTasks"] == []
    assert snapshot["type"] == "task" and snapshot["snapshot"] is True
    assert snapshot["document"]["status"] == "COMPLETED"
    assert snapshot["document"]["notificationId"] == f"{arn}#COMPLETED"
    client.close()


def test_one_subscriber_to_many_tasks_gets_every_snapshot_and_every_change(
    api: WebSocketApi, modules: tuple[Any, Any], recorder: Recorder, stream: FilteredStream
) -> None:
    handler, pusher = modules
    ended = [task_arn() for _ in range(40)]
    for arn in ended:
        recorder.deliver(lifecycle(arn))
    later = [task_arn() for _ in range(210)]
    client = Client(api, handler)

    every = ended + later
    messages = []
    for start in range(0, len(every), live.MAX_TASKS_PER_REQUEST):
        client.send({"action": "subscribe", "tasks": every[start : start + 100], "id": f"batch{start}"})
        messages += client.until(f"batch{start}")
        messages += [json.loads(client.socket.recv(timeout=30)) for _ in range(max(0, min(len(ended) - start, 100)))]
    assert [m["id"] for m in messages if m["type"] == "subscribed"] == ["batch0", "batch100", "batch200"]
    snapshots = [m["document"] for m in messages if m["type"] == "task"]
    assert sorted(d["taskArn"] for d in snapshots) == sorted(ended)
    assert {d["status"] for d in snapshots} == {"COMPLETED"}

    recorder.deliver([body for arn in later for body in lifecycle(arn)[:1]])  # each new task is CREATED
    records = stream.records(set(later))
    for start in range(0, len(records), 10):  # the mapping's batch size
        assert push(pusher, records[start : start + 10]) == {"batchItemFailures": []}
    pushed = client.mark()
    assert sorted(m["document"]["taskArn"] for m in pushed) == sorted(later)
    assert len(items_of(modules, client.connection_id)) == 1 + 250
    client.close()


def test_a_connection_holds_at_most_the_subscription_limit(
    api: WebSocketApi, modules: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, _ = modules
    monkeypatch.setattr(live, "MAX_SUBSCRIPTIONS", 150)
    client = Client(api, handler)
    client.send({"action": "subscribe", "tasks": [task_arn() for _ in range(100)], "id": "a"})
    assert client.until("a")[-1]["type"] == "subscribed"

    client.send({"action": "subscribe", "tasks": [task_arn() for _ in range(51)], "id": "b"})

    refused = client.until("b")[-1]
    assert refused["type"] == "error" and refused["code"] == "TooManySubscriptions"
    assert "100 held" in refused["message"]
    assert len(items_of(modules, client.connection_id)) == 1 + 100  # nothing of the refused one
    client.close()


def test_mine_means_the_tasks_whose_submitter_is_the_connected_principal(
    api: WebSocketApi, modules: tuple[Any, Any], recorder_module: ModuleType, stream: FilteredStream
) -> None:
    handler, pusher = modules
    table = TaskTable(handler.config.task_table, boto3.client("dynamodb"))

    def submitted(by: str, *bodies: str) -> str:
        record = fold([parse_task_event(json.loads(body)) for body in bodies])
        assert record is not None
        table.insert_first(replace(record, submitter=by))
        return record.task.arn

    earlier = lifecycle(task_arn())
    alices_earlier = submitted(ALICE, *earlier)
    alice, bob = Client(api, handler, ALICE), Client(api, handler, BOB)
    alice.send({"action": "subscribe", "mine": True, "id": "mine"})
    answer, snapshot = alice.until("mine")[-1], json.loads(alice.socket.recv(timeout=30))
    assert answer["snapshot"] == {"tasks": 0, "mine": 1, "mineTruncated": False}
    assert (snapshot["document"]["taskArn"], snapshot["snapshot"]) == (alices_earlier, True)
    bob.send({"action": "subscribe", "mine": True, "id": "mine"})
    bob.until("mine")
    bob_snapshots = statuses(bob.mark())

    new = task_arn()
    alice.send({"action": "subscribe", "tasks": [new], "id": "both"})  # subscribed twice: one push all the same
    alice.until("both")
    alice.mark()
    arn = submitted(ALICE, lifecycle(new)[0])
    push(pusher, stream.records({arn}))

    assert [(m["document"]["taskArn"], m["document"]["submitter"]) for m in alice.mark()] == [(arn, ALICE)]
    assert bob.mark() == []
    assert bob_snapshots == []
    alice.close()
    bob.close()


def test_a_gone_connection_is_forgotten_and_the_others_still_get_the_push(
    api: WebSocketApi, modules: tuple[Any, Any], recorder: Recorder, stream: FilteredStream
) -> None:
    handler, pusher = modules
    arn = task_arn()
    staying, leaving = Client(api, handler), Client(api, handler)
    for client in (staying, leaving):
        client.send({"action": "subscribe", "tasks": [arn, task_arn()], "id": "s"})
        client.until("s")
    leaving.close()  # without its $disconnect: as when API Gateway loses a connection
    _wait(lambda: leaving.connection_id not in api.open_connections())
    assert len(items_of(modules, leaving.connection_id)) == 3

    recorder.deliver(lifecycle(arn)[:1])
    assert push(pusher, stream.records({arn})) == {"batchItemFailures": []}

    assert items_of(modules, leaving.connection_id) == []
    assert statuses(staying.mark()) == ["CREATED"]
    staying.close()


def test_disconnect_deletes_the_connection_and_its_subscriptions(api: WebSocketApi, modules: tuple[Any, Any]) -> None:
    handler, _ = modules
    client = Client(api, handler)
    client.send({"action": "subscribe", "tasks": [task_arn(), task_arn()], "mine": True, "id": "s"})
    client.until("s")
    assert len(items_of(modules, client.connection_id)) == 4

    assert client.route("$disconnect") == {"statusCode": 200}

    assert items_of(modules, client.connection_id) == []
    client.close()


def test_bad_messages_are_answered_with_errors_and_change_nothing(api: WebSocketApi, modules: tuple[Any, Any]) -> None:
    handler, _ = modules
    client = Client(api, handler)

    client.send({"action": "subscribe", "tasks": ["arn:aws:s3:::nope"], "id": "bad"})
    client.route("$default", "hello")

    bad = client.until("bad")[-1]
    unknown = json.loads(client.socket.recv(timeout=30))
    assert (bad["code"], unknown["code"]) == ("BadRequest", "UnknownAction")
    assert len(items_of(modules, client.connection_id)) == 1  # the connection alone
    client.close()


def test_a_connect_without_a_principal_is_refused(api: WebSocketApi, modules: tuple[Any, Any]) -> None:
    handler, _ = modules
    client = Client(api, handler)

    assert client.route("$connect", identity={"sourceIp": "127.0.0.1"}) == {"statusCode": 403}
    client.close()


def test_a_connection_that_is_not_registered_is_told_to_reconnect(api: WebSocketApi, modules: tuple[Any, Any]) -> None:
    handler, _ = modules
    client = Client(api, handler)
    client.route("$disconnect")  # its items are gone, the socket is still open (as after a TTL expiry)

    client.send({"action": "subscribe", "tasks": [task_arn()], "id": "s"})

    refused = client.until("s")[-1]
    assert (refused["type"], refused["code"]) == ("error", "NotConnected")
    assert items_of(modules, client.connection_id) == []
    client.close()


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["subscribe", "unsubscribe", "forget"]),
        st.sampled_from(["c1=", "c2=", "c3="]),
        st.sets(st.sampled_from(["task#a", "task#b", "submitter#p"]), max_size=3),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_the_index_lists_exactly_the_subscribed_connections(
    modules: tuple[Any, Any], operations: list[tuple[str, str, set[str]]]
) -> None:
    table = ConnectionsTable(modules[0].config.connections_table, boto3.client("dynamodb"))
    run = uuid.uuid4().hex[:8]  # fresh connection ids and targets per example
    model: dict[str, set[str]] = {}
    for operation, name, targets in operations:
        connection_id, scoped = f"{run}{name}", {f"{t}{run}" for t in targets}
        if operation == "subscribe":
            table.connect(Connection(connection_id, ALICE, "2026-11-20T08:00:00.000Z", 0))
            table.subscribe(Connection(connection_id, ALICE, "2026-11-20T08:00:00.000Z", 0), scoped)
            model.setdefault(connection_id, set()).update(scoped)
        elif operation == "unsubscribe":
            table.unsubscribe(connection_id, scoped)
            model.get(connection_id, set()).difference_update(scoped)
        else:
            table.forget(connection_id)
            model.pop(connection_id, None)
    for target in ("task#a", "task#b", "submitter#p"):
        scoped = f"{target}{run}"
        assert sorted(table.subscribers(scoped)) == sorted(c for c, held in model.items() if scoped in held)


def test_an_item_that_is_not_a_task_record_is_skipped_not_retried(
    api: WebSocketApi, modules: tuple[Any, Any], stream: FilteredStream
) -> None:
    handler, pusher = modules
    arn = task_arn()
    client = Client(api, handler)
    client.send({"action": "subscribe", "tasks": [arn], "id": "s"})
    client.until("s")
    boto3.client("dynamodb").put_item(
        TableName=handler.config.task_table, Item={"taskArn": {"S": arn}, "status": {"S": "CREATED"}}
    )

    assert push(pusher, stream.records({arn})) == {"batchItemFailures": []}

    assert client.mark() == []
    client.close()


def test_a_changed_final_status_is_pushed_and_snapshotted_as_a_correction(
    api: WebSocketApi, modules: tuple[Any, Any], recorder: Recorder, stream: FilteredStream
) -> None:
    """Issue 14: subscribers were told COMPLETED, and never that the task became FAILED."""
    handler, pusher = modules
    arn = task_arn()
    client = Client(api, handler)
    client.send({"action": "subscribe", "tasks": [arn], "id": "s"})
    client.until("s")
    recorder.deliver(lifecycle(arn))
    tail = stream.tail()
    push(pusher, stream.records({arn}))
    recorder.deliver([json.dumps(state_change(arn, "FAILED", "2026-11-20T08:00:07Z"))])  # an earlier end

    push(pusher, tail.records({arn}))

    pushed = client.mark()
    # The recorder pushed each end as it wrote it; the stream pusher, the statuses before.
    assert statuses(pushed) == ["COMPLETED", "CREATED", "QUEUED", "RUNNING", "FAILED"]
    correction = pushed[-1]["document"]
    assert (correction["correction"], correction["previousStatus"]) == (True, "COMPLETED")
    assert [m["document"]["correction"] for m in pushed[:-1]] == [False] * 4
    late = Client(api, handler)  # subscribes after the correction: its snapshot says so too
    late.send({"action": "subscribe", "tasks": [arn], "id": "late"})
    late.until("late")
    snapshot = json.loads(late.socket.recv(timeout=30))["document"]
    assert (snapshot["status"], snapshot["correction"], snapshot["previousStatus"]) == ("FAILED", True, "COMPLETED")
    client.close()
    late.close()
