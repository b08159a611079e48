"""API Gateway's Lambda proxy integration (AWS_PROXY) for REST APIs: the version 1.0 event a function gets,
and the function's answer read back as HTTP (anything but a proxy response is API Gateway's 502)."""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from local.runner.rest_api_spec import MethodSpec

if TYPE_CHECKING:
    from local.runner.apigateway import Request, RestApi


def proxy_event(
    api: RestApi,
    request: Request,
    spec: MethodSpec,
    *,
    stage: str,
    path: str,
    query: str,
    params: dict[str, str],
    signer: str | None,
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
    binary = bool(body) and any(fnmatch.fnmatch(content_type, t) for t in api.spec.binary_media_types)
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
        "stageVariables": api.spec.stages[stage] or None,
        "requestContext": {
            "resourceId": spec.resource_id or "root",
            "resourcePath": spec.path,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": api.account,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": host.split(".")[0],
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": request_id,
            "identity": _identity(api, request.source_ip, request.header("user-agent"), signer),
            "domainName": host,
            "apiId": api.api_id,
        },
        "body": (base64.b64encode(body).decode() if binary else body.decode(errors="replace")) if body else None,
        "isBase64Encoded": binary,
    }


def _identity(api: RestApi, source_ip: str, user_agent: str | None, signer: str | None) -> dict[str, Any]:
    who = api.identity if signer else None
    return {
        "cognitoIdentityPoolId": None,
        "accountId": who.account if who else None,
        "cognitoIdentityId": None,
        "caller": who.user_id if who else None,
        "sourceIp": source_ip,
        "principalOrgId": None,
        "accessKey": signer,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": who.arn if who else None,
        "userAgent": user_agent,
        "user": who.user_id if who else None,
    }


def proxy_response(answer: Any) -> tuple[int, list[tuple[str, str]], bytes] | None:
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
    return int(answer.get("statusCode", 200)), [(k, v) for k, vs in headers.items() for v in vs], raw
