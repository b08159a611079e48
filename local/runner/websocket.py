"""API Gateway WebSocket APIs (AWS::ApiGatewayV2::Api, ProtocolType WEBSOCKET) served on 127.0.0.1.

From the template: the API's route selection expression, its routes ($connect, $disconnect, $default
and custom route keys) with their AWS_PROXY Lambda integrations and authorization, and its stages.

- `ws://127.0.0.1:PORT/STAGE` takes WebSocket connections. With AWS_IAM on $connect, the handshake
  must be SigV4-signed (service execute-api) with the runner's credentials, or it is refused with 403;
  then the $connect function runs, and a non-2xx answer or an error refuses the connection.
- Each message is routed by the route selection expression (`$request.body.action`: the JSON body's
  `action`), or to `$default`; with no route it is answered `{"message": "Forbidden", ...}` as API
  Gateway does; a failing integration is answered `{"message": "Internal server error", ...}`.
- The close runs $disconnect, with the close code and reason.
- `http://127.0.0.1:PORT2/STAGE/@connections/{connectionId}` is the management API that boto3's
  `apigatewaymanagementapi` client calls (POST sends, GET describes, DELETE closes; 410 GoneException
  for a connection that is not open), SigV4-checked. In AWS it shares the API's host; here it has a
  port of its own (websockets serves GET only), and functions' variables that hold the stage's callback
  URL are pointed at it.

API Gateway's limits are kept: 128 KB per message (1009 closes the connection), a 10-minute idle
timeout and a 2-hour connection duration (both close with 1001 Going away).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import re
import secrets
import string
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import create_server
from typing import Any
from urllib.parse import parse_qsl, unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from local.runner.deployed import CallerIdentity
from local.runner.functions import LocalFunction
from local.runner.sigv4 import Rejected, SigV4Verifier
from local.runner.template import StackTemplate, ref_target, referenced_ids

logger = logging.getLogger("local.runner")

MAX_MESSAGE_BYTES = 128 * 1024
IDLE_TIMEOUT = 600.0
MAX_DURATION = 7200.0
MAX_CONCURRENT_INVOCATIONS = 8
_ID_ALPHABET = string.ascii_letters + string.digits


# -- the template ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteSpec:
    route_key: str
    authorization: str  # NONE or AWS_IAM (others are not checked locally)
    integration: str  # AWS_PROXY, MOCK, ...
    function_id: str | None


@dataclass(frozen=True)
class WebSocketApiSpec:
    logical_id: str
    route_selection_expression: str
    stages: dict[str, dict[str, str]]  # stage name -> stage variables
    routes: dict[str, RouteSpec]


def websocket_apis(template: StackTemplate) -> list[WebSocketApiSpec]:
    specs = []
    for api_id, resource in template.of_type("AWS::ApiGatewayV2::Api").items():
        props = resource.get("Properties", {})
        if props.get("ProtocolType") != "WEBSOCKET":
            continue
        integrations = {
            logical_id: r.get("Properties", {})
            for logical_id, r in template.of_type("AWS::ApiGatewayV2::Integration").items()
            if ref_target(r.get("Properties", {}).get("ApiId")) == api_id
        }
        routes: dict[str, RouteSpec] = {}
        for route in template.of_type("AWS::ApiGatewayV2::Route").values():
            route_props = route.get("Properties", {})
            if ref_target(route_props.get("ApiId")) != api_id:
                continue
            integration: dict[str, Any] = next(
                (integrations[i] for i in referenced_ids(route_props.get("Target")) if i in integrations), {}
            )
            uri_ids = referenced_ids(integration.get("IntegrationUri"))
            function_id = next((f for f in (template.function_id({"Ref": i}) for i in uri_ids) if f is not None), None)
            routes[str(route_props["RouteKey"])] = RouteSpec(
                route_key=str(route_props["RouteKey"]),
                authorization=str(route_props.get("AuthorizationType", "NONE")).upper(),
                integration=str(integration.get("IntegrationType", "")).upper(),
                function_id=function_id,
            )
        stages = {
            str(s["Properties"]["StageName"]): dict(s["Properties"].get("StageVariables") or {})
            for s in template.of_type("AWS::ApiGatewayV2::Stage").values()
            if ref_target(s.get("Properties", {}).get("ApiId")) == api_id
        }
        specs.append(
            WebSocketApiSpec(
                logical_id=api_id,
                route_selection_expression=str(props.get("RouteSelectionExpression", "$request.body.action")),
                stages=stages,
                routes=routes,
            )
        )
    return specs


def select_route(expression: str, body: str | None, routes: dict[str, RouteSpec]) -> str | None:
    """The route key a message selects: `$request.body.<path>` evaluated on its JSON body, else `$default`."""
    key: Any = None
    if expression.startswith("$request.body.") and body is not None:
        try:
            key = json.loads(body)
            for part in expression.removeprefix("$request.body.").split("."):
                key = key.get(part) if isinstance(key, dict) else None
        except ValueError:
            key = None
    if isinstance(key, str) and key in routes and not key.startswith("$"):
        return key
    return "$default" if "$default" in routes else None


_CALLBACK_URL = re.compile(r"https://[^/]+\.execute-api\.[^/]+/(?P<stage>[^/]+)/?")


def local_variables(
    variables: dict[str, str], template_variables: dict[str, Any], apis: list[WebSocketApi]
) -> dict[str, str]:
    """A function's variables with each WebSocket stage's callback URL pointed at the local @connections endpoint.

    Only variables whose template value refers to the API and resolved to `https://HOST/STAGE` change.
    """
    changed = dict(variables)
    for name, value in template_variables.items():
        refs = set(referenced_ids(value))
        for api in apis:
            match = _CALLBACK_URL.fullmatch(variables.get(name, ""))
            if api.spec.logical_id in refs and match and match["stage"] in api.spec.stages:
                changed[name] = api.callback_url(match["stage"])
    return changed


# -- the server ----------------------------------------------------------------------------------------


@dataclass
class _Connection:
    connection_id: str
    stage: str
    socket: ServerConnection | None
    connected_at: float
    source_ip: str
    user_agent: str | None
    domain: str
    last_active: float = field(default_factory=time.time)


class WebSocketApi:
    def __init__(
        self,
        spec: WebSocketApiSpec,
        *,
        api_id: str,
        functions: dict[str, LocalFunction],
        verifier: SigV4Verifier,
        identity: CallerIdentity,
        account: str,
        idle_timeout: float = IDLE_TIMEOUT,
        max_duration: float = MAX_DURATION,
    ) -> None:
        self.spec = spec
        self.api_id = api_id
        self.functions = functions
        self.verifier = verifier
        self.identity = identity
        self.account = account
        self.idle_timeout = idle_timeout
        self.max_duration = max_duration
        self._socket = create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._management = ThreadingHTTPServer(("127.0.0.1", 0), _management_handler(self))
        self._management.daemon_threads = True
        self.management_port: int = self._management.server_address[1]
        self._connections: dict[str, _Connection] = {}
        self._pending: dict[int, _Connection] = {}
        self._lock = threading.Lock()
        self._invocations = ThreadPoolExecutor(MAX_CONCURRENT_INVOCATIONS, thread_name_prefix=f"ws-{spec.logical_id}")
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"ws-{spec.logical_id}", daemon=True)
        self._management_thread = threading.Thread(target=self._management.serve_forever, args=(0.2,), daemon=True)

    # -- addresses ----------------------------------------------------------------------------------

    def url(self, stage: str) -> str:
        return f"ws://127.0.0.1:{self.port}/{stage}"

    def callback_url(self, stage: str) -> str:
        return f"http://127.0.0.1:{self.management_port}/{stage}"

    def open_connections(self) -> list[str]:
        with self._lock:
            return sorted(self._connections)

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._management_thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"WebSocket API {self.spec.logical_id} did not start")

    def stop(self) -> None:
        if self._management_thread.is_alive():
            self._management.shutdown()
        self._management.server_close()
        if not self._thread.is_alive():
            self._socket.close()
        else:
            asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._invocations.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def open_server() -> Server:
            return await serve(
                self._serve,
                sock=self._socket,
                process_request=self._handshake,
                max_size=MAX_MESSAGE_BYTES,
                ping_interval=None,  # API Gateway answers pings but sends none
                server_header=None,
            )

        self._server = self._loop.run_until_complete(open_server())
        self._ready.set()
        self._loop.run_forever()

    async def _close_all(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # -- connections --------------------------------------------------------------------------------

    async def _handshake(self, socket: ServerConnection, request: Request) -> Response | None:
        path, _, query = request.path.partition("?")
        stage = path.strip("/")
        if stage not in self.spec.stages:
            return _respond(socket, HTTPStatus.FORBIDDEN, {"message": "Forbidden"})
        connect = self.spec.routes.get("$connect")
        signed = connect is not None and connect.authorization == "AWS_IAM"
        headers = list(request.headers.raw_items())
        host = request.headers.get("Host", "127.0.0.1")
        if signed:
            try:
                self.verifier.verify("GET", f"http://{host}{request.path}", headers, b"")
            except Rejected as rejected:
                return _respond(socket, HTTPStatus.FORBIDDEN, {"message": rejected.message})
        connection = _Connection(
            connection_id=_connection_id(),
            stage=stage,
            socket=None,
            connected_at=time.time(),
            source_ip=str(socket.remote_address[0]),
            user_agent=request.headers.get("User-Agent"),
            domain=host,
        )
        if connect is not None:
            event = self._connect_event(connection, request.headers, query, signed)
            invocation = await self._invoke(connect, event)
            status = _status_of(invocation)
            if not 200 <= status < 300:
                return _respond(socket, HTTPStatus(status), {"message": HTTPStatus(status).phrase})
        self._pending[id(socket)] = connection
        return None

    async def _serve(self, socket: ServerConnection) -> None:
        connection = self._pending.pop(id(socket))
        connection.socket = socket
        with self._lock:
            self._connections[connection.connection_id] = connection
        code, reason = 1006, ""
        try:
            while True:
                now = time.time()
                limit = min(connection.last_active + self.idle_timeout, connection.connected_at + self.max_duration)
                try:
                    message = await asyncio.wait_for(socket.recv(), timeout=max(limit - now, 0.001))
                except TimeoutError:
                    await socket.close(1001, "Going away")
                    code, reason = 1001, "Going away"
                    break
                connection.last_active = time.time()
                await self._message(connection, message)
        except ConnectionClosed as closed:
            received = closed.rcvd
            code = received.code if received is not None else 1006
            reason = received.reason if received is not None else ""
        finally:
            with self._lock:
                self._connections.pop(connection.connection_id, None)
            disconnect = self.spec.routes.get("$disconnect")
            if disconnect is not None:
                await self._invoke(disconnect, self._disconnect_event(connection, code, reason))

    async def _message(self, connection: _Connection, message: str | bytes) -> None:
        binary = isinstance(message, bytes)
        body = base64.b64encode(message).decode() if isinstance(message, bytes) else message
        route_key = select_route(self.spec.route_selection_expression, None if binary else body, self.spec.routes)
        request_id = _request_id()
        socket = connection.socket
        assert socket is not None
        answer = {"connectionId": connection.connection_id, "requestId": request_id}
        if route_key is None:
            await socket.send(json.dumps({"message": "Forbidden", **answer}))
            return
        event = self._message_event(connection, route_key, body, binary, request_id)
        invocation = await self._invoke(self.spec.routes[route_key], event)
        if invocation is None or not invocation.ok:
            await socket.send(json.dumps({"message": "Internal server error", **answer}))

    async def _invoke(self, route: RouteSpec, event: dict[str, Any]) -> Any:
        function = self.functions.get(route.function_id or "")
        if route.integration != "AWS_PROXY" or function is None:
            logger.warning("WebSocket route %s: no local Lambda proxy integration", route.route_key)
            return None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._invocations, function.invoke, event)

    # -- @connections -------------------------------------------------------------------------------

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send to a connection from any thread; False if it is not open."""
        with self._lock:
            connection = self._connections.get(connection_id)
        if connection is None or connection.socket is None:
            return False
        try:
            text = data.decode()
        except UnicodeDecodeError:
            text = None
        socket = connection.socket
        try:
            asyncio.run_coroutine_threadsafe(socket.send(text if text is not None else data), self._loop).result(10)
        except ConnectionClosed:
            return False
        except TimeoutError:
            pass  # a client that does not read: the frame stays queued and is sent when it reads, as in AWS
        return True

    def describe(self, connection_id: str) -> dict[str, Any] | None:
        with self._lock:
            connection = self._connections.get(connection_id)
        if connection is None:
            return None
        return {
            "connectedAt": _iso(connection.connected_at),
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "lastActiveAt": _iso(connection.last_active),
        }

    def close(self, connection_id: str) -> bool:
        with self._lock:
            connection = self._connections.get(connection_id)
        if connection is None or connection.socket is None:
            return False
        asyncio.run_coroutine_threadsafe(connection.socket.close(1000), self._loop).result(10)
        return True

    # -- events -------------------------------------------------------------------------------------

    def _context(self, connection: _Connection, route_key: str, event_type: str, request_id: str) -> dict[str, Any]:
        now = time.time()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": dt.datetime.fromtimestamp(now, dt.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": connection.stage,
            "connectedAt": int(connection.connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "requestId": request_id,
            "domainName": connection.domain,
            "connectionId": connection.connection_id,
            "apiId": self.api_id,
        }

    def _connect_event(self, connection: _Connection, headers: Headers, query: str, signed: bool) -> dict[str, Any]:
        context = self._context(connection, "$connect", "CONNECT", _request_id())
        who = self.identity if signed else None
        context["identity"] = {
            "accountId": who.account if who else None,
            "accessKey": self.verifier.credentials.access_key if who else None,
            "caller": who.user_id if who else None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": connection.source_ip,
            "user": who.user_id if who else None,
            "userAgent": connection.user_agent,
            "userArn": who.arn if who else None,
        }
        multi: dict[str, list[str]] = {}
        for name, value in headers.raw_items():
            multi.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        event: dict[str, Any] = {
            "headers": {k: v[-1] for k, v in multi.items()},
            "multiValueHeaders": multi,
            "requestContext": context,
            "isBase64Encoded": False,
        }
        if multi_query:
            event["queryStringParameters"] = {k: v[-1] for k, v in multi_query.items()}
            event["multiValueQueryStringParameters"] = multi_query
        return event

    def _message_event(
        self, connection: _Connection, route_key: str, body: str, binary: bool, request_id: str
    ) -> dict[str, Any]:
        context = self._context(connection, route_key, "MESSAGE", request_id)
        context["messageId"] = _request_id()
        context["identity"] = {"sourceIp": connection.source_ip}
        return {"requestContext": context, "body": body, "isBase64Encoded": binary}

    def _disconnect_event(self, connection: _Connection, code: int, reason: str) -> dict[str, Any]:
        context = self._context(connection, "$disconnect", "DISCONNECT", _request_id())
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason
        headers = {"Host": connection.domain, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
        return {
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }


def _respond(socket: ServerConnection, status: HTTPStatus, body: dict[str, Any]) -> Response:
    response = socket.respond(status, json.dumps(body))
    response.headers["Content-Type"] = "application/json"
    return response


def _status_of(invocation: Any) -> int:
    """The $connect answer's status: a function error is 500; no statusCode is 200 (API Gateway's reading)."""
    if invocation is None:
        return 500
    if not invocation.ok:
        return 500
    payload = invocation.payload
    status = payload.get("statusCode", 200) if isinstance(payload, dict) else 200
    return status if isinstance(status, int) and 100 <= status < 600 else 500


def _connection_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def _request_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes[:12]).decode()


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}Z"


def _management_handler(api: WebSocketApi) -> type[BaseHTTPRequestHandler]:
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
