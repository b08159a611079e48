"""Dashboard: the tracker on one CloudWatch page, for the operator, in the order a task's event
travels: capture, freshness, tasks, queue and run times, notifications and pushes, the Task API,
reconciliation; then what builds on it (hybrid jobs, costs, spend per day: stacks/dashboard_sections.py
adds them with `add_section` and `add_spend_per_day`). The alarms' states head the page.

Every metric is named as the functions emit it (lambdas/tracker/constants.py; the recorder's task
metrics: tracker.logic.task_metrics) or as AWS publishes it. Per-device graphs use SEARCH
expressions: devices are known only at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambdas.tracker import constants

PERIOD = Duration.minutes(5)
"""Counts and queue depths: the period of the alarms on them."""
PERCENTILE_PERIOD = Duration.hours(1)
"""Queue and run times: a QPU task takes minutes to hours, so fewer, fuller periods."""
WIDTH = 24  # the dashboard grid's width
GRAPH = {"width": 8, "height": 6}
SECTIONS = (
    "Capture",
    "Freshness",
    "Tasks",
    "Queue and run time",
    "Notifications and pushes",
    "Task API",
    "Reconciliation",
    "Hybrid jobs",
    "Costs",
    "Spend",
)
"""Each section of the stack's dashboard, in order. Each opens with a text widget `## <name>`: what
the infrastructure tests look for."""


@dataclass(frozen=True)
class Watched:
    """The parts of the stack the dashboard graphs."""

    capture_rule: events.IRule
    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue
    recorder: lambda_.IFunction
    notifier: lambda_.IFunction
    notification_topic: sns.ITopic
    failed_notifications: sqs.IQueue
    pusher: lambda_.IFunction
    failed_pushes: sqs.IQueue
    api: apigw.RestApi
    reconciler: lambda_.IFunction


def emitted(
    service: str, name: str, statistic: str = "Sum", label: str | None = None, **dimensions: str
) -> cloudwatch.Metric:
    """A metric as a function emits it (EMF): our namespace, its service's dimension, and any others."""
    return cloudwatch.Metric(
        namespace=constants.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={constants.DIMENSION_SERVICE: service, **dimensions},
        statistic=statistic,
        period=PERIOD,
        label=label or name,
    )


def per_device(name: str, statistic: str, period: Duration = PERIOD) -> cloudwatch.SearchExpression:
    """One series per device: the recorder's metric `name` with its device dimension."""
    schema = f"{{{constants.METRICS_NAMESPACE},{constants.DIMENSION_DEVICE},{constants.DIMENSION_SERVICE}}}"
    terms = f'MetricName="{name}" {constants.DIMENSION_SERVICE}="{constants.RECORDER_SERVICE}"'
    return cloudwatch.SearchExpression(
        expression=f"SEARCH('{schema} {terms}', '{statistic}', {int(period.to_seconds())})",
        label=f"${{PROP('Dim.{constants.DIMENSION_DEVICE}')}}" + ("" if statistic == "Sum" else f" {statistic}"),
        period=period,
    )


def aws_metric(namespace: str, name: str, statistic: str, label: str, **dimensions: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=PERIOD,
        label=label,
    )


def graph(title: str, left: Sequence[cloudwatch.IMetric], unit: str, **options: Any) -> cloudwatch.GraphWidget:
    """A graph of `left` (in `unit`), 8 x 6 unless `options` say otherwise."""
    return cloudwatch.GraphWidget(
        title=title,
        left=list(left),
        left_y_axis=cloudwatch.YAxisProps(label=unit, show_units=False, min=0),
        **{**GRAPH, **options},
    )


def alarms_of(scope: Construct) -> list[cloudwatch.Alarm]:
    """Every alarm defined in `scope` so far, in construct order."""
    return [node for node in scope.node.find_all() if isinstance(node, cloudwatch.Alarm)]


