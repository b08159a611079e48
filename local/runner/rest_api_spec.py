"""What the runner reads from a synthesized template about REST APIs (AWS::ApiGateway::*): stages, methods
and their integrations, request validation (validators, models, parameters) and gateway responses."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from local.runner.template import StackTemplate, ref_target, referenced_ids

logger = logging.getLogger("local.runner")


@dataclass(frozen=True)
class MethodSpec:
    resource_id: str | None  # the AWS::ApiGateway::Resource, None for the root resource
    path: str  # the resource path, e.g. /tasks/{id}
    http_method: str  # GET, POST, ..., ANY
    authorization: str  # NONE, AWS_IAM, ...
    integration: str  # AWS_PROXY, MOCK, ...
    function_id: str | None
    # request validation: the method's RequestValidator, its models by content type, its parameters
    validate_body: bool = False
    validate_parameters: bool = False
    request_models: dict[str, dict[str, Any]] = field(default_factory=dict)  # content type -> JSON Schema
    request_parameters: dict[str, bool] = field(default_factory=dict)  # method.request.querystring.x -> required


@dataclass(frozen=True)
class RestApiSpec:
    logical_id: str
    stages: dict[str, dict[str, str]]  # stage name -> stage variables
    binary_media_types: tuple[str, ...]
    methods: tuple[MethodSpec, ...]
    gateway_responses: dict[str, GatewayResponseSpec] = field(default_factory=dict)  # by ResponseType


@dataclass(frozen=True)
class GatewayResponseSpec:
    """An AWS::ApiGateway::GatewayResponse: what API Gateway answers, for one type of its own errors."""

    response_type: str  # MISSING_AUTHENTICATION_TOKEN, BAD_REQUEST_BODY, DEFAULT_4XX, ...
    status_code: int | None
    parameters: dict[str, str]  # gatewayresponse.header.NAME -> 'literal' or method.request.header.X ...
    templates: dict[str, str]  # content type -> template


# API Gateway's predefined models, as every REST API has them (GetModels on a new API).
BUILT_IN_MODELS: dict[str, dict[str, Any]] = {
    "Empty": {"$schema": "http://json-schema.org/draft-04/schema#", "title": "Empty Schema", "type": "object"},
    "Error": {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "Error Schema",
        "type": "object",
        "properties": {"message": {"type": "string"}},
    },
}


def rest_apis(template: StackTemplate) -> list[RestApiSpec]:
    specs = []
    for api_id, resource in template.of_type("AWS::ApiGateway::RestApi").items():
        props = resource.get("Properties", {})
        methods = tuple(
            _method(template, m["Properties"])
            for m in template.of_type("AWS::ApiGateway::Method").values()
            if ref_target(m.get("Properties", {}).get("RestApiId")) == api_id
        )
        specs.append(
            RestApiSpec(
                logical_id=api_id,
                stages=_stages(template, api_id),
                binary_media_types=tuple(t.replace("~1", "/") for t in props.get("BinaryMediaTypes", [])),
                methods=methods,
                gateway_responses=_gateway_responses(template, api_id),
            )
        )
    return specs


def _stages(template: StackTemplate, api_id: str) -> dict[str, dict[str, str]]:
    stages: dict[str, dict[str, str]] = {}
    for kind in ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"):
        for resource in template.of_type(kind).values():
            props = resource.get("Properties", {})
            if ref_target(props.get("RestApiId")) == api_id and isinstance(props.get("StageName"), str):
                stages.setdefault(props["StageName"], dict(props.get("Variables") or {}))
    return stages


def _method(template: StackTemplate, props: dict[str, Any]) -> MethodSpec:
    resource_id = ref_target(props.get("ResourceId"))
    if template.type_of(resource_id) != "AWS::ApiGateway::Resource":
        resource_id = None  # Fn::GetAtt [Api, RootResourceId]
    integration = props.get("Integration") or {}
    function_id = next(
        (f for f in map(template.function_id, _refs(integration.get("Uri"))) if f is not None),
        None,
    )
    return MethodSpec(
        resource_id=resource_id,
        path=_resource_path(template, resource_id),
        http_method=str(props.get("HttpMethod", "")).upper(),
        authorization=str(props.get("AuthorizationType", "NONE")).upper(),
        integration=str(integration.get("Type", "")).upper(),
        function_id=function_id,
        **_request_validation(template, props),
    )


def _resource_path(template: StackTemplate, resource_id: str | None) -> str:
    parts: list[str] = []
    while resource_id is not None and template.type_of(resource_id) == "AWS::ApiGateway::Resource":
        props = template.resources[resource_id]["Properties"]
        parts.insert(0, str(props["PathPart"]))
        resource_id = ref_target(props.get("ParentId"))
    return "/" + "/".join(parts)


def _request_validation(template: StackTemplate, props: dict[str, Any]) -> dict[str, Any]:
    """A method's RequestValidatorId, RequestModels and RequestParameters, as MethodSpec fields."""
    validator_id = ref_target(props.get("RequestValidatorId"))
    validator = (template.resources.get(validator_id or "") or {}).get("Properties", {})
    if validator_id is not None and template.type_of(validator_id) != "AWS::ApiGateway::RequestValidator":
        logger.warning("Method %s: RequestValidatorId names no RequestValidator, nothing validated", validator_id)
    api_id = ref_target(props.get("RestApiId"))
    models = {}
    for content_type, model in (props.get("RequestModels") or {}).items():
        schema = _model_schema(template, api_id, model)
        if schema is None:
            logger.warning("Method model %s for %s: not found in the template, not validated", model, content_type)
        else:
            models[str(content_type).lower()] = schema
    return {
        "validate_body": _true(validator.get("ValidateRequestBody")),
        "validate_parameters": _true(validator.get("ValidateRequestParameters")),
        "request_models": models,
        "request_parameters": {str(k): _true(v) for k, v in (props.get("RequestParameters") or {}).items()},
    }


