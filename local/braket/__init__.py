"""A local Amazon Braket service for local mode.

Braket's REST-JSON API (routes, members and errors from botocore's service model) on 127.0.0.1, for
unmodified boto3 `braket` clients; the Region is the one the request is signed for. Tasks run on the
default simulator (SV1: state vector, DM1: density matrix), results.json goes to S3 and every status
change goes to EventBridge as a "Braket Task State Change" event, both on moto.

    braket = LocalBraket("http://127.0.0.1:5000", queue_delay=0.5, faults=FaultPlan())
    url = braket.start()  # then AWS_ENDPOINT_URL_BRAKET=url, or boto3.client("braket", endpoint_url=url)
    braket.stop()

or from a shell: python -m local.braket --aws-endpoint http://127.0.0.1:5000 [--port N] [--faults]
"""

from local.braket.app import LocalBraket

__all__ = ["LocalBraket"]
