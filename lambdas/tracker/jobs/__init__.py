"""Hybrid jobs: recorded, notified, pushed and reconciled like tasks (issue 18)."""
