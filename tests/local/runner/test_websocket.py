"""The runner reads the synthesized template's WebSocket API: its routes, authorization, integrations
and stage; and points the functions' callback-URL variable at its local @connections endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from local.runner.deployed import CallerIdentity, Credentials
from local.runner.sigv4 import SigV4Verifier
from local.runner.template import StackTemplate
from local.runner.websocket import WebSocketApi
from local.runner.websocket_spec import WebSocketApiSpec, local_variables, websocket_apis
from tests.infrastructure.helpers import logical_id
from tests.support.app import SynthesizedApp


@pytest.fixture(scope="module")
def template(synthesized: SynthesizedApp) -> StackTemplate:
    return StackTemplate(json.loads(synthesized.template_path.read_text()), synthesized.outdir)


@pytest.fixture(scope="module")
def spec(template: StackTemplate) -> WebSocketApiSpec:
    (found,) = websocket_apis(template)
    return found


@pytest.fixture
def api(spec: WebSocketApiSpec) -> Iterator[WebSocketApi]:
    server = WebSocketApi(
        spec,
        api_id="abc123",
        functions={},
        verifier=SigV4Verifier(Credentials("testing", "testing"), "us-east-1"),
        identity=CallerIdentity("123456789012", "arn:aws:iam::123456789012:user/moto", "AIDA"),
        account="123456789012",
    )
    yield server
    server.stop()


def test_the_websocket_api_is_read_from_the_template(spec: WebSocketApiSpec, synthesized: SynthesizedApp) -> None:
    handler = logical_id(synthesized.stack, "LiveUpdates/ConnectionsHandler/Function")
    job_routes = logical_id(synthesized.stack, "JobFunctions/LiveRoutes/Function")  # hybrid jobs' own function

    assert spec.logical_id == logical_id(synthesized.stack, "LiveUpdates/Api")
    assert spec.route_selection_expression == "$request.body.action"
    assert spec.stages == {"live": {}}
    assert {key: (r.authorization, r.integration, r.function_id) for key, r in spec.routes.items()} == {
        "$connect": ("AWS_IAM", "AWS_PROXY", handler),
        **dict.fromkeys(("$disconnect", "subscribe", "unsubscribe", "$default"), ("NONE", "AWS_PROXY", handler)),
        **dict.fromkeys(("subscribeJobs", "unsubscribeJobs"), ("NONE", "AWS_PROXY", job_routes)),
    }


def test_only_the_variable_holding_this_apis_callback_url_is_pointed_at_the_local_endpoint(
    api: WebSocketApi, template: StackTemplate, synthesized: SynthesizedApp
) -> None:
    pusher = logical_id(synthesized.stack, "LiveUpdates/Pusher/Function")
    declared: dict[str, Any] = template.resources[pusher]["Properties"]["Environment"]["Variables"]
    # As moto's CloudFormation resolves them (it has no WebSocket APIs: the API's Ref is "None").
    deployed = dict.fromkeys(declared, "resolved") | {
        "CONNECTIONS_ENDPOINT": "https://None.execute-api.us-east-1.amazonaws.com/live"
    }

    local = local_variables(
        deployed, declared | {"ELSEWHERE": "https://x.execute-api.us-east-1.amazonaws.com/live"}, [api]
    )

    assert local == deployed | {"CONNECTIONS_ENDPOINT": f"http://127.0.0.1:{api.management_port}/live"}
    assert api.url("live") == f"ws://127.0.0.1:{api.port}/live"


@pytest.fixture
def bare() -> Iterator[WebSocketApi]:
    """A WebSocket API with a stage and no routes (nothing to authorize or invoke), and short limits."""
    server = WebSocketApi(
        WebSocketApiSpec("Bare", "$request.body.action", {"live": {}}, {}),
        api_id="bare",
        functions={},
        verifier=SigV4Verifier(Credentials("testing", "testing"), "us-east-1"),
        identity=CallerIdentity("123456789012", "arn:aws:iam::123456789012:user/moto", "AIDA"),
        account="123456789012",
        idle_timeout=0.5,
    )
    server.start()
    yield server
    server.stop()


def test_an_idle_connection_is_closed_going_away(bare: WebSocketApi) -> None:
    with connect(bare.url("live")) as connection, pytest.raises(ConnectionClosed) as closed:
        connection.recv(timeout=30)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def test_a_message_over_128_kb_closes_the_connection_as_too_big(bare: WebSocketApi) -> None:
    with connect(bare.url("live"), max_size=None) as connection:
        connection.send("x" * (128 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=30)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_without_a_route_for_it_a_message_is_answered_forbidden(bare: WebSocketApi) -> None:
    with connect(bare.url("live")) as connection:
        connection.send('{"action": "subscribe"}')
        answer = json.loads(connection.recv(timeout=30))

    assert answer["message"] == "Forbidden"
    assert set(answer) == {"message", "connectionId", "requestId"}


def test_an_unknown_stage_is_refused(bare: WebSocketApi) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(bare.url("prod")).__enter__()

    assert refused.value.response.status_code == 403
