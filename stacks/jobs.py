"""Hybrid jobs (issue 18): the jobs table, the task table's by-job index, and what the recorder needs to
record job events (they share the capture rule, the queue and the recorder with task events)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from lambdas.tracker import constants
from stacks.nag import acknowledge, nag_resource

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
        self.job_arns = Stack.of(self).format_arn(service="braket", region="*", resource="job", resource_name="*")

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
