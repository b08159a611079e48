"""What the runner reads from a synthesized template: functions, event source mappings, schedules.

Everything is read from the ORIGINAL template (the one with event source mappings), so functions
and mappings added to the stack later are picked up without changes here. Values that CloudFormation
resolves at deploy time (Refs, Fn::GetAtt) are kept raw; `deployed.py` turns them into physical values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
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
