"""Live updates: the WebSocket routes (connect, subscribe, unsubscribe, disconnect), over the
connections table, the task table and the @connections API. Pushing a status change to its
subscribers is `tracker.live.fan_out`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tracker.data.connections import Connection, ConnectionsTable
from tracker.data.connections_api import ConnectionsApi
from tracker.data.task_reads import TaskReads
from tracker.domain import TaskRecord, normalize_time
from tracker.logic import live

CONNECTION_LIFETIME_SECONDS = 2 * 3600 + 600
"""API Gateway ends a WebSocket connection after 2 hours; its items expire (TTL) 10 minutes later."""


class NotConnected(Exception):
    """The connection has no item (its $connect was not recorded, or it expired)."""


@dataclass(frozen=True)
class SubscribeResult:
    snapshots: int
    unknown: tuple[str, ...]
    gone: bool  # the connection went away while we answered


class LiveUpdates:
    """The WebSocket API's routes. Every answer goes through @connections, in order: the answer,
    then the current state of each subscribed task (the snapshot)."""

    def __init__(self, connections: ConnectionsTable, tasks: TaskReads, api: ConnectionsApi) -> None:
        self.connections = connections
        self.tasks = tasks
        self.api = api

    def connect(self, connection_id: str, principal: str, connected_at_ms: int) -> Connection:
        connection = Connection(
            connection_id=connection_id,
            principal=principal,
            connected_at=normalize_time(datetime.fromtimestamp(connected_at_ms / 1000, UTC)),
            expires_at=connected_at_ms // 1000 + CONNECTION_LIFETIME_SECONDS,
        )
        self.connections.connect(connection)
        return connection

    def disconnect(self, connection_id: str) -> int:
        return self.connections.forget(connection_id)

    def handle(self, connection_id: str, body: str | None) -> SubscribeResult | None:
        """A subscribe or unsubscribe message. A bad one is answered with an error message."""
        try:
            request = live.parse_request(body)
            connection = self.connections.connection(connection_id)
            if connection is None:
                raise live.BadRequest(
                    "this connection is not registered: reconnect", request.request_id, "NotConnected"
                )
            if request.action == "subscribe":
                return self._subscribe(connection, request)
            self.connections.unsubscribe(connection_id, request.targets(connection.principal))
            self._send(connection_id, live.unsubscribed(request))
            return None
        except live.BadRequest as bad:
            self._send(connection_id, live.error(bad.code, bad.message, bad.request_id))
            return None

    def unknown_route(self, connection_id: str, body: str | None) -> None:
        self._send(connection_id, live.unknown_route(body))

    def _subscribe(self, connection: Connection, request: live.Request) -> SubscribeResult:
        if request.tasks:
            held = self.connections.task_subscription_count(connection.connection_id)
            if held + len(request.tasks) > live.MAX_SUBSCRIPTIONS:
                raise live.BadRequest(
                    f"a connection holds at most {live.MAX_SUBSCRIPTIONS} task subscriptions ({held} held)",
                    request.request_id,
                    "TooManySubscriptions",
                )
        # Subscribe first, then read: a change after the read is pushed by the stream, a change
        # before it is in the snapshot. A change in between comes both ways (clients dedupe).
        self.connections.subscribe(connection, request.targets(connection.principal))
        found = self.tasks.get_many(request.tasks)
        mine: list[TaskRecord] = []
        truncated = False
        if request.mine:
            mine, truncated = self.tasks.latest_of_submitter(connection.principal, live.MINE_SNAPSHOT_LIMIT)
        unknown = tuple(arn for arn in request.tasks if arn not in found)
        answer = live.subscribed(request, unknown, len(found), len(mine), truncated)
        snapshots = {record.task.arn: record for record in [*found.values(), *mine]}
        pushes = (live.push(record, snapshot=True, corrects=record.superseded) for record in snapshots.values())
        for sent, message in enumerate([answer, *pushes]):
            if not self._send(connection.connection_id, message):
                return SubscribeResult(max(sent - 1, 0), unknown, gone=True)
        return SubscribeResult(len(snapshots), unknown, gone=False)

    def _send(self, connection_id: str, message: str) -> bool:
        if self.api.post(connection_id, message):
            return True
        self.connections.forget(connection_id)
        return False
