"""The one transform the synthesized template goes through before local mode deploys it into moto.

Local mode deploys the same template `cdk deploy` does, so the two cannot drift. moto's
CloudFormation has limits; each change below is listed in LOCAL_CHANGES (and in the README),
with what local mode does instead.
"""

from __future__ import annotations

import copy
import json
from typing import Any

Template = dict[str, Any]

LOCAL_CHANGES: dict[str, str] = {
    "AWS::Lambda::EventSourceMapping": "removed; the local runner polls the queue or stream and invokes the function "
    "itself (left in, moto would consume the messages without running any code)",
    "Custom:: and AWS::CloudFormation::CustomResource": "removed; they hang moto's stack creation",
    "AWS::CloudWatch::Dashboard": "removed, with its output; moto creates no alarms, which its alarm widget names",
    "AWS::Lambda::Function Layers": "removed; workers import Powertools from the project's virtualenv, pinned to the "
    "layer's release",
    "AWS::KMS::Key Tags": "spelled TagKey/TagValue, the form moto's KMS reads (it fails on CloudFormation's Key/Value)",
    "AWS::SSM::Parameter::Value parameters": "kept if still used; the bootstrap version parameter is seeded in SSM",
    "AWS::SNS::Subscription": "accepted by moto without effect; local mode subscribes each one after deployment "
    "(local.aws), with its filter policy",
    "AWS::SNS::TopicPolicy, AWS::SQS::QueuePolicy, AWS::CloudWatch::Alarm, AWS::ApiGateway::Stage": "accepted by "
    "moto without effect: policies are not enforced, alarms never fire, the runner serves API stages itself",
    "AWS::ApiGatewayV2::* (WebSocket APIs), AWS::ApiGateway::Account, AWS::Lambda::Permission": "accepted by moto "
    "without effect; the runner serves WebSocket APIs from the template's routes, with their @connections endpoint",
    "AWS::Events::Rule with a ScheduleExpression: its Lambda targets": "removed; the local runner fires the schedule "
    "itself (left in, moto's PutEvents would match every event against the rule and fail on the Lambda target)",
    "Outputs with an API's execute-api URL": "the local URL the runner serves that API on "
    "(http://127.0.0.1:PORT/STAGE/ or ws://127.0.0.1:PORT/STAGE), so clients that read the stack's outputs reach "
    "local mode",
}

_REMOVED_TYPES = (
    "AWS::Lambda::EventSourceMapping",
    "AWS::CloudFormation::CustomResource",
    "AWS::CloudWatch::Dashboard",
)


class TemplateError(ValueError):
    """The template cannot run locally as it is (a resource refers to one that local mode removes)."""


def for_local(template: Template, api_urls: dict[str, str] | None = None) -> Template:
    """A copy of `template` that moto's CloudFormation deploys. The input is not changed.

    `api_urls` (API logical id -> local URL) replaces each output that builds that API's execute-api URL."""
    local = copy.deepcopy(template)
    resources: dict[str, Any] = local["Resources"]
    removed = {
        name
        for name, resource in resources.items()
        if resource["Type"] in _REMOVED_TYPES or resource["Type"].startswith("Custom::")
    }
    for name in removed:
        del resources[name]
    for name, resource in resources.items():
        _drop_depends_on(resource, removed)
        if _refers_to(resource, removed):
            raise TemplateError(f"{name} refers to {sorted(removed & _references(resource))}, which local mode removes")
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function":
            properties.pop("Layers", None)
        if resource["Type"] == "AWS::Events::Rule" and properties.get("ScheduleExpression"):
            targets = properties.get("Targets", [])
            properties["Targets"] = [t for t in targets if not _is_function(t.get("Arn"), resources)]
        if resource["Type"] == "AWS::KMS::Key" and "Tags" in properties:
            properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties["Tags"]]
    local["Outputs"] = {
        key: _local_url(output, api_urls or {})
        for key, output in local.get("Outputs", {}).items()
        if not _refers_to(output, removed)
    }
    used = _references(local["Resources"]) | _references(local["Outputs"]) | _references(local.get("Rules", {}))
    local["Parameters"] = {name: p for name, p in local.get("Parameters", {}).items() if name in used}
    return local


def _local_url(output: dict[str, Any], api_urls: dict[str, str]) -> dict[str, Any]:
    """The output as is, or with the local URL of the one API whose execute-api URL it builds."""
    apis = _references(output.get("Value")) & set(api_urls)
    if len(apis) != 1 or ".execute-api." not in json.dumps(output.get("Value")):
        return output
    return {**output, "Value": api_urls[apis.pop()]}


def _is_function(arn: Any, resources: dict[str, Any]) -> bool:
    """A target that is a Lambda function of the template, or a literal function ARN."""
    if isinstance(arn, str):
        return ":lambda:" in arn
    return any(resources.get(name, {}).get("Type") == "AWS::Lambda::Function" for name in _references(arn))


def _drop_depends_on(resource: dict[str, Any], removed: set[str]) -> None:
    depends = resource.get("DependsOn")
    if depends is None:
        return
    kept = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in removed]
    if kept:
        resource["DependsOn"] = kept
    else:
        del resource["DependsOn"]


def _refers_to(node: Any, names: set[str]) -> bool:
    return bool(_references(node) & names)


def _references(node: Any) -> set[str]:
    """Names used by Ref, Fn::GetAtt and Fn::Sub anywhere below `node`."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= {part.split("}")[0].split(".")[0] for part in str(text).split("${")[1:]}
            found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found