def _model_schema(template: StackTemplate, api_id: str | None, model: Any) -> dict[str, Any] | None:
    """The JSON Schema of a model named by Ref (CDK), or by its Name (a string), or a built-in model."""
    model_id = ref_target(model)
    if model_id is None and isinstance(model, str):
        model_id = next(
            (
                k
                for k, r in template.of_type("AWS::ApiGateway::Model").items()
                if r.get("Properties", {}).get("Name") == model
                and ref_target(r.get("Properties", {}).get("RestApiId")) == api_id
            ),
            None,
        )
        if model_id is None:
            return BUILT_IN_MODELS.get(model)
    if template.type_of(model_id) != "AWS::ApiGateway::Model":
        return None
    schema = template.resources[model_id or ""].get("Properties", {}).get("Schema")
    if isinstance(schema, str):  # CloudFormation takes the schema as an object or as a JSON string
        schema = json.loads(schema)
    return schema if isinstance(schema, dict) else None


def _gateway_responses(template: StackTemplate, api_id: str) -> dict[str, GatewayResponseSpec]:
    responses = {}
    for resource in template.of_type("AWS::ApiGateway::GatewayResponse").values():
        props = resource.get("Properties", {})
        if ref_target(props.get("RestApiId")) != api_id:
            continue
        kind = str(props.get("ResponseType", ""))
        status = props.get("StatusCode")
        responses[kind] = GatewayResponseSpec(
            response_type=kind,
            status_code=None if status in (None, "") else int(status),
            parameters={str(k): str(v) for k, v in (props.get("ResponseParameters") or {}).items()},
            templates={str(k).lower(): str(v) for k, v in (props.get("ResponseTemplates") or {}).items()},
        )
    return responses


def _true(value: Any) -> bool:
    """A CloudFormation boolean: true, or the string "true" (any case)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _refs(value: Any) -> Iterator[dict[str, str]]:
    for logical_id in referenced_ids(value):
        yield {"Ref": logical_id}
