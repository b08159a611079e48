"""Hybrid jobs in the local Braket service: CreateJob, GetJob, CancelJob and SearchJobs, and each job run for
real as Braket's job container runs it, in a process of its own.

    service.py    the job store, the API operations and the lifecycle (queue, slots, cancel, events)
    runner.py     one job's run: its process, environment, stopping condition and outcome
    container.py  the job's process itself: download, unpack, entry point, hyperparameters, failure file
    workspace.py  the job's folders, and the S3 transfers around the process (input, checkpoints, results)
    logs.py       the job's output in CloudWatch Logs, where the SDK reads it
    events.py     "Braket Job State Change" events, of the shape local mode settled on
    responses.py  GetJob, JobSummary and the job queue's position
    search.py     SearchJobs filters
"""
