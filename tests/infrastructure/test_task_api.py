"""The Task API: IAM on every route, the routes themselves, the stage (throttling, access logs), request
validation and error shapes, the function and its role, the results bucket, the idempotency table, the
account-level CloudWatch role, its settings from CDK context, and what it changes elsewhere (tag indexes,
the notifier's filter, cdk-nag acknowledgements).

Two templates: the session's default synth (cdk.json's context), and one synth with every API setting
changed and an account and Region (see CUSTOM_CONTEXT), which also shows that cdk-nag passes there."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from moto.events.models import EventPattern

import stacks.results_bucket
import stacks.task_api
import stacks.tracker_stack
from stacks.config import DEFAULT_DEVICES, MAX_PROMOTED_TAG_KEYS, ApiSettings, ConfigurationError
from stacks.task_api import TaskApi
from tests.infrastructure.helpers import (
    arn_of,
    as_list,
    denies_insecure_transport,
    flatten,
    grants,
    logical_id,
    ref,
    role_statements,
)
from tests.support.app import CDK_JSON_CONTEXT, STACK_NAME, SynthesizedApp, synthesize
from tracker import constants
from tracker.config import ApiConfig
from tracker.logic.stream_records import announces

pytestmark = pytest.mark.infrastructure

ACCOUNT = "123456789012"
REGION = "us-west-1"
CUSTOM_CONTEXT: dict[str, Any] = {
    "deviceAllowlist": [
        "arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3",
        "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
    ],
    "adminPrincipals": [f"arn:aws:iam::{ACCOUNT}:role/TrackerAdmin"],
    "promotedTagKeys": ["project", "team/name"],
    "readableResultsBuckets": ["quantum-lab-results", "amazon-braket-us-west-1-archive"],
    "resultsRetentionDays": 30,
    "apiThrottle": {"rateLimit": 7, "burstLimit": 9},
    "apiGatewayCloudWatchRole": False,
    "braketRegions": ["us-west-1", "eu-north-1"],
}
"""Every API setting away from its default, so that one extra synth covers them all."""
OTHER_REGION = "eu-north-1"
OTHER_RESULTS = f"amazon-braket-brakettasktracker-{ACCOUNT}-{OTHER_REGION}"
"""The forwarder stack of eu-north-1 owns its results bucket, named by the same rule."""

ROUTES = {
    ("POST", "/tasks"),
    ("GET", "/tasks"),
    ("GET", "/tasks/{task_id}"),
    ("POST", "/tasks/{task_id}/cancel"),
    ("GET", "/tasks/{task_id}/result"),
    ("GET", "/costs"),
    ("GET", "/spending-limits"),
    # hybrid jobs (issue 18): the same function, authorization and stage
    ("GET", "/jobs"),
    ("GET", "/jobs/{job_id}"),
    ("GET", "/jobs/{job_id}/tasks"),
    ("POST", "/jobs/{job_id}/cancel"),
}
LIST_INDEXES = ("by-account", "by-status", "by-device", "by-submitter", "by-task-id")
API_GATEWAY_TIMEOUT_SECONDS = 29


# --- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def customized(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    """CUSTOM_CONTEXT, deployed to an account and Region (literals in the template), cdk-nag on."""
    return synthesize(
        tmp_path_factory.mktemp("cdk.out.api"), CUSTOM_CONTEXT, cdk.Environment(account=ACCOUNT, region=REGION)
    )


class ApiIds:
    """Logical ids of the Task API's resources in one synthesized app, found by construct path."""

    def __init__(self, app: SynthesizedApp) -> None:
        stack = app.stack
        task_api = stack.node.find_child("TaskApi")
        assert isinstance(task_api, TaskApi)
        self.app = app
        self.resources = app.resources
        self.api = logical_id(stack, "TaskApi/Api")
        self.stage = stack.get_logical_id(task_api.api.deployment_stage.node.default_child)  # type: ignore[arg-type]
        self.function = logical_id(stack, "TaskApi/Handler/Function")
        self.role = logical_id(stack, "TaskApi/Handler/Role")
        self.log_group = logical_id(stack, "TaskApi/Handler/Logs")
        self.access_logs = logical_id(stack, "TaskApi/AccessLogs")
        self.results = logical_id(stack, "TaskApi/Results")
        self.idempotency = logical_id(stack, "TaskApi/Idempotency")
        self.task_table = logical_id(stack, "Tables/Tasks")
        self.job_table = logical_id(stack, "Jobs/Jobs")
        self.recorder = logical_id(stack, "Recording/Recorder/Function")
        self.notifier = logical_id(stack, "Notifications/Notifier/Function")
        self.totals = logical_id(stack, "Costs/Totals")
        self.ledger = logical_id(stack, "Costs/Ledger")
        self.prices = logical_id(stack, "Prices/Catalogue")
        literal = not cdk.Token.is_unresolved(stack.region)
        self.partition = "aws" if literal else "${AWS::Partition}"
        self.region = stack.region if literal else "${AWS::Region}"

    def properties(self, name: str) -> dict[str, Any]:
        return self.resources[name]["Properties"]  # type: ignore[no-any-return]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}

    def stage_properties(self) -> dict[str, Any]:
        return self.properties(self.stage)

    def environment(self, function: str | None = None) -> dict[str, Any]:
        return self.properties(function or self.function)["Environment"]["Variables"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def default(synthesized: SynthesizedApp) -> ApiIds:
    return ApiIds(synthesized)


@pytest.fixture(scope="module")
def custom(customized: SynthesizedApp) -> ApiIds:
    return ApiIds(customized)


BOTH = ["default", "custom"]
"""Fixture names of both synths, for tests that hold whatever the context."""


@pytest.fixture(params=BOTH)
def either(request: pytest.FixtureRequest) -> ApiIds:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def _routes(ids: ApiIds) -> dict[tuple[str, str], dict[str, Any]]:
    """Every method of the API by (HTTP method, full path), built from the resources' parent links."""
    root = arn_of(ids.api, "RootResourceId")
    parts = {
        name: (resource["Properties"]["ParentId"], resource["Properties"]["PathPart"])
        for name, resource in ids.of_type("AWS::ApiGateway::Resource").items()
        if resource["Properties"]["RestApiId"] == ref(ids.api)
    }

    def path(parent: Any) -> str:
        if parent == root:
            return ""
        (name,) = parent.values()
        up, part = parts[name]
        return f"{path(up)}/{part}"

    routes: dict[tuple[str, str], dict[str, Any]] = {}
    for method in ids.of_type("AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        key = (properties["HttpMethod"], path(properties["ResourceId"]) or "/")
        assert key not in routes, key
        routes[key] = properties
    return routes


def _gateway_responses(ids: ApiIds) -> dict[str, dict[str, Any]]:
    return {
        response["Properties"]["ResponseType"]: response["Properties"]
        for response in ids.of_type("AWS::ApiGateway::GatewayResponse").values()
    }


# --- Authorization and routes --------------------------------------------------------------------


def test_every_method_is_iam_authorized(either: ApiIds) -> None:
    methods = either.of_type("AWS::ApiGateway::Method")

    assert len(methods) == len(ROUTES)
    assert {name: m["Properties"]["AuthorizationType"] for name, m in methods.items()} == dict.fromkeys(
        methods, "AWS_IAM"
    )
    assert all(
        "AuthorizerId" not in m["Properties"] and "ApiKeyRequired" not in m["Properties"] for m in methods.values()
    )


def test_the_api_has_exactly_the_task_cost_and_job_routes(either: ApiIds) -> None:
    # No ANY, no OPTIONS (no CORS preflight: an unauthenticated route), nothing on the root.
    assert set(_routes(either)) == ROUTES


def test_every_route_is_a_lambda_proxy_integration_of_the_api_function(either: ApiIds) -> None:
    uri = (
        f"arn:{either.partition}:apigateway:{either.region}:lambda:path/2015-03-31/functions/"
        f"${{{either.function}.Arn}}/invocations"
    )
    for route, method in _routes(either).items():
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY", route
        assert integration["IntegrationHttpMethod"] == "POST", route
        assert flatten(integration["Uri"]) == uri, route


def test_api_gateway_may_invoke_the_function_only_from_this_api(default: ApiIds) -> None:
    permissions = [
        p["Properties"]
        for p in default.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == arn_of(default.function)
    ]
    assert permissions
    for permission in permissions:
        assert permission["Principal"] == "apigateway.amazonaws.com"
        source = flatten(permission["SourceArn"])
        assert source.startswith(
            f"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{default.api}}}/"
        ), source


def test_the_api_is_regional(default: ApiIds) -> None:
    assert default.properties(default.api)["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


# --- Stage: throttling, access logs, method logging ----------------------------------------------


def _method_settings(ids: ApiIds) -> dict[str, Any]:
    (settings,) = ids.stage_properties()["MethodSettings"]
    assert (settings["HttpMethod"], settings["ResourcePath"]) == ("*", "/*")  # every method of the stage
    return settings  # type: ignore[no-any-return]


def test_stage_throttles_with_the_default_rate_and_burst(default: ApiIds) -> None:
    settings = _method_settings(default)

    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (20, 40)
    assert CDK_JSON_CONTEXT["apiThrottle"] == {"rateLimit": 20, "burstLimit": 40}
    assert (ApiSettings().throttle_rate, ApiSettings().throttle_burst) == (20, 40)


def test_stage_throttles_with_the_rate_and_burst_from_context(custom: ApiIds) -> None:
    settings = _method_settings(custom)

    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (7, 9)


def test_stage_logs_errors_and_metrics_but_not_request_bodies(either: ApiIds) -> None:
    settings = _method_settings(either)

    assert settings["LoggingLevel"] in ("ERROR", "INFO")
    assert settings["MetricsEnabled"] is True
    assert settings["DataTraceEnabled"] is False  # full bodies would put programs in the logs


def test_stage_writes_access_logs_to_the_constructs_log_group(either: ApiIds) -> None:
    assert either.stage_properties()["AccessLogSetting"]["DestinationArn"] == arn_of(either.access_logs)
    access_logs = either.resources[either.access_logs]
    assert access_logs["Properties"]["RetentionInDays"] == CDK_JSON_CONTEXT["logRetentionDays"]
    assert access_logs["DeletionPolicy"] == "Retain"


def test_access_log_format_is_json_with_request_id_caller_and_status(default: ApiIds) -> None:
    line = json.loads(default.stage_properties()["AccessLogSetting"]["Format"])

    assert line["requestId"] == "$context.requestId"
    assert line["caller"] == "$context.identity.userArn"
    assert line["status"] == "$context.status"
    variables = {value for value in line.values() if isinstance(value, str)}
    assert all(re.fullmatch(r"\$context\.[A-Za-z.]+", value) for value in variables), variables


def test_stage_is_named_v1_and_is_what_the_url_output_points_at(default: ApiIds) -> None:
    assert default.stage_properties()["StageName"] == "v1"
    outputs = json.loads(default.app.template_path.read_text())["Outputs"]
    url = flatten(outputs[stacks.tracker_stack.OUTPUT_API_URL]["Value"])
    assert url == f"https://${{{default.api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/${{{default.stage}}}/"
    assert outputs[stacks.tracker_stack.OUTPUT_RESULTS_BUCKET]["Value"] == ref(default.results)


# --- Request validation and error shapes ---------------------------------------------------------


def test_submit_validates_the_body_against_a_model_capping_the_program(default: ApiIds) -> None:
    submit = _routes(default)[("POST", "/tasks")]

    ((validator_id, validator),) = default.of_type("AWS::ApiGateway::RequestValidator").items()
    assert submit["RequestValidatorId"] == ref(validator_id)
    assert validator["Properties"]["ValidateRequestBody"] is True
    (model_ref,) = submit["RequestModels"].values()
    assert list(submit["RequestModels"]) == ["application/json"]
    model = default.properties(model_ref["Ref"])
    assert model["ContentType"] == "application/json"
    assert model["Schema"]["properties"]["program"]["maxLength"] == constants.MAX_PROGRAM_BYTES


def test_program_limit_is_about_a_megabyte_under_lambdas_and_brakets_limits() -> None:
    assert 1_000_000 <= constants.MAX_PROGRAM_BYTES <= 1_048_576


def test_other_routes_carry_no_body_model(default: ApiIds) -> None:
    routes = _routes(default)
    assert [route for route, method in routes.items() if "RequestModels" in method] == [("POST", "/tasks")]


def _render(template: str) -> Any:
    """The gateway response as API Gateway renders it, for an example error."""
    placeholders = set(re.findall(r"\$context\.[A-Za-z.]+", template))
    assert placeholders <= {"$context.error.responseType", "$context.error.messageString"}, placeholders
    rendered = template.replace("$context.error.responseType", "MISSING_AUTHENTICATION_TOKEN").replace(
        "$context.error.messageString",
        '"Missing Authentication Token"',  # messageString is quoted already
    )
    return json.loads(rendered)


@pytest.mark.parametrize("response_type", ["DEFAULT_4XX", "DEFAULT_5XX"])
def test_gateway_errors_render_in_the_apis_error_shape(default: ApiIds, response_type: str) -> None:
    response = _gateway_responses(default)[response_type]

    assert list(response["ResponseTemplates"]) == ["application/json"]
    assert _render(response["ResponseTemplates"]["application/json"]) == {
        "error": "MISSING_AUTHENTICATION_TOKEN",
        "message": "Missing Authentication Token",
        "details": {},
    }
    assert "StatusCode" not in response  # each error keeps its own status


def test_a_body_over_the_model_answers_413_in_the_error_shape(default: ApiIds) -> None:
    response = _gateway_responses(default)["BAD_REQUEST_BODY"]

    assert response["StatusCode"] == "413"
    body = _render(response["ResponseTemplates"]["application/json"])
    assert set(body) == {"error", "message", "details"}
    assert body["details"] == {"limitBytes": constants.MAX_PROGRAM_BYTES}
    assert isinstance(body["message"], str) and body["message"]


def test_the_api_has_only_the_three_gateway_responses(default: ApiIds) -> None:
    assert set(_gateway_responses(default)) == {"DEFAULT_4XX", "DEFAULT_5XX", "BAD_REQUEST_BODY"}


# --- The function --------------------------------------------------------------------------------


def test_function_runs_the_api_handler_like_the_other_functions(default: ApiIds) -> None:
    function = default.properties(default.function)
    recorder = default.properties(default.recorder)

    assert function["Handler"] == "tracker.api.handler.lambda_handler"
    for name in ("Runtime", "Architectures", "Layers"):
        assert function[name] == recorder[name], name
    assert function["Architectures"] == ["arm64"]
    assert function["Role"] == arn_of(default.role)
    assert function["LoggingConfig"] == {"LogGroup": ref(default.log_group)}


def test_function_handler_is_in_the_code_asset(default: ApiIds) -> None:
    module, _, name = default.properties(default.function)["Handler"].rpartition(".")
    asset = default.properties(default.function)["Code"]["S3Key"].removesuffix(".zip")
    source = (default.app.outdir / f"asset.{asset}" / Path(*module.split("."))).with_suffix(".py").read_text()
    assert re.search(rf"^{name} = |^def {name}\(", source, re.MULTILINE), name


def test_function_answers_before_api_gateway_gives_up(default: ApiIds) -> None:
    assert default.properties(default.function)["Timeout"] < API_GATEWAY_TIMEOUT_SECONDS


def test_function_environment_by_default(default: ApiIds) -> None:
    variables = default.environment()

    assert variables[constants.ENV_TASK_TABLE] == ref(default.task_table)
    assert variables[constants.ENV_IDEMPOTENCY_TABLE] == ref(default.idempotency)
    assert json.loads(flatten(variables[constants.ENV_RESULTS_BUCKETS])) == {
        "${AWS::Region}": f"${{{default.results}}}"
    }
    assert json.loads(variables[constants.ENV_DEVICE_ALLOWLIST]) == list(DEFAULT_DEVICES)
    assert json.loads(variables[constants.ENV_ADMIN_PRINCIPALS]) == []
    assert json.loads(variables[constants.ENV_READABLE_BUCKETS]) == []
    assert json.loads(variables[constants.ENV_PROMOTED_TAG_KEYS]) == CDK_JSON_CONTEXT["promotedTagKeys"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == constants.API_SERVICE


def test_function_environment_follows_the_context(custom: ApiIds) -> None:
    variables = custom.environment()

    assert json.loads(flatten(variables[constants.ENV_RESULTS_BUCKETS])) == {
        REGION: f"${{{custom.results}}}",
        OTHER_REGION: OTHER_RESULTS,
    }
    assert json.loads(variables[constants.ENV_DEVICE_ALLOWLIST]) == CUSTOM_CONTEXT["deviceAllowlist"]
    assert json.loads(variables[constants.ENV_ADMIN_PRINCIPALS]) == CUSTOM_CONTEXT["adminPrincipals"]
    assert json.loads(variables[constants.ENV_READABLE_BUCKETS]) == CUSTOM_CONTEXT["readableResultsBuckets"]
    assert json.loads(variables[constants.ENV_PROMOTED_TAG_KEYS]) == CUSTOM_CONTEXT["promotedTagKeys"]


def test_function_environment_passes_the_functions_own_config_check(custom: ApiIds) -> None:
    # References are resolved at deploy time: the results bucket by its (literal) name, the rest by stand-ins.
    bucket = custom.properties(custom.results)["BucketName"]
    variables = {
        name: flatten(value).replace(f"${{{custom.results}}}", bucket) if not isinstance(value, str) else value
        for name, value in custom.environment().items()
    }
    variables = {name: "resolved-at-deploy" if "${" in value else value for name, value in variables.items()}

    config = ApiConfig.from_env({**variables, "AWS_REGION": REGION})

    assert config.results_buckets == {REGION: bucket, OTHER_REGION: OTHER_RESULTS}
    assert config.device_allowlist == tuple(CUSTOM_CONTEXT["deviceAllowlist"])
    assert config.readable_buckets == tuple(CUSTOM_CONTEXT["readableResultsBuckets"])
    assert config.admin_principals == tuple(CUSTOM_CONTEXT["adminPrincipals"])
    assert config.promoted_tag_keys == tuple(CUSTOM_CONTEXT["promotedTagKeys"])


# --- The function's role -------------------------------------------------------------------------


def _expected_grants(
    ids: ApiIds,
    *,
    create: str,
    any_region: str,
    readable: list[str],
    tag_keys: list[str],
    partition: str = "aws",
    other_regions: dict[str, str] | None = None,
) -> set[tuple[str, str]]:
    """`other_regions`: Region -> the results bucket that its forwarder stack owns."""
    others = other_regions or {}
    tasks = f"${{{ids.task_table}.Arn}}"
    indexes = [*LIST_INDEXES, *(constants.tag_index_name(key) for key in tag_keys)]
    return {
        ("logs:CreateLogStream", f"${{{ids.log_group}.Arn}}"),
        ("logs:PutLogEvents", f"${{{ids.log_group}.Arn}}"),
        *((action, tasks) for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")),
        *(("dynamodb:Query", f"{tasks}/index/{index}") for index in indexes),
        *(
            (action, f"${{{ids.idempotency}.Arn}}")
            for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
        ),
        ("braket:CreateQuantumTask", create),
        ("braket:TagResource", create),
        *(
            (action, create.replace(f":{REGION}:", f":{region}:"))
            for region in others
            for action in ("braket:CreateQuantumTask", "braket:TagResource")
        ),
        *(("s3:GetObject", f"arn:aws:s3:::{bucket}/{constants.RESULTS_PREFIX}/*") for bucket in others.values()),
        *(("s3:ListBucket", f"arn:aws:s3:::{bucket}") for bucket in others.values()),
        ("braket:CancelQuantumTask", any_region),
        ("braket:GetQuantumTask", any_region),
        ("s3:GetObject", f"${{{ids.results}.Arn}}/{constants.RESULTS_PREFIX}/*"),
        ("s3:ListBucket", f"${{{ids.results}.Arn}}"),
        *(("s3:GetObject", f"{bucket}/*") for bucket in readable),
        *(("s3:ListBucket", bucket) for bucket in readable),
        ("s3:GetObject", f"arn:{partition}:s3:::amazon-braket-*/*"),  # only this account's (s3:ResourceAccount)
        ("s3:ListBucket", f"arn:{partition}:s3:::amazon-braket-*"),
        # GET /costs and the budget holds: the totals, the ledger (to link a hold), the price catalogue
        *(
            (action, f"${{{ids.totals}.Arn}}")
            for action in (
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:ConditionCheckItem",
            )
        ),
        ("dynamodb:UpdateItem", f"${{{ids.ledger}.Arn}}"),
        ("dynamodb:GetItem", f"${{{ids.prices}.Arn}}"),
        ("braket:SearchSpendingLimits", "*"),  # GET /spending-limits, in the Braket Regions (aws:RequestedRegion)
        # hybrid jobs: read a job, list jobs and a job's tasks, its queue position (GetJob) and cancel
        ("dynamodb:GetItem", f"${{{ids.job_table}.Arn}}"),
        *(("dynamodb:Query", f"${{{ids.job_table}.Arn}}/index/{i}") for i in ("by-status", "by-account", "by-job-id")),
        ("dynamodb:Query", f"{tasks}/index/{constants.INDEX_BY_JOB}"),
        *((action, any_region.replace("quantum-task/*", "job/*")) for action in ("braket:GetJob", "braket:CancelJob")),
    }


def test_api_role_grants_exactly_what_the_api_calls(default: ApiIds) -> None:
    assert grants(role_statements(default.resources, default.role)) == _expected_grants(
        default,
        create="arn:${AWS::Partition}:braket:${AWS::Region}:${AWS::AccountId}:quantum-task/*",
        any_region="arn:${AWS::Partition}:braket:*:${AWS::AccountId}:quantum-task/*",
        readable=[],
        tag_keys=CDK_JSON_CONTEXT["promotedTagKeys"],
        partition="${AWS::Partition}",
    )


def test_api_role_follows_the_context_and_the_deployment_region(custom: ApiIds) -> None:
    assert grants(role_statements(custom.resources, custom.role)) == _expected_grants(
        custom,
        create=f"arn:aws:braket:{REGION}:{ACCOUNT}:quantum-task/*",
        any_region=f"arn:aws:braket:*:{ACCOUNT}:quantum-task/*",
        readable=[f"arn:aws:s3:::{bucket}" for bucket in CUSTOM_CONTEXT["readableResultsBuckets"]],
        tag_keys=CUSTOM_CONTEXT["promotedTagKeys"],
        other_regions={OTHER_REGION: OTHER_RESULTS},
    )


def test_api_role_has_no_wildcard_action_no_scan_and_no_managed_policy(either: ApiIds) -> None:
    statements = role_statements(either.resources, either.role)
    actions = {action for statement in statements for action in as_list(statement["Action"])}

    assert not [action for action in actions if action == "*" or action.endswith(":*")]
    assert not actions & {"dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:DeleteTable", "s3:PutObject"}
    assert all(statement["Effect"] == "Allow" for statement in statements)
    # A condition narrows a grant: a listing scoped to a prefix, a read of this account's own buckets, or
    # SearchSpendingLimits (no resource-level permission) in the Braket Regions.
    narrowed = [s for s in statements if "Condition" in s]
    assert all(
        as_list(s["Action"]) in (["s3:ListBucket"], ["braket:SearchSpendingLimits"]) or "s3:ResourceAccount" in str(s)
        for s in narrowed
    )
    assert not either.properties(either.role).get("ManagedPolicyArns")
    (trust,) = either.properties(either.role)["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_api_role_reads_results_in_braket_buckets_of_its_own_account_only(either: ApiIds) -> None:
    # Braket writes results only to buckets named amazon-braket-* (the SDK's default bucket is
    # amazon-braket-<region>-<account>): the API may read those, but not another account's.
    statements = role_statements(either.resources, either.role)
    braket_buckets = [s for s in statements if "amazon-braket-*" in str(s["Resource"])]

    assert sorted(as_list(s["Action"])[0] for s in braket_buckets) == ["s3:GetObject", "s3:ListBucket"]
    for statement in braket_buckets:
        (owner,) = statement["Condition"]["StringEquals"].values()
        assert list(statement["Condition"]) == ["StringEquals"]
        assert list(statement["Condition"]["StringEquals"]) == ["s3:ResourceAccount"]
        assert owner in ({"Ref": "AWS::AccountId"}, ACCOUNT)


def test_api_role_may_list_the_results_prefix_to_tell_deleted_results_from_denied_ones(default: ApiIds) -> None:
    # Without s3:ListBucket, S3 answers GetObject on a missing key with 403 AccessDenied, not 404 NoSuchKey:
    # results that the lifecycle rule deleted would then come back as 403 rather than 410.
    pairs = grants(role_statements(default.resources, default.role))

    assert ("s3:ListBucket", f"${{{default.results}.Arn}}") in pairs


# --- Results bucket and idempotency table --------------------------------------------------------


def test_results_bucket_name_follows_brakets_rule(default: ApiIds, custom: ApiIds) -> None:
    assert flatten(default.properties(default.results)["BucketName"]) == (
        f"{constants.RESULTS_BUCKET_PREFIX}brakettasktracker-${{AWS::AccountId}}-${{AWS::Region}}"
    )  # the stack's name, lowercased, keeps two deployments in one account and Region apart
    name = custom.properties(custom.results)["BucketName"]
    assert name == f"amazon-braket-brakettasktracker-{ACCOUNT}-{REGION}"
    assert re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name)
    assert constants.RESULTS_BUCKET_PREFIX == "amazon-braket-"


def test_results_bucket_is_encrypted_private_and_retained(default: ApiIds) -> None:
    bucket = default.resources[default.results]
    properties = bucket["Properties"]

    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    assert properties["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_results_bucket_policy_denies_everything_without_tls(default: ApiIds) -> None:
    (policy,) = [
        p["Properties"]
        for p in default.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == ref(default.results)
    ]
    statements = as_list(policy["PolicyDocument"]["Statement"])

    (deny,) = statements  # nothing granted through the bucket policy
    assert denies_insecure_transport(deny, "s3:*")
    assert {flatten(resource) for resource in as_list(deny["Resource"])} == {
        f"${{{default.results}.Arn}}",
        f"${{{default.results}.Arn}}/*",
    }


@pytest.mark.parametrize(("fixture", "days"), [("default", 90), ("custom", 30)])
def test_results_expire_under_the_tasks_prefix_after_the_retention_days(
    request: pytest.FixtureRequest, fixture: str, days: int
) -> None:
    ids: ApiIds = request.getfixturevalue(fixture)
    (rule,) = ids.properties(ids.results)["LifecycleConfiguration"]["Rules"]

    assert rule["Prefix"] == f"{constants.RESULTS_PREFIX}/"
    assert rule["ExpirationInDays"] == days
    assert rule["Status"] == "Enabled"


def test_idempotency_table_is_keyed_by_caller_and_key_expires_and_is_protected(default: ApiIds) -> None:
    table = default.properties(default.idempotency)

    assert table["KeySchema"] == [{"AttributeName": constants.IDEMPOTENCY_KEY, "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": constants.IDEMPOTENCY_KEY, "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": constants.IDEMPOTENCY_TTL_ATTRIBUTE, "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"


# --- The account-level CloudWatch role -----------------------------------------------------------


def test_stack_owns_the_account_cloudwatch_role_by_default(default: ApiIds) -> None:
    (account,) = default.of_type("AWS::ApiGateway::Account").values()
    role = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]

    properties = default.properties(role)
    (trust,) = properties["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert [flatten(arn) for arn in properties["ManagedPolicyArns"]] == [
        "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    ]
    # Retained: the setting is per account and Region, and other APIs there depend on it. One for both APIs.
    assert len(default.of_type("AWS::ApiGateway::Account")) == 1
    assert account["DeletionPolicy"] == default.resources[role]["DeletionPolicy"] == "Retain"
    stage_depends = as_list(default.resources[default.stage].get("DependsOn", []))
    assert logical_id(default.app.stack, "ApiGatewayLogging/Account") in stage_depends


def test_cloudwatch_role_context_false_leaves_the_accounts_own_role(custom: ApiIds) -> None:
    assert custom.of_type("AWS::ApiGateway::Account") == {}
    apigateway_roles = [
        name
        for name, role in custom.of_type("AWS::IAM::Role").items()
        if "apigateway.amazonaws.com" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert apigateway_roles == []
    # The stage still logs: to the role already set in the account.
    assert custom.stage_properties()["AccessLogSetting"]["DestinationArn"] == arn_of(custom.access_logs)


# --- Settings from context (no synth) ------------------------------------------------------------


def test_api_settings_default_to_cdk_jsons_values() -> None:
    settings = ApiSettings.from_context({}.get)

    assert settings == ApiSettings()
    assert settings.device_allowlist == DEFAULT_DEVICES == tuple(CDK_JSON_CONTEXT["deviceAllowlist"])
    assert (settings.throttle_rate, settings.throttle_burst, settings.results_retention_days) == (20, 40, 90)
    assert settings.owns_cloudwatch_role is True


def test_api_settings_read_every_key() -> None:
    settings = ApiSettings.from_context(CUSTOM_CONTEXT.get)

    assert settings == ApiSettings(
        device_allowlist=tuple(CUSTOM_CONTEXT["deviceAllowlist"]),
        admin_principals=tuple(CUSTOM_CONTEXT["adminPrincipals"]),
        promoted_tag_keys=tuple(CUSTOM_CONTEXT["promotedTagKeys"]),
        readable_results_buckets=tuple(CUSTOM_CONTEXT["readableResultsBuckets"]),
        results_retention_days=30,
        throttle_rate=7,
        throttle_burst=9,
        owns_cloudwatch_role=False,
    )


def test_api_settings_read_strings_given_on_the_command_line() -> None:
    context = {
        "deviceAllowlist": "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
        "promotedTagKeys": "project,team",
        "apiThrottle": '{"rateLimit": 5, "burstLimit": 10}',
        "resultsRetentionDays": "7",
        "apiGatewayCloudWatchRole": "false",
    }
    settings = ApiSettings.from_context(context.get)

    assert settings.device_allowlist == ("arn:aws:braket:::device/quantum-simulator/amazon/sv1",)
    assert settings.promoted_tag_keys == ("project", "team")
    assert (settings.throttle_rate, settings.throttle_burst, settings.results_retention_days) == (5, 10, 7)
    assert settings.owns_cloudwatch_role is False


BAD_API_CONTEXTS = {
    "device ARN of a task": (
        {"deviceAllowlist": ["arn:aws:braket:us-east-1:123456789012:quantum-task/x"]},
        "deviceAllowlist",
    ),
    "device name, not an ARN": ({"deviceAllowlist": ["sv1"]}, "deviceAllowlist: not valid: sv1"),
    "device ARN of another service": ({"deviceAllowlist": "arn:aws:s3:::device/sv1"}, "deviceAllowlist"),
    "six promoted keys": (
        {"promotedTagKeys": [f"key{i}" for i in range(MAX_PROMOTED_TAG_KEYS + 1)]},
        f"promotedTagKeys: at most {MAX_PROMOTED_TAG_KEYS}",
    ),
    "empty tag key characters": ({"promotedTagKeys": ["bad*key"]}, "promotedTagKeys"),
    "zero rate": (
        {"apiThrottle": {"rateLimit": 0, "burstLimit": 10}},
        r"apiThrottle\.rateLimit must be a whole number",
    ),
    "negative burst": ({"apiThrottle": {"rateLimit": 5, "burstLimit": -1}}, r"apiThrottle\.burstLimit"),
    "fractional rate": ({"apiThrottle": {"rateLimit": 2.5}}, r"apiThrottle\.rateLimit"),
    "word for a rate": ({"apiThrottle": {"rateLimit": "fast"}}, r"apiThrottle\.rateLimit"),
    "boolean burst": ({"apiThrottle": {"burstLimit": True}}, r"apiThrottle\.burstLimit"),
    "burst over the account quota": ({"apiThrottle": {"burstLimit": 100_000}}, r"apiThrottle\.burstLimit"),
    "misspelled throttle key": ({"apiThrottle": {"rate": 5}}, "apiThrottle"),
    "throttle not an object": ({"apiThrottle": [5, 10]}, "apiThrottle"),
    "admin not an IAM ARN": ({"adminPrincipals": ["alice"]}, "adminPrincipals"),
    "bucket with capitals": ({"readableResultsBuckets": ["My_Bucket"]}, "readableResultsBuckets"),
    "no retention": ({"resultsRetentionDays": 0}, "resultsRetentionDays"),
    "cloudwatch role maybe": ({"apiGatewayCloudWatchRole": "maybe"}, "apiGatewayCloudWatchRole"),
}


@pytest.mark.parametrize("name", BAD_API_CONTEXTS)
def test_api_settings_reject_bad_context_with_a_clear_message(name: str) -> None:
    context, message = BAD_API_CONTEXTS[name]

    with pytest.raises(ConfigurationError, match=message):
        ApiSettings.from_context(context.get)


def test_api_settings_accept_exactly_the_maximum_of_promoted_keys() -> None:
    keys = [f"key{i}" for i in range(MAX_PROMOTED_TAG_KEYS)]
    assert ApiSettings.from_context({"promotedTagKeys": keys}.get).promoted_tag_keys == tuple(keys)
    assert MAX_PROMOTED_TAG_KEYS == constants.MAX_PROMOTED_TAG_KEYS == 5


# --- Promoted tag keys: indexes and the functions that write and read them -----------------------


def _tag_indexes(ids: ApiIds) -> dict[str, dict[str, Any]]:
    return {
        index["IndexName"]: index
        for index in ids.properties(ids.task_table)["GlobalSecondaryIndexes"]
        if index["IndexName"].startswith("by-tag-")
    }


@pytest.mark.parametrize(("fixture", "keys"), [("default", ["project"]), ("custom", ["project", "team/name"])])
def test_each_promoted_tag_key_gets_an_index_on_the_tag_and_created_at(
    request: pytest.FixtureRequest, fixture: str, keys: list[str]
) -> None:
    ids: ApiIds = request.getfixturevalue(fixture)
    indexes = _tag_indexes(ids)

    assert set(indexes) == {constants.tag_index_name(key) for key in keys}
    for key in keys:
        index = indexes[constants.tag_index_name(key)]
        assert index["KeySchema"] == [
            {"AttributeName": f"tag:{key}", "KeyType": "HASH"},
            {"AttributeName": "createdAt", "KeyType": "RANGE"},
        ]
        assert index["Projection"] == {"ProjectionType": "ALL"}
    definitions = {
        d["AttributeName"]: d["AttributeType"] for d in ids.properties(ids.task_table)["AttributeDefinitions"]
    }
    assert all(definitions[f"tag:{key}"] == "S" for key in keys)


def test_tag_index_names_are_valid_dynamodb_index_names() -> None:
    assert constants.tag_index_name("team/name") == "by-tag-team_name"
    assert re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", constants.tag_index_name("a:b/c=d+e@f g"))


@pytest.mark.parametrize("function", ["recorder", "function"])
def test_recorder_and_api_get_the_promoted_tag_keys(custom: ApiIds, function: str) -> None:
    variables = custom.environment(getattr(custom, function))
    assert json.loads(variables[constants.ENV_PROMOTED_TAG_KEYS]) == CUSTOM_CONTEXT["promotedTagKeys"]


# --- The notifier announces tasks submitted through the API -------------------------------------


def _stream_record(origin: str) -> dict[str, Any]:
    """A MODIFY record of a task reaching COMPLETED, as Lambda hands it over (DynamoDB JSON)."""
    arn = "arn:aws:braket:us-west-1:123456789012:quantum-task/0d9f3a56-7e2b-4c1d-9a8f-5b6c7d8e9f01"

    def image(status: str) -> dict[str, Any]:
        details = {"enriched": {"BOOL": True}} if status == "COMPLETED" else {}  # Braket's details, written
        return {"taskArn": {"S": arn}, "status": {"S": status}, "origin": {"S": origin}, **details}

    return {
        "eventID": "1",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-west-1",
        "dynamodb": {"Keys": {"taskArn": {"S": arn}}, "NewImage": image("COMPLETED"), "OldImage": image("RUNNING")},
    }


@pytest.mark.parametrize(("origin", "announced"), [("event", True), ("api", True), ("backfill", False)])
def test_the_notifier_announces_tasks_from_events_and_from_the_api(
    default: ApiIds, origin: str, announced: bool
) -> None:
    (mapping,) = [
        m["Properties"]
        for m in default.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == ref(default.notifier)
    ]
    patterns = [json.loads(item["Pattern"]) for item in mapping["FilterCriteria"]["Filters"]]

    record = _stream_record(origin)
    delivered = any(EventPattern.load(json.dumps(p)).matches_event(record) for p in patterns)
    images = [  # as the notifier reads them: plain values (strings, and `enriched`'s bool)
        {k: next(iter(v.values())) for k, v in record["dynamodb"][name].items()} for name in ("OldImage", "NewImage")
    ]
    assert (delivered and announces("MODIFY", *images, notify_imported=False)) is announced


# --- cdk-nag -------------------------------------------------------------------------------------


def _api_acknowledgements(ids: ApiIds) -> dict[str, dict[str, str]]:
    """Construct path -> finding -> a phrase its reason must contain (a specific reason, not a shrug)."""
    tasks = "arn:<AWS::Partition>:braket:{}:<AWS::AccountId>:quantum-task/*"
    return {
        "TaskApi/Api": {"AwsSolutions-APIG3": "WAF", "AwsSolutions-COG4": "IAM (SigV4)"},
        "TaskApi/Results": {"AwsSolutions-S1": "CloudTrail data events"},
        "TaskApi/Handler/Role": {
            f"AwsSolutions-IAM5[Resource::{tasks.format('<AWS::Region>')}]": "CreateQuantumTask",
            f"AwsSolutions-IAM5[Resource::{tasks.format('*')}]": "Cancel and queue position",
            f"AwsSolutions-IAM5[Resource::<{ids.results}.Arn>/{constants.RESULTS_PREFIX}/*]": "results.json",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::amazon-braket-*/*]": "s3:ResourceAccount",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::amazon-braket-*]": "s3:ResourceAccount",
            "AwsSolutions-IAM5[Resource::*]": "SearchSpendingLimits",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:braket:*:<AWS::AccountId>:job/*]": "GetJob",
        },
    }


def _acknowledgements(app: SynthesizedApp) -> dict[str, dict[str, str]]:
    """The acknowledged findings by construct path (under the stack), from the cloud assembly's metadata."""
    metadata = json.loads((app.outdir / f"{STACK_NAME}.metadata.json").read_text())
    found: dict[str, dict[str, str]] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry["type"] == "aws:cdk:acknowledged-rules":
                rules = found.setdefault(path.removeprefix(f"/{STACK_NAME}/"), {})
                rules.update(
                    {finding.removeprefix("Annotation::"): reason for finding, reason in entry["data"].items()}
                )
    return found


def test_api_acknowledgements_exist_with_specific_reasons(default: ApiIds) -> None:
    expected = _api_acknowledgements(default)
    found = {path: rules for path, rules in _acknowledgements(default.app).items() if path.startswith("TaskApi/")}

    assert {path: set(rules) for path, rules in found.items()} == {path: set(rules) for path, rules in expected.items()}
    for path, rules in expected.items():
        for finding, phrase in rules.items():
            reason = found[path][finding]
            assert phrase in reason and len(reason) >= 60, (path, finding, reason)


def test_nag_names_exactly_the_acknowledged_api_findings_without_them(
    default: ApiIds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the stack without the API's acknowledgements (the others stay)
    monkeypatch.setattr(stacks.tracker_stack.TrackerStack, "_acknowledge_api", lambda self, task_api, config: None)
    monkeypatch.setattr(stacks.results_bucket, "acknowledge", lambda *args, **kwargs: None)
    monkeypatch.setattr(stacks.task_api, "acknowledge", lambda *args, **kwargs: None)

    # When the app is synthesized with cdk-nag on
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synthesize(tmp_path)

    # Then every finding is one that an acknowledgement covers (on its construct or an ancestor), and each
    # acknowledgement covers a finding: none is there for nothing (the job routes' GetJob/CancelJob one is
    # made by stacks/jobs.py, which stays)
    expected = _api_acknowledgements(default)
    expected["TaskApi/Handler/Role"] = {k: v for k, v in expected["TaskApi/Handler/Role"].items() if ":job/" not in k}
    report = json.loads((tmp_path / "validation-report.json").read_text())
    used: set[tuple[str, str]] = set()
    for violation in (v for plugin in report["pluginReports"] for v in plugin["violations"]):
        for construct in violation["violatingConstructs"]:
            path = construct["constructPath"].removeprefix(f"{STACK_NAME}/")
            covering = [
                ack
                for ack, rules in expected.items()
                if violation["ruleName"] in rules and f"{path}/".startswith(f"{ack}/")
            ]
            assert covering, (violation["ruleName"], path)
            used.add((max(covering, key=len), violation["ruleName"]))
    assert used == {(path, rule) for path, rules in expected.items() for rule in rules}


def test_nag_passes_for_the_customized_environment_specific_synth(customized: SynthesizedApp) -> None:
    # synthesize() raises on any finding; the report is empty too (the acknowledgements follow the literals).
    report = json.loads((customized.outdir / "validation-report.json").read_text())
    assert [violation for plugin in report["pluginReports"] for violation in plugin.get("violations", [])] == []
    acknowledged = _acknowledgements(customized)
    assert (
        f"AwsSolutions-IAM5[Resource::arn:aws:braket:{REGION}:{ACCOUNT}:quantum-task/*]"
        in (acknowledged["TaskApi/Handler/Role"])
    )
    assert "ApiGatewayLogging/Role" not in acknowledged  # no role, nothing to acknowledge
