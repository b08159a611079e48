"""cdk-nag (AwsSolutions) runs on every synth, and only the written acknowledgement lets synth pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

import stacks.api_logging
import stacks.results_bucket
import stacks.tracker_stack
from tests.support.app import SynthesizedApp, synthesize

pytestmark = pytest.mark.infrastructure

BRAKET_WILDCARD = "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:braket:*:<AWS::AccountId>:quantum-task/*]"
LIST_STREAMS_WILDCARD = "AwsSolutions-IAM5[Resource::*]"  # dynamodb:ListStreams, from the stream event source
API_ROLE = "BraketTaskTracker/TaskApi/Handler/Role/DefaultPolicy/Resource"
LIVE_UPDATES_FINDINGS = {
    # WebSocket APIs take an authorizer on $connect only.
    "AwsSolutions-APIG4": [
        f"BraketTaskTracker/LiveUpdates/Api/{route}-Route/Resource"
        for route in ("$disconnect", "subscribe", "unsubscribe", "$default")
    ],
    # POST to the stage's @connections/* (connection ids exist only at run time).
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
    "<LiveUpdatesApi925D9A39>/live/POST/@connections/*]": [
        "BraketTaskTracker/Recording/Recorder/Role/DefaultPolicy/Resource",  # it pushes the ends it records
        "BraketTaskTracker/LiveUpdates/ConnectionsHandler/Role/DefaultPolicy/Resource",
        "BraketTaskTracker/LiveUpdates/Pusher/Role/DefaultPolicy/Resource",
    ],
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AmazonAPIGatewayPushToCloudWatchLogs]": ["BraketTaskTracker/ApiGatewayLogging/Role/Resource"],
}


def _report(outdir: Path) -> dict[str, Any]:
    return json.loads((outdir / "validation-report.json").read_text())  # type: ignore[no-any-return]


def test_nag_report_has_no_violations(synthesized: SynthesizedApp) -> None:
    reports = _report(synthesized.outdir)["pluginReports"]

    assert [violation for report in reports for violation in report.get("violations", [])] == []


def test_nag_fails_synth_without_the_acknowledgements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the stack without its acknowledgements
    monkeypatch.setattr(stacks.tracker_stack, "acknowledge", lambda *args, **kwargs: None)
    monkeypatch.setattr(stacks.api_logging, "acknowledge", lambda *args, **kwargs: None)
    monkeypatch.setattr(stacks.results_bucket, "acknowledge", lambda *args, **kwargs: None)

    # When the app is synthesized with cdk-nag on
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synthesize(tmp_path)

    # Then the report names exactly the acknowledged findings, each on its one construct
    violations = [violation for report in _report(tmp_path)["pluginReports"] for violation in report["violations"]]
    found = {
        violation["ruleName"]: [construct["constructPath"] for construct in violation["violatingConstructs"]]
        for violation in violations
    }
    assert len(found) == len(violations), violations
    assert found == {
        BRAKET_WILDCARD: ["BraketTaskTracker/Recording/Recorder/Role/DefaultPolicy/Resource", API_ROLE],
        "AwsSolutions-APIG3": ["BraketTaskTracker/TaskApi/Api/DeploymentStage.v1/Resource"],
        "AwsSolutions-COG4": [
            f"BraketTaskTracker/TaskApi/Api/Default/{method}/Resource"
            for method in (
                "tasks/POST",
                "tasks/GET",
                "tasks/{task_id}/GET",
                "tasks/{task_id}/cancel/POST",
                "tasks/{task_id}/result/GET",
                "costs/GET",
                "spending-limits/GET",
            )
        ]
        + [
            f"BraketTaskTracker/TaskApi/Api/Default/jobs/{method}/Resource"
            for method in ("GET", "{job_id}/GET", "{job_id}/tasks/GET", "{job_id}/cancel/POST")
        ],
        "AwsSolutions-S1": ["BraketTaskTracker/TaskApi/Results/Resource"],
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:braket:<AWS::Region>:<AWS::AccountId>:quantum-task/*]": [
            API_ROLE
        ],
        "AwsSolutions-IAM5[Resource::<TaskApiResults6E65CDB5.Arn>/tasks/*]": [API_ROLE],
        LIST_STREAMS_WILDCARD: [  # the stream mappings' ListStreams, and the API's SearchSpendingLimits
            "BraketTaskTracker/Notifications/Notifier/Role/DefaultPolicy/Resource",
            API_ROLE,
            "BraketTaskTracker/LiveUpdates/Pusher/Role/DefaultPolicy/Resource",
        ],
        "AwsSolutions-SQS3": [
            "BraketTaskTracker/Notifications/FailedNotifications/Resource",
            "BraketTaskTracker/LiveUpdates/FailedPushes/Resource",
        ],
        **LIVE_UPDATES_FINDINGS,
    }


@pytest.mark.parametrize(
    "env",
    [cdk.Environment(region="eu-north-1"), cdk.Environment(account="123456789012", region="us-west-1")],
    ids=["region", "account-and-region"],
)
def test_nag_passes_for_an_environment_specific_synth(tmp_path: Path, env: cdk.Environment) -> None:
    # cdk-nag spells the Braket wildcard with literals here, so the acknowledgement must follow.
    synthesized = synthesize(tmp_path, env=env)

    reports = _report(synthesized.outdir)["pluginReports"]
    assert [violation for report in reports for violation in report.get("violations", [])] == []
