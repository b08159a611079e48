"""The HTTP surface: SigV4 required, client mistakes answered in the AWS error shape, clean stop, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.braket import LocalBraket
from tests.local.braket.conftest import SV1, create_task, wait_for

ROOT = Path(__file__).resolve().parents[3]


def send(
    url: str, method: str, path: str, body: bytes = b"", *, sign: bool = True, region: str = "us-east-1"
) -> tuple[int, dict[str, str], Any]:
    """A raw HTTP request, SigV4-signed as botocore signs (or not); status, headers and JSON body."""
    request = AWSRequest(method=method, url=url + path, data=body, headers={"Content-Type": "application/json"})
    if sign:
        SigV4Auth(Credentials("testing", "testing"), "braket", region).add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(prepared.url, data=body or None, method=method, headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(raw, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_an_unsigned_request_is_rejected_with_403(braket_url: str) -> None:
    status, headers, body = send(braket_url, "GET", "/device/arn%3Aaws%3Abraket%3A%3A%3Adevice%2Fx", sign=False)

    assert status == 403
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert body == {"message": "Missing Authentication Token"}


def test_a_signature_without_a_credential_scope_or_for_another_service_is_rejected(braket_url: str) -> None:
    request = urllib.request.Request(
        braket_url + "/devices", data=b'{"filters": []}', method="POST", headers={"Authorization": "AWS4-HMAC-SHA256 x"}
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 403
    assert raised.value.headers["x-amzn-ErrorType"] == "IncompleteSignatureException"

    scoped = AWSRequest(method="POST", url=braket_url + "/devices", data=b'{"filters": []}')
    SigV4Auth(Credentials("testing", "testing"), "s3", "us-east-1").add_auth(scoped)
    wrong = urllib.request.Request(
        braket_url + "/devices", data=b'{"filters": []}', method="POST", headers=dict(scoped.headers)
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(wrong, timeout=5)
    assert raised.value.code == 403
    assert raised.value.headers["x-amzn-ErrorType"] == "InvalidSignatureException"


MISTAKES = {
    "malformed JSON": ("POST", "/quantum-task", b"{not json", 400, "SerializationException"),
    "JSON not an object": ("POST", "/quantum-tasks", b"[1, 2]", 400, "SerializationException"),
    "member of the wrong type": ("POST", "/quantum-tasks", b'{"filters": "all"}', 400, "SerializationException"),
    "required member missing": ("POST", "/quantum-tasks", b"{}", 400, "ValidationException"),
    "unknown path": ("GET", "/no-such-thing", b"", 404, "UnknownOperationException"),
    "wrong method": ("DELETE", "/quantum-tasks", b"", 405, "UnknownOperationException"),
    "wrong method for create": ("PUT", "/quantum-task", b"{}", 405, "UnknownOperationException"),
}


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_client_mistakes_get_4xx_in_the_aws_error_shape(
    braket_url: str, braket: Callable[..., Any], mistake: tuple[str, str, bytes, int, str]
) -> None:
    method, path, body, status, code = mistake

    answer, headers, payload = send(braket_url, method, path, body)

    assert answer == status
    assert headers["x-amzn-ErrorType"] == code
    assert isinstance(payload["message"], str) and payload["message"]
    assert braket().get_device(deviceArn=SV1)["deviceName"] == "SV1"  # still serving


def test_an_unencoded_arn_in_the_path_is_understood(braket_url: str, braket: Callable[..., Any]) -> None:
    status, _, device = send(braket_url, "GET", f"/device/{SV1}")

    assert status == 200
    assert device["deviceArn"] == SV1


def test_stop_joins_every_thread_even_with_a_kept_alive_connection(moto_url: str) -> None:
    before = set(threading.enumerate())
    service = LocalBraket(moto_url, queue_delay=0.05)
    url = service.start()
    client = boto3.client("braket", region_name="us-east-1", endpoint_url=url)
    wait_for(client, create_task(client))
    client.get_device(deviceArn=SV1)  # leaves a keep-alive connection open

    started = time.monotonic()
    service.stop()

    assert time.monotonic() - started < 3
    assert set(threading.enumerate()) <= before
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)  # nothing listens any more


def test_the_cli_serves_until_interrupted(moto_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.braket", "--aws-endpoint", moto_url, "--port", "0", "--queue-delay", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split("listening on ", 1)[1].split()[0]
        client = boto3.client("braket", region_name="us-east-1", endpoint_url=url)
        assert client.get_device(deviceArn=SV1)["deviceName"] == "SV1"
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "GetDevice" in errors  # one log line per request


def test_the_service_counts_requests_by_operation_and_signing_key_and_serves_them(moto_url: str) -> None:
    service = LocalBraket(moto_url, queue_delay=0.2)
    url = service.start()
    try:
        researcher = boto3.client("braket", region_name="us-east-1", endpoint_url=url)
        function = boto3.client(
            "braket",
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id="BraketTaskTracker-Recorder",
            aws_secret_access_key="local",
        )
        before = _counts(url)
        researcher.search_devices(filters=[])
        researcher.search_devices(filters=[])
        with pytest.raises(function.exceptions.ResourceNotFoundException):
            function.get_quantum_task(quantumTaskArn="arn:aws:braket:us-east-1:123456789012:quantum-task/nope")
        counted = _counts(url)
        reset = _counts(url, "DELETE")
        after = _counts(url)
        totals = service.request_counts()
    finally:
        service.stop()

    assert before == {"total": {}, "byAccessKey": {}}
    assert counted == {  # an error answer is a request too
        "total": {"SearchDevices": 2, "GetQuantumTask": 1},
        "byAccessKey": {"testing": {"SearchDevices": 2}, "BraketTaskTracker-Recorder": {"GetQuantumTask": 1}},
    }
    assert reset == counted  # DELETE answers what it reset
    assert after == {"total": {}, "byAccessKey": {}}
    assert totals == {}
    assert service.request_counts() == {}  # stopped: nothing to count


def _counts(url: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(f"{url}/_local/request-counts", method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"] == "application/json"
        return dict(json.loads(response.read()))
