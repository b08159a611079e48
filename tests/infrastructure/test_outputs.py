"""Stack outputs: the stable names that scripts, local mode and the client look up."""

from __future__ import annotations

from typing import Any

import pytest

from stacks import tracker_stack
from tests.infrastructure.helpers import LogicalIds, arn_of, logical_id, ref
from tests.support.app import SynthesizedApp

pytestmark = pytest.mark.infrastructure

OUTPUT_KEYS = {name: value for name, value in vars(tracker_stack).items() if name.startswith("OUTPUT_")}


def test_outputs_are_named_by_the_output_constants(template_json: dict[str, Any]) -> None:
    assert len(OUTPUT_KEYS) == 18
    assert set(template_json["Outputs"]) == set(OUTPUT_KEYS.values())


def test_outputs_reference_their_resources(
    template_json: dict[str, Any], ids: LogicalIds, synthesized: SynthesizedApp
) -> None:
    values = {key: output["Value"] for key, output in template_json["Outputs"].items()}
    assert values == {
        tracker_stack.OUTPUT_TASK_TABLE: ref(ids.task_table),
        tracker_stack.OUTPUT_TASK_TABLE_STREAM: arn_of(ids.task_table, "StreamArn"),
        tracker_stack.OUTPUT_REJECTED_TABLE: ref(ids.rejected_table),
        tracker_stack.OUTPUT_EVENT_QUEUE: ref(ids.queue),
        tracker_stack.OUTPUT_DEAD_LETTER_QUEUE: ref(ids.dead_letter_queue),
        tracker_stack.OUTPUT_ALARM_TOPIC: ref(ids.topic),
        tracker_stack.OUTPUT_NOTIFICATION_TOPIC: ref(ids.notification_topic),
        tracker_stack.OUTPUT_FAILED_NOTIFICATIONS: ref(ids.failed_notifications),
        tracker_stack.OUTPUT_API_URL: {
            "Fn::Join": [
                "",
                [
                    "https://",
                    ref(ids.api),
                    ".execute-api.",
                    ref("AWS::Region"),
                    ".",
                    ref("AWS::URLSuffix"),
                    "/",
                    ref(logical_id_of_stage(template_json)),
                    "/",
                ],
            ]
        },
        tracker_stack.OUTPUT_RESULTS_BUCKET: ref(ids.results_bucket),
        tracker_stack.OUTPUT_LIVE_UPDATES_URL: {
            "Fn::Join": [
                "",
                ["wss://", ref(ids.live_api), ".execute-api.", ref("AWS::Region"), ".", ref("AWS::URLSuffix"), "/live"],
            ]
        },
        tracker_stack.OUTPUT_CONNECTIONS_TABLE: ref(ids.connections_table),
        tracker_stack.OUTPUT_FAILED_PUSHES: ref(ids.failed_pushes),
        tracker_stack.OUTPUT_RECONCILER_STATE_TABLE: ref(logical_id(synthesized.stack, "Reconciliation/State")),
        tracker_stack.OUTPUT_DASHBOARD: {
            "Fn::Join": [
                "",
                [
                    "https://",
                    ref("AWS::Region"),
                    ".console.aws.amazon.com/cloudwatch/home?region=",
                    ref("AWS::Region"),
                    "#dashboards:name=",
                    ref(logical_id(synthesized.stack, "Dashboard/Dashboard")),
                ],
            ]
        },
        tracker_stack.OUTPUT_COST_TOTALS_TABLE: ref(logical_id(synthesized.stack, "Costs/Totals")),
        tracker_stack.OUTPUT_JOB_TABLE: ref(ids.job_table),
        tracker_stack.OUTPUT_JOB_TABLE_STREAM: arn_of(ids.job_table, "StreamArn"),
    }


def logical_id_of_stage(template_json: dict[str, Any]) -> str:
    return next(name for name, r in template_json["Resources"].items() if r["Type"] == "AWS::ApiGateway::Stage")
