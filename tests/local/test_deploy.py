"""Local AWS: the synthesized stack deploys into moto server as `cdk deploy` would deploy it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from local.aws import DeployedStack, MotoServer, deploy
from local.tracker import api_addresses
from tests.support.app import STACK_NAME, SynthesizedApp, synthesize
from tests.support.events import load_fixture

pytestmark = pytest.mark.integration
REGION = "eu-west-2"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_urls(synthesized: SynthesizedApp) -> dict[str, str]:
    return api_addresses(synthesized.outdir, STACK_NAME)[1]


@pytest.fixture(scope="module")
def stack(moto: MotoServer, synthesized: SynthesizedApp, api_urls: dict[str, str]) -> DeployedStack:
    return deploy(moto, synthesized.outdir, STACK_NAME, REGION, api_urls=api_urls)


def test_the_url_outputs_name_where_local_mode_serves_the_apis(stack: DeployedStack, api_urls: dict[str, str]) -> None:
    api, live = stack.outputs["TaskApiUrl"], stack.outputs["LiveUpdatesUrl"]

    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1/", api) and api in api_urls.values()
    assert re.fullmatch(r"ws://127\.0\.0\.1:\d+/live", live) and live in api_urls.values()
    assert not [key for key, value in stack.outputs.items() if not value or "None" in value]


def test_every_output_is_a_deployed_resource(stack: DeployedStack, moto: MotoServer) -> None:
    dynamodb = moto.client("dynamodb", REGION)

    tasks = dynamodb.describe_table(TableName=stack.outputs["TaskTableName"])["Table"]

    assert {index["IndexName"] for index in tasks["GlobalSecondaryIndexes"]} >= {"by-status", "by-task-id"}
    assert tasks["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert set(stack.outputs) >= {"TaskTableName", "RejectedEventsTableName", "EventQueueUrl", "DeadLetterQueueUrl"}


def test_functions_exist_with_their_environment_resolved(stack: DeployedStack, moto: MotoServer) -> None:
    functions = {f["Handler"]: f for f in moto.client("lambda", REGION).list_functions()["Functions"]}

    assert set(functions) == {
        "tracker.recorder.handler.lambda_handler",
        "tracker.notifier.handler.lambda_handler",
        "tracker.api.handler.lambda_handler",
        "tracker.live.connections_handler.lambda_handler",
        "tracker.live.pusher_handler.lambda_handler",
        "tracker.reconciler.handler.lambda_handler",
        "tracker.prices.handler.lambda_handler",
        "tracker.costs.handler.lambda_handler",
        "tracker.spending.handler.lambda_handler",
        "tracker.jobs.notifier_handler.lambda_handler",
        "tracker.jobs.updates_handler.lambda_handler",
        "tracker.jobs.live_handler.lambda_handler",
    }
    recorder = functions["tracker.recorder.handler.lambda_handler"]["Environment"]["Variables"]
    notifier = functions["tracker.notifier.handler.lambda_handler"]["Environment"]["Variables"]
    api = functions["tracker.api.handler.lambda_handler"]["Environment"]["Variables"]
    assert recorder["TASK_TABLE_NAME"] == notifier["TASK_TABLE_NAME"] == stack.outputs["TaskTableName"]
    assert api["TASK_TABLE_NAME"] == stack.outputs["TaskTableName"]
    assert recorder["REJECTED_EVENTS_TABLE_NAME"] == stack.outputs["RejectedEventsTableName"]
    assert notifier["NOTIFICATION_TOPIC_ARN"] == stack.outputs["NotificationTopicArn"]
    assert json.loads(api["RESULTS_BUCKETS"]) == {REGION: stack.outputs["ResultsBucketName"]}
    reconciler = functions["tracker.reconciler.handler.lambda_handler"]["Environment"]["Variables"]
    assert reconciler["TASK_TABLE_NAME"] == stack.outputs["TaskTableName"]
    assert reconciler["RECONCILER_STATE_TABLE_NAME"] == stack.outputs["ReconcilerStateTableName"]
    prices = functions["tracker.prices.handler.lambda_handler"]["Environment"]["Variables"]
    assert moto.client("dynamodb", REGION).describe_table(TableName=prices["PRICES_TABLE_NAME"])["Table"]


def test_the_templates_subscriptions_are_created(moto: MotoServer, synthesized: SynthesizedApp) -> None:
    # moto's CloudFormation accepts AWS::SNS::Subscription without creating it: local mode subscribes.
    with_subscription = synthesized.outdir.parent / "with-subscription"
    context = {"notificationSubscriptions": [{"protocol": "https", "endpoint": "https://example.com/hook"}]}
    synthesize(with_subscription, context)
    # Another Region: the stack's export name is unique per Region, as in CloudFormation.
    stack = deploy(moto, with_subscription, STACK_NAME, "eu-north-1")

    subscriptions = moto.client("sns", "eu-north-1").list_subscriptions_by_topic(
        TopicArn=stack.outputs["NotificationTopicArn"]
    )["Subscriptions"]

    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("https", "https://example.com/hook")]


def test_no_event_source_mapping_is_left_to_consume_messages(stack: DeployedStack, moto: MotoServer) -> None:
    assert moto.client("lambda", REGION).list_event_source_mappings()["EventSourceMappings"] == []


def test_the_deployed_rule_delivers_braket_events_to_the_capture_queue(stack: DeployedStack, moto: MotoServer) -> None:
    event: dict[str, Any] = load_fixture("task-state-change-completed.json")
    moto.client("events", REGION).put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event["resources"],
            }
        ]
    )

    messages = moto.client("sqs", REGION).receive_message(QueueUrl=stack.outputs["EventQueueUrl"], WaitTimeSeconds=2)

    (message,) = messages["Messages"]
    assert json.loads(message["Body"])["detail"] == event["detail"]
