"""A WebSocket API's @connections management endpoint (POST sends, GET describes, DELETE closes), SigV4-checked,
on a port of its own: what boto3's `apigatewaymanagementapi` client calls."""

from __future__ import annotations

import json
import logging
import uuid
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from local.runner.sigv4 import Rejected
from local.runner.websocket_spec import MAX_MESSAGE_BYTES

if TYPE_CHECKING:
    from local.runner.websocket import WebSocketApi

logger = logging.getLogger("local.runner")


def connections_handler(api: WebSocketApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                status, payload, error_type = self._answer(body)
            except Exception:
                logger.exception("@connections %s: %s %s failed", api.spec.logical_id, self.command, self.path)
                status, payload, error_type = 500, {"message": "Internal server error"}, "InternalServerErrorException"
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _answer(self, body: bytes) -> tuple[int, Any, str | None]:
            path = self.path.partition("?")[0]
            parts = path.strip("/").split("/")
            if len(parts) != 3 or parts[0] not in api.spec.stages or parts[1] != "@connections":
                return 403, {"message": "Forbidden"}, "ForbiddenException"
            try:
                host = self.headers.get("Host", "127.0.0.1")
                api.verifier.verify(self.command, f"http://{host}{self.path}", list(self.headers.items()), body)
            except Rejected as rejected:
                return 403, {"message": rejected.message}, rejected.error_type
            return self._manage(unquote(parts[2]), body)

        def _manage(self, connection_id: str, body: bytes) -> tuple[int, Any, str | None]:
            if self.command == "POST" and len(body) > MAX_MESSAGE_BYTES:
                return 413, {"message": "Request entity too large"}, "PayloadTooLargeException"
            if self.command == "POST" and api.post(connection_id, body):
                return 200, None, None
            described = api.describe(connection_id) if self.command == "GET" else None
            if described is not None:
                return 200, described, None
            if self.command == "DELETE" and api.close(connection_id):
                return 204, None, None
            if self.command not in ("POST", "GET", "DELETE"):
                return 403, {"message": "Forbidden"}, "ForbiddenException"
            return 410, {"message": None}, "GoneException"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("@connections %s: " + format, api.spec.logical_id, *args)

    for method in ("GET", "POST", "DELETE", "PUT", "PATCH"):
        setattr(Handler, f"do_{method}", Handler._serve)
    return Handler
