"""The deployed stack in moto: physical ids from CloudFormation, and the values the runner derives from them.

Physical ids come from `describe_stack_resources`. A value CloudFormation would resolve (an ARN, a
stream ARN, a queue URL) is asked from the owning service (its own describe call), never rebuilt
by hand. Function environments come from `get_function_configuration`: moto's CloudFormation
creates each function with its variables already resolved, which is the simplest exact source.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import boto3

from local.runner.template import ref_target

logger = logging.getLogger("local.runner")


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None

    @classmethod
    def of(cls, value: tuple[str, ...] | Credentials) -> Credentials:
        return value if isinstance(value, Credentials) else cls(*value)


@dataclass(frozen=True)
class CallerIdentity:
    """Who the local credentials are, as STS (moto) says: what API Gateway puts in requestContext.identity."""

    account: str
    arn: str
    user_id: str


@dataclass(frozen=True)
class Destination:
    """Where a stream mapping sends the record of a batch it gave up on: an SQS queue or an SNS topic."""

    kind: str  # "sqs" or "sns"
    target: str  # queue URL or topic ARN


class DeployedStack:
    def __init__(self, stack_name: str, endpoint: str, region: str, credentials: Credentials) -> None:
        self.region = region
        self._session = boto3.Session(
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            aws_session_token=credentials.token,
            region_name=region,
        )
        self._endpoint = endpoint
        cfn = self.client("cloudformation")
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        self.account = str(stack["StackId"].split(":")[4])
        self.partition = str(stack["StackId"].split(":")[1])
        self.physical: dict[str, str] = {}
        self.types: dict[str, str] = {}
        for resource in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]:
            if resource.get("LogicalResourceId") and resource.get("PhysicalResourceId"):
                self.physical[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
                self.types[resource["LogicalResourceId"]] = resource["ResourceType"]

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self._endpoint)  # type: ignore[call-overload]

    def caller_identity(self) -> CallerIdentity:
        answer = self.client("sts").get_caller_identity()
        return CallerIdentity(account=answer["Account"], arn=answer["Arn"], user_id=answer["UserId"])

    def function_arn(self, function_name: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{function_name}"

    def function_environment(self, function_name: str) -> dict[str, str]:
        config = self.client("lambda").get_function_configuration(FunctionName=function_name)
        return dict((config.get("Environment") or {}).get("Variables") or {})

    def queue_url(self, value: Any) -> str:
        """A queue's URL from a Ref/GetAtt to it or from its ARN."""
        logical_id = ref_target(value)
        if logical_id is not None:
            return self.physical[logical_id]
        _, _, _, _, account, name = str(value).split(":", 5)
        return str(self.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])

    def queue_arn(self, queue_url: str) -> str:
        attributes = self.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    def stream_arn(self, value: Any) -> str:
        """A table's stream ARN from Fn::GetAtt [Table, StreamArn], or the ARN itself."""
        logical_id = ref_target(value)
        if logical_id is None:
            return str(value)
        table = self.client("dynamodb").describe_table(TableName=self.physical[logical_id])["Table"]
        return str(table["LatestStreamArn"])

    def destination(self, value: Any) -> Destination:
        logical_id = ref_target(value)
        kind = self.types.get(logical_id or "")
        if kind == "AWS::SQS::Queue" or (logical_id is None and ":sqs:" in str(value)):
            return Destination("sqs", self.queue_url(value))
        if kind == "AWS::SNS::Topic" or (logical_id is None and ":sns:" in str(value)):
            return Destination("sns", self.physical[logical_id] if logical_id else str(value))
        raise ValueError(f"unsupported on-failure destination {value!r} (an SQS queue or SNS topic)")
