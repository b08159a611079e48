"""REST API request validation and gateway responses, served by the runner from a template shaped as CDK
synthesizes it: RequestValidator, Model (JSON Schema draft 4), Method RequestParameters / RequestModels,
GatewayResponse. The handler echoes its event with 201, so any other answer proves it was not invoked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any, cast

import pytest

from local.runner import LocalRunner
from tests.local.runner import templates
from tests.local.runner.moto_stack import Deployed
from tests.local.runner.test_apigateway import PROXY_URI, call

TASK_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "SubmitTask",
    "type": "object",
    "required": ["deviceArn", "shots", "program"],
    "additionalProperties": False,
    "properties": {
        "deviceArn": {"type": "string", "pattern": "^arn:aws:braket:"},
        "shots": {"type": "integer", "minimum": 0, "maximum": 100000},
        "program": {"type": "string", "minLength": 1, "maxLength": 64},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
TEXT_SCHEMA = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": ["text"]}
GOOD = {"deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/sv1", "shots": 10, "program": "OPENQASM 3.0;"}
KEY = {"Idempotency-Key": "k-1"}
JSON = {"Content-Type": "application/json"}


def _api(prefix: str, gateway_responses: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One REST API, its resources named `<prefix>...`: validated methods, and the given gateway responses."""
    api = {"Ref": prefix}
    root = {"Fn::GetAtt": [prefix, "RootResourceId"]}

    def resource(parent: Any, part: str) -> dict[str, Any]:
        return {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {"RestApiId": api, "ParentId": parent, "PathPart": part},
        }

    def method(resource: str, http_method: str, **properties: Any) -> dict[str, Any]:
        return {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": api,
                "ResourceId": {"Ref": prefix + resource},
                "HttpMethod": http_method,
                "AuthorizationType": "AWS_IAM",
                "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": PROXY_URI},
                **properties,
            },
        }

    def validator(body: bool, parameters: bool) -> dict[str, Any]:
        return {
            "Type": "AWS::ApiGateway::RequestValidator",
            "Properties": {"RestApiId": api, "ValidateRequestBody": body, "ValidateRequestParameters": parameters},
        }

    def model(content_type: str, schema: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        properties = {"RestApiId": api, "ContentType": content_type, "Schema": schema}
        return {"Type": "AWS::ApiGateway::Model", "Properties": properties | ({"Name": name} if name else {})}

    methods = {
        f"{prefix}SubmitTask": method(
            "Tasks",
            "POST",
            RequestValidatorId={"Ref": f"{prefix}Validator"},
            RequestParameters={"method.request.header.Idempotency-Key": True, "method.request.querystring.dry": False},
            RequestModels={"application/json": {"Ref": f"{prefix}TaskModel"}, "$default": {"Ref": f"{prefix}Text"}},
        ),
        f"{prefix}GetTask": method(
            "Task",
            "GET",
            RequestValidatorId={"Ref": f"{prefix}Validator"},
            RequestParameters={"method.request.path.id": True, "method.request.querystring.include": True},
        ),
        f"{prefix}PostLoose": method(
            "Loose",
            "POST",
            RequestValidatorId={"Ref": f"{prefix}BodyOnly"},
            RequestParameters={"method.request.querystring.x": True},
            RequestModels={"application/json": "Empty"},  # API Gateway's built-in model, by name
        ),
        f"{prefix}PostUnchecked": method("Unchecked", "POST", RequestModels={"application/json": "Task"}),
        f"{prefix}GetBoom": method("Boom", "GET"),
    }
    return {
        prefix: {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": prefix}},
        f"{prefix}Tasks": resource(root, "tasks"),
        f"{prefix}Task": resource({"Ref": f"{prefix}Tasks"}, "{id}"),
        f"{prefix}Loose": resource(root, "loose"),
        f"{prefix}Unchecked": resource(root, "unchecked"),
        f"{prefix}Boom": resource(root, "boom"),
        f"{prefix}Validator": validator(body=True, parameters=True),
        f"{prefix}BodyOnly": validator(body=True, parameters=False),
        f"{prefix}TaskModel": model("application/json", TASK_SCHEMA, name="Task"),
        f"{prefix}Text": model("$default", TEXT_SCHEMA),
        **methods,
        **{
            f"{prefix}Response{kind.title().replace('_', '')}": {
                "Type": "AWS::ApiGateway::GatewayResponse",
                "Properties": {"RestApiId": api, "ResponseType": kind, **properties},
            }
            for kind, properties in gateway_responses.items()
        },
        f"{prefix}Deployment": {
            "Type": "AWS::ApiGateway::Deployment",
            "Properties": {"RestApiId": api},
            "DependsOn": sorted(methods),
        },
        f"{prefix}Stage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {"RestApiId": api, "DeploymentId": {"Ref": f"{prefix}Deployment"}, "StageName": "prod"},
        },
    }


ERROR_TEMPLATE = (
    '{"error": "$context.error.responseType", "message": $context.error.messageString, '
    '"details": "$util.escapeJavaScript($context.error.validationErrorString)", "requestId": "$context.requestId"}'
)
CUSTOM = {
    "BAD_REQUEST_BODY": {
        "ResponseParameters": {
            "gatewayresponse.header.X-Error": "'validation'",
            "gatewayresponse.header.X-Echo-Key": "method.request.header.Idempotency-Key",
        },
        "ResponseTemplates": {"application/json": ERROR_TEMPLATE},
    },
    "BAD_REQUEST_PARAMETERS": {"ResponseTemplates": {"application/json": ERROR_TEMPLATE}},
    "MISSING_AUTHENTICATION_TOKEN": {
        "StatusCode": "404",
        "ResponseTemplates": {
            "application/json": '{"error": "NotFound", "path": "$context.path", "method": "$context.httpMethod"}'
        },
    },
    "DEFAULT_4XX": {
        "ResponseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
        "ResponseTemplates": {
            "application/json": '{"error": "$context.error.responseType", "message": $context.error.messageString, '
            '"unknown": "$context.no.such.thing"}'
        },
    },
    "DEFAULT_5XX": {
        "ResponseTemplates": {"application/json": '{"error": "Internal", "message": "$context.error.message"}'}
    },
}

STACK = templates.stack(
    Handler=templates.function("api.handler", timeout=5), **_api("Plain", {}), **_api("Api", CUSTOM)
)


@pytest.fixture(scope="module")
def runner(aws: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRunner]:
    from tests.local.runner.moto_stack import deploy_test_stack

    deployed: Deployed = deploy_test_stack(aws, STACK, tmp_path_factory.mktemp("validated-api"))
    with deployed.running() as running:
        yield running


def plain(runner: LocalRunner, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any, Any]:
    """A signed request to the API without gateway responses: status, headers, JSON body."""
    return _json(runner, "Plain", method, path, body, **headers)


def custom(runner: LocalRunner, method: str, path: str, body: Any = None, **headers: Any) -> tuple[int, Any, Any]:
    return _json(runner, "Api", method, path, body, **headers)


def _json(runner: LocalRunner, api: str, method: str, path: str, body: Any, **headers: Any) -> tuple[int, Any, Any]:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    status, found, data = call(on(runner, api), method, path, raw, **headers)
    return status, found, json.loads(data)


class _On:
    def __init__(self, runner: LocalRunner, api: str) -> None:
        self.endpoints = {"Api": runner.endpoints[api]}


def on(runner: LocalRunner, api: str) -> LocalRunner:
    """The runner, as `call` sees it, with one API's endpoint under the name "Api"."""
    return cast(LocalRunner, _On(runner, api))


# -- request parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_a_missing_or_blank_required_header_is_bad_request_parameters(runner: LocalRunner, key: str | None) -> None:
    headers = JSON | ({} if key is None else {"Idempotency-Key": key})
    status, found, body = plain(runner, "POST", "/tasks", GOOD, **headers)

    assert (status, body) == (400, {"message": "Missing required request parameters: [Idempotency-Key]"})
    assert found["x-amzn-errortype"] == ["BadRequestException"]
    assert found["content-type"] == ["application/json"]


def test_required_query_string_parameter(runner: LocalRunner) -> None:
    missing = plain(runner, "GET", "/tasks/abc")
    blank = plain(runner, "GET", "/tasks/abc?include=")
    given = plain(runner, "GET", "/tasks/abc?include=queue")

    assert missing[:1] == blank[:1] == (400,)
    assert missing[2] == blank[2] == {"message": "Missing required request parameters: [include]"}
    assert given[0] == 201
    assert given[2]["queryStringParameters"] == {"include": "queue"}


def test_parameters_are_checked_before_the_body(runner: LocalRunner) -> None:
    status, _, body = plain(runner, "POST", "/tasks", {"shots": "many"}, **JSON)

    assert (status, body["message"]) == (400, "Missing required request parameters: [Idempotency-Key]")


def test_a_validator_without_parameter_validation_lets_missing_parameters_through(runner: LocalRunner) -> None:
    status, _, event = plain(runner, "POST", "/loose", {}, **JSON)

    assert status == 201 and event["queryStringParameters"] is None


# -- request body ---------------------------------------------------------------------------------------


BAD_BODIES = {
    "missing properties": ({"shots": 10}, '[object has missing required properties (["deviceArn","program"])]'),
    "wrong type": (
        GOOD | {"shots": "10"},
        '[instance type (string) does not match any allowed primitive type (allowed: ["integer"])]',
    ),
    "above the maximum": (
        GOOD | {"shots": 100001},
        "[numeric instance is greater than the required maximum (maximum: 100000, found: 100001)]",
    ),
    "too long": (
        GOOD | {"program": "x" * 65},
        '[string "' + "x" * 65 + '" is too long (length: 65, maximum allowed: 64)]',
    ),
    "pattern": (
        GOOD | {"deviceArn": "sv1"},
        '[ECMA 262 regex "^arn:aws:braket:" does not match input string "sv1"]',
    ),
    "extra property": (
        GOOD | {"extra": 1},
        '[object instance has properties which are not allowed by the schema: ["extra"]]',
    ),
    "nested": (
        GOOD | {"tags": {"a": 1}},
        '[instance type (integer) does not match any allowed primitive type (allowed: ["string"])]',
    ),
    "not an object": (
        [GOOD],
        '[instance type (array) does not match any allowed primitive type (allowed: ["object"])]',
    ),
    "empty body": (b"", '[object has missing required properties (["deviceArn","program","shots"])]'),
}


@pytest.mark.parametrize(("body", "validation"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_body_off_the_model_is_bad_request_body(runner: LocalRunner, body: Any, validation: str) -> None:
    status, found, answer = plain(runner, "POST", "/tasks", body, **JSON, **KEY)
    assert (status, answer) == (400, {"message": "Invalid request body"})
    assert found["x-amzn-errortype"] == ["BadRequestException"]

    status, _, detailed = custom(runner, "POST", "/tasks", body, **JSON, **KEY)
    assert (status, detailed["error"], detailed["details"]) == (400, "BAD_REQUEST_BODY", validation)


def test_a_body_that_is_not_json_is_bad_request_body(runner: LocalRunner) -> None:
    status, _, answer = custom(runner, "POST", "/tasks", b"{not json", **JSON, **KEY)

    assert (status, answer["message"]) == (400, "Invalid request body")
    assert answer["details"].startswith("[Invalid JSON")


def test_a_body_nested_too_deep_to_parse_is_bad_request_body_not_a_502(runner: LocalRunner) -> None:
    status, _, answer = custom(runner, "POST", "/tasks", b"[" * 50_000 + b"]" * 50_000, **JSON, **KEY)

    assert (status, answer["message"]) == (400, "Invalid request body")


def test_a_body_on_the_model_reaches_the_function_unchanged(runner: LocalRunner) -> None:
    raw = json.dumps(GOOD | {"tags": {"team": "qml"}}).encode()
    status, _, event = plain(
        runner, "POST", "/tasks?dry=", raw, **{"Content-Type": "application/json; charset=utf-8"}, **KEY
    )

    assert status == 201
    assert event["body"] == raw.decode()
    assert event["queryStringParameters"] == {"dry": ""}  # declared, but not required


def test_without_content_type_the_body_is_checked_as_application_json(runner: LocalRunner) -> None:
    status, _, answer = plain(runner, "POST", "/tasks", {"shots": 1}, **KEY)

    assert (status, answer["message"]) == (400, "Invalid request body")


def test_another_content_type_falls_back_to_the_default_model(runner: LocalRunner) -> None:
    text = {"Content-Type": "text/plain"}
    refused = plain(runner, "POST", "/tasks", GOOD, **text, **KEY)
    accepted = plain(runner, "POST", "/tasks", {"text": "hello"}, **text, **KEY)

    assert refused[:1] == (400,) and refused[2] == {"message": "Invalid request body"}
    assert accepted[0] == 201


def test_a_content_type_without_a_model_and_no_default_is_not_validated(runner: LocalRunner) -> None:
    assert plain(runner, "POST", "/loose", [1], **JSON)[0] == 400  # the built-in Empty model: an object
    assert plain(runner, "POST", "/loose", {"any": "thing"}, **JSON)[0] == 201
    assert plain(runner, "POST", "/loose", [1], **{"Content-Type": "text/csv"})[0] == 201


def test_a_method_without_a_validator_is_not_validated(runner: LocalRunner) -> None:
    assert plain(runner, "POST", "/unchecked", {"shots": "many"}, **JSON)[0] == 201


def test_authorization_comes_before_validation(runner: LocalRunner) -> None:
    status, _, data = call(on(runner, "Plain"), "POST", "/tasks", b"{}", secret=None, **JSON)

    assert (status, json.loads(data)) == (403, {"message": "Missing Authentication Token"})


# -- gateway responses ----------------------------------------------------------------------------------


def test_gateway_response_for_a_bad_body_has_its_headers_and_template(runner: LocalRunner) -> None:
    status, found, body = custom(runner, "POST", "/tasks", {"shots": 1}, **JSON, **KEY)

    assert status == 400
    assert body == {
        "error": "BAD_REQUEST_BODY",
        "message": "Invalid request body",
        "details": '[object has missing required properties (["deviceArn","program"])]',
        "requestId": found["x-amzn-requestid"][0],
    }
    assert found["x-error"] == ["validation"]
    assert found["x-echo-key"] == ["k-1"]
    assert found["content-type"] == ["application/json"]


def test_gateway_response_for_missing_parameters_gets_the_validation_string(runner: LocalRunner) -> None:
    status, _, body = custom(runner, "GET", "/tasks/abc")

    assert status == 400
    assert body["error"] == "BAD_REQUEST_PARAMETERS"
    assert body["message"] == body["details"] == "Missing required request parameters: [include]"


def test_status_code_of_a_gateway_response_overrides_the_status(runner: LocalRunner) -> None:
    status, found, body = custom(runner, "DELETE", "/nowhere")

    assert (status, body) == (404, {"error": "NotFound", "path": "/prod/nowhere", "method": "DELETE"})
    assert found["x-amzn-errortype"] == ["MissingAuthenticationTokenException"]


def test_a_type_without_its_own_response_gets_default_4xx_and_unknown_variables_are_empty(
    runner: LocalRunner, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="local.runner"):
        status, found, data = call(on(runner, "Api"), "GET", "/tasks/abc?include=queue", secret="wrong")

    body = json.loads(data)
    assert status == 403
    assert body["error"] == "INVALID_SIGNATURE"
    assert body["message"].startswith("The request signature we calculated does not match")
    assert body["unknown"] == ""
    assert found["access-control-allow-origin"] == ["*"]
    assert "$context.no.such.thing is not a variable the local runner knows" in caplog.text


def test_a_function_error_goes_through_default_5xx(runner: LocalRunner) -> None:
    assert custom(runner, "GET", "/boom")[::2] == (502, {"error": "Internal", "message": "Internal server error"})
    assert plain(runner, "GET", "/boom")[::2] == (502, {"message": "Internal server error"})


def test_a_successful_answer_is_never_rewritten(runner: LocalRunner) -> None:
    status, found, event = custom(runner, "POST", "/tasks", GOOD, **JSON, **KEY)

    assert status == 201 and json.loads(event["body"]) == GOOD
    assert "access-control-allow-origin" not in found
    assert found["x-amzn-requestid"] == [event["requestContext"]["requestId"]]
