"""API Gateway REST APIs with AWS_PROXY (Lambda proxy) integrations, served over HTTP on 127.0.0.1.

Each API listens on its own port (chosen by the system) at /<stage>/..., routes by the template's
resource tree (literal segments first, then `{param}`, then greedy `{proxy+}`; `ANY` when no method
matches exactly), checks AWS_IAM methods' SigV4 signatures, builds the version 1.0 proxy event, and
maps the function's answer back to HTTP. A function error, or an answer that is not a proxy response,
is 502 {"message": "Internal server error"}, as in API Gateway.

Request validation (a method's RequestValidator, RequestParameters and RequestModels) runs after IAM
authorization and before the function: missing required parameters are BAD_REQUEST_PARAMETERS, a body
that does not match the model of its content type (JSON Schema draft 4) is BAD_REQUEST_BODY, both 400.
Every answer API Gateway itself produces goes through the API's gateway responses
(AWS::ApiGateway::GatewayResponse): the specific response type, else DEFAULT_4XX / DEFAULT_5XX, else
API Gateway's built-in `{"message": ...}`. Their templates get `$context` variables substituted (not VTL).
A body over REST APIs' 10 MB payload quota is REQUEST_TOO_LARGE (413), before routing.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.runner.deployed import CallerIdentity
from local.runner.functions import LocalFunction
from local.runner.gateway_responses import (
    BUILT_IN,
    REJECTIONS,
    ErrorContext,
    render,
    response_headers,
    response_template,
)
from local.runner.proxy_integration import proxy_event, proxy_response
from local.runner.request_validation import body_problems, missing_parameters, model_validators, schema_key
from local.runner.rest_api_spec import MethodSpec, RestApiSpec
from local.runner.sigv4 import Rejected, SigV4Verifier

logger = logging.getLogger("local.runner")

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_PAYLOAD = 10 * 1024 * 1024  # bytes: REST APIs' request payload quota (REQUEST_TOO_LARGE above it)


@dataclass(frozen=True)
class ApiEndpoint:
    logical_id: str
    api_id: str
    stage: str
    url: str  # http://127.0.0.1:PORT/STAGE/

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # the request target as received: /stage/path?query, still percent-encoded
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str

    def header(self, name: str, default: str | None = None) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), default)


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_id: str | None = None  # $context.requestId, sent as x-amzn-RequestId


def _message(status: int, message: str, error_type: str | None = None) -> Response:
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return Response(status, headers, json.dumps({"message": message}).encode())


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    variable: tuple[str, _Node] | None = None
    greedy: tuple[str, _Node] | None = None
    path: str = "/"
    methods: dict[str, MethodSpec] = field(default_factory=dict)


def build_tree(methods: tuple[MethodSpec, ...]) -> _Node:
    root = _Node()
    for method in methods:
        node = root
        for part in [p for p in method.path.split("/") if p]:
            path = node.path.rstrip("/") + "/" + part
            if part.endswith("+}"):
                node.greedy = node.greedy or (part[1:-2], _Node(path=path))
                node = node.greedy[1]
            elif part.startswith("{"):
                node.variable = node.variable or (part[1:-1], _Node(path=path))
                node = node.variable[1]
            else:
                node = node.literal.setdefault(part, _Node(path=path))
        node.methods[method.http_method] = method
    return root


def match(node: _Node, segments: list[str], params: dict[str, str]) -> tuple[_Node, dict[str, str]] | None:
    """The resource a path reaches, and its path parameters: literal first, then {param}, then {proxy+}."""
    if not segments:
        return node, params
    head, rest = segments[0], segments[1:]
    if head in node.literal:
        found = match(node.literal[head], rest, params)
        if found:
            return found
    if node.variable:
        found = match(node.variable[1], rest, {**params, node.variable[0]: head})
        if found:
            return found
    if node.greedy:
        return node.greedy[1], {**params, node.greedy[0]: "/".join(segments)}
    return None


class RestApi:
    def __init__(
        self,
        spec: RestApiSpec,
        *,
        api_id: str,
        functions: dict[str, LocalFunction],
        verifier: SigV4Verifier,
        identity: CallerIdentity,
        account: str,
        port: int = 0,
    ) -> None:
        self.spec = spec
        self.api_id = api_id
        self.functions = functions
        self.verifier = verifier
        self.identity = identity
        self.account = account
        self.tree = build_tree(spec.methods)
        self.validators = model_validators(spec)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler_class(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.2,), daemon=True)

    @property
    def endpoints(self) -> list[ApiEndpoint]:
        host, port = self.server.server_address[:2]
        return [
            ApiEndpoint(self.spec.logical_id, self.api_id, stage, f"http://{host!s}:{port}/{stage}/")
            for stage in self.spec.stages
        ]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: Request) -> Response:
        path, _, query = request.target.partition("?")
        stage, _, rest = path.lstrip("/").partition("/")
        if stage not in self.spec.stages:
            return _message(403, "Forbidden", "ForbiddenException")  # no stage, no API: not a gateway response
        context = ErrorContext(request_id=str(uuid.uuid4()), stage=stage, path=f"/{stage}/{rest}", request=request)
        if len(request.body) > MAX_PAYLOAD:
            return self._error(context, "REQUEST_TOO_LARGE", "Request Too Long")
        found = match(self.tree, [unquote(s) for s in rest.split("/") if s], {})
        spec = found and (found[0].methods.get(request.method) or found[0].methods.get("ANY"))
        if not found or not spec:
            return self._error(context, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        context.resource_path, context.path_parameters = spec.path, found[1]
        signer = None  # the access key that signed an AWS_IAM method's request
        if spec.authorization == "AWS_IAM":
            url = f"http://{request.header('host', '127.0.0.1')}{request.target}"
            try:
                signer = self.verifier.verify(request.method, url, request.headers, request.body)
            except Rejected as rejected:
                kind = REJECTIONS.get(rejected.error_type, "DEFAULT_4XX")
                return self._error(context, kind, rejected.message, status=403, error_type=rejected.error_type)
        elif spec.authorization != "NONE":
            logger.warning("%s: authorization %s is not checked locally", spec.path, spec.authorization)
        return self._integrate(request, spec, context, query=query, signer=signer)

    def _integrate(
        self, request: Request, spec: MethodSpec, context: ErrorContext, *, query: str, signer: str | None
    ) -> Response:
        """An authorized request: validated, then given to the method's function."""
        refused = self._validate(request, spec, query=query, params=context.path_parameters)
        if refused is not None:
            kind, message, detail = refused
            return self._error(context, kind, message, validation=detail)
        function = self.functions.get(spec.function_id or "")
        if spec.integration != "AWS_PROXY" or function is None:
            return self._error(context, "API_CONFIGURATION_ERROR", "Internal server error")
        invocation = function.invoke(
            proxy_event(
                self,
                request,
                spec,
                stage=context.stage,
                path=context.path.removeprefix("/" + context.stage),
                query=query,
                params=context.path_parameters,
                signer=signer,
                request_id=context.request_id,
            )
        )
        answer = proxy_response(invocation.payload) if invocation.ok else None
        if answer is None:  # a function error or a malformed proxy response: 502, through DEFAULT_5XX
            return self._error(context, "DEFAULT_5XX", "Internal server error", status=502)
        status, headers, body = answer
        return Response(status, headers, body, context.request_id)

    # -- request validation ----------------------------------------------------------------------

    def _validate(
        self, request: Request, spec: MethodSpec, *, query: str, params: dict[str, str]
    ) -> tuple[str, str, str] | None:
        """(response type, message, validation error string) when the method's validator refuses the request.

        Parameters first, then the body, as API Gateway does: a required parameter is missing when it is
        absent or blank; the body is checked against the model of its Content-Type (application/json when
        the request has none), else the `$default` model, else not at all."""
        if spec.validate_parameters:
            pairs = parse_qsl(query, keep_blank_values=True)
            missing = missing_parameters(spec.request_parameters, request, pairs, params)
            if missing:
                message = f"Missing required request parameters: [{', '.join(missing)}]"
                return "BAD_REQUEST_PARAMETERS", message, message
        if spec.validate_body:
            content_type = (request.header("content-type") or "application/json").split(";")[0].strip().lower()
            model = spec.request_models.get(content_type) or spec.request_models.get("$default")
            if model is not None:
                problems = body_problems(self.validators[schema_key(model)], request.body)
                if problems:
                    return "BAD_REQUEST_BODY", "Invalid request body", "[" + ", ".join(problems) + "]"
        return None

    # -- gateway responses -----------------------------------------------------------------------

    def _error(
        self,
        context: ErrorContext,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        validation: str | None = None,
    ) -> Response:
        """API Gateway's own answer of a response type, through the API's gateway responses: the type's own,
        else DEFAULT_4XX / DEFAULT_5XX (whose StatusCode applies to every type of its class that sets none),
        else the built-in {"message": ...}."""
        built_in_status, built_in_error_type = BUILT_IN.get(kind, (status or 500, "InternalServerErrorException"))
        status = status or built_in_status
        default = self.spec.gateway_responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX")
        own = self.spec.gateway_responses.get(kind)
        custom = own or default
        status = (own and own.status_code) or (default and default.status_code) or status
        variables = context.variables(self, kind, message, validation)
        headers = [("x-amzn-ErrorType", error_type or built_in_error_type)]
        if custom is not None:
            headers += response_headers(custom, context, self.spec.stages.get(context.stage, {}))
        content_type, template = response_template(custom, context.request.header("accept"))
        body = render(template, variables, f"{self.spec.logical_id} gateway response {kind}")
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.insert(0, ("Content-Type", content_type))
        return Response(status, headers, body.encode(), context.request_id)


def _internal_error() -> Response:
    return _message(502, "Internal server error", "InternalServerErrorException")


def _handler_class(api: RestApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                request = Request(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
                response = api.handle(request)
            except Exception:
                logger.exception("API %s: %s %s failed", api.spec.logical_id, self.command, self.path)
                response = _internal_error()
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("x-amzn-RequestId", response.request_id or str(uuid.uuid4()))
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("API %s: " + format, api.spec.logical_id, *args)

    for method in METHODS:
        setattr(Handler, f"do_{method}", Handler._serve)
    return Handler
