"""The task table (the source of truth) and the rejected-events table."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from lambdas.tracker import constants

_STRING = dynamodb.AttributeType.STRING


class TaskTables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, promoted_tag_keys: tuple[str, ...] = ()) -> None:
        super().__init__(scope, construct_id)
        self.promoted_tag_keys = promoted_tag_keys
        self.tasks = dynamodb.Table(
            self,
            "Tasks",
            partition_key=dynamodb.Attribute(name=constants.TASK_KEY, type=_STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
        for name, partition, sort in constants.TASK_INDEXES:
            keys_only = name in constants.SPARSE_INDEXES
            self.tasks.add_global_secondary_index(
                index_name=name,
                partition_key=dynamodb.Attribute(name=partition, type=_STRING),
                sort_key=dynamodb.Attribute(name=sort, type=_STRING) if sort else None,
                projection_type=dynamodb.ProjectionType.INCLUDE if keys_only else dynamodb.ProjectionType.ALL,
                non_key_attributes=list(constants.UNFINISHED_INDEX_PROJECTION) if keys_only else None,
            )
        for key in promoted_tag_keys:  # GET /tasks?tag=key=value, newest first
            self.tasks.add_global_secondary_index(
                index_name=constants.tag_index_name(key),
                partition_key=dynamodb.Attribute(name=constants.TAG_ATTRIBUTE_PREFIX + key, type=_STRING),
                sort_key=dynamodb.Attribute(name="createdAt", type=_STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )

        self.rejected_events = dynamodb.Table(
            self,
            "RejectedEvents",
            partition_key=dynamodb.Attribute(name=constants.REJECTED_KEY, type=_STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=constants.REJECTED_TTL_ATTRIBUTE,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )


def working_table(
    scope: Construct, construct_id: str, *, key: str, sort_key: str | None = None, ttl: str | None = None
) -> dynamodb.Table:
    """A table of working state that can be rebuilt (idempotency records, connections, watermarks):
    on demand, encrypted, with point-in-time recovery, and deleted with the stack."""
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name=key, type=_STRING),
        sort_key=dynamodb.Attribute(name=sort_key, type=_STRING) if sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=ttl,
        removal_policy=RemovalPolicy.DESTROY,
    )
