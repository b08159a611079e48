"""Every Braket Region: a forwarder stack per other Region, whose rule sends Braket task events to
the home Region's default bus through a role that may only put events there, with a dead-letter
queue and alarms in its own Region; and app.py builds them all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from lambdas.tracker.constants import BRAKET_REGIONS
from stacks.config import ConfigurationError, TrackerConfig
from tests.infrastructure.helpers import PROJECT_ROOT, as_list, flatten
from tests.support.app import STACK_NAME, SynthesizedRegions, synthesize_regions
from tests.support.events import load_fixture

pytestmark = pytest.mark.infrastructure
HOME = "us-east-1"
ACCOUNT = "123456789012"
HOME_BUS = f"arn:aws:events:{HOME}:{ACCOUNT}:event-bus/default"


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedRegions:
    return synthesize_regions(tmp_path_factory.mktemp("cdk.out.regions"), HOME, ACCOUNT, {"alarmEmail": "ops@x.io"})


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (resource,) = of_type(template, resource_type).values()
    return resource["Properties"]  # type: ignore[no-any-return]


def test_a_forwarder_in_every_other_braket_region(regions: SynthesizedRegions) -> None:
    assert set(regions.forwarders) == set(BRAKET_REGIONS) - {HOME}
    assert set(regions.forwarders) == {"us-west-1", "us-west-2", "eu-west-2", "eu-north-1"}
    for region, stack in regions.forwarders.items():
        assert stack.region == region
        assert stack.stack_name == f"{STACK_NAME}-Forwarder-{region}"


@pytest.mark.parametrize("region", ["us-west-1", "eu-north-1"])
def test_the_rule_forwards_task_and_job_state_changes_to_the_home_bus_with_a_dead_letter_queue(
    regions: SynthesizedRegions, region: str
) -> None:
    template = regions.forwarder_template(region)
    rule = only(template, "AWS::Events::Rule")
    assert rule["EventPattern"] == {
        "source": ["aws.braket"],
        "detail-type": ["Braket Task State Change", "Braket Job State Change", "Braket Spending Limit Spend Change"],
    }
    (target,) = rule["Targets"]
    assert flatten(target["Arn"]) == HOME_BUS
    (queue_id,) = of_type(template, "AWS::SQS::Queue")
    (role_id,) = of_type(template, "AWS::IAM::Role")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert target["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    # The pattern matches Braket's real events (moto's pattern engine), and nothing else.
    pattern = EventPattern.load(json.dumps(rule["EventPattern"]))
    assert pattern.matches_event(load_fixture("task-state-change-completed.json"))
    assert pattern.matches_event(load_fixture("job-lifecycle-unknown-field.json")[0])
    assert not pattern.matches_event({"source": "aws.braket", "detail-type": "Braket Device Status Change"})


def test_the_forwarders_role_may_only_put_events_on_the_home_bus(regions: SynthesizedRegions) -> None:
    template = regions.forwarder_template("eu-west-2")
    role = only(template, "AWS::IAM::Role")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    (statement,) = as_list(only(template, "AWS::IAM::Policy")["PolicyDocument"]["Statement"])
    assert (statement["Effect"], statement["Action"], flatten(statement["Resource"])) == (
        "Allow",
        "events:PutEvents",
        HOME_BUS,
    )


def test_the_dead_letter_queue_is_encrypted_tls_only_and_admits_only_the_rule(regions: SynthesizedRegions) -> None:
    template = regions.forwarder_template("us-west-2")
    queue = only(template, "AWS::SQS::Queue")
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    statements = as_list(only(template, "AWS::SQS::QueuePolicy")["PolicyDocument"]["Statement"])
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    (rule_id,) = of_type(template, "AWS::Events::Rule")
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_forwarder_alarms_notify_an_encrypted_topic_in_their_own_region(regions: SynthesizedRegions) -> None:
    template = regions.forwarder_template("eu-north-1")
    (topic_id,) = of_type(template, "AWS::SNS::Topic")
    (key_id,) = of_type(template, "AWS::KMS::Key")
    assert only(template, "AWS::SNS::Topic")["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    found = of_type(template, "AWS::CloudWatch::Alarm").values()
    alarms = {alarm["Properties"]["MetricName"]: alarm["Properties"] for alarm in found}
    assert set(alarms) == {"FailedInvocations", "ApproximateNumberOfMessagesVisible"}
    (rule_id,) = of_type(template, "AWS::Events::Rule")
    assert alarms["FailedInvocations"]["Namespace"] == "AWS/Events"
    assert alarms["FailedInvocations"]["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": rule_id}}]
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic_id}]
        assert alarm["Threshold"] == 0
    assert only(template, "AWS::SNS::Subscription")["Endpoint"] == "ops@x.io"


def test_the_home_region_records_every_region(regions: SynthesizedRegions) -> None:
    """The reconciler asks every Braket Region, and the recorder reads a task in its own Region."""
    functions = regions.home.resources_of_type("AWS::Lambda::Function")
    (reconciler,) = [f for f in functions.values() if "Reconciler" in json.dumps(f["Properties"].get("Role"))]
    assert reconciler["Properties"]["Environment"]["Variables"]["BRAKET_REGIONS"] == ",".join(BRAKET_REGIONS)


def test_braket_regions_come_from_context() -> None:
    def config(value: Any) -> TrackerConfig:
        return TrackerConfig.from_context({"braketRegions": value}.get)

    assert config(None).braket_regions == BRAKET_REGIONS
    assert config("us-east-1, eu-north-1").braket_regions == ("us-east-1", "eu-north-1")
    assert config(["us-west-1"]).braket_regions == ("us-west-1",)
    for bad in ("mars-1", ["us-east-1", 3], {"us-east-1": True}):
        with pytest.raises(ConfigurationError, match="braketRegions"):
            config(bad)


def test_app_py_builds_the_home_stack_and_every_forwarder(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path),
        "AWS_REGION": "eu-north-1",
        "CDK_DEFAULT_ACCOUNT": ACCOUNT,
        "CDK_CONTEXT_JSON": json.dumps({"braketRegions": ["eu-north-1", "us-east-1", "us-west-1"]}),
    }
    subprocess.run([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = {
        name: artifact["environment"]
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert stacks == {
        STACK_NAME: f"aws://{ACCOUNT}/eu-north-1",
        f"{STACK_NAME}-Forwarder-us-east-1": f"aws://{ACCOUNT}/us-east-1",
        f"{STACK_NAME}-Forwarder-us-west-1": f"aws://{ACCOUNT}/us-west-1",
    }


def test_cfn_lint_passes_on_the_forwarder_and_home_templates(regions: SynthesizedRegions) -> None:
    templates = [str(regions.home.template_path)] + [
        str(regions.outdir / f"{stack.stack_name}.template.json") for stack in regions.forwarders.values()
    ]
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), *templates, "--ignore-checks", "W3005"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"cfn-lint exited {result.returncode}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("region", ["us-west-1", "eu-north-1"])
def test_each_forwarder_owns_its_regions_results_bucket_where_the_api_looks(
    regions: SynthesizedRegions, region: str
) -> None:
    bucket = only(regions.forwarder_template(region), "AWS::S3::Bucket")
    expected = f"amazon-braket-brakettasktracker-{ACCOUNT}-{region}"  # Braket's prefix; the Task API's rule

    assert bucket["BucketName"] == expected
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    assert bucket["LifecycleConfiguration"]["Rules"][0]["Prefix"] == "tasks/"
    api_function = next(
        r["Properties"]
        for r in regions.home.resources_of_type("AWS::Lambda::Function").values()
        if r["Properties"]["Handler"] == "tracker.api.handler.lambda_handler"
    )
    buckets = json.loads(flatten(api_function["Environment"]["Variables"]["RESULTS_BUCKETS"]))
    assert buckets[region] == expected
    assert set(buckets) == set(BRAKET_REGIONS)
