"""API Gateway's own answers to a REST API request (gateway responses): the response types it documents,
and a REST API's AWS::ApiGateway::GatewayResponse templates, headers and `$context` variables."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from local.runner.rest_api_spec import GatewayResponseSpec

if TYPE_CHECKING:
    from local.runner.apigateway import Request, RestApi

logger = logging.getLogger("local.runner")

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


@dataclass
class ErrorContext:
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


def response_template(custom: GatewayResponseSpec | None, accept: str | None) -> tuple[str, str]:
    """(content type, template): the one for the request's Accept, else application/json, else the first."""
    templates = custom.templates if custom is not None else {}
    if not templates:
        return "application/json", BUILT_IN_TEMPLATE
    wanted = [t.split(";")[0].strip().lower() for t in (accept or "").split(",")]
    content_type = next((t for t in wanted if t in templates), None)
    content_type = content_type or ("application/json" if "application/json" in templates else next(iter(templates)))
    return content_type, templates[content_type]


def response_headers(
    custom: GatewayResponseSpec, context: ErrorContext, stage_variables: dict[str, str]
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