class Dashboard(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, watched: Watched, alarms: Sequence[cloudwatch.IAlarm]
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            # Dashboards are global to an account: the Region keeps one deployment per Region apart.
            dashboard_name=f"{stack.stack_name}-{stack.region}",
            default_interval=Duration.hours(6),
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown="# Braket Task Tracker\nEvery Amazon Braket task of the account, recorded: capture, "
                "recording, notifications, live pushes, the Task API and reconciliation, in the order an event "
                "travels. Runbooks: the README's *Alarms* and *Runbook* sections.",
                width=WIDTH,
                height=2,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=WIDTH, height=3),
        )
        self._capture(watched)
        self._freshness(watched)
        self._tasks()
        self._times()
        self._telling(watched)
        self._task_api(watched.api)
        self._reconciliation(watched.reconciler)

    @property
    def url(self) -> str:
        region = Stack.of(self).region
        return (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#dashboards:name={self.dashboard.dashboard_name}"
        )

    def add_spend_per_day(self, spend: Sequence[cloudwatch.IMetric], note: str = "") -> None:
        """The hook for costs (issue 19): a section with the spend per day, one series per metric
        given (for example the account's total and each promoted tag's), summed over each UTC day."""
        self.add_section(
            "Spend",
            note or "Spend per day, as the tracker prices each task at its end.",
            graph("Spend per day", spend, "USD", period=Duration.days(1), statistic="Sum", width=WIDTH),
        )

    def add_section(self, name: str, note: str, *widgets: cloudwatch.IWidget) -> None:
        """A section of its own: a `## <name>` heading, what it shows (`note`), then its widgets."""
        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"## {name}\n{note}", width=WIDTH, height=2))
        self.dashboard.add_widgets(*widgets)

    def _capture(self, watched: Watched) -> None:
        recorder = constants.RECORDER_SERVICE
        rule = {"RuleName": watched.capture_rule.rule_name}
        self.add_section(
            "Capture",
            "Braket's events matched by the capture rule, what the recorder made of them, and what waits.",
            graph(
                "Events in",
                [
                    aws_metric("AWS/Events", "MatchedEvents", "Sum", "matched by the capture rule", **rule),
                    aws_metric("AWS/Events", "FailedInvocations", "Sum", "not delivered to the queue", **rule),
                ],
                "events",
            ),
            graph(
                "Events recorded, duplicates, rejected",
                [
                    emitted(recorder, constants.METRIC_EVENTS_RECORDED, label="recorded"),
                    emitted(recorder, constants.METRIC_STALE_EVENTS, label="recorded late"),
                    emitted(recorder, constants.METRIC_DUPLICATE_EVENTS, label="duplicates"),
                    emitted(recorder, constants.METRIC_CONFLICTING_EVENTS, label="one id, two bodies"),
                    emitted(recorder, constants.METRIC_REJECTED_EVENTS, label="rejected"),
                    emitted(recorder, constants.METRIC_ENRICHMENT_FAILURES, label="ends without Braket's details"),
                ],
                "events",
            ),
            graph(
                "Backlog and dead letters",
                [
                    watched.queue.metric_approximate_age_of_oldest_message(
                        period=PERIOD, statistic="Maximum", label="oldest waiting event (s)"
                    ),
                ],
                "seconds",
                right=[
                    watched.queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label="waiting events"
                    ),
                    watched.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label="dead letters"
                    ),
                ],
            ),
        )

    def _freshness(self, watched: Watched) -> None:
        delay = [
            emitted(constants.RECORDER_SERVICE, constants.METRIC_RECORD_DELAY, statistic, label=statistic)
            for statistic in ("p50", "p90", "Maximum")
        ]
        self.add_section(
            "Freshness",
            "How far the task table is behind Braket: from a task's `endedAt` to the recorder's write of its end.",
            graph("Delay from a task's end to its record", delay, "ms", width=16),
            graph(
                "Recorder",
                [
                    watched.recorder.metric_errors(period=PERIOD, statistic="Sum", label="errors"),
                    watched.recorder.metric_throttles(period=PERIOD, statistic="Sum", label="throttles"),
                ],
                "invocations",
                right=[watched.recorder.metric_duration(period=PERIOD, statistic="p90", label="duration p90 (ms)")],
            ),
        )

    def _tasks(self) -> None:
        by_status = [
            emitted(constants.RECORDER_SERVICE, constants.METRIC_TASKS_BY_STATUS, label=status, status=status)
            for status in (*constants.UNFINISHED_STATUSES, *constants.FINISHED_STATUSES)
        ]
        self.add_section(
            "Tasks",
            "Tasks whose recorded status became each status, and tasks that ended, per device.",
            graph("Tasks by status", by_status, "tasks", stacked=True, width=12),
            graph("Tasks ended by device", [per_device(constants.METRIC_TASKS_ENDED, "Sum")], "tasks", width=12),
        )

    def _times(self) -> None:
        self.add_section(
            "Queue and run time",
            "Per device, over each hour: the time from creation to the start of the run, and the run itself.",
            graph(
                "Queue time per device",
                [per_device(constants.METRIC_QUEUE_TIME, s, PERCENTILE_PERIOD) for s in ("p50", "p90")],
                "seconds",
                width=12,
            ),
            graph(
                "Run time per device",
                [per_device(constants.METRIC_RUN_TIME, s, PERCENTILE_PERIOD) for s in ("p50", "p90")],
                "seconds",
                width=12,
            ),
        )

    def _telling(self, watched: Watched) -> None:
        notifier, pusher = constants.NOTIFIER_SERVICE, constants.LIVE_PUSHER_SERVICE
        topic = watched.notification_topic
        self.add_section(
            "Notifications and pushes",
            "Ends published on the notification topic and delivered to its subscribers; status changes pushed "
            "to live connections.",
            graph(
                "Notifications",
                [
                    emitted(notifier, constants.METRIC_NOTIFICATIONS_SENT, label="ends published"),
                    emitted(notifier, constants.METRIC_CORRECTIONS_SENT, label="corrections published"),
                    emitted(notifier, constants.METRIC_NOTIFICATIONS_ALREADY_SENT, label="already published"),
                    topic.metric_number_of_notifications_delivered(period=PERIOD, label="delivered"),
                    topic.metric_number_of_notifications_failed(period=PERIOD, label="delivery failed"),
                ],
                "messages",
            ),
            graph(
                "Pushes",
                [
                    emitted(pusher, constants.METRIC_PUSHES_SENT, label="pushed"),
                    emitted(pusher, constants.METRIC_GONE_CONNECTIONS, label="gone connections"),
                ],
                "messages",
            ),
            graph(
                "Given up",
                [
                    watched.failed_notifications.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label="failed notifications"
                    ),
                    watched.failed_pushes.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label="failed pushes"
                    ),
                    watched.notifier.metric_errors(period=PERIOD, statistic="Sum", label="notifier errors"),
                    watched.pusher.metric_errors(period=PERIOD, statistic="Sum", label="pusher errors"),
                ],
                "records",
            ),
        )

    def _task_api(self, api: apigw.RestApi) -> None:
        self.add_section(
            "Task API",
            "Requests to the REST API, its latency as callers see it, and its errors (bad input is a 4xx, never a "
            "5xx).",
            graph("Requests", [api.metric_count(period=PERIOD, statistic="Sum", label="requests")], "requests"),
            graph(
                "Latency",
                [api.metric_latency(period=PERIOD, statistic=s, label=s) for s in ("p50", "p90")],
                "ms",
            ),
            graph(
                "Errors",
                [
                    api.metric_server_error(period=PERIOD, statistic="Sum", label="5xx"),
                    api.metric_client_error(period=PERIOD, statistic="Sum", label="4xx"),
                ],
                "requests",
            ),
        )

    def _reconciliation(self, reconciler: lambda_.IFunction) -> None:
        service = constants.RECONCILER_SERVICE
        self.add_section(
            "Reconciliation",
            "What the scheduled reconciler checked with Braket and repaired: any repair means events were lost.",
            graph(
                "Reconciler",
                [
                    emitted(service, constants.METRIC_TASKS_CHECKED, label="tasks checked"),
                    emitted(service, constants.METRIC_TASKS_REPAIRED, label="tasks repaired"),
                    emitted(service, constants.METRIC_NOTIFICATIONS_RECOVERED, label="notifications recovered"),
                    emitted(service, constants.METRIC_RECONCILE_ERRORS, label="errors"),
                    reconciler.metric_errors(period=PERIOD, statistic="Sum", label="failed runs"),
                ],
                "tasks",
                width=WIDTH,
            ),
        )
