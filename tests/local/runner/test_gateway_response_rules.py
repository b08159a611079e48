"""Gateway response precedence, template selection and `$context` rendering, and how validation settings are
read from the template: RestApi.handle on hand-made requests (no server, no moto, no function)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local.runner.apigateway import Request, RestApi
from local.runner.deployed import CallerIdentity, Credentials
from local.runner.gateway_responses import escape_javascript, render
from local.runner.rest_api_spec import rest_apis
from local.runner.sigv4 import SigV4Verifier
from local.runner.template import StackTemplate

API = {"Ref": "Api"}
ROOT = {"Fn::GetAtt": ["Api", "RootResourceId"]}


def _template(gateway_responses: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "api"}},
        "Items": {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {"RestApiId": API, "ParentId": ROOT, "PathPart": "items"},
        },
        "Validator": {
            "Type": "AWS::ApiGateway::RequestValidator",
            "Properties": {"RestApiId": API, "ValidateRequestBody": "true", "ValidateRequestParameters": "false"},
        },
        "PostItem": {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": API,
                "ResourceId": {"Ref": "Items"},
                "HttpMethod": "POST",
                "AuthorizationType": "NONE",
                "RequestValidatorId": {"Ref": "Validator"},
                "RequestParameters": {"method.request.querystring.q": True},
                "RequestModels": {"application/json": "ItemModel"},
                "Integration": {"Type": "MOCK"},
            },
        },
        "Model": {
            "Type": "AWS::ApiGateway::Model",
            "Properties": {
                "RestApiId": API,
                "Name": "ItemModel",
                "ContentType": "application/json",
                "Schema": json.dumps({"type": "object", "required": ["name"]}),  # a JSON string is allowed too
            },
        },
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"RestApiId": API, "StageName": "v1"}},
        **extra,
    }
    for kind, properties in gateway_responses.items():
        resources[f"Response{kind}"] = {
            "Type": "AWS::ApiGateway::GatewayResponse",
            "Properties": {"RestApiId": API, "ResponseType": kind, **properties},
        }
    return {"Resources": resources}


def _api(template: dict[str, Any], tmp_path: Path) -> RestApi:
    (spec,) = rest_apis(StackTemplate(template, tmp_path))
    return RestApi(
        spec,
        api_id="a1b2c3",
        functions={},
        verifier=SigV4Verifier(Credentials("testing", "testing"), "us-east-1"),
        identity=CallerIdentity("123456789012", "arn:aws:iam::123456789012:user/dev", "AIDA"),
        account="123456789012",
    )


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Any]:
    made: list[RestApi] = []

    def make(gateway_responses: dict[str, dict[str, Any]], **extra: Any) -> RestApi:
        made.append(_api(_template(gateway_responses, **extra), tmp_path))
        return made[-1]

    yield make
    for api in made:
        api.server.server_close()


def _request(method: str, target: str, body: bytes = b"", **headers: str) -> Request:
    return Request(method, target, [(k.replace("_", "-"), v) for k, v in headers.items()], body, "10.0.0.1")


def test_the_template_is_read_as_cdk_and_cloudformation_write_it(tmp_path: Path) -> None:
    (spec,) = rest_apis(StackTemplate(_template({"DEFAULT_4XX": {"StatusCode": "418"}}), tmp_path))
    (method,) = spec.methods

    assert (method.validate_body, method.validate_parameters) == (True, False)
    assert method.request_parameters == {"method.request.querystring.q": True}
    assert method.request_models == {"application/json": {"type": "object", "required": ["name"]}}
    assert spec.gateway_responses["DEFAULT_4XX"].status_code == 418


def test_validation_before_the_integration_and_parameters_only_when_asked(make_api: Any) -> None:
    api = make_api({})
    refused = api.handle(_request("POST", "/v1/items", b"{}"))
    passed = api.handle(_request("POST", "/v1/items", b'{"name": "x"}'))  # no ?q=: parameters are not validated

    assert (refused.status, json.loads(refused.body)) == (400, {"message": "Invalid request body"})
    assert (passed.status, json.loads(passed.body)) == (500, {"message": "Internal server error"})  # MOCK: no function


@pytest.mark.parametrize(
    ("responses", "status"),
    [
        ({}, 400),
        ({"DEFAULT_4XX": {"StatusCode": "418"}}, 418),
        ({"DEFAULT_4XX": {"StatusCode": "418"}, "BAD_REQUEST_BODY": {"StatusCode": "422"}}, 422),
        (
            {
                "DEFAULT_4XX": {"StatusCode": "418"},
                "BAD_REQUEST_BODY": {"ResponseTemplates": {"application/json": "{}"}},
            },
            418,
        ),
        ({"DEFAULT_5XX": {"StatusCode": "503"}}, 400),
    ],
    ids=["built-in", "default 4xx status", "own status first", "own response, default status", "5xx default unused"],
)
def test_status_precedence(make_api: Any, responses: dict[str, dict[str, Any]], status: int) -> None:
    assert make_api(responses).handle(_request("POST", "/v1/items", b"[]")).status == status


def test_own_template_first_then_the_default_then_the_built_in(make_api: Any) -> None:
    own = {"ResponseTemplates": {"application/json": '{"own": "$context.error.responseType"}'}}
    default = {"ResponseTemplates": {"application/json": '{"default": "$context.error.responseType"}'}}
    with_both = make_api({"BAD_REQUEST_BODY": own, "DEFAULT_4XX": default})
    with_default = make_api({"DEFAULT_4XX": default, "DEFAULT_5XX": own})

    assert json.loads(with_both.handle(_request("POST", "/v1/items", b"[]")).body) == {"own": "BAD_REQUEST_BODY"}
    assert json.loads(with_default.handle(_request("POST", "/v1/items", b"[]")).body) == {"default": "BAD_REQUEST_BODY"}
    missing = with_default.handle(_request("GET", "/v1/nothing"))
    assert (missing.status, json.loads(missing.body)) == (403, {"default": "MISSING_AUTHENTICATION_TOKEN"})


def test_template_chosen_by_accept_else_json_and_its_content_type(make_api: Any) -> None:
    templates = {"application/json": '{"as": "json"}', "application/xml": "<error>$context.error.message</error>"}
    api = make_api({"BAD_REQUEST_BODY": {"ResponseTemplates": templates}})

    xml = api.handle(_request("POST", "/v1/items", b"[]", Accept="application/xml"))
    other = api.handle(_request("POST", "/v1/items", b"[]", Accept="text/html"))

    assert (xml.body, dict(xml.headers)["Content-Type"]) == (b"<error>Invalid request body</error>", "application/xml")
    assert (other.body, dict(other.headers)["Content-Type"]) == (b'{"as": "json"}', "application/json")


def test_response_headers_from_literals_request_and_stage_variables(make_api: Any) -> None:
    parameters = {
        "gatewayresponse.header.X-Literal": "'fixed value'",
        "gatewayresponse.header.X-Query": "method.request.querystring.q",
        "gatewayresponse.header.X-Trace": "method.request.header.X-Trace",
        "gatewayresponse.header.X-Absent": "method.request.header.X-Absent",
        "gatewayresponse.header.X-Unsupported": "context.requestId",
    }
    api = make_api({"BAD_REQUEST_BODY": {"ResponseParameters": parameters}})

    answer = api.handle(_request("POST", "/v1/items?q=7", b"[]", X_Trace="t-1"))

    headers = dict(answer.headers)
    assert (headers["X-Literal"], headers["X-Query"], headers["X-Trace"]) == ("fixed value", "7", "t-1")
    assert "X-Absent" not in headers and "X-Unsupported" not in headers
    assert headers["x-amzn-ErrorType"] == "BadRequestException"


def test_an_invalid_model_schema_stops_the_api_as_a_deployment_would(tmp_path: Path) -> None:
    template = _template({})
    template["Resources"]["Model"]["Properties"]["Schema"] = {"type": "no-such-type"}

    with pytest.raises(ValueError, match="not a valid JSON Schema draft 4"):
        _api(template, tmp_path)


def test_context_variables_in_every_vtl_spelling() -> None:
    variables = {"requestId": "r-1", "error.messageString": '"a \\"b\\""', "error.message": 'a "b"'}
    template = (
        "$context.requestId ${context.requestId} $!context.requestId $context.error.messageString. "
        '"$util.escapeJavaScript($context.error.message)"'
    )

    assert render(template, variables, "test") == 'r-1 r-1 r-1 "a \\"b\\"". "a \\"b\\""'


@given(st.text())
def test_escaped_message_inside_a_json_string_reads_back_unless_it_has_single_quotes(text: str) -> None:
    escaped = escape_javascript(text)
    assert all(32 <= ord(c) < 127 for c in escaped)
    if "'" not in text:
        assert json.loads(f'"{escaped}"') == text


def test_a_body_over_the_10_mb_quota_is_request_too_large_before_anything_else(make_api: Any) -> None:
    api = make_api(
        {"DEFAULT_4XX": {"ResponseTemplates": {"application/json": '{"type": "$context.error.responseType"}'}}}
    )
    limit = 10 * 1024 * 1024

    too_large = api.handle(_request("POST", "/v1/nowhere", b" " * (limit + 1)))
    item = b'{"name": "x"}'
    at_limit = api.handle(_request("POST", "/v1/items", item + b" " * (limit - len(item))))

    assert (too_large.status, json.loads(too_large.body)) == (413, {"type": "REQUEST_TOO_LARGE"})
    assert at_limit.status == 500  # validated, then the MOCK integration: no function
