"""What tasks cost: the cost keeper (the task table's stream -> each ended task's cost on its item, the
monthly totals, budget alerts), the pricer it shares with the notifier, and Braket's spending limits."""
