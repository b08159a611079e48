"""Live updates end to end in local mode, under the fault mode: many concurrent WebSocket subscribers
(SigV4-signed connections to the local WebSocket API), some of which drop their connection and
reconnect while the tasks run.

What "every subscriber learns every end exactly once" means here, precisely: a subscriber may receive
a document more than once (a snapshot and a push of the same status, a retried stream batch); after
deduplication by the document's `notificationId` (task ARN + status), each subscriber holds, for every
task whose end the tracker recorded, exactly one final document, and its status is the recorded one
(which is Braket's). A subscriber that reconnects and resubscribes gets the same, from the snapshot.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from websockets.exceptions import ConnectionClosed, InvalidStatus

from local.faults import FaultPlan
from local.tracker import LocalTracker
from tests.e2e.conftest import (
    FINISHED,
    RANK,
    REGION,
    RESULTS_BUCKET,
    read_item,
    submit,
    wait_for,
    wait_until_recorded,
)
from tests.support.websocket import connect_signed, receive_json

pytestmark = pytest.mark.e2e
TASKS = 10
STEADY, RECONNECTING = 12, 4
CREDENTIALS = Credentials("testing", "testing")


@pytest.fixture(scope="module")
def chaotic(cdk_out: Path) -> Iterator[LocalTracker]:
    # Tasks wait 4 s in QUEUED, so that most ends reach subscribers as pushes, not snapshots.
    local = LocalTracker(cdk_out=cdk_out, region=REGION, faults=FaultPlan.chaos(seed=11), queue_delay=4, synth=False)
    local.start()
    local.client("s3").create_bucket(Bucket=RESULTS_BUCKET)
    yield local
    local.stop()


class Subscriber(threading.Thread):
    """Subscribes to `arns` and records every task document; a reconnecting one drops its connection
    after a few pushes, twice, stays away for `away` seconds while the tasks run, and resubscribes
    on a new connection."""

    def __init__(
        self,
        url: str,
        arns: list[str],
        reconnect_after: int | None = None,
        away: float = 0,
        back: threading.Event | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.url, self.arns, self.reconnect_after, self.away = url, arns, reconnect_after, away
        self.back = back  # if given, stays away until it is set
        self.documents: list[dict[str, Any]] = []
        self.late_snapshot_ends: list[str] = []  # ends learned from the snapshot of a later connection
        self.answers: list[dict[str, Any]] = []
        self.connections = 0
        self.failure: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self._connection()
                self.stop.wait(self.away)
                if self.back is not None:
                    self.back.wait()
        except BaseException as exc:  # reported by the test
            self.failure = exc

    def _connection(self) -> None:
        with connect_signed(self.url, CREDENTIALS, REGION, max_queue=None) as connection:
            self.connections += 1
            connection.send(json.dumps({"action": "subscribe", "tasks": self.arns, "id": f"c{self.connections}"}))
            pushes = 0
            while not self.stop.is_set():
                try:
                    message = receive_json(connection, timeout=0.5)
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    return  # API Gateway closed it (idle timeout, 2 hours): reconnect
                if message["type"] != "task":
                    self.answers.append(message)
                    continue
                document = message["document"]
                self.documents.append(document)
                if message["snapshot"] and self.connections > 1 and document["status"] in FINISHED:
                    self.late_snapshot_ends.append(document["notificationId"])
                pushes += 0 if message["snapshot"] else 1
                if self.reconnect_after and pushes >= self.reconnect_after and self.connections <= 2:
                    return  # drop the connection mid-way; the next one resubscribes

    def finals(self) -> dict[str, set[str]]:
        """Per task, the distinct final documents (by notificationId) this subscriber holds."""
        found: dict[str, set[str]] = {}
        for document in self.documents:
            if document["status"] in FINISHED:
                found.setdefault(document["taskArn"], set()).add(document["notificationId"])
        return found

    def latest(self) -> dict[str, str]:
        """Per task, the highest-ranked status received: what a client shows (ranks never go back)."""
        found: dict[str, str] = {}
        for document in self.documents:
            current = found.get(document["taskArn"])
            if current is None or RANK[document["status"]] > RANK[current]:
                found[document["taskArn"]] = document["status"]
        return found


def test_every_subscriber_learns_every_recorded_end_once_and_a_reconnecting_one_misses_nothing_final(
    chaotic: LocalTracker,
) -> None:
    braket = chaotic.client("braket")
    url = chaotic.live_updates_url()
    arns = [submit(chaotic) for _ in range(TASKS)]
    ended = threading.Event()
    sleeper = Subscriber(url, arns, reconnect_after=1, back=ended)  # away from its first push until all ended
    subscribers = [
        *(Subscriber(url, arns) for _ in range(STEADY)),
        *(Subscriber(url, arns, reconnect_after=1 + i % 2, away=1.0 + i) for i in range(RECONNECTING)),
        sleeper,
    ]
    for subscriber in subscribers:
        subscriber.start()

    # Braket runs the tasks; the delayed events of the fault mode land a little later; then the
    # recorder drains the capture queue.
    wait_for(lambda: all(braket.get_quantum_task(quantumTaskArn=a)["status"] in FINISHED for a in arns), 120)
    wait_until_recorded(chaotic)
    items = {arn: read_item(chaotic, arn) for arn in arns}
    recorded_ends = {
        arn: f"{arn}#{item['status']}" for arn, item in items.items() if item and item["status"] in FINISHED
    }
    assert len(recorded_ends) >= TASKS // 2  # the fault mode drops some final events: not every end is recorded
    ended.set()

    expected = {arn: {end} for arn, end in recorded_ends.items()}

    def everyone_knows() -> bool:
        return all(s.finals() == expected for s in subscribers)

    try:
        # Delivery is what is tested, not its speed: on a loaded 2-core machine the runner's stream
        # polling and the pusher's posts to 17 connections take a while.
        wait_for(everyone_knows, 150)
    except AssertionError:
        gaps = {
            i: {
                arn: sorted(s.finals().get(arn, set()) ^ expected.get(arn, set()))
                for arn in set(s.finals()) | set(expected)
            }
            for i, s in enumerate(subscribers)
            if s.finals() != expected
        }
        raise AssertionError(f"subscribers that do not hold exactly the recorded ends: {gaps}") from None
    finally:
        for subscriber in subscribers:
            subscriber.stop.set()
        for subscriber in subscribers:
            subscriber.join(10)

    for subscriber in subscribers:
        assert subscriber.failure is None, subscriber.failure
        assert not [a for a in subscriber.answers if a["type"] == "error"]
        # Exactly one distinct end per recorded end, none for the others, and it is Braket's.
        assert subscriber.finals() == {arn: {end} for arn, end in recorded_ends.items()}
        for arn, end in recorded_ends.items():
            assert end == f"{arn}#{braket.get_quantum_task(quantumTaskArn=arn)['status']}"
        # What the subscriber shows for each task is the recorded status, never an older one.
        latest = subscriber.latest()
        for arn, item in items.items():
            if item is not None and arn in latest:
                assert latest[arn] == item["status"] or RANK[latest[arn]] < RANK[item["status"]] < RANK["COMPLETED"]
    reconnecting = subscribers[STEADY:]
    assert all(s.connections >= 2 for s in reconnecting)  # each dropped its connection mid-way, once or twice
    # Every end happened while the sleeper was away: the snapshot of its next connection brought them all.
    assert set(sleeper.late_snapshot_ends) == set(recorded_ends.values())
    # Ends reached most steady subscribers as pushes, not only as snapshots.
    assert any(len(s.documents) > TASKS for s in subscribers[:STEADY])


def test_connect_is_refused_without_a_valid_signature(chaotic: LocalTracker) -> None:
    url = chaotic.live_updates_url()

    with pytest.raises(InvalidStatus) as unsigned:
        connect_signed(url, CREDENTIALS, "eu-west-2").__enter__()  # signed for another Region
    with pytest.raises(InvalidStatus) as wrong_secret:
        connect_signed(url, Credentials("testing", "not-the-secret"), REGION).__enter__()

    assert unsigned.value.response.status_code == 403
    assert wrong_secret.value.response.status_code == 403
    assert b"signature" in wrong_secret.value.response.body.lower()


def test_a_message_without_an_action_is_answered_by_the_default_route(chaotic: LocalTracker) -> None:
    with connect_signed(chaotic.live_updates_url(), CREDENTIALS, REGION) as connection:
        connection.send("hello")
        connection.send(json.dumps({"action": "subscribe", "tasks": ["not-an-arn"], "id": "bad"}))

        unknown, bad = receive_json(connection), receive_json(connection)

    assert (unknown["type"], unknown["code"]) == ("error", "UnknownAction")
    assert (bad["type"], bad["code"], bad["id"]) == ("error", "BadRequest", "bad")


def test_the_connections_endpoint_answers_boto3_as_api_gateway_does(chaotic: LocalTracker) -> None:
    assert chaotic.runner is not None
    (api,) = [chaotic.runner.websocket_api(logical_id) for logical_id in chaotic.runner.websocket_endpoints]
    management = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=api.callback_url("live"),
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with connect_signed(chaotic.live_updates_url(), CREDENTIALS, REGION) as connection:
        (connection_id,) = wait_for(api.open_connections, 10)

        management.post_to_connection(ConnectionId=connection_id, Data=b'{"hello": "world"}')
        described = management.get_connection(ConnectionId=connection_id)
        received = receive_json(connection)
        management.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed):
            connection.recv(timeout=10)

    assert received == {"hello": "world"}
    assert described["Identity"]["SourceIp"] == "127.0.0.1"
    assert described["ConnectedAt"] <= described["LastActiveAt"]
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId=connection_id, Data=b"{}")
    with pytest.raises(management.exceptions.PayloadTooLargeException):
        management.post_to_connection(ConnectionId="any", Data=b"x" * (128 * 1024 + 1))
