"""Task API handler: API Gateway (REST, IAM-authorized) -> routes -> TaskService."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.api import jobs_routes
from tracker.api.jobs_service import JobService
from tracker.api.routes import bind, logger, resolve
from tracker.api.service import TaskService
from tracker.config import ApiConfig
from tracker.data.braket_jobs import BraketJobs
from tracker.data.braket_tasks import BraketSubmissions
from tracker.data.idempotency import IdempotencyStore
from tracker.data.job_table import JobTable
from tracker.data.job_tasks import JobTasks
from tracker.data.results_store import ResultsStore
from tracker.data.task_table import TaskTable
from tracker.jobs.config import JobsConfig

config = ApiConfig.from_env()
jobs_config = JobsConfig.from_env(constants.RECORDER_GET_JOB_RATE)
dynamodb = boto3.client("dynamodb")  # one client for both tables
bind(
    TaskService(
        config,
        TaskTable(config.task_table, dynamodb, config.promoted_tag_keys),
        IdempotencyStore(config.idempotency_table, constants.IDEMPOTENCY_RETENTION_HOURS * 3600, dynamodb),
        BraketSubmissions(),
        ResultsStore(),
    )
)
jobs_routes.bind(
    JobService(
        JobTable(jobs_config.job_table, dynamodb),
        JobTasks(config.task_table, jobs_config.job_table, dynamodb),
        BraketJobs(jobs_config.get_job_rate),
        config.admin_principals,
    )
)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(event, context)
