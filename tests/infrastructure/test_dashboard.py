"""The operator's dashboard: one CloudWatch dashboard, a section per part of the pipeline, each
graph naming metrics as the functions emit them (cross-checked against the handlers' source) or as
AWS publishes them for this stack's resources, every alarm's state, and its URL as an output."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from stacks import dashboard as dashboard_module
from stacks import tracker_stack
from stacks.dashboard import SECTIONS, Dashboard, Watched
from tests.infrastructure.helpers import PROJECT_ROOT, LogicalIds, flatten, logical_id
from tests.support.app import SynthesizedApp
from tracker import constants

pytestmark = pytest.mark.infrastructure

EMITTERS = {
    constants.RECORDER_SERVICE: ("recorder/handler.py", "logic/task_metrics.py", "jobs/recording.py"),
    constants.NOTIFIER_SERVICE: ("notifier/handler.py",),
    constants.LIVE_PUSHER_SERVICE: ("live/pusher_handler.py",),
    constants.RECONCILER_SERVICE: ("reconciler/handler.py",),
    constants.JOB_NOTIFIER_SERVICE: ("jobs/notifier_handler.py",),
    constants.JOB_UPDATES_SERVICE: ("jobs/updates_handler.py",),
    constants.COSTS_SERVICE: ("costs/handler.py",),
    constants.SPENDING_LIMITS_SERVICE: ("spending/handler.py",),
}
"""Where each function's metrics are emitted (under lambdas/tracker/)."""


