"""Operator commands, run with your own AWS credentials against a deployed tracker (or local mode):
`python -m ops backfill` imports existing tasks, `python -m ops replay` redrives the dead-letter queues,
`python -m ops prices` rewrites the shipped price catalogue from the AWS Price List.

They use the functions' own code (the recorder's logic, the merge), from `lambdas/`.
"""

import sys
from pathlib import Path

_LAMBDAS = str(Path(__file__).resolve().parent.parent / "lambdas")
if _LAMBDAS not in sys.path:
    sys.path.insert(0, _LAMBDAS)
