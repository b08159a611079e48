"""HTTP on 127.0.0.1: requests in, Braket's REST-JSON answers and errors out, one log line per request.

Every answered request is counted by operation and by the access key id that signed it. Local mode's own
path `/_local/request-counts` serves the counts (GET, JSON: {"total": {op: n}, "byAccessKey": {key: {op: n}}})
and resets them (DELETE, answering the counts it reset), for benchmarks, tests and anyone checking who polls.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.braket.errors import BraketError, InternalServiceException, SerializationException
from local.braket.protocol import Protocol, access_key_id, scope_region

log = logging.getLogger(__name__)

Operation = Callable[[str, dict[str, Any]], dict[str, Any]]
COUNTS_PATH = "/_local/request-counts"


class RequestCounter:
    """Answered requests by operation, and by the access key id that signed them."""

    def __init__(self) -> None:
        self._total: Counter[str] = Counter()
        self._by_key: dict[str, Counter[str]] = {}
        self._lock = threading.Lock()

    def count(self, operation: str, access_key: str | None) -> None:
        with self._lock:
            self._total[operation] += 1
            self._by_key.setdefault(access_key or "(unsigned)", Counter())[operation] += 1

    def totals(self) -> dict[str, int]:
        with self._lock:
            return dict(self._total)

    def snapshot(self, reset: bool = False) -> dict[str, Any]:
        with self._lock:
            answer = {"total": dict(self._total), "byAccessKey": {k: dict(v) for k, v in self._by_key.items()}}
            if reset:
                self._total.clear()
                self._by_key.clear()
        return answer


class BraketHTTPServer(ThreadingHTTPServer):
    """Joins its request threads on close, after shutting down the connections clients keep alive."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], operations: dict[str, Operation]) -> None:
        super().__init__(address, BraketRequestHandler)
        self.operations = operations
        self.protocol = Protocol(frozenset(operations))
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.counter = RequestCounter()

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def request_counts(self) -> dict[str, int]:
        return self.counter.totals()

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any], str]:
        """Status, JSON body and a label for the log: the operation, or the error code."""
        if path.split("?", 1)[0] == COUNTS_PATH:
            if method not in ("GET", "DELETE"):
                return (
                    405,
                    {"message": f"{method} is not allowed on {COUNTS_PATH}; use GET or DELETE"},
                    "MethodNotAllowed",
                )
            return 200, self.counter.snapshot(reset=method == "DELETE"), "RequestCounts"
        try:
            request = self.protocol.decode(method, path, headers, body)
            self.counter.count(request.operation, access_key_id(headers.get("authorization"), path))
            status = int(self.protocol.model.operation_model(request.operation).http.get("responseCode", 200))
            return status, self.operations[request.operation](request.region, request.params), request.operation
        except BraketError as error:
            return error.status, {"message": error.message}, error.code
        except Exception:
            log.exception("internal error answering %s %s", method, path)
            internal = InternalServiceException("An internal error occurred in the local Braket service")
            return internal.status, {"message": internal.message}, internal.code


class BraketRequestHandler(BaseHTTPRequestHandler):
    server: BraketHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes on a kept-alive connection: without TCP_NODELAY, Nagle's
    # algorithm holds the body back for the client's delayed ACK, about 40 ms per request.
    disable_nagle_algorithm = True
    server_version = "LocalBraket/1.0"
    sys_version = ""
    timeout = 60  # an idle keep-alive connection is closed after this

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _handle(self) -> None:
        started = time.perf_counter()
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            error = SerializationException("Invalid Content-Length")
            status, payload, label = error.status, {"message": error.message}, error.code
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length else b""
            status, payload, label = self.server.answer(self.command, self.path, headers, body)
        self._send(status, payload, None if status < 300 else label)
        log.info(
            "%s %s %s -> %d %s %.1fms",
            scope_region(headers.get("authorization")) or "-",
            self.command,
            self.path.split("?")[0],
            status,
            label,
            (time.perf_counter() - started) * 1000,
        )

    def _send(self, status: int, payload: dict[str, Any], error_code: str | None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error_code is not None:
            self.send_header("x-amzn-ErrorType", error_code)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _handle logs one line per request

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)
