"""The results buckets that the tracker owns: one per Braket Region, for tasks submitted through its API.

Braket's service-linked role writes results only to buckets whose names start with `amazon-braket-`,
in the Region where the task runs. So the home stack owns its Region's bucket, each forwarder stack
its own Region's, all named by one rule that the Task API applies to find them.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lambdas.tracker import constants
from stacks.nag import acknowledge


def results_bucket_name(stack_name: str, account: str, region: str) -> str:
    """`amazon-braket-<stack name, lowercased, 20 at most>-<account>-<region>`: the stack's name keeps
    two deployments in one account and Region apart."""
    slug = "".join(c for c in stack_name.lower() if c.isalnum() or c == "-")[:20].strip("-")
    return f"{constants.RESULTS_BUCKET_PREFIX}{slug}-{account}-{region}"


def results_bucket(scope: Construct, construct_id: str, *, name: str, retention_days: int) -> s3.Bucket:
    """SSE-S3, TLS only, private, results expiring after `retention_days`; kept if the stack goes."""
    bucket = s3.Bucket(
        scope,
        construct_id,
        bucket_name=name,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireTaskResults",
                prefix=f"{constants.RESULTS_PREFIX}/",
                expiration=Duration.days(retention_days),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
        removal_policy=RemovalPolicy.RETAIN,
    )
    acknowledge(
        bucket,
        "AwsSolutions-S1",
        "Braket writes results here and the API reads them; the API's access logs record every request for "
        "a result, and CloudTrail data events are the tool if object-level auditing is needed.",
    )
    return bucket
