"""API Gateway WebSocket proxy events ($connect, $disconnect, message routes), mapped to what the
live-updates service needs. Only the fields we rely on are read; a missing one is an error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class InvalidWebSocketEvent(ValueError):
    """Not an API Gateway WebSocket proxy event: a deployment problem, not a client's."""


@dataclass(frozen=True)
class WebSocketEvent:
    route_key: str
    connection_id: str
    connected_at_ms: int  # requestContext.connectedAt, epoch milliseconds
    request_id: str
    principal: str | None  # requestContext.identity.userArn: only on $connect, with IAM authorization
    body: str | None


def parse_websocket_event(event: Mapping[str, Any]) -> WebSocketEvent:
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        raise InvalidWebSocketEvent("the event has no requestContext")
    try:
        route_key = str(context["routeKey"])
        connection_id = str(context["connectionId"])
        connected_at = int(context["connectedAt"])
        request_id = str(context.get("requestId") or "")
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidWebSocketEvent(f"the requestContext lacks {exc}") from None
    identity = context.get("identity") or {}
    principal = identity.get("userArn") if isinstance(identity, Mapping) else None
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        body = None  # binary frames carry no JSON action: the $default route answers them
    return WebSocketEvent(
        route_key=route_key,
        connection_id=connection_id,
        connected_at_ms=connected_at,
        request_id=request_id,
        principal=str(principal) if principal else None,
        body=body if isinstance(body, str) else None,
    )
