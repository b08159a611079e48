"""API Gateway's account-level CloudWatch Logs role, which REST and WebSocket access logs need.

It is a setting of the account in a Region, not of an API: one per stack, shared by the Task API
and the live-updates API, and kept when the stack is deleted (other APIs may log through it).
`apiGatewayCloudWatchRole: false` leaves an account's own role in place.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.nag import acknowledge, nag_resource

POLICY = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def api_gateway_logging(stack: Stack) -> apigateway.CfnAccount:
    """The stack's AWS::ApiGateway::Account (found, or created on first use)."""
    existing = stack.node.try_find_child("ApiGatewayLogging")
    if existing is not None:
        return existing.node.find_child("Account")  # type: ignore[return-value]
    scope = Construct(stack, "ApiGatewayLogging")
    policy = iam.ManagedPolicy.from_aws_managed_policy_name(POLICY)
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        description="Lets API Gateway write the access logs of this account's APIs to CloudWatch Logs",
        managed_policies=[policy],
    )
    role.apply_removal_policy(RemovalPolicy.RETAIN)
    acknowledge(
        role,
        f"AwsSolutions-IAM4[Policy::{nag_resource(stack, policy.managed_policy_arn)}]",
        "The AWS-managed policy that API Gateway documents for its account-level logging role.",
    )
    account = apigateway.CfnAccount(scope, "Account", cloud_watch_role_arn=role.role_arn)
    account.apply_removal_policy(RemovalPolicy.RETAIN)
    return account
