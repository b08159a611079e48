"""REST APIs with Lambda proxy integrations: routing, the proxy event, SigV4 (AWS_IAM), proxy responses."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from local.runner import LocalRunner
from local.runner.deployed import Credentials
from local.runner.sigv4 import Rejected, SigV4Verifier
from tests.local.runner import templates
from tests.local.runner.moto_stack import ACCOUNT, REGION, Deployed

ROOT = {"Fn::GetAtt": ["Api", "RootResourceId"]}
PROXY_URI = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":apigateway:",
            {"Ref": "AWS::Region"},
            ":lambda:path/2015-03-31/functions/",
            {"Fn::GetAtt": ["Handler", "Arn"]},
            "/invocations",
        ],
    ]
}


def resource(parent: Any, part: str) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGateway::Resource",
        "Properties": {"RestApiId": {"Ref": "Api"}, "ParentId": parent, "PathPart": part},
    }


def method(resource_id: Any, http_method: str, authorization: str = "AWS_IAM") -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGateway::Method",
        "Properties": {
            "RestApiId": {"Ref": "Api"},
            "ResourceId": resource_id,
            "HttpMethod": http_method,
            "AuthorizationType": authorization,
            "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": PROXY_URI},
        },
    }


API = templates.stack(
    Handler=templates.function("api.handler", timeout=5),
    Api={"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "tasks"}},
    Tasks=resource(ROOT, "tasks"),
    Task=resource({"Ref": "Tasks"}, "{id}"),
    Files=resource(ROOT, "files"),
    File=resource({"Ref": "Files"}, "{proxy+}"),
    Boom=resource(ROOT, "boom"),
    Malformed=resource(ROOT, "malformed"),
    ListTasks=method({"Ref": "Tasks"}, "POST"),
    GetTask=method({"Ref": "Task"}, "GET"),
    AnyFile=method({"Ref": "File"}, "ANY"),
    GetBoom=method({"Ref": "Boom"}, "GET"),
    GetMalformed=method({"Ref": "Malformed"}, "GET", authorization="NONE"),
    Deployment={
        "Type": "AWS::ApiGateway::Deployment",
        "Properties": {"RestApiId": {"Ref": "Api"}},
        "DependsOn": ["ListTasks", "GetTask", "AnyFile", "GetBoom", "GetMalformed"],
    },
    Stage={
        "Type": "AWS::ApiGateway::Stage",
        "Properties": {
            "RestApiId": {"Ref": "Api"},
            "DeploymentId": {"Ref": "Deployment"},
            "StageName": "prod",
            "Variables": {"env": "local"},
        },
    },
)


@pytest.fixture(scope="module")
def api_stack(aws: Any, tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    from tests.local.runner.moto_stack import deploy_test_stack

    return deploy_test_stack(aws, API, tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def runner(api_stack: Deployed) -> Iterator[LocalRunner]:
    with api_stack.running() as running:
        yield running


def call(
    runner: LocalRunner, method: str, path: str, body: bytes = b"", secret: str | None = "testing", **headers: str
) -> tuple[int, dict[str, list[str]], bytes]:
    """An HTTP request to the API, SigV4-signed for execute-api unless `secret` is None."""
    url = runner.endpoints["Api"].url.rstrip("/") + path
    if secret is not None:
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(BotocoreCredentials("testing", secret), "execute-api", REGION).add_auth(request)
        headers = dict(request.headers.items())
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body or None, headers, method=method)) as answer:
            status, raw_headers, data = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, raw_headers, data = error.code, error.headers, error.read()
    found: dict[str, list[str]] = {}
    for name, value in raw_headers.items():
        found.setdefault(name.lower(), []).append(value)
    return status, found, data


def test_signed_request_reaches_the_handler_with_path_parameters_and_identity(
    runner: LocalRunner, api_stack: Deployed
) -> None:
    status, headers, body = call(runner, "GET", "/tasks/abc-123?x=1&x=2&y=", **{"X-Trace": "t1"})

    assert status == 201
    assert headers["x-multi"] == ["a", "b"]
    assert headers["content-type"] == ["application/json"]
    event = json.loads(body)
    assert event["resource"] == "/tasks/{id}"
    assert event["path"] == "/tasks/abc-123"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "abc-123"}
    assert event["queryStringParameters"] == {"x": "2", "y": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""]}
    assert event["stageVariables"] == {"env": "local"}
    assert event["headers"]["X-Trace"] == "t1" and event["multiValueHeaders"]["X-Trace"] == ["t1"]
    assert "Authorization" in event["headers"]
    assert (event["body"], event["isBase64Encoded"]) == (None, False)
    context = event["requestContext"]
    assert (context["stage"], context["path"], context["resourcePath"]) == (
        "prod",
        "/prod/tasks/abc-123",
        "/tasks/{id}",
    )
    assert (context["accountId"], context["apiId"]) == (ACCOUNT, api_stack.physical["Api"])
    assert context["requestId"] and context["requestTimeEpoch"] > 0
    caller = api_stack.aws.client("sts").get_caller_identity()
    identity = context["identity"]
    assert identity["accessKey"] == "testing"
    assert identity["accountId"] == caller["Account"]
    assert identity["userArn"] == caller["Arn"]
    assert identity["caller"] == identity["user"] == caller["UserId"]
    assert identity["sourceIp"] == "127.0.0.1"
    assert identity["userAgent"].startswith("Python-urllib")


def test_body_greedy_path_and_binary_response(runner: LocalRunner) -> None:
    status, _, body = call(runner, "POST", "/tasks", b'{"shots": 100}', **{"Content-Type": "application/json"})
    assert status == 201
    event = json.loads(body)
    assert (event["resource"], event["httpMethod"], event["body"]) == ("/tasks", "POST", '{"shots": 100}')

    status, headers, body = call(runner, "DELETE", "/files/a/b/c.bin")
    assert status == 200
    assert headers["content-type"] == ["application/octet-stream"]
    assert body == b"\x00\xffa/b/c.bin"  # the function's base64 body, decoded


@pytest.mark.parametrize(
    ("path", "secret", "message"),
    [
        ("/tasks/abc", None, "Missing Authentication Token"),
        ("/tasks/abc", "wrong-secret", "The request signature we calculated does not match the signature you provided"),
        ("/nowhere", "testing", "Missing Authentication Token"),
        ("/tasks/abc/extra", "testing", "Missing Authentication Token"),
    ],
)
def test_requests_api_gateway_refuses(runner: LocalRunner, path: str, secret: str | None, message: str) -> None:
    status, headers, body = call(runner, "GET", path, secret=secret)
    assert status == 403
    assert json.loads(body)["message"].startswith(message)
    assert headers["content-type"] == ["application/json"]


def test_unsigned_method_wrong_http_method_and_unknown_stage(runner: LocalRunner) -> None:
    assert call(runner, "PUT", "/tasks/abc")[0] == 403  # no PUT method on /tasks/{id}
    url = runner.endpoints["Api"].url.replace("/prod/", "/dev/")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url + "tasks/abc")
    assert refused.value.code == 403


@pytest.mark.parametrize("path", ["/boom", "/malformed"])
def test_function_error_or_malformed_response_is_502(runner: LocalRunner, path: str) -> None:
    status, _, body = call(runner, "GET", path)
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})


def test_endpoint_describes_the_stage(runner: LocalRunner, api_stack: Deployed) -> None:
    endpoint = runner.endpoints["Api"]
    assert (endpoint.api_id, endpoint.stage) == (api_stack.physical["Api"], "prod")
    assert endpoint.url.startswith("http://127.0.0.1:") and endpoint.url.endswith("/prod/")
    assert str(endpoint) == endpoint.url


def test_signature_time_window() -> None:
    url = "http://127.0.0.1:8080/prod/tasks"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(BotocoreCredentials("testing", "testing"), "execute-api", REGION).add_auth(request)
    headers = list(request.headers.items())
    signed_at = dt.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)

    def verifier(offset: dt.timedelta) -> SigV4Verifier:
        return SigV4Verifier(Credentials("testing", "testing"), REGION, now=lambda: signed_at + offset)

    assert verifier(dt.timedelta(minutes=4)).verify("GET", url, headers, b"") == "testing"
    with pytest.raises(Rejected, match="Signature expired"):
        verifier(dt.timedelta(minutes=6)).verify("GET", url, headers, b"")
    with pytest.raises(Rejected, match="Credential should be scoped to a valid region"):
        SigV4Verifier(Credentials("testing", "testing"), "eu-west-2").verify("GET", url, headers, b"")
    with pytest.raises(Rejected, match="security token included in the request is invalid"):
        SigV4Verifier(Credentials("other", "testing"), REGION).verify("GET", url, headers, b"")
    with pytest.raises(Rejected, match="does not match"):
        SigV4Verifier(Credentials("testing", "testing"), REGION).verify("GET", url + "?changed=1", headers, b"")
