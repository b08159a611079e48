"""A DynamoDB stream consumer: fails any batch holding an item marked `poison`, else copies each record out."""

import json
import os

import boto3

sqs = boto3.client("sqs")
OUTPUT = os.environ["OUTPUT_QUEUE_URL"]


def handler(event, context):
    if any("poison" in record["dynamodb"].get("NewImage", {}) for record in event["Records"]):
        raise RuntimeError("poison")
    for record in event["Records"]:
        sqs.send_message(QueueUrl=OUTPUT, MessageBody=json.dumps(record))
