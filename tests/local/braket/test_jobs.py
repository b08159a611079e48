"""Hybrid jobs through an unmodified boto3 client: each job runs as Braket's job container runs it.

What Braket does is cited in local/braket/jobs/ (the container's src/braket_container.py, the SDK's code and
integration tests); these tests check the local service does the same, and leaves what the SDK reads.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.local.braket.conftest import EventSink, bucket_for
from tests.local.braket.jobs_support import (
    ROLE_KEY,
    create_job,
    job_statuses,
    log_lines,
    model_archive,
    s3_location,
    wait_job,
)

SAVES_A_RESULT = """
    import json, os
    from braket.jobs import save_job_checkpoint, save_job_result
    from braket.jobs.environment_variables import get_hyperparameters, get_job_name

    print("working folder", os.getcwd())
    settings = {k: v for k, v in os.environ.items() if k.startswith(("AMZN_BRAKET_", "AWS_ACCESS_KEY_ID"))}
    print("settings", json.dumps(settings))
    save_job_checkpoint({"step": 3}, checkpoint_file_suffix="plain_data")
    save_job_result({"energy": -1.5, "job": get_job_name(), "hyperparameters": get_hyperparameters()})
"""


def test_a_bare_module_runs_as_main_and_leaves_what_the_sdk_reads(
    braket: Callable[..., Any], aws: Callable[[str, str], Any], sinks: dict[str, EventSink]
) -> None:
    client, s3 = braket(), aws("s3", "us-east-1")
    arn = create_job(client, s3, {"algo.py": SAVES_A_RESULT}, "algo", hyperParameters={"theta": "0.5"})

    job = wait_job(client, arn)

    assert job["status"] == "COMPLETED", job.get("failureReason")
    assert isinstance(job["startedAt"], datetime) and job["createdAt"] <= job["startedAt"] <= job["endedAt"]
    assert job["billableDuration"] == round((job["endedAt"] - job["startedAt"]).total_seconds() * 1000)
    assert [e["eventType"] for e in job["events"]] == [
        "QUEUED_FOR_EXECUTION",
        "STARTING_INSTANCE",
        "DOWNLOADING_DATA",
        "RUNNING",
        "UPLOADING_RESULTS",
        "COMPLETED",
    ]
    assert job["instanceConfig"]["instanceCount"] == 1 and "failureReason" not in job
    # results: <s3Path>/output/model.tar.gz, results.json at its root (AwsQuantumJob.download_result)
    archive = model_archive(s3, job)
    assert list(archive) == ["results.json"]
    results = json.loads(archive["results.json"])
    assert results["braketSchemaHeader"] == {"name": "braket.jobs_data.persisted_job_data", "version": "1"}
    assert results["dataDictionary"] == {
        "energy": -1.5,
        "job": job["jobName"],
        "hyperparameters": {"theta": "0.5"},
    }
    # checkpoints: <checkpointConfig.s3Uri>/<jobName>_<suffix>.json, as the SDK's integration test finds them
    bucket, prefix = s3_location(job["checkpointConfig"]["s3Uri"])
    checkpoint = s3.get_object(Bucket=bucket, Key=f"{prefix}/{job['jobName']}_plain_data.json")["Body"].read()
    assert json.loads(checkpoint)["dataDictionary"] == {"step": 3}
    # the script's output, in CloudWatch Logs where job.logs() reads it
    lines = log_lines(aws("logs", "us-east-1"), job)
    assert any(line.startswith("working folder /") and line.endswith("customer_code/extracted") for line in lines)
    settings = json.loads(next(line for line in lines if line.startswith("settings "))[len("settings ") :])
    bucket = bucket_for("us-east-1")
    assert settings["AMZN_BRAKET_JOB_TOKEN"] == arn  # into each CreateQuantumTask: its tasks carry the job
    assert settings["AWS_ACCESS_KEY_ID"] == ROLE_KEY  # the job signs with its role's credentials
    assert settings["AMZN_BRAKET_JOB_NAME"] == job["jobName"]
    assert settings["AMZN_BRAKET_DEVICE_ARN"] == job["deviceConfig"]["device"]
    assert settings["AMZN_BRAKET_OUT_S3_BUCKET"] == bucket
    assert settings["AMZN_BRAKET_TASK_RESULTS_S3_URI"] == f"s3://{bucket}/jobs/{job['jobName']}/tasks"
    assert settings["AMZN_BRAKET_SCRIPT_ENTRY_POINT"] == "algo"
    assert {"AMZN_BRAKET_JOB_RESULTS_DIR", "AMZN_BRAKET_CHECKPOINT_DIR", "AMZN_BRAKET_HP_FILE"} <= set(settings)
    assert "AMZN_BRAKET_INPUT_DIR" not in settings  # only with input data, as the SDK's local jobs set it
    # events: QUEUED, RUNNING, COMPLETED, of the settled shape
    events = sinks["us-east-1"].wait_for_status(arn, "COMPLETED")
    assert job_statuses(events) == ["QUEUED", "RUNNING", "COMPLETED"]
    assert [sorted(e["detail"]) for e in events] == [
        ["jobArn", "status"],
        ["jobArn", "startedAt", "status"],
        ["endedAt", "jobArn", "startedAt", "status"],
    ]
    assert all(e["detail-type"] == "Braket Job State Change" and e["resources"] == [arn] for e in events)
    assert events[-1]["detail"]["endedAt"] == job["endedAt"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_a_function_gets_the_hyperparameters_converted_by_its_annotations(
    braket: Callable[..., Any], aws: Callable[[str, str], Any]
) -> None:
    client, s3 = braket(), aws("s3", "us-east-1")
    source = {
        "steps.py": """
            import json, os
            def run(count: int, label):
                with open(os.path.join(os.environ["AMZN_BRAKET_JOB_RESULTS_DIR"], "results.json"), "w") as f:
                    json.dump({"braketSchemaHeader": {"name": "braket.jobs_data.persisted_job_data", "version": "1"},
                               "dataDictionary": {"count": count * 2, "label": label}, "dataFormat": "plaintext"}, f)
            def takes_nothing():
                print("called without arguments")
        """,
    }
    with_hps = create_job(
        client, s3, source, "pkg.steps:run", folder="pkg", hyperParameters={"count": "21", "label": "x"}
    )
    without = create_job(client, s3, source, "pkg.steps:takes_nothing", folder="pkg", hyperParameters={"count": "1"})

    first, second = wait_job(client, with_hps), wait_job(client, without)

    assert (first["status"], second["status"]) == ("COMPLETED", "COMPLETED")
    assert json.loads(model_archive(s3, first)["results.json"])["dataDictionary"] == {"count": 42, "label": "x"}
    assert "called without arguments" in log_lines(aws("logs", "us-east-1"), second)


@pytest.mark.parametrize(
    ("files", "entry_point", "reason"),
    [
        (
            {"algo.py": "open('fake_file')"},
            "algo",
            "AlgorithmError: FileNotFoundError: [Errno 2] No such file or directory: 'fake_file', exit code: 1",
        ),
        ({"algo.py": "import sys; sys.exit(3)"}, "algo", "exit code: 3"),
        ({"algo.py": "x = 1"}, "algo:missing", "AlgorithmError: AttributeError: "),
        ({"algo.py": "print('never runs')", "requirements.txt": "numpy\n"}, "algo", "cannot install requirements.txt"),
    ],
    ids=["exception", "exit code", "no such function", "requirements.txt"],
)
def test_a_failing_job_fails_with_braket_s_reason_and_no_results(
    braket: Callable[..., Any], aws: Callable[[str, str], Any], files: dict[str, str], entry_point: str, reason: str
) -> None:
    client, s3 = braket(), aws("s3", "us-east-1")

    job = wait_job(client, create_job(client, s3, files, entry_point))

    assert job["status"] == "FAILED"
    assert reason in job["failureReason"] and job["failureReason"].startswith("AlgorithmError: ")
    assert "UPLOADING_RESULTS" not in [e["eventType"] for e in job["events"]]
    bucket, key = s3_location(job["outputDataConfig"]["s3Path"] + "/output/model.tar.gz")
    with pytest.raises(ClientError, match=r"404|Not Found"):
        s3.head_object(Bucket=bucket, Key=key)  # after a FAILED job only the script is in S3 (SDK integ test)


def test_the_job_s_tasks_carry_the_job_and_are_counted_under_its_own_key(
    braket_url: str, braket: Callable[..., Any], aws: Callable[[str, str], Any]
) -> None:
    client, s3 = braket(), aws("s3", "us-east-1")
    script = """
        import json, os, boto3
        braket = boto3.client("braket")  # the job's environment points it at the local service
        program = {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"},
                   "source": "OPENQASM 3.0; bit[1] b; qubit[1] q; h q[0]; b = measure q;"}
        for _ in range(2):
            arn = braket.create_quantum_task(
                action=json.dumps(program), deviceArn=os.environ["AMZN_BRAKET_DEVICE_ARN"], shots=10,
                outputS3Bucket=os.environ["AMZN_BRAKET_OUT_S3_BUCKET"], outputS3KeyPrefix="jobs/tasks",
                jobToken=os.environ["AMZN_BRAKET_JOB_TOKEN"])["quantumTaskArn"]
            print("task", arn)
    """
    before = request_counts(braket_url)

    job = wait_job(client, create_job(client, s3, {"algo.py": script}, "algo"))

    assert job["status"] == "COMPLETED", job.get("failureReason")
    tasks = [line.split()[1] for line in log_lines(aws("logs", "us-east-1"), job) if line.startswith("task ")]
    assert len(tasks) == 2
    assert {client.get_quantum_task(quantumTaskArn=t)["jobArn"] for t in tasks} == {job["jobArn"]}
    listed = client.search_quantum_tasks(filters=[{"name": "jobArn", "operator": "EQUAL", "values": [job["jobArn"]]}])
    assert sorted(t["quantumTaskArn"] for t in listed["quantumTasks"]) == sorted(tasks)
    after = request_counts(braket_url)
    created = {
        key: counts.get("CreateQuantumTask", 0) - before["byAccessKey"].get(key, {}).get("CreateQuantumTask", 0)
        for key, counts in after["byAccessKey"].items()
    }
    assert created[ROLE_KEY] == 2 and sum(created.values()) == 2
    assert after["byAccessKey"]["testing"]["CreateJob"] > before["byAccessKey"].get("testing", {}).get("CreateJob", 0)


def request_counts(braket_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{braket_url}/_local/request-counts", timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_input_data_and_earlier_checkpoints_are_in_place_when_the_code_runs(
    braket: Callable[..., Any], aws: Callable[[str, str], Any]
) -> None:
    client, s3, bucket = braket(), aws("s3", "us-east-1"), bucket_for("us-east-1")
    s3.put_object(Bucket=bucket, Key="datasets/h2/geometry.json", Body=b'{"bond": 0.74}')
    s3.put_object(Bucket=bucket, Key="datasets/h2/basis/sto-3g.txt", Body=b"sto-3g")
    s3.put_object(Bucket=bucket, Key="datasets/h2-extra.csv", Body=b"a,b")
    s3.put_object(Bucket=bucket, Key="earlier/checkpoints/previous_plain_data.json", Body=b'{"step": 7}')
    script = """
        import os
        for root, _, files in sorted(os.walk(os.environ["AMZN_BRAKET_INPUT_DIR"])):
            for name in sorted(files):
                print("input", os.path.relpath(os.path.join(root, name), os.environ["AMZN_BRAKET_INPUT_DIR"]))
        checkpoints = os.environ["AMZN_BRAKET_CHECKPOINT_DIR"]
        print("checkpoint", open(os.path.join(checkpoints, "previous_plain_data.json")).read())
        open(os.path.join(checkpoints, "next_plain_data.json"), "w").write('{"step": 8}')
    """
    channels = [
        {"channelName": "molecule", "dataSource": {"s3DataSource": {"s3Uri": f"s3://{bucket}/datasets/h2/"}}},
        {"channelName": "extra", "dataSource": {"s3DataSource": {"s3Uri": f"s3://{bucket}/datasets/h2-"}}},
    ]
    checkpoint = {"localPath": "/opt/jobs/checkpoints", "s3Uri": f"s3://{bucket}/earlier/checkpoints"}

    job = wait_job(
        client,
        create_job(client, s3, {"algo.py": script}, "algo", inputDataConfig=channels, checkpointConfig=checkpoint),
    )

    assert job["status"] == "COMPLETED", job.get("failureReason")
    lines = log_lines(aws("logs", "us-east-1"), job)
    # a prefix naming a folder brings its contents; any other prefix the objects it matches, relative to the
    # prefix's folder (as the SDK's local jobs lay them out)
    assert sorted(line for line in lines if line.startswith("input ")) == [
        "input extra/h2-extra.csv",
        "input molecule/basis/sto-3g.txt",
        "input molecule/geometry.json",
    ]
    assert 'checkpoint {"step": 7}' in lines
    written = s3.get_object(Bucket=bucket, Key="earlier/checkpoints/next_plain_data.json")["Body"].read()
    assert json.loads(written) == {"step": 8}
