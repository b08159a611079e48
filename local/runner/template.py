"""What the runner reads from a synthesized template: functions, event source mappings, schedules.

Everything is read from the ORIGINAL template (the one with event source mappings), so functions
and mappings added to the stack later are picked up without changes here. Values that CloudFormation
resolves at deploy time (Refs, Fn::GetAtt) are kept raw; `deployed.py` turns them into physical values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger("local.runner")

ASSET_PATH_METADATA = "aws:asset:path"
DEFAULT_TIMEOUT = 3  # seconds, Lambda's default
DEFAULT_MEMORY = 128  # MB, Lambda's default
TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")


def ref_target(value: Any) -> str | None:
    """The logical id that a `Ref` or `Fn::GetAtt` names; None for anything else."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att:
            return str(att[0])
        if isinstance(att, str):
            return att.split(".", 1)[0]
    return None


def attribute_of(value: Any) -> str | None:
    """The attribute a `Fn::GetAtt` asks for (`Arn`, `StreamArn`...); None for a `Ref` or a literal."""
    att = value.get("Fn::GetAtt") if isinstance(value, dict) else None
    if isinstance(att, list) and len(att) == 2:
        return str(att[1])
    if isinstance(att, str) and "." in att:
        return att.split(".", 1)[1]
    return None


def referenced_ids(value: Any) -> Iterator[str]:
    """Every logical id referenced anywhere inside an expression (e.g. an integration URI's Fn::Join)."""
    target = ref_target(value)
    if target is not None:
        yield target
    elif isinstance(value, dict):
        for item in value.values():
            yield from referenced_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from referenced_ids(item)


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    code: Path | None
    log_group: Any  # LoggingConfig.LogGroup, raw (usually a Ref)


@dataclass(frozen=True)
class MappingSpec:
    """An AWS::Lambda::EventSourceMapping, with Lambda's defaults for what the template leaves out."""

    logical_id: str
    function_id: str
    source: Any  # EventSourceArn, raw
    kind: str  # "sqs" or "stream"
    enabled: bool
    batch_size: int
    batching_window: float
    filters: tuple[str, ...]
    report_batch_item_failures: bool
    max_concurrency: int | None  # SQS: ScalingConfig.MaximumConcurrency
    starting_position: str  # streams
    max_retries: int  # streams: -1 is infinite
    bisect: bool  # streams
    on_failure: Any  # streams: DestinationConfig.OnFailure.Destination, raw


@dataclass(frozen=True)
class TargetSpec:
    target_id: str
    function_id: str
    input: str | None
    input_path: str | None
    input_transformer: bool


@dataclass(frozen=True)
class ScheduleSpec:
    logical_id: str
    expression: str
    enabled: bool
    targets: tuple[TargetSpec, ...]


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


