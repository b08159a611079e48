"""Hybrid jobs (issue 18): the jobs table, the task table's by-job index, and what the recorder needs to
record job events (they share the capture rule, the queue and the recorder with task events)."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from lambdas.tracker import constants
from stacks.capture import encrypted_queue
from stacks.functions import TrackerFunction
from stacks.live_updates import LiveUpdates
from stacks.nag import acknowledge, nag_resource
from stacks.names import OUTPUT_JOB_TABLE, OUTPUT_JOB_TABLE_STREAM
from stacks.notifications import Notifications
from stacks.task_api import TaskApi

_STRING = dynamodb.AttributeType.STRING


class JobTables(Construct):
    """The jobs table (the source of truth for jobs, with a stream) and the task table's by-job index."""

    def __init__(self, scope: Construct, construct_id: str, *, tasks: dynamodb.Table) -> None:
        super().__init__(scope, construct_id)
        self.jobs = dynamodb.Table(
            self,
            "Jobs",
            partition_key=dynamodb.Attribute(name=constants.JOB_KEY, type=_STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
        for name, partition, sort in constants.JOB_INDEXES:
            sparse = name in constants.SPARSE_INDEXES
            self.jobs.add_global_secondary_index(
                index_name=name,
                partition_key=dynamodb.Attribute(name=partition, type=_STRING),
                sort_key=dynamodb.Attribute(name=sort, type=_STRING) if sort else None,
                projection_type=dynamodb.ProjectionType.INCLUDE if sparse else dynamodb.ProjectionType.ALL,
                non_key_attributes=list(constants.JOB_SPARSE_INDEX_PROJECTION) if sparse else None,
            )
        # A job's tasks, newest first: sparse (only tasks whose job is known), whole items.
        tasks.add_global_secondary_index(
            index_name=constants.INDEX_BY_JOB,
            partition_key=dynamodb.Attribute(name=constants.JOB_KEY, type=_STRING),
            sort_key=dynamodb.Attribute(name="createdAt", type=_STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        self.tasks = tasks
        stack = Stack.of(self)
        CfnOutput(stack, OUTPUT_JOB_TABLE, value=self.jobs.table_name, description="The hybrid jobs table")
        CfnOutput(
            stack,
            OUTPUT_JOB_TABLE_STREAM,
            value=self.jobs.table_stream_arn or "",
            description="The jobs table's stream",
        )
        self.job_arns = stack.format_arn(service="braket", region="*", resource="job", resource_name="*")
        self.task_arns = stack.format_arn(service="braket", region="*", resource="quantum-task", resource_name="*")

    def grant_recording(self, function: lambda_.Function, role: iam.IRole) -> None:
        """The recorder's job path: read and write job items, and GetJob on this account's jobs."""
        function.add_environment(constants.ENV_JOB_TABLE, self.jobs.table_name)
        function.add_environment(constants.ENV_GET_JOB_RATE, f"{constants.RECORDER_GET_JOB_RATE:g}")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RecordJobs", actions=["dynamodb:GetItem", "dynamodb:PutItem"], resources=[self.jobs.table_arn]
            )
        )
        self.grant_get_job(role)

    def grant_reconciling(self, function: lambda_.Function, role: iam.IRole, regions: tuple[str, ...]) -> None:
        """The reconciler's job passes: the sparse indexes, job items, GetJob and SearchJobs (its own rate)."""
        function.add_environment(constants.ENV_JOB_TABLE, self.jobs.table_name)
        function.add_environment(constants.ENV_GET_JOB_RATE, f"{constants.RECONCILER_GET_JOB_RATE:g}")
        indexes = [f"{self.jobs.table_arn}/index/{name}" for name in constants.SPARSE_INDEXES]
        for sid, actions, resources in (
            ("FindStaleAndUnnotifiedJobs", ["dynamodb:Query"], indexes),
            ("RecordJobs", ["dynamodb:GetItem", "dynamodb:PutItem"], [self.jobs.table_arn]),
        ):
            role.add_to_principal_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SearchJobs",
                actions=["braket:SearchJobs"],
                resources=["*"],  # SearchJobs supports no resource-level permission
                conditions={"StringEquals": {"aws:RequestedRegion": list(regions)}},
            )
        )
        self.grant_get_job(role, "ReadJobs")

    def add_api(self, task_api: TaskApi) -> None:
        """GET /jobs, GET /jobs/{id}, GET /jobs/{id}/tasks and POST /jobs/{id}/cancel on the Task API (the same
        function, IAM authorization and stage), and what its function needs for them."""
        task_api.function.add_environment(constants.ENV_JOB_TABLE, self.jobs.table_name)
        task_api.function.add_environment(constants.ENV_GET_JOB_RATE, f"{constants.RECORDER_GET_JOB_RATE:g}")
        indexes = (constants.INDEX_BY_STATUS, constants.INDEX_BY_ACCOUNT, constants.INDEX_BY_JOB_ID)
        for sid, actions, resources in (
            ("ReadJobs", ["dynamodb:GetItem"], [self.jobs.table_arn]),
            ("QueryJobIndexes", ["dynamodb:Query"], [f"{self.jobs.table_arn}/index/{name}" for name in indexes]),
            ("ListJobTasks", ["dynamodb:Query"], [f"{self.tasks.table_arn}/index/{constants.INDEX_BY_JOB}"]),
        ):
            task_api.role.add_to_principal_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))
        self.grant_get_job(task_api.role, "QueueInfoAndCancelJobs", ("braket:CancelJob",))
        integration = apigw.LambdaIntegration(task_api.function, proxy=True)
        jobs = task_api.api.root.add_resource("jobs")
        jobs.add_method("GET", integration)
        job = jobs.add_resource("{job_id}")
        job.add_method("GET", integration)
        job.add_resource("tasks").add_method("GET", integration)
        job.add_resource("cancel").add_method("POST", integration)

    def grant_get_job(self, role: iam.IRole, sid: str = "DescribeJobs", actions: tuple[str, ...] = ()) -> None:
        """GetJob (and `actions`) on this account's hybrid jobs, in any Region."""
        role.add_to_principal_policy(
            iam.PolicyStatement(sid=sid, actions=["braket:GetJob", *actions], resources=[self.job_arns])
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{nag_resource(self, self.job_arns)}]",
            "GetJob on this account's hybrid jobs in any Region: jobs are created at run time by anyone, and "
            f"a job is read in its own Region{' (and ' + ', '.join(actions) + ')' if actions else ''}.",
        )


