"""Braket's REST-JSON protocol, read from botocore's own service model: routes, signing Region, input checks."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StringShape, StructureShape

from local.braket.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MethodNotAllowedException,
    MissingAuthenticationTokenException,
    SerializationException,
    UnknownOperationException,
    ValidationException,
)

SERVICE = "braket"
_CREDENTIAL = re.compile(
    r"Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)/aws4_request"
)
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "long": (int,),
    "integer": (int,),
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
}


@dataclass(frozen=True)
class Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Request:
    """One decoded request: which operation, in which Region, with which validated input."""

    operation: str
    region: str
    params: dict[str, Any]


class Protocol:
    """Maps HTTP requests to operations of the Braket service model and checks their input against it."""

    def __init__(self, operations: frozenset[str]) -> None:
        self.model = botocore.session.get_session().get_service_model(SERVICE)
        self.routes: list[Route] = []
        for name in self.model.operation_names:
            if name in operations:
                operation = self.model.operation_model(name)
                self.routes.append(
                    Route(operation, operation.http["method"], _uri_pattern(operation.http["requestUri"]))
                )

    def decode(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Request:
        path, _, query = raw_path.partition("?")
        region = signing_region(headers.get("authorization"), parse_qs(query))
        operation, labels = self._route(method, path)
        params = _input(operation, labels, parse_qs(query, keep_blank_values=True), headers, body)
        errors = validate(operation.input_shape, params) if operation.input_shape is not None else []
        if errors:
            raise ValidationException(_validation_message(errors))
        return Request(operation.name, region, params)

    def _route(self, method: str, path: str) -> tuple[OperationModel, dict[str, str]]:
        allowed: list[str] = []
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            if route.method == method:
                return route.operation, {k: unquote(v) for k, v in match.groupdict().items()}
            allowed.append(route.method)
        if allowed:
            raise MethodNotAllowedException(f"{method} is not allowed on {path}; use {', '.join(sorted(set(allowed)))}")
        raise UnknownOperationException(f"No operation matches {method} {path}")


def _uri_pattern(request_uri: str) -> re.Pattern[str]:
    """'/quantum-task/{quantumTaskArn}/cancel' -> a regex over the raw (still percent-encoded) path."""
    template = request_uri.split("?", 1)[0]
    parts = re.split(r"\{([A-Za-z0-9_]+)\+?\}", template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+)" for i, part in enumerate(parts))
    return re.compile(regex)  # matched over the whole path


def signing_region(authorization: str | None, query: dict[str, list[str]]) -> str:
    """The Region of the SigV4 credential scope (header, or a presigned URL's X-Amz-Credential)."""
    if authorization is None and "X-Amz-Credential" in query:
        authorization = "Credential=" + query["X-Amz-Credential"][0]
    if not authorization:
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    match = _CREDENTIAL.search(authorization)
    if match is None:
        raise IncompleteSignatureException(
            "Authorization header requires a SigV4 'Credential=KEY/DATE/REGION/SERVICE/aws4_request' scope"
        )
    if match["service"] != SERVICE:
        raise InvalidSignatureException(f"Credential should be scoped to correct service: '{SERVICE}'.")
    return match["region"]


def access_key_id(authorization: str | None, path: str) -> str | None:
    """The access key id that signed a request (Authorization header, or a presigned URL's X-Amz-Credential)."""
    if authorization is None:
        credential = parse_qs(path.partition("?")[2]).get("X-Amz-Credential")
        authorization = "Credential=" + credential[0] if credential else None
    match = _CREDENTIAL.search(authorization or "")
    return match["key"] if match else None


def scope_region(authorization: str | None) -> str | None:
    match = _CREDENTIAL.search(authorization or "")
    return match["region"] if match else None


def _input(
    operation: OperationModel, labels: dict[str, str], query: dict[str, list[str]], headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    shape = operation.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    if body.strip():
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SerializationException(f"The request body is not valid JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise SerializationException("The request body must be a JSON object")
        params.update({k: v for k, v in document.items() if k in shape.members and _in_body(shape.members[k])})
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        key = member.serialization.get("name", name)
        if location == "uri" and key in labels:
            params[name] = labels[key]
        elif location == "querystring" and key in query:
            params[name] = query[key] if member.type_name == "list" else query[key][0]
        elif location == "header" and key.lower() in headers:
            params[name] = headers[key.lower()]
    return params


def _in_body(member: Shape) -> bool:
    return member.serialization.get("location") is None


def validate(shape: Shape, value: Any, path: str = "") -> list[str]:
    """Constraint violations of a value against a model shape, phrased as AWS phrases them."""
    if value is None:
        return []
    expected = _PYTHON_TYPES.get(shape.type_name)
    if expected is not None and (not isinstance(value, expected) or (bool not in expected and isinstance(value, bool))):
        raise SerializationException(f"Expected a {shape.type_name} at '{path or 'input'}', got {type(value).__name__}")
    errors = _limits(shape, value, path)
    if isinstance(shape, StringShape) and shape.enum and value not in shape.enum:
        errors.append(_violation(value, path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"))
    elif isinstance(shape, StringShape) and "pattern" in shape.metadata and not _matches(shape, value):
        errors.append(
            _violation(value, path, f"Member must satisfy regular expression pattern: {shape.metadata['pattern']}")
        )
    elif isinstance(shape, StructureShape):
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(_violation(None, _join(path, name), "Member must not be null"))
        for name, member in shape.members.items():
            errors += validate(member, value.get(name), _join(path, name))
    elif isinstance(shape, ListShape):
        for i, item in enumerate(value):
            errors += validate(shape.member, item, f"{path}.{i + 1}.member")
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            errors += validate(shape.key, key, f"{path}.key") + validate(shape.value, item, f"{path}.{key}")
    return errors


def _limits(shape: Shape, value: Any, path: str) -> list[str]:
    """min and max: a length for strings, lists and maps; a value for numbers."""
    if shape.type_name in {"string", "list", "map"}:
        measure, noun = len(value), "length"
    elif shape.type_name in {"long", "integer"}:
        measure, noun = value, "value"
    else:
        return []
    errors = []
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and measure < low:
        errors.append(_violation(value, path, f"Member must have {noun} greater than or equal to {low}"))
    if high is not None and measure > high:
        errors.append(_violation(value, path, f"Member must have {noun} less than or equal to {high}"))
    return errors


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)  # Java's \d and \w, which the model's patterns are written for, are ASCII


def _matches(shape: StringShape, value: str) -> bool:
    """The model's pattern over the whole string (Java's String.matches, as AWS validates)."""
    return _compiled(shape.metadata["pattern"]).fullmatch(value) is not None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _violation(value: Any, path: str, constraint: str) -> str:
    text = str(value)
    shown = "null" if value is None else f"'{text[:100]}...'" if len(text) > 100 else f"'{text}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def _validation_message(errors: list[str]) -> str:
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} validation {noun} detected: " + "; ".join(errors)
