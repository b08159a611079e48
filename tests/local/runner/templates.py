"""Small CloudFormation templates for the runner's tests, shaped as CDK synthesizes them."""

from __future__ import annotations

from typing import Any

ASSET = "asset.handlers"  # tests/local/runner/handlers, copied into each test's cdk.out under this name

ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    },
}


def function(handler: str, *, timeout: int | None = None, memory: int | None = None, **env: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Handler": handler,
        "Runtime": "python3.14",
        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
        "Code": {"ZipFile": "# the runner runs the asset named in the metadata"},
        "Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": "runner-test", **env}},
    }
    if timeout is not None:
        properties["Timeout"] = timeout
    if memory is not None:
        properties["MemorySize"] = memory
    return {"Type": "AWS::Lambda::Function", "Properties": properties, "Metadata": {"aws:asset:path": ASSET}}


def queue(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


def queue_with_dlq(dlq: str, max_receive_count: int, visibility: int = 30) -> dict[str, Any]:
    return queue(
        VisibilityTimeout=visibility,
        RedrivePolicy={"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]}, "maxReceiveCount": max_receive_count},
    )


def table() -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "KeySchema": [{"AttributeName": "taskArn", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "taskArn", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        },
    }


def sqs_mapping(function_id: str, queue_id: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "FunctionName": {"Ref": function_id},
            "EventSourceArn": {"Fn::GetAtt": [queue_id, "Arn"]},
            **properties,
        },
    }


def stream_mapping(function_id: str, table_id: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "FunctionName": {"Ref": function_id},
            "EventSourceArn": {"Fn::GetAtt": [table_id, "StreamArn"]},
            "StartingPosition": "LATEST",
            **properties,
        },
    }


def stack(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": {"Role": ROLE, **resources}}
