"""Prices: the price catalogue, kept current from the AWS Price List by a scheduled function, in a
small table that the functions which price tasks read (one GetItem, cached)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from lambdas.tracker import constants
from stacks.functions import TrackerFunction
from stacks.nag import acknowledge
from stacks.operations import Operations
from stacks.task_tables import working_table

SCHEDULE = events.Schedule.cron(minute="17", hour="4")
"""Once a day (04:17 UTC): the Price List changes a few times a year; a day late costs nothing."""
TIMEOUT = Duration.minutes(2)
"""A few GetProducts pages of 100 products, and two writes."""


class Prices(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, log_retention: logs.RetentionDays) -> None:
        super().__init__(scope, construct_id)
        # The catalogue in use (`current`) and each one taken (`version#<digest>`): rebuilt by a refresh.
        self.table = working_table(self, "Catalogue", key=constants.PRICES_KEY)
        refresher = TrackerFunction(
            self,
            "Refresher",
            handler="tracker.prices.handler.lambda_handler",
            service=constants.PRICES_SERVICE,
            description="Reads Amazon Braket's prices from the AWS Price List into the price catalogue",
            log_retention=log_retention,
            timeout=TIMEOUT,
            environment={
                constants.ENV_PRICES_TABLE: self.table.table_name,
                constants.ENV_PRICE_LIST_REGION: constants.PRICE_LIST_REGION,
            },
        )
        self.function = refresher.function
        self.role = refresher.role
        self.role.add_to_principal_policy(
            iam.PolicyStatement(sid="StoreCatalogue", actions=["dynamodb:PutItem"], resources=[self.table.table_arn])
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadPriceList",
                actions=["pricing:GetProducts"],
                resources=["*"],  # the Price List supports no resource-level permission
                conditions={"StringEquals": {"aws:RequestedRegion": constants.PRICE_LIST_REGION}},
            )
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "pricing:GetProducts supports no resource-level permission (Service Authorization Reference, AWS Price "
            f"List); it reads public prices, only at the {constants.PRICE_LIST_REGION} endpoint (aws:RequestedRegion).",
        )
        self.schedule = events.Rule(
            self, "Schedule", description="Refreshes the price catalogue from the AWS Price List", schedule=SCHEDULE
        )
        # A missed day is made up by the next one: no retries of a failed run.
        self.schedule.add_target(targets.LambdaFunction(self.function, retry_attempts=0))

    def grant_read(self, grantee: iam.IGrantable) -> None:
        """For a function that prices tasks: one GetItem of the catalogue in use."""
        self.table.grant(grantee, "dynamodb:GetItem")

    def add_alarms(self, operations: Operations) -> None:
        operations.add_alarm(
            "PriceRefreshFailed",
            "The price catalogue could not be refreshed from the AWS Price List (the one in use is kept): "
            "see the price refresher's logs.",
            self.function.metric_errors(period=Duration.days(1), statistic="Sum"),
        )
