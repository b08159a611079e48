"""A Lambda proxy integration: echoes the event, serves bytes under /files, fails on /boom."""

import base64
import json


def handler(event, context):
    if event["path"].endswith("/boom"):
        raise RuntimeError("boom")
    if event["resource"] == "/files/{proxy+}":
        data = b"\x00\xff" + event["pathParameters"]["proxy"].encode()
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(data).decode(),
            "isBase64Encoded": True,
        }
    if event["path"] == "/malformed":
        return "not a proxy response"
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps(event),
    }
