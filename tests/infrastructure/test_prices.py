"""Prices: a daily function that reads the AWS Price List into the prices table, with least privilege,
an alarm when it fails, and one GetItem for the functions that price tasks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

import stacks.prices
from stacks.nag import add_nag_checks
from stacks.prices import Prices
from tests.infrastructure.helpers import LogicalIds, grants, logical_id, ref, role_statements
from tests.support.app import SynthesizedApp
from tracker import constants

pytestmark = pytest.mark.infrastructure


@pytest.fixture(scope="module")
def pid(synthesized: SynthesizedApp) -> dict[str, str]:
    return {
        name: logical_id(synthesized.stack, f"Prices/{path}")
        for name, path in {
            "function": "Refresher/Function",
            "role": "Refresher/Role",
            "logs": "Refresher/Logs",
            "table": "Catalogue",
            "schedule": "Schedule",
        }.items()
    }


def test_the_refresher_may_read_the_price_list_and_write_the_catalogue_only(
    resources: dict[str, Any], pid: dict[str, str]
) -> None:
    statements = role_statements(resources, pid["role"])
    assert grants(statements) == {
        ("dynamodb:PutItem", f"${{{pid['table']}.Arn}}"),
        ("pricing:GetProducts", "*"),
        ("logs:CreateLogStream", f"${{{pid['logs']}.Arn}}"),
        ("logs:PutLogEvents", f"${{{pid['logs']}.Arn}}"),
    }
    (price_list,) = [s for s in statements if s.get("Sid") == "ReadPriceList"]
    assert price_list["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}


def test_the_refresher_runs_daily_without_retries(resources: dict[str, Any], pid: dict[str, str]) -> None:
    rule = resources[pid["schedule"]]["Properties"]
    assert rule["ScheduleExpression"] == "cron(17 4 * * ? *)"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [pid["function"], "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0}


def test_the_refresher_knows_its_table_and_the_price_list_endpoint(
    resources: dict[str, Any], pid: dict[str, str]
) -> None:
    function = resources[pid["function"]]["Properties"]
    assert function["Handler"] == "tracker.prices.handler.lambda_handler"
    assert function["Timeout"] == 120
    variables = function["Environment"]["Variables"]
    assert variables[constants.ENV_PRICES_TABLE] == ref(pid["table"])
    assert variables[constants.ENV_PRICE_LIST_REGION] == "us-east-1"
    assert variables["POWERTOOLS_SERVICE_NAME"] == constants.PRICES_SERVICE


def test_the_prices_table_is_encrypted_with_point_in_time_recovery(
    resources: dict[str, Any], pid: dict[str, str]
) -> None:
    table = resources[pid["table"]]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": constants.PRICES_KEY, "KeyType": "HASH"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_a_failed_refresh_raises_an_alarm(
    resources: dict[str, Any], synthesized: SynthesizedApp, ids: LogicalIds, pid: dict[str, str]
) -> None:
    alarm = resources[logical_id(synthesized.stack, "Operations/PriceRefreshFailed")]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Period"]) == ("AWS/Lambda", "Errors", 86400)
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": ref(pid["function"])}]
    assert alarm["Threshold"] == 0 and alarm["AlarmActions"] == [ref(ids.topic)]


def _synthesize_prices_alone(outdir: Path) -> cdk.Stack:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "PricesOnly")
    Prices(stack, "Prices", log_retention=cdk.aws_logs.RetentionDays.ONE_MONTH)
    add_nag_checks(app)
    app.synth()
    return stack


def test_cdk_nag_passes_with_the_one_acknowledgement_and_names_it_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _synthesize_prices_alone(tmp_path / "acknowledged")
    monkeypatch.setattr(stacks.prices, "acknowledge", lambda *args, **kwargs: None)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        _synthesize_prices_alone(tmp_path / "bare")
    report = json.loads((tmp_path / "bare" / "validation-report.json").read_text())
    found = {
        violation["ruleName"]: [construct["constructPath"] for construct in violation["violatingConstructs"]]
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    }
    assert found == {"AwsSolutions-IAM5[Resource::*]": ["PricesOnly/Prices/Refresher/Role/DefaultPolicy/Resource"]}


def test_a_reader_of_the_catalogue_gets_one_get_item_on_its_table() -> None:
    stack = cdk.Stack(cdk.App(), "PricesOnly")
    prices = Prices(stack, "Prices", log_retention=cdk.aws_logs.RetentionDays.ONE_MONTH)
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    prices.grant_read(reader)
    resources = Template.from_stack(stack).to_json()["Resources"]
    table = stack.get_logical_id(prices.table.node.default_child)  # type: ignore[arg-type]
    reader_id = stack.get_logical_id(reader.node.default_child)  # type: ignore[arg-type]
    assert grants(role_statements(resources, reader_id)) == {("dynamodb:GetItem", f"${{{table}.Arn}}")}
