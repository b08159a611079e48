"""Live updates in the template: the WebSocket API's routes and authorization, its stage, the
connections table, the pusher's stream mapping, and least-privilege IAM."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks import live_updates
from tests.infrastructure.helpers import LogicalIds, arn_of, flatten, grants, logical_id, ref, role_statements
from tests.support.app import SynthesizedApp
from tracker import constants

JOB_ROUTES = constants.JOB_LIVE_ROUTES  # subscribeJobs, unsubscribeJobs: the job routes' own function

pytestmark = pytest.mark.infrastructure

MANAGE_CONNECTIONS = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${%s}/live/POST/@connections/*"


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == kind}


@pytest.fixture(scope="module")
def routes(resources: dict[str, Any], ids: LogicalIds) -> dict[str, dict[str, Any]]:
    found = {
        route["RouteKey"]: route
        for route in _of_type(resources, "AWS::ApiGatewayV2::Route").values()
        if route["ApiId"] == ref(ids.live_api)
    }
    return found


def test_the_api_is_a_websocket_api_routed_by_the_action_field(resources: dict[str, Any], ids: LogicalIds) -> None:
    api = resources[ids.live_api]["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"


def test_the_api_has_exactly_the_five_routes_and_the_two_job_routes(routes: dict[str, dict[str, Any]]) -> None:
    assert set(routes) == {"$connect", "$disconnect", "subscribe", "unsubscribe", "$default", *JOB_ROUTES}


def test_connect_is_iam_authorized_and_the_other_routes_run_on_the_authorized_connection(
    routes: dict[str, dict[str, Any]],
) -> None:
    assert routes["$connect"]["AuthorizationType"] == "AWS_IAM"
    assert {key: route["AuthorizationType"] for key, route in routes.items() if key != "$connect"} == dict.fromkeys(
        ["$disconnect", "subscribe", "unsubscribe", "$default", *JOB_ROUTES], "NONE"
    )


def test_every_route_is_a_lambda_proxy_to_the_connections_handler_or_the_job_routes(
    routes: dict[str, dict[str, Any]], resources: dict[str, Any], ids: LogicalIds, synthesized: SynthesizedApp
) -> None:
    job_routes = logical_id(synthesized.stack, "JobFunctions/LiveRoutes/Function")
    for key, route in routes.items():
        (integration_id,) = [part["Ref"] for part in route["Target"]["Fn::Join"][1] if isinstance(part, dict)]
        integration = resources[integration_id]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        handler = job_routes if key in JOB_ROUTES else ids.connections_handler
        assert arn_of(handler) in integration["IntegrationUri"]["Fn::Join"][1]


def test_api_gateway_may_invoke_the_handler_for_each_route_of_this_api_only(
    resources: dict[str, Any], ids: LogicalIds
) -> None:
    permissions = [
        p
        for p in _of_type(resources, "AWS::Lambda::Permission").values()
        if p["FunctionName"] == arn_of(ids.connections_handler)
    ]
    assert {flatten(p["SourceArn"]).rsplit("/", 1)[1] for p in permissions} == {
        "*$connect",
        "*$disconnect",
        "*subscribe",
        "*unsubscribe",
        "*$default",
    }
    for permission in permissions:
        assert permission["Principal"] == "apigateway.amazonaws.com"
        assert f":${{{ids.live_api}}}/" in flatten(permission["SourceArn"])


def test_stage_throttles_and_writes_json_access_logs(resources: dict[str, Any], ids: LogicalIds) -> None:
    stage = resources[ids.live_stage]["Properties"]
    assert stage["StageName"] == constants.LIVE_STAGE
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": live_updates.THROTTLE_BURST,
        "ThrottlingRateLimit": live_updates.THROTTLE_RATE,
    }
    assert stage["AccessLogSettings"]["DestinationArn"] == arn_of(ids.access_logs)
    assert json.loads(stage["AccessLogSettings"]["Format"])["connectionId"] == "$context.connectionId"
    # Access logs need API Gateway's account-level CloudWatch role, set before the stage.
    (account_id, account) = next(iter(_of_type(resources, "AWS::ApiGateway::Account").items()))
    assert account_id in resources[ids.live_stage]["DependsOn"]
    role = resources[account["CloudWatchRoleArn"]["Fn::GetAtt"][0]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}


def test_connections_table_keys_index_ttl_and_protection(resources: dict[str, Any], ids: LogicalIds) -> None:
    table = resources[ids.connections_table]["Properties"]
    assert table["KeySchema"] == [
        {"AttributeName": "connectionId", "KeyType": "HASH"},
        {"AttributeName": "entry", "KeyType": "RANGE"},
    ]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == constants.INDEX_BY_TARGET
    assert index["KeySchema"] == [
        {"AttributeName": "target", "KeyType": "HASH"},
        {"AttributeName": "connectionId", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_pusher_reads_the_task_stream_with_bisect_retries_and_an_on_failure_queue(
    synthesized: SynthesizedApp, ids: LogicalIds
) -> None:
    (mapping,) = [
        m["Properties"]
        for m in synthesized.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == ref(ids.pusher_function)
    ]
    assert mapping["EventSourceArn"] == arn_of(ids.task_table, "StreamArn")
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == live_updates.PUSHER_RETRIES
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": arn_of(ids.failed_pushes)}}
    assert [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]] == [
        {"eventName": ["INSERT", "MODIFY"]}
    ]


def _environment(resources: dict[str, Any], function: str) -> dict[str, Any]:
    return resources[function]["Properties"]["Environment"]["Variables"]  # type: ignore[no-any-return]


def test_both_functions_know_the_tables_and_the_stages_callback_url(resources: dict[str, Any], ids: LogicalIds) -> None:
    for function in (ids.connections_handler, ids.pusher_function):
        variables = _environment(resources, function)
        assert variables[constants.ENV_TASK_TABLE] == ref(ids.task_table)
        assert variables[constants.ENV_CONNECTIONS_TABLE] == ref(ids.connections_table)
        assert flatten(variables[constants.ENV_CONNECTIONS_ENDPOINT]) == (
            f"https://${{{ids.live_api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/live"
        )


def test_connections_handler_grants_are_exactly_what_its_routes_use(resources: dict[str, Any], ids: LogicalIds) -> None:
    table, tasks = f"${{{ids.connections_table}.Arn}}", f"${{{ids.task_table}.Arn}}"
    logs = f"${{{ids.connections_handler_log_group}.Arn}}"
    assert grants(role_statements(resources, ids.connections_handler_role)) == {
        ("logs:CreateLogStream", logs),
        ("logs:PutLogEvents", logs),
        *(
            (action, table)
            for action in ("dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchWriteItem")
        ),
        ("dynamodb:BatchGetItem", tasks),
        ("dynamodb:Query", f"{tasks}/index/by-submitter"),
        ("execute-api:ManageConnections", MANAGE_CONNECTIONS % ids.live_api),
    }


def test_pusher_grants_are_exactly_what_the_fan_out_uses(resources: dict[str, Any], ids: LogicalIds) -> None:
    table = f"${{{ids.connections_table}.Arn}}"
    logs = f"${{{ids.pusher_log_group}.Arn}}"
    found = grants(role_statements(resources, ids.pusher_role))
    stream = f"${{{ids.task_table}.StreamArn}}"
    assert found == {
        ("logs:CreateLogStream", logs),
        ("logs:PutLogEvents", logs),
        ("dynamodb:Query", f"{table}/index/by-target"),
        ("dynamodb:Query", table),
        ("dynamodb:BatchWriteItem", table),
        ("execute-api:ManageConnections", MANAGE_CONNECTIONS % ids.live_api),
        ("dynamodb:ListStreams", "*"),
        ("dynamodb:DescribeStream", stream),
        ("dynamodb:GetRecords", stream),
        ("dynamodb:GetShardIterator", stream),
        *(
            (action, f"${{{ids.failed_pushes}.Arn}}")
            for action in ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
        ),
        # The job side of the task stream rides on the pusher's mapping (tracker/jobs/task_side.py): a job's
        # task is linked (GetQuantumTask, a jobArn written), and its end counted once (the task's ledger and
        # the job's counts, one transaction). Tasks are read and written for that alone.
        ("dynamodb:GetItem", f"${{{ids.task_table}.Arn}}"),
        ("dynamodb:UpdateItem", f"${{{ids.task_table}.Arn}}"),
        *(
            (action, f"${{{ids.job_table}.Arn}}")
            for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        ),
        ("braket:GetQuantumTask", "arn:${AWS::Partition}:braket:*:${AWS::AccountId}:quantum-task/*"),
    }
