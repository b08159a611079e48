"""A local Amazon Braket service for local mode.

Braket's REST-JSON API (routes, members and errors from botocore's service model) on 127.0.0.1, for
unmodified boto3 `braket` clients and the Braket SDK; the Region is the one the request is signed for.
SV1, DM1 and TN1 are described as Braket describes them (devices.py) and programs are checked against
them (programs.py); tasks run on the default simulator in worker processes of their own (simulators.py:
SV1 and TN1 on its state vector simulator, DM1 on its density matrix simulator), results.json goes to
S3 (results.py) and every status change goes to EventBridge as a "Braket Task State Change" event, both
on moto. Requests are counted by operation and signing access key (GET/DELETE /_local/request-counts).

    braket = LocalBraket("http://127.0.0.1:5000", queue_delay=0.5, faults=FaultPlan())
    url = braket.start()  # then AWS_ENDPOINT_URL_BRAKET=url, or boto3.client("braket", endpoint_url=url)
    braket.stop()

or from a shell: python -m local.braket --aws-endpoint http://127.0.0.1:5000 [--port N] [--faults]
"""

from local.braket.app import LocalBraket

__all__ = ["LocalBraket"]
