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

import base64
import datetime as dt
import fnmatch
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from jsonschema import Draft4Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError, ValidationError  # type: ignore[import-untyped]

from local.runner.deployed import CallerIdentity
from local.runner.functions import LocalFunction
from local.runner.sigv4 import Rejected, SigV4Verifier
from local.runner.template import GatewayResponseSpec, MethodSpec, RestApiSpec

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
    ) -> None:
        self.spec = spec
        self.api_id = api_id
        self.functions = functions
        self.verifier = verifier
        self.identity = identity
        self.account = account
        self.tree = build_tree(spec.methods)
        self.validators = _model_validators(spec)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
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
        context = _ErrorContext(request_id=str(uuid.uuid4()), stage=stage, path=f"/{stage}/{rest}", request=request)
        if len(request.body) > MAX_PAYLOAD:
            return self._error(context, "REQUEST_TOO_LARGE", "Request Too Long")
        found = match(self.tree, [unquote(s) for s in rest.split("/") if s], {})
        spec = found and (found[0].methods.get(request.method) or found[0].methods.get("ANY"))
        if not found or not spec:
            return self._error(context, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        context.resource_path, context.path_parameters = spec.path, found[1]
        authenticated = spec.authorization == "AWS_IAM"
        if authenticated:
            url = f"http://{request.header('host', '127.0.0.1')}{request.target}"
            try:
                self.verifier.verify(request.method, url, request.headers, request.body)
            except Rejected as rejected:
                kind = REJECTIONS.get(rejected.error_type, "DEFAULT_4XX")
                return self._error(context, kind, rejected.message, status=403, error_type=rejected.error_type)
        elif spec.authorization != "NONE":
            logger.warning("%s: authorization %s is not checked locally", spec.path, spec.authorization)
        return self._integrate(request, spec, context, query=query, authenticated=authenticated)

    def _integrate(
        self, request: Request, spec: MethodSpec, context: _ErrorContext, *, query: str, authenticated: bool
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
            self._event(
                request,
                spec,
                stage=context.stage,
                path=context.path.removeprefix("/" + context.stage),
                query=query,
                params=context.path_parameters,
                authenticated=authenticated,
                request_id=context.request_id,
            )
        )
        answer = _proxy_response(invocation.payload) if invocation.ok else None
        if answer is None:  # a function error or a malformed proxy response: 502, through DEFAULT_5XX
            return self._error(context, "DEFAULT_5XX", "Internal server error", status=502)
        return Response(answer.status, answer.headers, answer.body, context.request_id)

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
            missing = _missing_parameters(spec.request_parameters, request, pairs, params)
            if missing:
                message = f"Missing required request parameters: [{', '.join(missing)}]"
                return "BAD_REQUEST_PARAMETERS", message, message
        if spec.validate_body:
            content_type = (request.header("content-type") or "application/json").split(";")[0].strip().lower()
            model = spec.request_models.get(content_type) or spec.request_models.get("$default")
            if model is not None:
                problems = _body_problems(self.validators[_schema_key(model)], request.body)
                if problems:
                    return "BAD_REQUEST_BODY", "Invalid request body", "[" + ", ".join(problems) + "]"
        return None

    # -- gateway responses -----------------------------------------------------------------------

    def _error(
        self,
        context: _ErrorContext,
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
            headers += _response_headers(custom, context, self.spec.stages.get(context.stage, {}))
        content_type, template = _template(custom, context.request.header("accept"))
        body = render(template, variables, f"{self.spec.logical_id} gateway response {kind}")
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.insert(0, ("Content-Type", content_type))
        return Response(status, headers, body.encode(), context.request_id)

    def _event(
        self,
        request: Request,
        spec: MethodSpec,
        *,
        stage: str,
        path: str,
        query: str,
        params: dict[str, str],
        authenticated: bool,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        headers, body, method = request.headers, request.body, request.method
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            multi_headers.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        content_type = (request.header("content-type") or "").split(";")[0].strip()
        binary = bool(body) and any(fnmatch.fnmatch(content_type, t) for t in self.spec.binary_media_types)
        host = request.header("host", "127.0.0.1") or "127.0.0.1"
        now = dt.datetime.now(dt.UTC)
        request_id = request_id or str(uuid.uuid4())
        return {
            "resource": spec.path,
            "path": path,
            "httpMethod": method,
            "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": self.spec.stages[stage] or None,
            "requestContext": {
                "resourceId": spec.resource_id or "root",
                "resourcePath": spec.path,
                "httpMethod": method,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{stage}{path}",
                "accountId": self.account,
                "protocol": "HTTP/1.1",
                "stage": stage,
                "domainPrefix": host.split(".")[0],
                "requestTimeEpoch": int(time.time() * 1000),
                "requestId": request_id,
                "identity": self._identity(request.source_ip, request.header("user-agent"), authenticated),
                "domainName": host,
                "apiId": self.api_id,
            },
            "body": (base64.b64encode(body).decode() if binary else body.decode(errors="replace")) if body else None,
            "isBase64Encoded": binary,
        }

    def _identity(self, source_ip: str, user_agent: str | None, authenticated: bool) -> dict[str, Any]:
        who = self.identity if authenticated else None
        return {
            "cognitoIdentityPoolId": None,
            "accountId": who.account if who else None,
            "cognitoIdentityId": None,
            "caller": who.user_id if who else None,
            "sourceIp": source_ip,
            "principalOrgId": None,
            "accessKey": self.verifier.credentials.access_key if who else None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": who.arn if who else None,
            "userAgent": user_agent,
            "user": who.user_id if who else None,
        }


def _internal_error() -> Response:
    return _message(502, "Internal server error", "InternalServerErrorException")


def _proxy_response(answer: Any) -> Response | None:
    """The function's proxy response as HTTP; None for anything else (a malformed proxy response: 502)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("statusCode", 200), int):
        return None
    headers: dict[str, list[str]] = {
        k: [str(v) for v in vs] for k, vs in (answer.get("multiValueHeaders") or {}).items()
    }
    for name, value in (answer.get("headers") or {}).items():
        headers.setdefault(name, [str(value)])
    body = answer.get("body")
    if body is not None and not isinstance(body, str):
        return None
    raw = base64.b64decode(body) if body and answer.get("isBase64Encoded") else (body or "").encode()
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = ["application/json"]
    return Response(int(answer.get("statusCode", 200)), [(k, v) for k, vs in headers.items() for v in vs], raw)


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


# -- request validation and gateway responses ------------------------------------------------------

# The response types API Gateway documents, as this runner produces them: status, x-amzn-ErrorType.
BUILT_IN: dict[str, tuple[int, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "MissingAuthenticationTokenException"),
    "INVALID_SIGNATURE": (403, "InvalidSignatureException"),
    "EXPIRED_TOKEN": (403, "ExpiredTokenException"),
    "ACCESS_DENIED": (403, "AccessDeniedException"),
    "UNAUTHORIZED": (401, "UnauthorizedException"),
    "BAD_REQUEST_PARAMETERS": (400, "BadRequestException"),
    "BAD_REQUEST_BODY": (400, "BadRequestException"),
    "RESOURCE_NOT_FOUND": (404, "NotFoundException"),
    "REQUEST_TOO_LARGE": (413, "RequestTooLargeException"),
    "API_CONFIGURATION_ERROR": (500, "InternalServerErrorException"),
    "INTEGRATION_FAILURE": (504, "InternalServerErrorException"),
    "DEFAULT_4XX": (400, "BadRequestException"),
    "DEFAULT_5XX": (500, "InternalServerErrorException"),
}
# SigV4 rejections (local/runner/sigv4.py) by x-amzn-ErrorType; the others have no type of their own.
REJECTIONS = {
    "MissingAuthenticationTokenException": "MISSING_AUTHENTICATION_TOKEN",
    "InvalidSignatureException": "INVALID_SIGNATURE",
    "ExpiredTokenException": "EXPIRED_TOKEN",
    "AccessDeniedException": "ACCESS_DENIED",
}
BUILT_IN_TEMPLATE = '{"message":$context.error.messageString}'
_CONTEXT = r"\$!?(\{)?context\.([A-Za-z0-9_.]*[A-Za-z0-9_])(?(1)\})"
_VARIABLE = re.compile(_CONTEXT)
_ESCAPED = re.compile(r"\$util\.escapeJavaScript\(\s*" + _CONTEXT + r"\s*\)")
_JS_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "'": "\\'",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_SHOWN = 100  # characters of a value quoted in a validation error


@dataclass
class _ErrorContext:
    """What API Gateway knows of a request when it answers it itself: the `$context` of its templates."""

    request_id: str
    stage: str
    path: str  # /stage/path, as $context.path
    request: Request
    resource_path: str = ""
    path_parameters: dict[str, str] = field(default_factory=dict)

    def variables(self, api: RestApi, kind: str, message: str, validation: str | None) -> dict[str, str]:
        host = self.request.header("host", "127.0.0.1") or "127.0.0.1"
        now = dt.datetime.now(dt.UTC)
        return {
            "requestId": self.request_id,
            "extendedRequestId": self.request_id,
            "error.message": message,
            "error.messageString": json.dumps(message),
            "error.responseType": kind,
            "error.validationErrorString": validation or "",
            "path": self.path,
            "resourcePath": self.resource_path,
            "httpMethod": self.request.method,
            "stage": self.stage,
            "apiId": api.api_id,
            "accountId": api.account,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "protocol": "HTTP/1.1",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": str(int(now.timestamp() * 1000)),
            "identity.sourceIp": self.request.source_ip,
            "identity.userAgent": self.request.header("user-agent") or "",
        }


def render(template: str, variables: dict[str, str], where: str) -> str:
    """A gateway response template with its `$context.x` / `${context.x}` / `$!context.x` variables
    substituted, also inside `$util.escapeJavaScript(...)`; an unknown variable is logged and becomes
    empty. Nothing else of VTL is evaluated."""

    def value(found: re.Match[str]) -> str:
        name = found.group(2)
        if name not in variables:
            logger.warning("%s: $context.%s is not a variable the local runner knows; substituted empty", where, name)
            return ""
        return variables[name]

    escaped = _ESCAPED.sub(lambda found: escape_javascript(value(found)), template)
    return _VARIABLE.sub(value, escaped)


def escape_javascript(text: str) -> str:
    """VTL's $util.escapeJavaScript (commons-lang StringEscapeUtils.escapeJavaScript): quotes (single ones
    too, which makes JSON invalid, as in API Gateway), backslash, slash, control and non-ASCII characters."""
    return "".join(_JS_ESCAPES.get(c) or (_utf16_escape(c) if ord(c) < 0x20 or ord(c) > 0x7E else c) for c in text)


def _utf16_escape(c: str) -> str:
    """\\uXXXX per UTF-16 code unit (a surrogate pair beyond the BMP), as Java writes it."""
    units = c.encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04X}" for i in range(0, len(units), 2))


def _template(custom: GatewayResponseSpec | None, accept: str | None) -> tuple[str, str]:
    """(content type, template): the one for the request's Accept, else application/json, else the first."""
    templates = custom.templates if custom is not None else {}
    if not templates:
        return "application/json", BUILT_IN_TEMPLATE
    wanted = [t.split(";")[0].strip().lower() for t in (accept or "").split(",")]
    content_type = next((t for t in wanted if t in templates), None)
    content_type = content_type or ("application/json" if "application/json" in templates else next(iter(templates)))
    return content_type, templates[content_type]


def _response_headers(
    custom: GatewayResponseSpec, context: _ErrorContext, stage_variables: dict[str, str]
) -> list[tuple[str, str]]:
    """ResponseParameters: gatewayresponse.header.NAME from a 'literal', method.request.{header,querystring,path}.X
    or stageVariables.X."""
    query = dict(parse_qsl(context.request.target.partition("?")[2], keep_blank_values=True))
    sources: dict[str, Callable[[str], str | None]] = {
        "method.request.header.": lambda n: context.request.header(n.lower()),
        "method.request.querystring.": query.get,
        "method.request.path.": context.path_parameters.get,
        "stageVariables.": stage_variables.get,
    }
    headers = []
    for key, expression in custom.parameters.items():
        if not key.startswith("gatewayresponse.header."):
            logger.warning("Gateway response %s: %s is not a header, ignored", custom.response_type, key)
            continue
        value: str | None = None
        if len(expression) >= 2 and expression[0] == expression[-1] == "'":
            value = expression[1:-1]
        else:
            source = next((p for p in sources if expression.startswith(p)), None)
            if source is None:
                logger.warning("Gateway response %s: %s = %s unsupported", custom.response_type, key, expression)
            else:
                value = sources[source](expression.removeprefix(source))
        if value is not None:
            headers.append((key.removeprefix("gatewayresponse.header."), value))
    return headers


def _schema_key(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True)


def _model_validators(spec: RestApiSpec) -> dict[str, Any]:
    """A draft 4 validator per distinct model; a schema that is not valid draft 4 stops the runner, as
    API Gateway refuses the model ("Invalid model specified") and the deployment fails."""
    validators: dict[str, Any] = {}
    for method in spec.methods:
        for content_type, schema in method.request_models.items():
            try:
                Draft4Validator.check_schema(schema)
            except SchemaError as error:
                raise ValueError(
                    f"API {spec.logical_id}: the {content_type} model of {method.http_method} {method.path} "
                    f"is not a valid JSON Schema draft 4: {error.message}"
                ) from error
            validators[_schema_key(schema)] = Draft4Validator(schema)
    return validators


def _missing_parameters(
    declared: dict[str, bool], request: Request, query: list[tuple[str, str]], path_parameters: dict[str, str]
) -> list[str]:
    """The required parameters a request lacks or leaves blank, in the method's order."""
    missing = []
    for key, required in declared.items():
        location, _, name = key.removeprefix("method.request.").partition(".")
        if not required or not name:
            continue
        if location in ("querystring", "multivaluequerystring"):
            present = any(k == name and v.strip() for k, v in query)
        elif location in ("header", "multivalueheader"):
            present = any(k.lower() == name.lower() and v.strip() for k, v in request.headers)
        elif location == "path":
            present = bool(path_parameters.get(name, "").strip())
        else:
            logger.warning("Request parameter %s: unknown location, not validated", key)
            continue
        if not present:
            missing.append(name)
    return missing


def _body_problems(validator: Any, body: bytes) -> list[str]:
    """Why a body does not match its model, phrased as API Gateway's validator phrases it; [] if it does.
    An empty body is validated as an empty object."""
    try:
        instance = json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # nested too deep to parse: not JSON here
        return [f"Invalid JSON: {error}"]
    problems: list[str | list[str]] = []  # a list: the missing properties of one object, reported together
    missing: dict[tuple[Any, ...], list[str]] = {}
    for violation in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        logger.debug("Request body at /%s: %s", "/".join(map(str, violation.absolute_path)), violation.message)
        if violation.validator != "required":
            problems.append(_phrase(violation))
            continue
        where = tuple(violation.absolute_path)
        if where not in missing:
            problems.append(missing.setdefault(where, []))
        missing[where] += [p for p in violation.validator_value if p not in violation.instance]
    return [
        p if isinstance(p, str) else f"object has missing required properties ({_compact(sorted(set(p)))})"
        for p in problems
    ]


def _phrase(error: ValidationError) -> str:
    """One JSON Schema violation, in the words of API Gateway's validator (the most common ones)."""
    value, limit = error.instance, error.validator_value
    phrases: dict[str, Callable[[], str]] = {
        "type": lambda: (
            f"instance type ({_json_type(value)}) does not match any allowed primitive type "
            f"(allowed: {_compact([limit] if isinstance(limit, str) else list(limit))})"
        ),
        "additionalProperties": lambda: (
            "object instance has properties which are not allowed by the schema: "
            + _compact(sorted(set(value) - set(error.schema.get("properties", {}))))
        ),
        "maxLength": lambda: f"string {_shown(value)} is too long (length: {len(value)}, maximum allowed: {limit})",
        "minLength": lambda: f"string {_shown(value)} is too short (length: {len(value)}, required minimum: {limit})",
        "maximum": lambda: f"numeric instance is greater than the required maximum (maximum: {limit}, found: {value})",
        "minimum": lambda: f"numeric instance is lower than the required minimum (minimum: {limit}, found: {value})",
        "enum": lambda: f"instance value ({_shown(value)}) not found in enum (possible values: {json.dumps(limit)})",
        "pattern": lambda: f"ECMA 262 regex {json.dumps(limit)} does not match input string {_shown(value)}",
        "maxItems": lambda: (
            f"array is too long: must have at most {limit} elements but instance has {len(value)} elements"
        ),
        "minItems": lambda: (
            f"array is too short: must have at least {limit} elements but instance has {len(value)} elements"
        ),
    }
    phrase = phrases.get(str(error.validator))
    return phrase() if phrase is not None else str(error.message)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + '..."'
