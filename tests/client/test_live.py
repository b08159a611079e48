"""The live channel against a real WebSocket server on 127.0.0.1 speaking the live-updates
protocol: signed handshake, subscribe and snapshots, dedupe, reconnect, fallback; and the
keeping rule (dedupe by notificationId, highest rank, final end) as a property."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from braket_tracker import LiveUpdatesUnavailableWarning, TaskResult, TrackedTask, TrackerClient
from braket_tracker.errors import LiveChannelUnavailable
from braket_tracker.live import FINISHED, RANK, LiveChannel, TaskStates
from hypothesis import given
from hypothesis import strategies as st

from tests.client.fakes import FakeTaskApi, LiveServer, document, item, session, task_arn


@pytest.fixture
def live() -> Any:
    with LiveServer() as server:
        yield server


def live_client(make_client: Callable[..., TrackerClient], url: str) -> TrackerClient:
    # real time for the WebSocket, a fake one would never let recv time out
    import time

    return make_client(live_url=url, clock=time.monotonic, sleep=lambda seconds: None)


def test_result_waits_for_the_pushed_end_without_reading_the_task(
    live: LiveServer, api: FakeTaskApi, make_client: Callable[..., TrackerClient]
) -> None:
    arn = task_arn()
    api.add(item(arn, "COMPLETED"))
    api.results[arn] = {"taskArn": arn, "status": "COMPLETED", "counts": {"00": 3, "11": 2}}
    live.set_state(document(arn, "QUEUED"))
    client = live_client(make_client, live.url)
    seen: list[tuple[str, str]] = []

    def push_the_rest(count: int) -> None:
        live.push(document(arn, "RUNNING"))
        live.push(document(arn, "COMPLETED"))

    live.on_subscribe = push_the_rest
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning
        result = TrackedTask.from_arn(arn, client).result(on_update=lambda u: seen.append((u.status, u.source)))

    assert isinstance(result, TaskResult)
    assert result.counts == {"00": 3, "11": 2}
    assert seen == [("QUEUED", "snapshot"), ("RUNNING", "push"), ("COMPLETED", "push")]
    assert [request.path.rsplit("/", 1)[-1] for request in api.requests] == ["result"]  # no polling
    (subscribe,) = live.wait_for_subscribes(1)
    assert subscribe["tasks"] == [arn]
    authorization = live.handshakes[0]["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/us-east-1/execute-api/aws4_request" in authorization


def test_repeats_and_stale_statuses_are_dropped(live: LiveServer, make_client: Callable[..., TrackerClient]) -> None:
    arn = task_arn()
    live.set_state(document(arn, "RUNNING"))
    live.snapshot_extra = [  # after the snapshot: the same status again, an older one, then the end twice
        document(arn, "RUNNING"),
        document(arn, "QUEUED"),
        document(arn, "FAILED", failureReason="device offline"),
        document(arn, "FAILED", failureReason="device offline"),
        document(arn, "COMPLETED"),
    ]
    client = live_client(make_client, live.url)

    with client.live_channel() as channel:
        channel.subscribe([arn])
        updates = []
        for update in channel.updates():
            updates.append(update)
            if update.finished:
                break

    assert [(u.status, u.source) for u in updates] == [("RUNNING", "snapshot"), ("FAILED", "push")]
    assert channel.states.latest[arn].document["failureReason"] == "device offline"


def test_a_closed_connection_is_reopened_and_the_snapshot_covers_the_gap(
    live: LiveServer, api: FakeTaskApi, make_client: Callable[..., TrackerClient]
) -> None:
    arn = task_arn()
    api.add(item(arn, "COMPLETED"))
    live.set_state(document(arn, "RUNNING"))
    live.close_after_snapshots = 1  # API Gateway's 2-hour (or idle) limit, just after subscribing
    client = live_client(make_client, live.url)

    def end_while_disconnected(count: int) -> None:
        live.set_state(document(arn, "COMPLETED"))  # recorded while no connection is open

    live.on_subscribe = end_while_disconnected
    ended = client.wait([arn], timeout=30)

    assert ended[arn].status == "COMPLETED"
    assert len(live.handshakes) == 2  # reconnected, with a new signed handshake
    subscribes = live.wait_for_subscribes(2)
    assert [s["tasks"] for s in subscribes] == [[arn], [arn]]
    assert subscribes[0]["id"] != subscribes[1]["id"]


def test_a_quiet_channel_subscribes_again(live: LiveServer, make_client: Callable[..., TrackerClient]) -> None:
    arn = task_arn()  # not recorded yet: the first answer lists it as unknown
    client = live_client(make_client, live.url)

    def record_later(count: int) -> None:
        live.set_state(document(arn, "COMPLETED"))  # a push this subscriber missed

    live.on_subscribe = record_later
    channel = LiveChannel(live.url, "us-east-1", session(), resubscribe_after=0.2)
    with channel:
        ended = channel.wait_for_end([arn], until=None)

    assert ended[arn].source == "snapshot"
    assert len(live.wait_for_subscribes(2)) >= 2
    assert client.endpoints.live_url == live.url


def test_mine_and_many_tasks_are_sent_in_messages_of_100(
    live: LiveServer, make_client: Callable[..., TrackerClient]
) -> None:
    arns = [task_arn() for _ in range(250)]

    with LiveChannel(live.url, "us-east-1", session()) as channel:
        channel.subscribe(arns, mine=True)
        subscribes = live.wait_for_subscribes(3)

    assert [len(s.get("tasks", [])) for s in subscribes] == [100, 100, 50]
    assert [s.get("mine", False) for s in subscribes] == [True, False, False]
    assert [arn for s in subscribes for arn in s["tasks"]] == arns


def test_a_refused_handshake_falls_back_to_the_api_and_says_so_once(
    api: FakeTaskApi, make_client: Callable[..., TrackerClient]
) -> None:
    done = [api.add(item(task_arn(), "COMPLETED"))["taskArn"] for _ in range(2)]
    with LiveServer(refuse=True) as refusing:
        client = live_client(make_client, refusing.url)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = client.wait(done[:1])
            second = client.wait(done[1:])

    assert first[done[0]].status == second[done[1]].status == "COMPLETED"
    (warning,) = caught
    assert warning.category is LiveUpdatesUnavailableWarning
    assert "HTTP 403" in str(warning.message)


def test_nothing_listening_falls_back(api: FakeTaskApi, make_client: Callable[..., TrackerClient]) -> None:
    with socket.socket() as probe:  # a port with nothing behind it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    arn = api.add(item(task_arn(), "CANCELLED"))["taskArn"]
    client = live_client(make_client, f"ws://127.0.0.1:{port}/live")

    with pytest.warns(LiveUpdatesUnavailableWarning, match="cannot open"):
        ended = client.wait([arn])

    assert ended[arn].status == "CANCELLED"
    with pytest.raises(LiveChannelUnavailable):
        client.live_channel().open()


def test_a_refused_subscription_is_an_error_not_a_hang(make_client: Callable[..., TrackerClient]) -> None:
    class Refusing(LiveServer):
        def _handle(self, connection: Any) -> None:
            for _ in connection:
                connection.send('{"type": "error", "code": "TooManySubscriptions", "message": "at most 1,000"}')

    with Refusing() as server, LiveChannel(server.url, "us-east-1", session()) as channel:
        channel.subscribe([task_arn()])
        with pytest.raises(LiveChannelUnavailable, match="TooManySubscriptions: at most 1,000"):
            next(channel.updates())


statuses = st.sampled_from(sorted(RANK))


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), statuses), min_size=1, max_size=30))
def test_each_task_keeps_its_highest_status_and_a_finished_one_is_final(deliveries: list[tuple[str, str]]) -> None:
    states = TaskStates()
    accepted = [u for key, status in deliveries if (u := states.accept(document(f"arn:{key}", status), "push"))]

    ids = [u.document["notificationId"] for u in accepted]
    assert len(ids) == len(set(ids))  # nothing twice
    for key in {key for key, _ in deliveries}:
        mine = [u.status for u in accepted if u.task_arn == f"arn:{key}"]
        assert [RANK[s] for s in mine] == sorted({RANK[s] for s in mine})  # strictly forward
        assert sum(s in FINISHED for s in mine) <= 1  # one end
        first_end = next((s for k, s in deliveries if k == key and s in FINISHED), None)
        if first_end is not None:
            assert states.latest[f"arn:{key}"].status == first_end
        else:
            best = max((s for k, s in deliveries if k == key), key=RANK.__getitem__)
            assert RANK[states.latest[f"arn:{key}"].status] == RANK[best]


def test_a_correction_replaces_a_final_status_and_is_itself_deduplicated() -> None:
    states = TaskStates()
    correction = document("arn:a", "FAILED", correction=True, previousStatus="COMPLETED")

    first = states.accept(document("arn:a", "COMPLETED"), "push")
    other = states.accept(document("arn:b", "COMPLETED"), "push")
    corrected = states.accept(correction, "push")

    assert first is not None and other is not None
    assert corrected is not None and corrected.status == "FAILED"
    assert states.latest["arn:a"].status == "FAILED"
    assert states.accept(correction, "snapshot") is None  # the same notificationId again
    assert states.accept(document("arn:a", "RUNNING"), "push") is None  # still final
    assert states.accept(document("arn:b", "FAILED"), "push") is None  # not a correction: the first end stays


class ScriptedConnection:
    """A connection whose server pushes one document every 30 s of a fake clock."""

    def __init__(self, clock: list[float], arns: list[str]) -> None:
        self.clock = clock
        self.sent: list[tuple[float, dict[str, Any]]] = []
        self.pushes = iter([document(arn, status) for arn in arns for status in ("QUEUED", "RUNNING")])

    def send(self, text: str) -> None:
        self.sent.append((self.clock[0], json.loads(text)))

    def recv(self, timeout: float) -> str:
        if timeout < 30:
            self.clock[0] += timeout
            raise TimeoutError
        self.clock[0] += 30
        return json.dumps({"type": "task", "snapshot": False, "document": next(self.pushes)})

    def close(self) -> None:
        pass


def test_a_busy_channel_still_sends_before_the_idle_limit() -> None:
    clock = [0.0]
    arns = [task_arn() for _ in range(40)]
    connection = ScriptedConnection(clock, arns)
    channel = LiveChannel(
        "wss://x.execute-api.us-east-1.amazonaws.com/live",
        "us-east-1",
        session(),
        connector=lambda url, headers, timeout: connection,
        clock=lambda: clock[0],
    )

    with channel:
        channel.subscribe(arns[:1], mine=True)
        received = [update for _, update in zip(range(60), channel.updates(), strict=False)]

    times = [at for at, _ in connection.sent]
    assert len(received) == 60  # pushes every 30 s: never 60 s of silence
    assert times[0] == 0
    assert clock[0] >= 1_800  # half an hour of traffic
    assert max(b - a for a, b in itertools.pairwise([*times, clock[0]])) <= 300  # never 10 min without a message
    assert all(message["mine"] is True for _, message in connection.sent)


def test_unsubscribed_tasks_are_left_out_of_later_subscriptions(live: LiveServer) -> None:
    first, second = task_arn(), task_arn()
    with LiveChannel(live.url, "us-east-1", session()) as channel:
        channel.subscribe([first, second])
        channel.unsubscribe([first, task_arn()])  # one it never followed: nothing to send for it
        live.wait_for_subscribes(1)

    (unsubscribe,) = live.wait_for("unsubscribe")
    assert unsubscribe["tasks"] == [first]
    assert channel.tasks == [second]


def test_another_thread_subscribes_while_one_reads(live: LiveServer) -> None:
    arn = task_arn()
    live.set_state(document(arn, "RUNNING"))
    seen: list[str] = []
    channel = LiveChannel(live.url, "us-east-1", session()).open()

    def read() -> None:
        for update in channel.updates(until=time.monotonic() + 10):
            seen.append(update.status)
            return

    reader = threading.Thread(target=read)
    reader.start()
    channel.subscribe([arn])  # from this thread, while the reader waits in recv
    reader.join(timeout=15)
    channel.stop()

    assert seen == ["RUNNING"]


def test_stop_ends_the_readers_loop_without_reconnecting(live: LiveServer) -> None:
    channel = LiveChannel(live.url, "us-east-1", session()).open()
    reader = threading.Thread(target=lambda: list(channel.updates()))
    reader.start()

    channel.stop()
    reader.join(timeout=10)

    assert not reader.is_alive()
    assert channel.connections == 1
