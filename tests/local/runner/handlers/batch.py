"""An SQS consumer: copies each record it gets to the output queue, then acts as the bodies say:
"fail..." is reported as a batch item failure, "crash..." makes the whole invocation fail,
"slow..." takes half a second."""

import json
import os
import time

import boto3

sqs = boto3.client("sqs")
OUTPUT = os.environ["OUTPUT_QUEUE_URL"]


def handler(event, context):
    for record in event["Records"]:
        sqs.send_message(QueueUrl=OUTPUT, MessageBody=json.dumps(record))
    if any(record["body"].startswith("slow") for record in event["Records"]):
        time.sleep(0.5)
    if any(record["body"].startswith("crash") for record in event["Records"]):
        raise RuntimeError("crash")
    return {
        "batchItemFailures": [
            {"itemIdentifier": record["messageId"]} for record in event["Records"] if record["body"].startswith("fail")
        ]
    }
