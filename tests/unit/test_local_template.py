"""The one transform local mode applies to the synthesized template before moto deploys it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from local.template import LOCAL_CHANGES, TemplateError, for_local

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "PowertoolsLayerArn": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/aws/service/powertools"},
        "BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/version"},
    },
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Handler": "h.handler", "Layers": [{"Ref": "PowertoolsLayerArn"}]},
        },
        "Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}, "FunctionName": {"Ref": "Function"}},
        },
        "Seeder": {"Type": "Custom::Seed", "Properties": {"ServiceToken": "x"}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"Tags": [{"Key": "project", "Value": "tracker"}]}},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "DependsOn": ["Mapping", "Queue"]},
    },
    "Outputs": {
        "MappingId": {"Value": {"Ref": "Mapping"}},
        "QueueUrl": {"Value": {"Ref": "Queue"}},
    },
    "Rules": {"CheckBootstrapVersion": {"Assertions": [{"Assert": {"Ref": "BootstrapVersion"}}]}},
}


def test_event_source_mappings_and_custom_resources_are_removed() -> None:
    local = for_local(TEMPLATE)

    assert set(local["Resources"]) == {"Queue", "Function", "Key", "Alarm"}


def test_function_layers_and_their_now_unused_parameters_are_removed() -> None:
    local = for_local(TEMPLATE)

    assert "Layers" not in local["Resources"]["Function"]["Properties"]
    assert set(local["Parameters"]) == {"BootstrapVersion"}  # still used by the bootstrap rule


def test_dependencies_and_outputs_on_removed_resources_are_dropped() -> None:
    local = for_local(TEMPLATE)

    assert local["Resources"]["Alarm"]["DependsOn"] == ["Queue"]
    assert set(local["Outputs"]) == {"QueueUrl"}


def test_kms_key_tags_are_spelled_as_moto_reads_them() -> None:
    local = for_local(TEMPLATE)

    assert local["Resources"]["Key"]["Properties"]["Tags"] == [{"TagKey": "project", "TagValue": "tracker"}]


def test_the_input_template_is_not_changed() -> None:
    before = copy.deepcopy(TEMPLATE)

    for_local(TEMPLATE)

    assert before == TEMPLATE


def test_a_resource_that_needs_a_removed_one_is_an_error() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["Resources"]["Queue"]["Properties"] = {"QueueName": {"Fn::Sub": "q-${Seeder.Name}"}}

    with pytest.raises(TemplateError, match="Queue refers to \\['Seeder'\\]"):
        for_local(template)


def test_every_change_is_documented() -> None:
    assert any("EventSourceMapping" in change for change in LOCAL_CHANGES)
    assert any("Custom::" in change for change in LOCAL_CHANGES)
    assert any("Layers" in change for change in LOCAL_CHANGES)
    assert any("KMS" in change for change in LOCAL_CHANGES)


def test_scheduled_rules_lose_their_function_targets_which_the_runner_fires() -> None:
    template = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Schedule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "rate(10 minutes)",
                    "Targets": [
                        {"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}, "Id": "Target0"},
                        {"Arn": {"Fn::GetAtt": ["Queue", "Arn"]}, "Id": "Target1"},
                    ],
                },
            },
            "Capture": {
                "Type": "AWS::Events::Rule",
                "Properties": {"EventPattern": {"source": ["aws.braket"]}, "Targets": [{"Arn": "x", "Id": "T"}]},
            },
        }
    }
    local = for_local(template)
    assert local["Resources"]["Schedule"]["Properties"]["Targets"] == [
        {"Arn": {"Fn::GetAtt": ["Queue", "Arn"]}, "Id": "Target1"}
    ]
    assert local["Resources"]["Capture"] == template["Resources"]["Capture"]
    assert template["Resources"]["Schedule"]["Properties"]["Targets"][0]["Id"] == "Target0"  # input unchanged


def test_the_dashboard_and_its_output_are_removed() -> None:
    """moto creates no alarms, so the dashboard's alarm widget (Fn::GetAtt on each alarm) cannot deploy."""
    template = copy.deepcopy(TEMPLATE)
    template["Resources"]["Dashboard"] = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardBody": {"Fn::Join": ["", ['{"alarms": ["', {"Fn::GetAtt": ["Alarm", "Arn"]}, '"]}']]}},
    }
    template["Outputs"]["DashboardUrl"] = {
        "Value": {"Fn::Join": ["", ["https://...#dashboards:name=", {"Ref": "Dashboard"}]]}
    }

    local = for_local(template)

    assert "Dashboard" not in local["Resources"]
    assert set(local["Outputs"]) == {"QueueUrl"}
    assert any("Dashboard" in change for change in LOCAL_CHANGES)