class StackTemplate:
    """A synthesized template and its cdk.out directory."""

    def __init__(self, template: dict[str, Any], cdk_out: Path) -> None:
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.cdk_out = Path(cdk_out)

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") in types}

    def type_of(self, logical_id: str | None) -> str | None:
        resource = self.resources.get(logical_id or "")
        return None if resource is None else str(resource.get("Type"))

    def function_id(self, value: Any) -> str | None:
        """The function a FunctionName / target Arn names: directly, or through an alias or version."""
        for _ in range(3):
            target = ref_target(value)
            kind = self.type_of(target)
            if kind == "AWS::Lambda::Function":
                return target
            if kind not in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
                return None
            value = self.resources[target or ""]["Properties"].get("FunctionName")
        return None

    # -- functions ---------------------------------------------------------------------------------

    def functions(self) -> list[FunctionSpec]:
        specs = []
        for logical_id, resource in self.of_type("AWS::Lambda::Function").items():
            props = resource.get("Properties", {})
            specs.append(
                FunctionSpec(
                    logical_id=logical_id,
                    handler=str(props.get("Handler", "")),
                    runtime=str(props.get("Runtime", "")),
                    timeout=int(props.get("Timeout", DEFAULT_TIMEOUT)),
                    memory_size=int(props.get("MemorySize", DEFAULT_MEMORY)),
                    code=self._code_path(resource),
                    log_group=(props.get("LoggingConfig") or {}).get("LogGroup"),
                )
            )
        return specs

    def _code_path(self, resource: dict[str, Any]) -> Path | None:
        """The asset of a function: its `aws:asset:path` metadata (as `cdk synth` writes it), else the
        asset whose object key is the function's `Code.S3Key` in the `*.assets.json` manifests (a plain
        `python app.py` synth writes no asset metadata)."""
        asset = (resource.get("Metadata") or {}).get(ASSET_PATH_METADATA)
        if isinstance(asset, str):
            return self.cdk_out / asset
        key = (resource.get("Properties", {}).get("Code") or {}).get("S3Key")
        if not isinstance(key, str):
            return None
        for manifest in sorted(self.cdk_out.glob("*.assets.json")):
            for entry in json.loads(manifest.read_text()).get("files", {}).values():
                if any(d.get("objectKey") == key for d in entry.get("destinations", {}).values()):
                    return self.cdk_out / str(entry["source"]["path"])
        return None

    # -- event source mappings ---------------------------------------------------------------------

    def mappings(self) -> list[MappingSpec]:
        specs = []
        for logical_id, resource in self.of_type("AWS::Lambda::EventSourceMapping").items():
            props = resource.get("Properties", {})
            function_id = self.function_id(props.get("FunctionName"))
            kind = self._source_kind(props.get("EventSourceArn"))
            if function_id is None or kind is None:
                logger.warning("Event source mapping %s: unsupported source or function, not run", logical_id)
                continue
            filters = tuple(
                f["Pattern"] for f in (props.get("FilterCriteria") or {}).get("Filters", []) if f.get("Pattern")
            )
            specs.append(
                MappingSpec(
                    logical_id=logical_id,
                    function_id=function_id,
                    source=props.get("EventSourceArn"),
                    kind=kind,
                    enabled=props.get("Enabled", True) not in (False, "false"),
                    batch_size=int(props.get("BatchSize", 10 if kind == "sqs" else 100)),
                    batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                    filters=filters,
                    report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    max_concurrency=(props.get("ScalingConfig") or {}).get("MaximumConcurrency"),
                    starting_position=str(props.get("StartingPosition", "LATEST")),
                    max_retries=int(props.get("MaximumRetryAttempts", -1)),
                    bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                    on_failure=((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
                )
            )
        return specs

    def _source_kind(self, source: Any) -> str | None:
        kind = self.type_of(ref_target(source))
        if kind == "AWS::SQS::Queue" or (isinstance(source, str) and source.startswith("arn:") and ":sqs:" in source):
            return "sqs"
        if (kind in TABLE_TYPES and attribute_of(source) == "StreamArn") or (
            isinstance(source, str) and ":dynamodb:" in source and "/stream/" in source
        ):
            return "stream"
        return None

    # -- schedules ---------------------------------------------------------------------------------

    def schedules(self) -> list[ScheduleSpec]:
        specs = []
        for logical_id, resource in self.of_type("AWS::Events::Rule").items():
            props = resource.get("Properties", {})
            if not props.get("ScheduleExpression"):
                continue
            targets = []
            for target in props.get("Targets", []):
                function_id = self.function_id(target.get("Arn"))
                if function_id is None:
                    continue  # not a Lambda target: EventBridge (moto) handles the others
                targets.append(
                    TargetSpec(
                        target_id=str(target.get("Id", "")),
                        function_id=function_id,
                        input=target.get("Input"),
                        input_path=target.get("InputPath"),
                        input_transformer="InputTransformer" in target,
                    )
                )
            if targets:
                specs.append(
                    ScheduleSpec(
                        logical_id=logical_id,
                        expression=str(props["ScheduleExpression"]),
                        enabled=props.get("State", "ENABLED") == "ENABLED",
                        targets=tuple(targets),
                    )
                )
        return specs

    # -- REST APIs ---------------------------------------------------------------------------------

    def rest_apis(self) -> list[RestApiSpec]:
        specs = []
        for api_id, resource in self.of_type("AWS::ApiGateway::RestApi").items():
            props = resource.get("Properties", {})
            methods = tuple(
                self._method(m["Properties"])
                for m in self.of_type("AWS::ApiGateway::Method").values()
                if ref_target(m.get("Properties", {}).get("RestApiId")) == api_id
            )
            specs.append(
                RestApiSpec(
                    logical_id=api_id,
                    stages=self._stages(api_id),
                    binary_media_types=tuple(t.replace("~1", "/") for t in props.get("BinaryMediaTypes", [])),
                    methods=methods,
                    gateway_responses=self._gateway_responses(api_id),
                )
            )
        return specs

    def _stages(self, api_id: str) -> dict[str, dict[str, str]]:
        stages: dict[str, dict[str, str]] = {}
        for kind in ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"):
            for resource in self.of_type(kind).values():
                props = resource.get("Properties", {})
                if ref_target(props.get("RestApiId")) == api_id and isinstance(props.get("StageName"), str):
                    stages.setdefault(props["StageName"], dict(props.get("Variables") or {}))
        return stages

    def _method(self, props: dict[str, Any]) -> MethodSpec:
        resource_id = ref_target(props.get("ResourceId"))
        if self.type_of(resource_id) != "AWS::ApiGateway::Resource":
            resource_id = None  # Fn::GetAtt [Api, RootResourceId]
        integration = props.get("Integration") or {}
        function_id = next(
            (f for f in map(self.function_id, _refs(integration.get("Uri"))) if f is not None),
            None,
        )
        return MethodSpec(
            resource_id=resource_id,
            path=self._resource_path(resource_id),
            http_method=str(props.get("HttpMethod", "")).upper(),
            authorization=str(props.get("AuthorizationType", "NONE")).upper(),
            integration=str(integration.get("Type", "")).upper(),
            function_id=function_id,
            **self._request_validation(props),
        )

    def _resource_path(self, resource_id: str | None) -> str:
        parts: list[str] = []
        while resource_id is not None and self.type_of(resource_id) == "AWS::ApiGateway::Resource":
            props = self.resources[resource_id]["Properties"]
            parts.insert(0, str(props["PathPart"]))
            resource_id = ref_target(props.get("ParentId"))
        return "/" + "/".join(parts)

    # -- request validation and gateway responses (REST APIs) ---------------------------------------

    def _request_validation(self, props: dict[str, Any]) -> dict[str, Any]:
        """A method's RequestValidatorId, RequestModels and RequestParameters, as MethodSpec fields."""
        validator_id = ref_target(props.get("RequestValidatorId"))
        validator = (self.resources.get(validator_id or "") or {}).get("Properties", {})
        if validator_id is not None and self.type_of(validator_id) != "AWS::ApiGateway::RequestValidator":
            logger.warning("Method %s: RequestValidatorId names no RequestValidator, nothing validated", validator_id)
        api_id = ref_target(props.get("RestApiId"))
        models = {}
        for content_type, model in (props.get("RequestModels") or {}).items():
            schema = self._model_schema(api_id, model)
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

    def _model_schema(self, api_id: str | None, model: Any) -> dict[str, Any] | None:
        """The JSON Schema of a model named by Ref (CDK), or by its Name (a string), or a built-in model."""
        model_id = ref_target(model)
        if model_id is None and isinstance(model, str):
            model_id = next(
                (
                    k
                    for k, r in self.of_type("AWS::ApiGateway::Model").items()
                    if r.get("Properties", {}).get("Name") == model
                    and ref_target(r.get("Properties", {}).get("RestApiId")) == api_id
                ),
                None,
            )
            if model_id is None:
                return BUILT_IN_MODELS.get(model)
        if self.type_of(model_id) != "AWS::ApiGateway::Model":
            return None
        schema = self.resources[model_id or ""].get("Properties", {}).get("Schema")
        if isinstance(schema, str):  # CloudFormation takes the schema as an object or as a JSON string
            schema = json.loads(schema)
        return schema if isinstance(schema, dict) else None

    def _gateway_responses(self, api_id: str) -> dict[str, GatewayResponseSpec]:
        responses = {}
        for resource in self.of_type("AWS::ApiGateway::GatewayResponse").values():
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
