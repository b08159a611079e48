"""A job's folders, and what the platform moves between them and S3 around the job's own process.

The folders mirror the job container's `/opt/braket` (amazon-braket-containers, src/braket_container.py, and
the SDK's braket/jobs/local/local_job_container_setup.py) under a temporary folder of the job's own:

    code/customer_code/original/   the source as downloaded      input/config/hyperparameters.json
    code/customer_code/extracted/  the script's working folder   input/data/<channel>/  input data
    model/                         the results folder            checkpoints/           the checkpoint folder
    output/failure                 the failure text, if any

Before the process starts, input data and earlier checkpoints are downloaded; at the end, checkpoints are
uploaded to checkpointConfig.s3Uri and, when the job completed, the results folder is archived as
`model.tar.gz` (its files at the root) at `<outputDataConfig.s3Path>/output/model.tar.gz`, where the SDK's
AwsQuantumJob.result() downloads it (braket/aws/aws_quantum_job.py, download_result).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.braket.jobs.models import Job

_S3 = re.compile(r"s3://(?P<bucket>[^/]+)/?(?P<key>.*)")
_VIRTUAL_HOST = re.compile(r"https://(?P<bucket>[^/]+)\.s3[.-][a-z0-9.-]*amazonaws\.com/?(?P<key>.*)")
_PATH_STYLE = re.compile(r"https://s3[.-][a-z0-9.-]*amazonaws\.com/(?P<bucket>[^/]+)/?(?P<key>.*)")


class StorageError(Exception):
    """Moving the job's data failed: the job fails with this reason."""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an s3:// URI or an S3 https URL (virtual-hosted or path style)."""
    for pattern in (_S3, _VIRTUAL_HOST, _PATH_STYLE):
        if match := pattern.fullmatch(uri):
            return match["bucket"], match["key"]
    raise StorageError(f"'{uri}' is not an S3 URI")


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def create(cls, job: Job) -> Workspace:
        workspace = cls(Path(tempfile.mkdtemp(prefix=f"braket-job-{job.job_id[:8]}-")))
        for folder in (workspace.original, workspace.extracted, workspace.model, workspace.checkpoints):
            folder.mkdir(parents=True, exist_ok=True)
        workspace.failure_file.parent.mkdir(parents=True, exist_ok=True)
        return workspace

    @property
    def original(self) -> Path:
        return self.root / "code" / "customer_code" / "original"

    @property
    def extracted(self) -> Path:
        return self.root / "code" / "customer_code" / "extracted"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def input_data(self) -> Path:
        return self.root / "input" / "data"

    @property
    def hyperparameters_file(self) -> Path:
        return self.root / "input" / "config" / "hyperparameters.json"

    @property
    def failure_file(self) -> Path:
        return self.root / "output" / "failure"

    def failure_text(self) -> str:
        return self.failure_file.read_text(errors="replace").strip() if self.failure_file.exists() else ""

    def write_hyperparameters(self, hyperparameters: dict[str, str]) -> None:
        self.hyperparameters_file.parent.mkdir(parents=True, exist_ok=True)
        self.hyperparameters_file.write_text(json.dumps(hyperparameters))

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class JobStorage:
    """The platform's S3 transfers for one job (local mode's own credentials, not the job's)."""

    def __init__(self, s3: Any, job: Job, workspace: Workspace) -> None:
        self._s3 = s3
        self._job = job
        self._workspace = workspace

    def download_input(self) -> None:
        """Each input channel into input/data/<channel>/, as the SDK's local jobs lay it out: a prefix naming a
        folder brings that folder's contents, any other prefix the matching objects by their names."""
        for channel in self._job.request.get("inputDataConfig") or []:
            name, uri = channel["channelName"], channel["dataSource"]["s3DataSource"]["s3Uri"]
            bucket, prefix = parse_s3_uri(uri)
            keys = self._keys(bucket, prefix, f"input data channel '{name}'")
            is_folder = prefix.endswith("/") or all(key.startswith(f"{prefix}/") for key in keys)
            top = prefix.rstrip("/") if is_folder else str(PurePosixPath(prefix).parent)
            files = [k for k in keys if not k.endswith("/")]
            if not files:
                raise StorageError(f"ClientError: No data found for input data channel '{name}' at {uri}")
            for key in files:
                relative = PurePosixPath(key).relative_to(top) if top not in ("", ".") else PurePosixPath(key)
                self._download(bucket, key, self._workspace.input_data / name, relative)

    def download_checkpoints(self) -> None:
        """Checkpoints already at checkpointConfig.s3Uri (copy_checkpoints_from_job puts them there)."""
        if (uri := self._checkpoint_uri()) is None:
            return
        bucket, prefix = parse_s3_uri(uri)
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        for key in self._keys(bucket, prefix, "checkpoints"):
            if not key.endswith("/"):
                self._download(bucket, key, self._workspace.checkpoints, PurePosixPath(key[len(prefix) :]))

    def upload_checkpoints(self) -> None:
        if (uri := self._checkpoint_uri()) is None:
            return
        bucket, prefix = parse_s3_uri(uri)
        for path in sorted(self._workspace.checkpoints.rglob("*")):
            if path.is_file():
                key = "/".join(
                    filter(None, [prefix.rstrip("/"), path.relative_to(self._workspace.checkpoints).as_posix()])
                )
                self._put(bucket, key, path.read_bytes(), "checkpoints")

    def upload_results(self) -> str:
        """model.tar.gz of the results folder, its files at the root; answers its S3 URI."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for path in sorted(self._workspace.model.iterdir()):
                archive.add(path, arcname=path.name)
        uri = f"{self._job.request['outputDataConfig']['s3Path'].rstrip('/')}/output/model.tar.gz"
        bucket, key = parse_s3_uri(uri)
        self._put(bucket, key, buffer.getvalue(), "results")
        return uri

    def _checkpoint_uri(self) -> str | None:
        checkpoint = self._job.request.get("checkpointConfig")
        return None if checkpoint is None else str(checkpoint["s3Uri"])

    def _keys(self, bucket: str, prefix: str, what: str) -> list[str]:
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            return [item["Key"] for page in pages for item in page.get("Contents", [])]
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"ClientError: Unable to list {what} at s3://{bucket}/{prefix}: {exc}") from exc

    def _download(self, bucket: str, key: str, folder: Path, relative: PurePosixPath) -> None:
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder.resolve()):
            raise StorageError(f"ClientError: The S3 key '{key}' names a path outside {folder.name}/")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._s3.download_file(bucket, key, str(target))
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"ClientError: Unable to download s3://{bucket}/{key}: {exc}") from exc

    def _put(self, bucket: str, key: str, body: bytes, what: str) -> None:
        try:
            self._s3.put_object(Bucket=bucket, Key=key, Body=body)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"ClientError: Unable to upload {what} to s3://{bucket}/{key}: {exc}") from exc