def body_of(resources: dict[str, Any]) -> dict[str, Any]:
    (dashboard,) = (r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard")
    return json.loads(flatten(dashboard["Properties"]["DashboardBody"]))  # type: ignore[no-any-return]


def sections(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The graphs under each `## <section>` text widget, by section name."""
    found: dict[str, list[dict[str, Any]]] = {}
    current: list[dict[str, Any]] | None = None
    for widget in body["widgets"]:
        if widget["type"] == "text":
            heading = re.match(r"## (.+)", widget["properties"]["markdown"])
            current = found.setdefault(heading[1], []) if heading else None
        elif current is not None:
            current.append(widget)
    return found


def metrics_of(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each graphed metric as {namespace, name, dimensions, stat, label} or {expression, label}."""
    found = []
    for widget in widgets:
        for entry in widget["properties"].get("metrics", []):
            *parts, options = entry if isinstance(entry[-1], dict) else (*entry, {})
            if not parts:
                found.append({"expression": options["expression"], "label": options.get("label")})
                continue
            namespace, name, *pairs = parts
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            found.append(
                {"namespace": namespace, "name": name, "dimensions": dimensions, "stat": options.get("stat", "Average")}
            )
    return found


@pytest.fixture(scope="module")
def body(resources: dict[str, Any]) -> dict[str, Any]:
    return body_of(resources)


@pytest.fixture(scope="module")
def by_section(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {name: metrics_of(widgets) for name, widgets in sections(body).items()}


def ours(metrics: list[dict[str, Any]], service: str) -> set[tuple[str, str]]:
    """(metric, statistic) of the metrics a function emits, in our namespace."""
    return {
        (m["name"], m["stat"])
        for m in metrics
        if m.get("namespace") == constants.METRICS_NAMESPACE and m["dimensions"]["service"] == service
    }


def test_one_dashboard_named_by_stack_and_region(resources: dict[str, Any]) -> None:
    (dashboard,) = (r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard")
    assert flatten(dashboard["Properties"]["DashboardName"]) == "BraketTaskTracker-${AWS::Region}"


def test_every_group_has_its_section_in_order(body: dict[str, Any]) -> None:
    assert list(sections(body)) == list(SECTIONS)
    assert all(sections(body)[name] for name in SECTIONS), "a section without graphs"


def test_capture_events_in_recorded_duplicates_rejected_backlog_and_dead_letters(
    by_section: dict[str, list[dict[str, Any]]], ids: LogicalIds
) -> None:
    capture = by_section["Capture"]
    rule = {"RuleName": f"${{{ids.rule}}}"}
    assert {"namespace": "AWS/Events", "name": "MatchedEvents", "dimensions": rule, "stat": "Sum"} in capture
    assert {"namespace": "AWS/Events", "name": "FailedInvocations", "dimensions": rule, "stat": "Sum"} in capture
    assert {
        (constants.METRIC_EVENTS_RECORDED, "Sum"),
        (constants.METRIC_DUPLICATE_EVENTS, "Sum"),
        (constants.METRIC_REJECTED_EVENTS, "Sum"),
        (constants.METRIC_STALE_EVENTS, "Sum"),
    } <= ours(capture, constants.RECORDER_SERVICE)
    queues = {(m["name"], m["dimensions"].get("QueueName")) for m in capture if m.get("namespace") == "AWS/SQS"}
    assert ("ApproximateAgeOfOldestMessage", f"${{{ids.queue}.QueueName}}") in queues
    assert ("ApproximateNumberOfMessagesVisible", f"${{{ids.dead_letter_queue}.QueueName}}") in queues


def test_freshness_is_the_recorders_delay_from_end_to_record(by_section: dict[str, list[dict[str, Any]]]) -> None:
    assert {(constants.METRIC_RECORD_DELAY, s) for s in ("p50", "p90", "Maximum")} <= ours(
        by_section["Freshness"], constants.RECORDER_SERVICE
    )


def test_tasks_by_status_and_by_device(by_section: dict[str, list[dict[str, Any]]]) -> None:
    tasks = by_section["Tasks"]
    statuses = {
        m["dimensions"]["status"]
        for m in tasks
        if m.get("name") == constants.METRIC_TASKS_BY_STATUS and m["dimensions"]["service"] == "task-recorder"
    }
    assert statuses == {*constants.UNFINISHED_STATUSES, *constants.FINISHED_STATUSES}
    (search,) = [m["expression"] for m in tasks if "expression" in m]
    assert search == (
        "SEARCH('{BraketTaskTracker,device,service} MetricName=\"TasksEnded\" service=\"task-recorder\"', 'Sum', 300)"
    )


def test_queue_and_run_time_per_device_at_p50_and_p90(by_section: dict[str, list[dict[str, Any]]]) -> None:
    expressions = {m["expression"] for m in by_section["Queue and run time"]}
    assert expressions == {
        f'SEARCH(\'{{BraketTaskTracker,device,service}} MetricName="{name}" service="task-recorder"\', '
        f"'{statistic}', 3600)"
        for name in (constants.METRIC_QUEUE_TIME, constants.METRIC_RUN_TIME)
        for statistic in ("p50", "p90")
    }


def test_notifications_and_pushes(by_section: dict[str, list[dict[str, Any]]], ids: LogicalIds) -> None:
    telling = by_section["Notifications and pushes"]
    assert (constants.METRIC_NOTIFICATIONS_SENT, "Sum") in ours(telling, constants.NOTIFIER_SERVICE)
    assert (constants.METRIC_PUSHES_SENT, "Sum") in ours(telling, constants.LIVE_PUSHER_SERVICE)
    delivered = {"TopicName": f"${{{ids.notification_topic}.TopicName}}"}
    assert {
        "namespace": "AWS/SNS",
        "name": "NumberOfNotificationsDelivered",
        "dimensions": delivered,
        "stat": "Sum",
    } in (telling)


def test_task_api_requests_latency_and_5xx(
    by_section: dict[str, list[dict[str, Any]]], resources: dict[str, Any], ids: LogicalIds
) -> None:
    api_name = resources[ids.api]["Properties"]["Name"]
    graphed = {(m["name"], m["stat"]) for m in by_section["Task API"] if m["dimensions"] == {"ApiName": api_name}}
    assert {("Count", "Sum"), ("Latency", "p50"), ("Latency", "p90"), ("5XXError", "Sum")} <= graphed


def test_reconciler_repairs(by_section: dict[str, list[dict[str, Any]]]) -> None:
    assert (constants.METRIC_TASKS_REPAIRED, "Sum") in ours(by_section["Reconciliation"], constants.RECONCILER_SERVICE)


def aws_of(metrics: list[dict[str, Any]], namespace: str) -> set[tuple[str, str, str]]:
    """(metric, dimension value, statistic) of the AWS metrics graphed in `namespace`."""
    return {
        (m["name"], next(iter(m["dimensions"].values())), m["stat"]) for m in metrics if m.get("namespace") == namespace
    }


def test_hybrid_jobs_events_ends_pushes_repairs_and_failures(
    by_section: dict[str, list[dict[str, Any]]], synthesized: SynthesizedApp
) -> None:
    jobs = by_section["Hybrid jobs"]
    assert (constants.METRIC_JOB_EVENTS_RECORDED, "Sum") in ours(jobs, constants.RECORDER_SERVICE)
    assert {(constants.METRIC_NOTIFICATIONS_SENT, "Sum"), (constants.METRIC_CORRECTIONS_SENT, "Sum")} <= ours(
        jobs, constants.JOB_NOTIFIER_SERVICE
    )
    assert (constants.METRIC_PUSHES_SENT, "Sum") in ours(jobs, constants.JOB_UPDATES_SERVICE)
    assert (constants.METRIC_JOBS_REPAIRED, "Sum") in ours(jobs, constants.RECONCILER_SERVICE)
    functions = {
        ("Errors", f"${{{logical_id(synthesized.stack, f'JobFunctions/{name}/Function')}}}", "Sum")
        for name in ("Notifier", "Updates", "LiveRoutes")
    }
    assert functions <= aws_of(jobs, "AWS/Lambda")
    failures = logical_id(synthesized.stack, "JobFunctions/FailedRecords")
    assert aws_of(jobs, "AWS/SQS") == {("ApproximateNumberOfMessagesVisible", f"${{{failures}.QueueName}}", "Maximum")}


def test_costs_counted_unpriced_alerts_limits_queue_and_failures(
    by_section: dict[str, list[dict[str, Any]]], synthesized: SynthesizedApp
) -> None:
    costs = by_section["Costs"]
    assert {
        (name, "Sum")
        for name in (
            constants.METRIC_TASKS_COSTED,
            constants.METRIC_COSTS_MOVED,
            constants.METRIC_UNPRICED_TASKS,
            constants.METRIC_BUDGET_ALERTS_SENT,
        )
    } <= ours(costs, constants.COSTS_SERVICE)
    assert (constants.METRIC_SPENDING_LIMITS_RECORDED, "Sum") in ours(costs, constants.SPENDING_LIMITS_SERVICE)
    queue, dead, spend_dead = (
        f"${{{logical_id(synthesized.stack, f'Costs/{name}')}.QueueName}}"
        for name in ("CostQueue", "CostQueueDeadLetterQueue", "SpendChangeDeadLetterQueue")
    )
    assert aws_of(costs, "AWS/SQS") == {
        ("ApproximateAgeOfOldestMessage", queue, "Maximum"),
        ("ApproximateNumberOfMessagesVisible", queue, "Maximum"),
        ("ApproximateNumberOfMessagesVisible", dead, "Maximum"),
        ("ApproximateNumberOfMessagesVisible", spend_dead, "Maximum"),
    }
    assert {
        ("Errors", f"${{{logical_id(synthesized.stack, f'Costs/{name}/Function')}}}", "Sum")
        for name in ("Keeper", "SpendingLimits")
    } == aws_of(costs, "AWS/Lambda")


def test_spend_per_day_is_what_the_cost_keeper_counted(body: dict[str, Any]) -> None:
    (graph,) = sections(body)["Spend"]
    assert graph["properties"]["period"] == 86_400
    assert metrics_of([graph]) == [
        {
            "namespace": constants.METRICS_NAMESPACE,
            "name": constants.METRIC_SPEND,
            "dimensions": {"service": constants.COSTS_SERVICE},
            "stat": "Sum",
        }
    ]


def test_every_metric_of_ours_is_one_its_function_emits(by_section: dict[str, list[dict[str, Any]]]) -> None:
    """Cross-check with lambdas/: each (service, metric) graphed is a constant that the service's
    handler (or the recorder's task metrics) emits, so a renamed metric fails here, not in production."""
    names = {value: name for name, value in vars(constants).items() if name.startswith("METRIC_")}
    graphed = [
        m for metrics in by_section.values() for m in metrics if m.get("namespace") == constants.METRICS_NAMESPACE
    ]
    graphed += [
        {"name": name, "dimensions": {"service": constants.RECORDER_SERVICE}}
        for metrics in by_section.values()
        for m in metrics
        for name in re.findall(r'MetricName="(\w+)"', m.get("expression", ""))
    ]
    assert graphed
    for metric in graphed:
        service, name = metric["dimensions"]["service"], metric["name"]
        assert name in names, f"{name} is not a metric constant in lambdas/tracker/constants.py"
        sources = "".join((PROJECT_ROOT / "lambdas" / "tracker" / path).read_text() for path in EMITTERS[service])
        assert f"constants.{names[name]}" in sources, f"{service} does not emit {name} ({names[name]})"


def test_the_alarm_widget_shows_every_alarm_of_the_stack(body: dict[str, Any], resources: dict[str, Any]) -> None:
    (widget,) = (w for w in body["widgets"] if w["type"] == "alarm")
    alarms = {f"${{{name}.Arn}}" for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert len(alarms) >= 13
    assert set(widget["properties"]["alarms"]) == alarms


def test_its_url_is_an_output(template_json: dict[str, Any], synthesized: SynthesizedApp) -> None:
    dashboard = logical_id(synthesized.stack, "Dashboard/Dashboard")
    output = template_json["Outputs"][tracker_stack.OUTPUT_DASHBOARD]
    assert flatten(output["Value"]) == (
        "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
        f"#dashboards:name=${{{dashboard}}}"
    )


def test_the_spend_hook_adds_a_daily_section(tmp_path: Path) -> None:
    """Costs (issue 19) add their metrics with `add_spend_per_day`: a section of its own, summed per day."""
    stack = Stack(App(outdir=str(tmp_path)), "Spend", env={"region": "eu-north-1"})
    code = lambda_.Code.from_inline("def handler(event, context): pass")

    def function(name: str) -> lambda_.Function:
        return lambda_.Function(stack, name, runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler", code=code)

    api = apigw.RestApi(stack, "Api")
    api.root.add_method("GET", apigw.MockIntegration())
    watched = Watched(
        capture_rule=events.Rule(stack, "Rule", schedule=events.Schedule.rate(Duration.hours(1))),
        queue=sqs.Queue(stack, "Queue"),
        dead_letter_queue=sqs.Queue(stack, "Dead"),
        recorder=function("Recorder"),
        notifier=function("Notifier"),
        notification_topic=sns.Topic(stack, "Topic"),
        failed_notifications=sqs.Queue(stack, "FailedNotifications"),
        pusher=function("Pusher"),
        failed_pushes=sqs.Queue(stack, "FailedPushes"),
        api=api,
        reconciler=function("Reconciler"),
    )
    board = Dashboard(stack, "Dashboard", watched=watched, alarms=dashboard_module.alarms_of(stack))
    spend = cloudwatch.Metric(namespace=constants.METRICS_NAMESPACE, metric_name="SpendUsd", statistic="Sum")

    board.add_spend_per_day([spend])

    body = body_of(Template.from_stack(stack).to_json()["Resources"])
    (graph,) = sections(body)["Spend"]
    assert graph["properties"]["period"] == 86_400
    assert metrics_of([graph]) == [
        {"namespace": "BraketTaskTracker", "name": "SpendUsd", "dimensions": {}, "stat": "Sum"}
    ]
