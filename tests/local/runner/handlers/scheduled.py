"""A scheduled function: copies the event it gets to the output queue and returns it."""

import json
import os

import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["OUTPUT_QUEUE_URL"], MessageBody=json.dumps(event))
    return event
