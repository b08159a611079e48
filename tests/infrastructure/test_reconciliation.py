"""The reconciler: scheduled, least privilege (the two sparse indexes, never a Scan), its state table,
and the alarms of a broken capture path."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.config import ConfigurationError, TrackerConfig
from tests.infrastructure.helpers import LogicalIds, grants, logical_id, ref, role_statements
from tests.support.app import SynthesizedApp
from tracker import constants

pytestmark = pytest.mark.infrastructure
BRAKET_TASKS = "arn:${AWS::Partition}:braket:*:${AWS::AccountId}:quantum-task/*"


@pytest.fixture(scope="module")
def rid(synthesized: SynthesizedApp) -> dict[str, str]:
    return {
        name: logical_id(synthesized.stack, f"Reconciliation/{path}")
        for name, path in {
            "function": "Reconciler/Function",
            "role": "Reconciler/Role",
            "logs": "Reconciler/Logs",
            "state": "State",
            "schedule": "Schedule",
        }.items()
    }


def test_reconciler_role_grants_exactly_what_the_reconciler_calls(
    resources: dict[str, Any], ids: LogicalIds, rid: dict[str, str]
) -> None:
    table, state = f"${{{ids.task_table}.Arn}}", f"${{{rid['state']}.Arn}}"
    key, jobs = f"${{{ids.notification_key}.Arn}}", f"${{{ids.job_table}.Arn}}"
    assert grants(role_statements(resources, rid["role"])) == {
        ("dynamodb:Query", f"{table}/index/{constants.INDEX_UNFINISHED}"),
        ("dynamodb:Query", f"{table}/index/{constants.INDEX_UNNOTIFIED}"),
        *((action, table) for action in ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem")),
        ("dynamodb:UpdateItem", table),
        ("dynamodb:GetItem", state),
        ("dynamodb:PutItem", state),
        ("dynamodb:DescribeTable", state),
        ("braket:GetQuantumTask", BRAKET_TASKS),
        ("braket:SearchQuantumTasks", "*"),
        # hybrid jobs: their own passes, under GetJob's own rate
        ("dynamodb:Query", f"{jobs}/index/{constants.INDEX_UNFINISHED}"),
        ("dynamodb:Query", f"{jobs}/index/{constants.INDEX_UNNOTIFIED}"),
        ("dynamodb:GetItem", jobs),
        ("dynamodb:PutItem", jobs),
        ("braket:GetJob", "arn:${AWS::Partition}:braket:*:${AWS::AccountId}:job/*"),
        ("braket:SearchJobs", "*"),
        ("sns:Publish", f"${{{ids.notification_topic}}}"),
        ("kms:GenerateDataKey", key),
        ("kms:Decrypt", key),
        ("logs:CreateLogStream", f"${{{rid['logs']}.Arn}}"),
        ("logs:PutLogEvents", f"${{{rid['logs']}.Arn}}"),
    }
    search = [s for s in role_statements(resources, rid["role"]) if s.get("Sid") == "SearchTasks"]
    assert search[0]["Condition"] == {"StringEquals": {"aws:RequestedRegion": list(constants.BRAKET_REGIONS)}}


def test_reconciler_runs_on_a_schedule_without_retries(resources: dict[str, Any], rid: dict[str, str]) -> None:
    rule = resources[rid["schedule"]]["Properties"]
    assert rule["ScheduleExpression"] == "rate(10 minutes)"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [rid["function"], "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0}


def test_reconciler_environment_and_timeout(resources: dict[str, Any], ids: LogicalIds, rid: dict[str, str]) -> None:
    function = resources[rid["function"]]["Properties"]
    assert function["Handler"] == "tracker.reconciler.handler.lambda_handler"
    assert function["Timeout"] == 300
    variables = function["Environment"]["Variables"]
    assert variables[constants.ENV_TASK_TABLE] == ref(ids.task_table)
    assert variables[constants.ENV_STATE_TABLE] == ref(rid["state"])
    assert variables[constants.ENV_TOPIC_ARN] == ref(ids.notification_topic)
    assert variables[constants.ENV_STALE_AFTER_MINUTES] == "15"
    assert float(variables[constants.ENV_BRAKET_RATE]) < 100  # well under GetQuantumTask's quota


def test_state_table_is_encrypted_with_point_in_time_recovery(resources: dict[str, Any], rid: dict[str, str]) -> None:
    table = resources[rid["state"]]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": constants.STATE_KEY, "KeyType": "HASH"}]
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_capture_path_alarms(resources: dict[str, Any], synthesized: SynthesizedApp, ids: LogicalIds) -> None:
    def alarm(name: str) -> dict[str, Any]:
        return resources[logical_id(synthesized.stack, f"Operations/{name}")]["Properties"]  # type: ignore[no-any-return]

    failed = alarm("CaptureRuleFailedInvocations")
    assert (failed["Namespace"], failed["MetricName"]) == ("AWS/Events", "FailedInvocations")
    assert failed["Dimensions"] == [{"Name": "RuleName", "Value": ref(ids.rule)}]
    repaired = alarm("ReconcilerRepairedTasks")
    assert (repaired["Namespace"], repaired["MetricName"]) == (constants.METRICS_NAMESPACE, "TasksRepaired")
    assert repaired["Dimensions"] == [{"Name": "service", "Value": constants.RECONCILER_SERVICE}]
    errors = alarm("ReconcilerErrors")
    assert {query["Id"] for query in errors["Metrics"]} >= {"errors", "failures"}
    for properties in (failed, repaired, errors):
        assert properties["Threshold"] == 0
        assert properties["AlarmActions"] == [ref(ids.topic)]


def test_reconciliation_settings_come_from_context() -> None:
    def config(**context: object) -> TrackerConfig:
        return TrackerConfig.from_context(context.get)

    default = config()
    assert (default.reconcile_every_minutes, default.reconcile_after_minutes) == (10, 15)
    assert default.braket_requests_per_second == 20.0
    tuned = config(reconcileEveryMinutes="5", reconcileAfterMinutes=60, braketRequestsPerSecond="7.5")
    assert (tuned.reconcile_every_minutes, tuned.reconcile_after_minutes, tuned.braket_requests_per_second) == (
        5,
        60,
        7.5,
    )
    for key, bad in (
        ("reconcileEveryMinutes", 0),
        ("reconcileEveryMinutes", "often"),
        ("reconcileAfterMinutes", 2.5),
        ("braketRequestsPerSecond", 100),  # over the limit: Braket's quota is 100 per second
        ("braketRequestsPerSecond", True),
    ):
        with pytest.raises(ConfigurationError, match=key):
            config(**{key: bad})
