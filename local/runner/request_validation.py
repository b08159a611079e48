"""A REST API method's request validation: its required parameters, and its body against the model of
its content type (JSON Schema draft 4), phrased as API Gateway's validator phrases its errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jsonschema import Draft4Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError, ValidationError  # type: ignore[import-untyped]

from local.runner.rest_api_spec import RestApiSpec

if TYPE_CHECKING:
    from local.runner.apigateway import Request

logger = logging.getLogger("local.runner")

_SHOWN = 100  # characters of a value quoted in a validation error


def schema_key(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True)


def model_validators(spec: RestApiSpec) -> dict[str, Any]:
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
            validators[schema_key(schema)] = Draft4Validator(schema)
    return validators


def missing_parameters(
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


def body_problems(validator: Any, body: bytes) -> list[str]:
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
