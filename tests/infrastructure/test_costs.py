"""Costs in the template: the totals and ledger tables, the cost keeper (its queue, its grants, its
environment), the spend change rule and its function, and the `budgets` setting checked at synth."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.config import ConfigurationError, TrackerConfig
from tests.infrastructure.helpers import (
    LogicalIds,
    arn_of,
    denies_insecure_transport,
    grants,
    logical_id,
    queue_policy_statements,
    ref,
    role_statements,
)
from tests.support.app import SynthesizedApp
from tracker import constants
from tracker.config import CostsConfig
from tracker.logic.budgets import parse_budgets

pytestmark = pytest.mark.infrastructure


def _id(app: SynthesizedApp, path: str) -> str:
    return logical_id(app.stack, path)


@pytest.mark.parametrize(("path", "keys"), [("Costs/Totals", ["month", "scope"]), ("Costs/Ledger", ["entry"])])
def test_the_cost_tables_are_kept_like_records_of_money(
    synthesized: SynthesizedApp, path: str, keys: list[str]
) -> None:
    table = synthesized.resources[_id(synthesized, path)]
    properties = table["Properties"]

    assert [k["AttributeName"] for k in properties["KeySchema"]] == keys
    assert (table["DeletionPolicy"], properties["DeletionProtectionEnabled"]) == ("Retain", True)
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert "GlobalSecondaryIndexes" not in properties and "StreamSpecification" not in properties


def test_the_keeper_reads_its_queue_which_redrives_to_a_dead_letter_queue(synthesized: SynthesizedApp) -> None:
    queue, dead = _id(synthesized, "Costs/CostQueue"), _id(synthesized, "Costs/CostQueueDeadLetterQueue")
    (mapping,) = [
        m["Properties"]
        for m in synthesized.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == ref(_id(synthesized, "Costs/Keeper/Function"))
    ]
    properties = synthesized.resources[queue]["Properties"]

    assert mapping["EventSourceArn"] == arn_of(queue)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["RedrivePolicy"] == {"deadLetterTargetArn": arn_of(dead), "maxReceiveCount": 5}
    keeper_timeout = synthesized.resources[_id(synthesized, "Costs/Keeper/Function")]["Properties"]["Timeout"]
    assert properties["VisibilityTimeout"] >= 6 * keeper_timeout
    for name in (queue, dead):
        assert synthesized.resources[name]["Properties"]["SqsManagedSseEnabled"] is True
        (statement,) = queue_policy_statements(synthesized.resources, name)
        assert denies_insecure_transport(statement, "sqs:*")


def test_the_keeper_role_grants_exactly_what_the_keeper_calls(synthesized: SynthesizedApp, ids: LogicalIds) -> None:
    totals, ledger = _id(synthesized, "Costs/Totals"), _id(synthesized, "Costs/Ledger")
    queue, logs = _id(synthesized, "Costs/CostQueue"), _id(synthesized, "Costs/Keeper/Logs")
    key = f"${{{ids.notification_key}.Arn}}"
    assert grants(role_statements(synthesized.resources, _id(synthesized, "Costs/Keeper/Role"))) == {
        ("dynamodb:GetItem", f"${{{ids.task_table}.Arn}}"),
        ("dynamodb:UpdateItem", f"${{{ids.task_table}.Arn}}"),  # the cost attributes only (data.task_costs)
        *(
            (action, f"${{{totals}.Arn}}")
            for action in ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem")
        ),
        ("dynamodb:GetItem", f"${{{ledger}.Arn}}"),
        ("dynamodb:PutItem", f"${{{ledger}.Arn}}"),
        ("dynamodb:GetItem", f"${{{_id(synthesized, 'Prices/Catalogue')}.Arn}}"),
        ("s3:GetObject", "arn:${AWS::Partition}:s3:::amazon-braket-*/*"),  # this account's (s3:ResourceAccount)
        ("sns:Publish", f"${{{ids.notification_topic}}}"),  # budget alerts
        ("kms:GenerateDataKey", key),
        ("kms:Decrypt", key),
        *((action, f"${{{queue}.Arn}}") for action in ("sqs:ReceiveMessage", "sqs:ChangeMessageVisibility")),
        *(
            (action, f"${{{queue}.Arn}}")
            for action in ("sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
        ),
        ("logs:CreateLogStream", f"${{{logs}.Arn}}"),
        ("logs:PutLogEvents", f"${{{logs}.Arn}}"),
    }


def test_the_keepers_environment_passes_its_own_config_check(synthesized: SynthesizedApp) -> None:
    variables = synthesized.resources[_id(synthesized, "Costs/Keeper/Function")]["Properties"]["Environment"][
        "Variables"
    ]
    resolved = {name: value if isinstance(value, str) else f"resolved-{name}" for name, value in variables.items()}

    config = CostsConfig.from_env(resolved)

    assert (config.budgets_json, config.promoted_tag_keys) == ("[]", ("project",))


def test_spend_change_events_go_through_their_queue_to_the_spending_limits_function(
    synthesized: SynthesizedApp,
) -> None:
    rule = synthesized.resources[_id(synthesized, "Costs/SpendChangeRule")]["Properties"]
    (target,) = rule["Targets"]

    assert rule["EventPattern"] == {"source": ["aws.braket"], "detail-type": ["Braket Spending Limit Spend Change"]}
    assert target["Arn"] == arn_of(_id(synthesized, "Costs/SpendChangeQueue"))
    assert target["DeadLetterConfig"] == {"Arn": arn_of(_id(synthesized, "Costs/SpendChangeDeadLetterQueue"))}
    role = _id(synthesized, "Costs/SpendingLimits/Role")
    assert ("dynamodb:UpdateItem", f"${{{_id(synthesized, 'Costs/Totals')}.Arn}}") in grants(
        role_statements(synthesized.resources, role)
    )


# --- the budgets setting ---------------------------------------------------------------------------


def _config(budgets: Any, promoted: list[str] | None = None) -> TrackerConfig:
    context = {"budgets": budgets, "promotedTagKeys": promoted if promoted is not None else ["project"]}
    return TrackerConfig.from_context(context.get)


def test_budgets_reach_the_functions_as_the_lambdas_parse_them() -> None:
    config = _config(
        [
            {"scope": "tag:project=qml", "monthlyUsd": 500, "alertAt": [50, 80, 100]},
            {"scope": "submitter:arn:aws:iam::123456789012:user/ada", "monthlyUsd": "199.99"},
            {"scope": "device:arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1", "monthlyUsd": 1000.5},
            {"scope": "account", "monthlyUsd": 5000, "alertAt": [120, 80]},
        ]
    )
    from stacks.budget_settings import budgets_json

    parsed = parse_budgets(budgets_json(config.budgets))

    assert [(b.scope, str(b.monthly_usd), [str(p) for p in b.alert_at]) for b in parsed] == [
        ("tag:project=qml", "500", ["50", "80", "100"]),
        ("submitter:arn:aws:iam::123456789012:user/ada", "199.99", ["50", "80", "100"]),
        ("device:arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1", "1000.5", ["50", "80", "100"]),
        ("account", "5000", ["80", "120"]),
    ]
    assert _config(json.dumps([{"scope": "account", "monthlyUsd": 1}])).budgets[0].monthly_usd == "1"


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ([{"scope": "tag:team=qml", "monthlyUsd": 1}], "'team' is not a promoted tag key"),
        ([{"scope": "tag:project=", "monthlyUsd": 1}], "give account, device:<device ARN>"),
        ([{"scope": "everyone", "monthlyUsd": 1}], "give account, device:<device ARN>"),
        ([{"scope": "account", "monthlyUsd": 0}], "monthlyUsd: a number above 0"),
        ([{"scope": "account", "monthlyUsd": True}], "monthlyUsd: give a number"),
        ([{"scope": "account", "monthlyUsd": "1e999"}], "a number above 0"),
        ([{"scope": "account", "monthlyUsd": 1, "alertAt": []}], "alertAt is a list of 1 to 10"),
        ([{"scope": "account", "monthlyUsd": 1, "alertAt": [0]}], "alertAt: a number above 0"),
        ([{"scope": "account", "monthlyUsd": 1, "limit": 2}], "is not {scope, monthlyUsd, alertAt}"),
        ([{"scope": "account", "monthlyUsd": 1}, {"scope": "account", "monthlyUsd": 2}], "twice: account"),
        ("[not json", "budgets: not JSON"),
    ],
)
def test_a_wrong_budget_stops_synth_naming_it(budgets: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("{", r"\{").replace("}", r"\}").replace("<", "<")):
        _config(budgets)


def test_the_budgets_are_named_in_cdk_json_with_none_by_default() -> None:
    from tests.support.app import CDK_JSON_CONTEXT

    assert CDK_JSON_CONTEXT["budgets"] == [] and TrackerConfig.from_context({}.get).budgets == ()
    assert constants.ENV_BUDGETS == "BUDGETS"
