"""Local mode has no container images: the SDK's @hybrid_job decorator is refused with a reason at its
first need, ECR's BatchGetImage of the Braket job image; every other ECR request is moto's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from local.aws import MotoServer


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer.start()
    yield server
    assert server.server is not None
    server.server.stop()  # not MotoServer.stop: its reset would empty the backends other tests share


def test_the_hybrid_job_decorator_is_refused_with_a_reason(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from braket.jobs import hybrid_job

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)

    with pytest.raises(ClientError) as raised:

        @hybrid_job(device="arn:aws:braket:::device/quantum-simulator/amazon/sv1")
        def variational() -> None: ...

    error = raised.value.response["Error"]
    assert error["Code"] == "RepositoryNotFoundException"
    assert "Local mode has no container images" in error["Message"]
    assert "amazon-braket-base-jobs" in error["Message"] and "AwsQuantumJob.create" in error["Message"]


def test_other_images_are_moto_s(moto: MotoServer) -> None:
    ecr, name = moto.client("ecr", "us-east-1"), f"my-algorithms-{uuid.uuid4().hex[:8]}"
    ecr.create_repository(repositoryName=name)

    answer = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "latest"}])

    assert answer["images"] == [] and answer["failures"][0]["failureCode"] == "ImageNotFound"
