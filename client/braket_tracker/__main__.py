import sys

from braket_tracker.cli import main

sys.exit(main())