def job_end_filters(notify_imported: bool) -> list[dict[str, Any]]:
    """The job notifier runs when a job first reaches its end, or when an announced end must be corrected
    (the task notifier's three patterns, stacks/notifications.py, with the job statuses)."""
    finished = {"status": {"S": list(constants.FINISHED_STATUSES)}}
    new_image: dict[str, Any] = dict(finished)
    if not notify_imported:
        new_image["origin"] = {"S": list(constants.NOTIFIED_ORIGINS)}
    return [
        {
            "eventName": ["MODIFY"],
            "dynamodb": {"NewImage": new_image, "OldImage": {"status": {"S": ["QUEUED", "RUNNING", "CANCELLING"]}}},
        },
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": new_image}},
        {
            "eventName": ["MODIFY"],
            "dynamodb": {
                "NewImage": {
                    **finished,
                    "notifiedAt": {"S": [{"exists": True}]},
                    "awaitingNotification": {"S": [{"exists": True}]},
                },
                "OldImage": finished,
            },
        },
    ]


def job_tasks_stream_filters() -> list[dict[str, Any]]:
    """The task records the job-updates function may act on (lambdas/tracker/logic/job_tasks.py): a task
    whose job is known, or a new task under jobs/ (where the SDK puts a job's tasks), to link."""
    return [
        {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"jobArn": {"S": [{"exists": True}]}}}},
        {
            "eventName": ["INSERT"],
            "dynamodb": {"NewImage": {"outputS3Directory": {"S": [{"prefix": constants.JOBS_PREFIX}]}}},
        },
    ]


