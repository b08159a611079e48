"""The dashboard's sections for what builds on the task pipeline: hybrid jobs (stacks/jobs.py) and
costs (stacks/costs.py), with the spend per day. Each graph names metrics as the functions emit them
(lambdas/tracker/constants.py) or as AWS publishes them for the constructs' own resources."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_

from lambdas.tracker import constants
from stacks.costs import Costs
from stacks.dashboard import PERIOD, Dashboard, emitted, graph
from stacks.jobs import JobFunctions


def add_jobs(dashboard: Dashboard, jobs: JobFunctions) -> None:
    """Job events recorded, job ends announced and pushed, jobs the reconciler repaired, and what failed."""
    notifier = constants.JOB_NOTIFIER_SERVICE
    functions: tuple[tuple[str, lambda_.IFunction], ...] = (
        ("job notifier", jobs.notifier),
        ("job updates", jobs.updates),
        ("job live routes", jobs.routes),
    )
    dashboard.add_section(
        "Hybrid jobs",
        "Job events share the capture rule, queue and recorder with tasks; a job's end is one notification "
        "(`kind: job`); job updates push to live subscribers; the reconciler asks GetJob for what events left out.",
        graph(
            "Job events and ends",
            [
                emitted(constants.RECORDER_SERVICE, constants.METRIC_JOB_EVENTS_RECORDED, label="job events recorded"),
                emitted(notifier, constants.METRIC_NOTIFICATIONS_SENT, label="job ends published"),
                emitted(notifier, constants.METRIC_CORRECTIONS_SENT, label="corrections published"),
                emitted(constants.RECONCILER_SERVICE, constants.METRIC_JOBS_REPAIRED, label="jobs repaired"),
            ],
            "jobs",
            width=12,
        ),
        graph(
            "Job pushes and failures",
            [
                emitted(constants.JOB_UPDATES_SERVICE, constants.METRIC_PUSHES_SENT, label="pushed"),
                *(
                    function.metric_errors(period=PERIOD, statistic="Sum", label=f"{name} errors")
                    for name, function in functions
                ),
                jobs.failures.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum", label="stream records given up"
                ),
            ],
            "count",
            width=12,
        ),
    )


def add_costs(dashboard: Dashboard, costs: Costs) -> None:
    """What the cost keeper counted and could not price, budget alerts, spending limit reports, its
    queue; then the spend per day."""
    keeper = constants.COSTS_SERVICE
    dashboard.add_section(
        "Costs",
        "The cost keeper prices each ended task once and moves it in the monthly totals when its end changes; "
        "budget alerts go to the notification topic; Braket's spending limit events are kept beside the totals.",
        graph(
            "Counted",
            [
                emitted(keeper, constants.METRIC_TASKS_COSTED, label="tasks counted"),
                emitted(keeper, constants.METRIC_COSTS_MOVED, label="counts moved"),
                emitted(keeper, constants.METRIC_UNPRICED_TASKS, label="not priced"),
                emitted(keeper, constants.METRIC_BUDGET_ALERTS_SENT, label="budget alerts"),
                emitted(
                    constants.SPENDING_LIMITS_SERVICE,
                    constants.METRIC_SPENDING_LIMITS_RECORDED,
                    label="spending limit reports",
                ),
            ],
            "tasks",
        ),
        graph(
            "Cost queue",
            [
                costs.queue.metric_approximate_age_of_oldest_message(
                    period=PERIOD, statistic="Maximum", label="oldest waiting task (s)"
                ),
            ],
            "seconds",
            right=[
                costs.queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum", label="waiting tasks"
                ),
                costs.dead_letters.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum", label="dead letters"
                ),
            ],
        ),
        graph(
            "Failures",
            [
                costs.function.metric_errors(period=PERIOD, statistic="Sum", label="cost keeper errors"),
                costs.spending_function.metric_errors(period=PERIOD, statistic="Sum", label="spending limit errors"),
                costs.spend_dead_letters.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum", label="spend change dead letters"
                ),
            ],
            "count",
        ),
    )
    dashboard.add_spend_per_day(
        [emitted(keeper, constants.METRIC_SPEND, label="counted (USD)")],
        "USD the cost keeper counted each UTC day (a correction that costs less counts negative); the totals "
        "table keeps each task under the month it ended in (`braket-tracker costs`).",
    )
