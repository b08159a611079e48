"""A WebSocket API as the template declares it (routes, integrations, stages), API Gateway's quotas on it,
how a message selects its route, and the function variables that name its callback URL."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local.runner.template import StackTemplate, ref_target, referenced_ids

if TYPE_CHECKING:
    from local.runner.websocket import WebSocketApi

MAX_MESSAGE_BYTES = 128 * 1024
IDLE_TIMEOUT = 600.0
MAX_DURATION = 7200.0


@dataclass(frozen=True)
class RouteSpec:
    route_key: str
    authorization: str  # NONE or AWS_IAM (others are not checked locally)
    integration: str  # AWS_PROXY, MOCK, ...
    function_id: str | None


@dataclass(frozen=True)
class WebSocketApiSpec:
    logical_id: str
    route_selection_expression: str
    stages: dict[str, dict[str, str]]  # stage name -> stage variables
    routes: dict[str, RouteSpec]


def websocket_apis(template: StackTemplate) -> list[WebSocketApiSpec]:
    specs = []
    for api_id, resource in template.of_type("AWS::ApiGatewayV2::Api").items():
        props = resource.get("Properties", {})
        if props.get("ProtocolType") != "WEBSOCKET":
            continue
        integrations = {
            logical_id: r.get("Properties", {})
            for logical_id, r in template.of_type("AWS::ApiGatewayV2::Integration").items()
            if ref_target(r.get("Properties", {}).get("ApiId")) == api_id
        }
        routes: dict[str, RouteSpec] = {}
        for route in template.of_type("AWS::ApiGatewayV2::Route").values():
            route_props = route.get("Properties", {})
            if ref_target(route_props.get("ApiId")) != api_id:
                continue
            integration: dict[str, Any] = next(
                (integrations[i] for i in referenced_ids(route_props.get("Target")) if i in integrations), {}
            )
            uri_ids = referenced_ids(integration.get("IntegrationUri"))
            function_id = next((f for f in (template.function_id({"Ref": i}) for i in uri_ids) if f is not None), None)
            routes[str(route_props["RouteKey"])] = RouteSpec(
                route_key=str(route_props["RouteKey"]),
                authorization=str(route_props.get("AuthorizationType", "NONE")).upper(),
                integration=str(integration.get("IntegrationType", "")).upper(),
                function_id=function_id,
            )
        stages = {
            str(s["Properties"]["StageName"]): dict(s["Properties"].get("StageVariables") or {})
            for s in template.of_type("AWS::ApiGatewayV2::Stage").values()
            if ref_target(s.get("Properties", {}).get("ApiId")) == api_id
        }
        specs.append(
            WebSocketApiSpec(
                logical_id=api_id,
                route_selection_expression=str(props.get("RouteSelectionExpression", "$request.body.action")),
                stages=stages,
                routes=routes,
            )
        )
    return specs


def select_route(expression: str, body: str | None, routes: dict[str, RouteSpec]) -> str | None:
    """The route key a message selects: `$request.body.<path>` evaluated on its JSON body, else `$default`."""
    key: Any = None
    if expression.startswith("$request.body.") and body is not None:
        try:
            key = json.loads(body)
            for part in expression.removeprefix("$request.body.").split("."):
                key = key.get(part) if isinstance(key, dict) else None
        except ValueError:
            key = None
    if isinstance(key, str) and key in routes and not key.startswith("$"):
        return key
    return "$default" if "$default" in routes else None


_CALLBACK_URL = re.compile(r"https://[^/]+\.execute-api\.[^/]+/(?P<stage>[^/]+)/?")


def local_variables(
    variables: dict[str, str], template_variables: dict[str, Any], apis: list[WebSocketApi]
) -> dict[str, str]:
    """A function's variables with each WebSocket stage's callback URL pointed at the local @connections endpoint.

    Only variables whose template value refers to the API and resolved to `https://HOST/STAGE` change.
    """
    changed = dict(variables)
    for name, value in template_variables.items():
        refs = set(referenced_ids(value))
        for api in apis:
            match = _CALLBACK_URL.fullmatch(variables.get(name, ""))
            if api.spec.logical_id in refs and match and match["stage"] in api.spec.stages:
                changed[name] = api.callback_url(match["stage"])
    return changed
