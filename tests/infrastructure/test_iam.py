"""Least privilege: the recorder role grants exactly what the recorder calls, nothing is wildcarded
(but for the one action that has no resource-level permission). The notifier role: test_notifications."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.tracker.constants import BRAKET_REGIONS, PRICE_LIST_REGION
from tests.infrastructure.helpers import LogicalIds, as_list, grants, logical_id, policy_statements, role_statements
from tests.infrastructure.test_live_updates import MANAGE_CONNECTIONS
from tests.support.app import SynthesizedApp

pytestmark = pytest.mark.infrastructure

BRAKET_TASKS = "arn:${AWS::Partition}:braket:*:${AWS::AccountId}:quantum-task/*"
BRAKET_JOBS = "arn:${AWS::Partition}:braket:*:${AWS::AccountId}:job/*"
QUEUE_CONSUMER_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)


@pytest.fixture(scope="module")
def recorder_grants(resources: dict[str, Any], ids: LogicalIds) -> set[tuple[str, str]]:
    return grants(role_statements(resources, ids.role))


ROLES = ["role", "notifier_role"]
"""LogicalIds fields of the function roles: the recorder's and the notifier's."""


@pytest.mark.parametrize("name", ROLES)
def test_function_role_has_no_managed_policies(resources: dict[str, Any], ids: LogicalIds, name: str) -> None:
    role = getattr(ids, name)
    assert not resources[role]["Properties"].get("ManagedPolicyArns")
    attached = [
        policy
        for policy, resource in resources.items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role} in resource["Properties"].get("Roles", [])
    ]
    assert attached == []


@pytest.mark.parametrize("name", ROLES)
def test_function_role_is_assumed_by_lambda_only(resources: dict[str, Any], ids: LogicalIds, name: str) -> None:
    (statement,) = resources[getattr(ids, name)]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"


def test_recorder_role_grants_exactly_what_the_recorder_calls(
    recorder_grants: set[tuple[str, str]], ids: LogicalIds
) -> None:
    task_table = f"${{{ids.task_table}.Arn}}"
    expected = {
        ("dynamodb:GetItem", task_table),
        ("dynamodb:PutItem", task_table),
        ("dynamodb:UpdateItem", task_table),
        ("dynamodb:PutItem", f"${{{ids.rejected_table}.Arn}}"),
        ("braket:GetQuantumTask", BRAKET_TASKS),
        # hybrid jobs' events share the queue: the recorder's job path reads and writes the jobs table
        ("dynamodb:GetItem", f"${{{ids.job_table}.Arn}}"),
        ("dynamodb:PutItem", f"${{{ids.job_table}.Arn}}"),
        ("braket:GetJob", BRAKET_JOBS),
        ("logs:CreateLogStream", f"${{{ids.log_group}.Arn}}"),
        ("logs:PutLogEvents", f"${{{ids.log_group}.Arn}}"),
        *((action, f"${{{ids.queue}.Arn}}") for action in QUEUE_CONSUMER_ACTIONS),
        # Pushing the ends it records: the live pusher's fan-out, on the connections table only.
        ("dynamodb:Query", f"${{{ids.connections_table}.Arn}}/index/by-target"),
        ("dynamodb:Query", f"${{{ids.connections_table}.Arn}}"),
        ("dynamodb:BatchWriteItem", f"${{{ids.connections_table}.Arn}}"),
        ("execute-api:ManageConnections", MANAGE_CONNECTIONS % ids.live_api),
    }
    assert recorder_grants == expected


def test_recorder_role_cannot_query_scan_or_read_indexes_of_the_task_table(
    recorder_grants: set[tuple[str, str]], ids: LogicalIds
) -> None:
    task_table = f"${{{ids.task_table}.Arn}}"
    on_tasks = {(action, resource) for action, resource in recorder_grants if resource.startswith(task_table)}
    assert not [resource for _, resource in on_tasks if "/index/" in resource]
    assert not {action for action, _ in on_tasks} & {"dynamodb:Query", "dynamodb:Scan", "dynamodb:*"}


def test_template_has_no_wildcard_action_or_resource_outside_the_key_policies(
    resources: dict[str, Any], ids: LogicalIds, synthesized: SynthesizedApp
) -> None:
    offending = [
        (name, statement)
        for name, resource_type, statement in policy_statements(resources)
        if resource_type != "AWS::KMS::Key"
        and ("*" in as_list(statement.get("Action", [])) or "*" in as_list(statement.get("Resource", [])))
    ]
    # The exceptions: the stream event sources' ListStreams, the reconciler's SearchQuantumTasks and
    # SearchJobs, the price refresher's GetProducts and the API's SearchSpendingLimits, which have no
    # resource-level permission (each limited to its Regions).
    reconciler_policy = logical_id(synthesized.stack, "Reconciliation/Reconciler/Role/DefaultPolicy")
    prices_policy = logical_id(synthesized.stack, "Prices/Refresher/Role/DefaultPolicy")
    api_policy = logical_id(synthesized.stack, "TaskApi/Handler/Role/DefaultPolicy")
    job_readers = [
        logical_id(synthesized.stack, f"JobFunctions/{name}/Role/DefaultPolicy") for name in ("Notifier", "Updates")
    ]
    list_streams = {"Action": "dynamodb:ListStreams", "Effect": "Allow", "Resource": "*"}
    assert sorted(offending, key=str) == sorted(
        [
            (ids.notifier_policy, list_streams),
            (ids.pusher_policy, list_streams),
            *((policy, list_streams) for policy in job_readers),
            (
                reconciler_policy,
                {
                    "Action": "braket:SearchJobs",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": list(BRAKET_REGIONS)}},
                    "Effect": "Allow",
                    "Resource": "*",
                    "Sid": "SearchJobs",
                },
            ),
            (
                api_policy,
                {
                    "Action": "braket:SearchSpendingLimits",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": list(BRAKET_REGIONS)}},
                    "Effect": "Allow",
                    "Resource": "*",
                    "Sid": "BraketSpendingLimits",
                },
            ),
            (
                reconciler_policy,
                {
                    "Action": "braket:SearchQuantumTasks",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": list(BRAKET_REGIONS)}},
                    "Effect": "Allow",
                    "Resource": "*",
                    "Sid": "SearchTasks",
                },
            ),
            (
                prices_policy,
                {
                    "Action": "pricing:GetProducts",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": PRICE_LIST_REGION}},
                    "Effect": "Allow",
                    "Resource": "*",
                    "Sid": "ReadPriceList",
                },
            ),
        ],
        key=str,
    )


def test_template_allows_no_service_wide_actions_outside_the_key_policies(resources: dict[str, Any]) -> None:
    # "sqs:*" in the queue policies is a Deny (TLS only); an Allow of "service:*" would be too broad.
    offending = [
        (name, action)
        for name, resource_type, statement in policy_statements(resources)
        if resource_type != "AWS::KMS::Key" and statement["Effect"] == "Allow"
        for action in as_list(statement.get("Action", []))
        if action.endswith(":*")
    ]
    assert offending == []