class JobFunctions(Construct):
    """The job notifier (one message per job end), job updates (the streams' job side: link, count, push)
    and the live-updates API's job routes."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tables: JobTables,
        notifications: Notifications,
        live: LiveUpdates,
        log_retention: logs.RetentionDays,
        notify_imported: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        jobs, tasks = tables.jobs, tables.tasks
        stream_source: dict[str, Any] = {
            "starting_position": lambda_.StartingPosition.TRIM_HORIZON,
            "batch_size": 10,
            "bisect_batch_on_error": True,
            "retry_attempts": 5,
            "report_batch_item_failures": True,
        }
        self.failures = encrypted_queue(self, "FailedRecords")
        acknowledge(
            self.failures,
            "AwsSolutions-SQS3",
            "This queue is the on-failure destination of the job functions' stream mappings: their dead-letter store.",
        )

        notifier = self._function(
            "Notifier",
            handler="tracker.jobs.notifier_handler.lambda_handler",
            service=constants.JOB_NOTIFIER_SERVICE,
            description="Publishes one notification per finished hybrid job",
            log_retention=log_retention,
            environment={
                constants.ENV_JOB_TABLE: jobs.table_name,
                constants.ENV_TOPIC_ARN: notifications.topic.topic_arn,
            },
        )
        notifier.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadAndMarkJobs", actions=["dynamodb:GetItem", "dynamodb:PutItem"], resources=[jobs.table_arn]
            )
        )
        notifications.grant_publish(notifier.role, "AllowTheJobNotifierToPublish")
        notifier.function.add_event_source(
            sources.DynamoEventSource(
                jobs,
                on_failure=sources.SqsDlq(self.failures),
                filters=[lambda_.FilterCriteria.filter(p) for p in job_end_filters(notify_imported)],
                **stream_source,
            )
        )

        live_environment = {
            constants.ENV_TASK_TABLE: tasks.table_name,
            constants.ENV_CONNECTIONS_TABLE: live.connections.table_name,
            constants.ENV_CONNECTIONS_ENDPOINT: live.stage.callback_url,
            constants.ENV_JOB_TABLE: jobs.table_name,
        }
        updates = self._function(
            "Updates",
            handler="tracker.jobs.updates_handler.lambda_handler",
            service=constants.JOB_UPDATES_SERVICE,
            description="Pushes each hybrid job's status change to its WebSocket subscribers",
            log_retention=log_retention,
            environment=live_environment,
        )
        for sid, actions, resources in (
            (
                "FindSubscribers",
                ["dynamodb:Query"],
                [f"{live.connections.table_arn}/index/{constants.INDEX_BY_TARGET}"],
            ),
            ("ForgetGoneConnections", ["dynamodb:Query", "dynamodb:BatchWriteItem"], [live.connections.table_arn]),
            ("PostToConnections", ["execute-api:ManageConnections"], [live.manage_connections_arn]),
        ):
            updates.role.add_to_principal_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))
        updates.function.add_event_source(
            sources.DynamoEventSource(
                jobs,
                on_failure=sources.SqsDlq(self.failures),
                filters=[lambda_.FilterCriteria.filter({"eventName": ["INSERT", "MODIFY"]})],
                **stream_source,
            )
        )
        self._task_side(tables, live)

        routes = self._function(
            "LiveRoutes",
            handler="tracker.jobs.live_handler.lambda_handler",
            service=constants.JOB_LIVE_SERVICE,
            description="The live-updates API's job routes: subscribeJobs, unsubscribeJobs",
            log_retention=log_retention,
            environment=live_environment,
        )
        for sid, actions, resources in (
            (
                "RecordJobSubscriptions",
                ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchWriteItem"],
                [live.connections.table_arn],
            ),
            ("ReadJobs", ["dynamodb:GetItem"], [jobs.table_arn]),
            ("ListJobTasks", ["dynamodb:Query"], [f"{tasks.table_arn}/index/{constants.INDEX_BY_JOB}"]),
            ("PostToConnections", ["execute-api:ManageConnections"], [live.manage_connections_arn]),
        ):
            routes.role.add_to_principal_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))
        integration = integrations.WebSocketLambdaIntegration("JobRoutes", routes.function)
        for route in constants.JOB_LIVE_ROUTES:
            acknowledge(
                live.api.add_route(route, integration=integration),
                "AwsSolutions-APIG4",
                "WebSocket APIs authorize at $connect only (IAM, SigV4); this route runs on that authorized "
                "connection, and API Gateway takes no authorizer on it.",
            )
        for role in (updates.role, routes.role):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::{nag_resource(self, live.manage_connections_arn)}]",
                "Connection ids are created at run time: this is POST to @connections of this API's stage only.",
            )
        for role in (notifier.role, updates.role):
            acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::*]",
                "dynamodb:ListStreams, added by the stream event source: it supports no resource-level permission.",
            )
        self.notifier, self.updates, self.routes = notifier.function, updates.function, routes.function

    def _task_side(self, tables: JobTables, live: LiveUpdates) -> None:
        """The job side of the task table's stream runs in the live-updates pusher (tracker/jobs/task_side.py):
        the task table's stream has its two readers already (the notifier and the pusher)."""
        live.pusher.add_environment(constants.ENV_JOB_TABLE, tables.jobs.table_name)
        for sid, actions, resources in (
            ("LinkAndCountJobTasks", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [tables.tasks.table_arn]),
            (
                "CountAndRecordJobs",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                [tables.jobs.table_arn],
            ),
            ("LinkJobTasks", ["braket:GetQuantumTask"], [tables.task_arns]),
        ):
            live.pusher_role.add_to_principal_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))
        acknowledge(
            live.pusher_role,
            f"AwsSolutions-IAM5[Resource::{nag_resource(self, tables.task_arns)}]",
            "GetQuantumTask on this account's quantum tasks in any Region: a new task under jobs/ is asked for its "
            "hybrid job, in its own Region (at most 5/s). Read-only.",
        )

    def _function(
        self,
        construct_id: str,
        *,
        handler: str,
        service: str,
        description: str,
        log_retention: logs.RetentionDays,
        environment: dict[str, str],
    ) -> TrackerFunction:
        return TrackerFunction(
            self,
            construct_id,
            handler=handler,
            service=service,
            description=description,
            log_retention=log_retention,
            timeout=Duration.seconds(60),
            environment=environment,
        )
