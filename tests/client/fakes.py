"""Test doubles for the client: an in-memory Task API behind a fake transport (every request's
SigV4 signature verified as API Gateway verifies it), and a real WebSocket server speaking the
live-updates protocol (docs/live-updates.md) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
from braket_tracker.transport import HttpResponse
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from local.runner.apigateway import REJECTIONS
from local.runner.deployed import Credentials
from local.runner.sigv4 import Rejected, SigV4Verifier

API_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/v1/"
REGION = "us-east-1"
ACCOUNT = "123456789012"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/alice"
FINISHED = {"COMPLETED", "FAILED", "CANCELLED"}


def session() -> Any:
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


def task_arn(task_id: str | None = None) -> str:
    return f"arn:aws:braket:{REGION}:{ACCOUNT}:quantum-task/{task_id or uuid.uuid4()}"


def item(arn: str, status: str = "CREATED", **fields: Any) -> dict[str, Any]:
    """A task as the API shows it (TaskView)."""
    task_id = arn.rsplit("/", 1)[-1]
    return {
        "taskArn": arn,
        "taskId": task_id,
        "region": REGION,
        "account": ACCOUNT,
        "deviceArn": SV1,
        "deviceName": "sv1",
        "shots": 100,
        "status": status,
        "statusTimes": {"CREATED": "2026-11-24T10:00:00.000Z", status: "2026-11-24T10:00:05.000Z"},
        "createdAt": "2026-11-24T10:00:00.000Z",
        "lastEventAt": "2026-11-24T10:00:05.000Z",
        "eventCount": 2,
        "outputS3Bucket": f"amazon-braket-tracker-{ACCOUNT}-{REGION}",
        "outputS3Directory": f"tasks/{task_id}",
        "resultsUri": f"s3://amazon-braket-tracker-{ACCOUNT}-{REGION}/tasks/{task_id}/results.json",
        "origin": "api",
        "submitter": CALLER,
        "tags": {},
        **fields,
    }


def document(arn: str, status: str, **fields: Any) -> dict[str, Any]:
    """A task as the live channel pushes it (the notification's JSON document)."""
    finished = status in FINISHED
    return {
        "type": "braket-task-tracker.task-finished" if finished else "braket-task-tracker.task-status",
        "version": "1",
        "notificationId": f"{arn}#{status}",
        "taskArn": arn,
        "taskId": arn.rsplit("/", 1)[-1],
        "status": status,
        "deviceName": "sv1",
        "shots": 100,
        "createdAt": "2026-11-24T10:00:00.000Z",
        "endedAt": "2026-11-24T10:00:09.000Z" if finished else None,
        **fields,
    }


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeTaskApi:
    """The Task API's routes over an in-memory task table; `scripted` answers go first."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    scripted: list[HttpResponse] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    page_size_cap: int = 100
    unreachable: bool = False
    queue: dict[str, dict[str, Any]] = field(default_factory=dict)  # task ARN -> queueInfo (?include=queue)

    def __post_init__(self) -> None:
        self.verifier = SigV4Verifier(Credentials("testing", "testing"), REGION)

    def add(self, task: dict[str, Any]) -> dict[str, Any]:
        self.tasks[task["taskArn"]] = task
        return task

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> HttpResponse:
        if url in self.files:  # a presigned download: no signature
            return HttpResponse(200, self.files[url])
        if self.unreachable:
            from braket_tracker.errors import ApiUnreachable

            raise ApiUnreachable(f"{method} {url} did not answer: [Errno 111] Connection refused")
        parts = urlsplit(url)
        if not parts.path.startswith("/v1/"):  # outside the stage, API Gateway answers for itself
            return answer(403, {"message": "Forbidden"}, {"x-amzn-ErrorType": "ForbiddenException"})
        path = parts.path.removeprefix("/v1/")
        self.requests.append(
            Seen(method, path, dict(parse_qsl(parts.query)), headers, json.loads(body) if body else None)
        )
        try:
            self.verifier.verify(method, url, list(headers.items()), body or b"")
        except Rejected as rejected:  # the gateway response type the local runner (and API Gateway) gives
            kind = REJECTIONS.get(rejected.error_type, "ACCESS_DENIED")
            return answer(403, {"error": kind, "message": rejected.message, "details": {}})
        if self.scripted:
            return self.scripted.pop(0)
        return self.route(method, path, dict(parse_qsl(parts.query)), headers, json.loads(body) if body else None)

    def find(self, key: str) -> dict[str, Any] | None:
        key = unquote(key)
        return self.tasks.get(key) or next((t for t in self.tasks.values() if t["taskId"] == key), None)

    def route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any) -> HttpResponse:  # noqa: PLR0911
        segments = path.split("/")
        if method == "POST" and path == "tasks":
            arn = task_arn()
            task = self.add(item(arn, "CREATED", shots=body["shots"], deviceArn=body["deviceArn"], eventCount=0))
            task["tags"] = body.get("tags") or {}
            return answer(201, {"taskArn": arn, "taskId": task["taskId"], "status": "CREATED", "location": "/v1/x"})
        if method == "GET" and path == "tasks":
            ordered = sorted(self.tasks.values(), key=lambda t: t["createdAt"], reverse=True)
            if "status" in query:
                ordered = [t for t in ordered if t["status"] == query["status"]]
            start = int(query.get("next", "0"))
            size = min(int(query.get("limit", "25")), self.page_size_cap)
            page = ordered[start : start + size]
            following = start + size if start + size < len(ordered) else None
            return answer(200, {"tasks": page, **({"next": str(following)} if following else {})})
        task = self.find(segments[1]) if len(segments) > 1 else None
        if task is None:
            return answer(404, {"error": "TaskNotFound", "message": f"no task {unquote(segments[1])}", "details": {}})
        if method == "GET" and len(segments) == 2:
            if query.get("include") == "queue":
                default = {"queue": "QUANTUM_TASKS_QUEUE", "position": "None", "queuePriority": "Normal"}
                return answer(200, {**task, "queueInfo": self.queue.get(task["taskArn"], default)})
            return answer(200, task)
        if method == "POST" and segments[2:] == ["cancel"]:
            if task["status"] in FINISHED:
                message = f"the task is already {task['status']}"
                return answer(409, {"error": "TaskAlreadyFinished", "message": message, "details": {}})
            task["status"] = "CANCELLING"
            return answer(202, {"taskArn": task["taskArn"], "status": "CANCELLING"})
        if method == "GET" and segments[2:] == ["result"]:
            if task["status"] not in FINISHED:
                message = f"the task is {task['status']}"
                return answer(409, {"error": "TaskNotFinished", "message": message, "details": {}})
            default = {"taskArn": task["taskArn"], "status": task["status"], "failureReason": task.get("failureReason")}
            return answer(200, self.results.get(task["taskArn"], default))
        return answer(404, {"error": "NOT_FOUND", "message": "no such route", "details": {}})


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    """An answer as API Gateway sends it: JSON, with its Date and request id headers."""
    sent = {"Content-Type": "application/json", "Date": formatdate(usegmt=True), "x-amzn-RequestId": str(uuid.uuid4())}
    return HttpResponse(status, json.dumps(body).encode(), headers or sent)


class LiveServer:
    """A WebSocket server speaking the live-updates protocol, on 127.0.0.1.

    It checks that the handshake is SigV4-signed for execute-api (403 otherwise), answers
    subscribe with `subscribed` and a snapshot of each known task, and pushes what the test sends
    with `push`. `close_after_snapshots` closes connections (1001, as API Gateway's limits do)
    right after the snapshots of their first subscribe, that many times.
    """

    def __init__(self, refuse: bool = False) -> None:
        self.states: dict[str, list[dict[str, Any]]] = {}  # arn -> documents to send as the snapshot
        self.received: list[dict[str, Any]] = []
        self.handshakes: list[dict[str, str]] = []
        self.connections: list[ServerConnection] = []
        self.refuse = refuse
        self.close_after_snapshots = 0
        self.snapshot_extra: list[dict[str, Any]] = []  # sent after snapshots (e.g. repeats, stale statuses)
        self.on_subscribe: Callable[[int], None] = lambda count: None  # after each answer and its snapshots
        self.subscribes = 0
        self._lock = threading.Lock()
        self._subscribed = threading.Condition(self._lock)
        self.server: Server = serve(self._handle, "127.0.0.1", 0, process_request=self._check)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/live"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        self.handshakes.append(dict(request.headers.raw_items()))
        authorization = request.headers.get("Authorization", "")
        if (
            self.refuse
            or not authorization.startswith("AWS4-HMAC-SHA256 ")
            or "/execute-api/aws4_request" not in authorization
        ):
            return Response(403, "Forbidden", Headers(), b'{"message": "Forbidden"}')
        return None

    def _handle(self, connection: ServerConnection) -> None:
        with self._lock:
            self.connections.append(connection)
        for raw in connection:
            message = json.loads(raw)
            with self._subscribed:
                self.received.append(message)
                self._subscribed.notify_all()
            if message.get("action") != "subscribe":
                continue
            tasks = message.get("tasks", [])
            known = [arn for arn in tasks if arn in self.states]
            connection.send(
                json.dumps(
                    {
                        "type": "subscribed",
                        "id": message.get("id"),
                        "tasks": tasks,
                        "mine": bool(message.get("mine")),
                        "unknownTasks": [arn for arn in tasks if arn not in self.states],
                        "snapshot": {"tasks": len(known)},
                    }
                )
            )
            for arn in known:
                for doc in self.states[arn]:
                    connection.send(json.dumps({"type": "task", "snapshot": True, "document": doc}))
            for doc in self.snapshot_extra:
                connection.send(json.dumps({"type": "task", "snapshot": False, "document": doc}))
            self.subscribes += 1
            self.on_subscribe(self.subscribes)
            if self.close_after_snapshots > 0:
                self.close_after_snapshots -= 1
                connection.close(1001, "Going away")
                return

    def set_state(self, *documents: dict[str, Any]) -> None:
        for doc in documents:
            self.states[doc["taskArn"]] = [doc]

    def push(self, doc: dict[str, Any]) -> None:
        self.set_state(doc)
        for connection in list(self.connections):
            with contextlib.suppress(Exception):  # a closed connection
                connection.send(json.dumps({"type": "task", "snapshot": False, "document": doc}))

    def wait_for_subscribes(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        return self.wait_for("subscribe", count, timeout)

    def wait_for(self, action: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        """The messages with this action received so far, once there are `count` of them."""
        with self._subscribed:
            self._subscribed.wait_for(lambda: sum(m.get("action") == action for m in self.received) >= count, timeout)
            return [m for m in self.received if m.get("action") == action]
