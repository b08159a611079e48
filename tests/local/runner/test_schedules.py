"""Scheduled rules: the "Scheduled Event" payload, triggering now, and when rate and cron expressions fire."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from local.runner import schedules
from local.runner.schedules import Cron, parse_expression
from tests.local.runner import templates
from tests.local.runner.moto_stack import ACCOUNT, REGION, Deployed, QueueReader


@pytest.fixture
def scheduled_stack(deploy: Callable[[dict[str, Any]], Deployed]) -> Deployed:
    return deploy(
        templates.stack(
            Output=templates.queue(),
            Report=templates.function("scheduled.handler", OUTPUT_QUEUE_URL={"Ref": "Output"}),
            Nightly={
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "cron(0 3 * * ? *)",
                    "State": "ENABLED",
                    "Targets": [
                        {"Arn": {"Fn::GetAtt": ["Report", "Arn"]}, "Id": "Target0"},
                        {"Arn": {"Fn::GetAtt": ["Report", "Arn"]}, "Id": "Target1", "Input": '{"mode": "full"}'},
                    ],
                },
            },
            Frequent={
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "rate(1 minute)",
                    "Targets": [{"Arn": {"Fn::GetAtt": ["Report", "Arn"]}, "Id": "Target0"}],
                },
            },
        )
    )


def test_trigger_schedule_sends_the_scheduled_event(scheduled_stack: Deployed) -> None:
    rule_arn = scheduled_stack.aws.client("events").describe_rule(Name=scheduled_stack.physical["Nightly"])["Arn"]
    with scheduled_stack.running() as runner:
        plain, constant = runner.trigger_schedule("Nightly")

    assert plain.ok and constant.ok
    event = plain.payload
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert (event["version"], event["detail-type"], event["source"]) == ("0", "Scheduled Event", "aws.events")
    assert (event["account"], event["region"], event["resources"], event["detail"]) == (ACCOUNT, REGION, [rule_arn], {})
    assert uuid.UUID(event["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert constant.payload == {"mode": "full"}  # the target's constant Input replaces the event


def test_a_rate_schedule_fires_by_itself(scheduled_stack: Deployed, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(schedules._UNITS, "minute", 1)  # rate(1 minute) every second, so the test need not wait
    output = QueueReader(scheduled_stack.aws, scheduled_stack.physical["Output"])
    with scheduled_stack.running():
        fired = output.until(2, timeout=10)
    assert {e["detail-type"] for e in fired} == {"Scheduled Event"}
    assert all(e["resources"][0].endswith(scheduled_stack.physical["Frequent"]) for e in fired)


NOW = dt.datetime(2026, 11, 24, 22, 25, 38, tzinfo=dt.UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 3 * * ? *)", dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)),
        ("cron(*/15 * * * ? *)", dt.datetime(2026, 11, 24, 22, 30, tzinfo=dt.UTC)),
        ("cron(0 9 ? * MON-FRI *)", dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)),
        ("cron(0 12 ? * SUN *)", dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)),
        ("cron(30 8 1 JAN,JUL ? *)", dt.datetime(2027, 1, 1, 8, 30, tzinfo=dt.UTC)),
        ("cron(0 0 29 2 ? 2028)", dt.datetime(2028, 2, 29, 0, 0, tzinfo=dt.UTC)),
        ("rate(5 minutes)", NOW + dt.timedelta(minutes=5)),
        ("rate(1 hour)", NOW + dt.timedelta(hours=1)),
    ],
)
def test_next_firing(expression: str, expected: dt.datetime) -> None:
    assert parse_expression(expression, since=NOW).next_after(NOW) == expected


def test_unsupported_cron_features_are_refused() -> None:
    with pytest.raises(ValueError, match="not supported"):
        Cron("0 0 L * ? *")
