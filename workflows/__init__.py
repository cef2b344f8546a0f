"""Temporal workflows: one per case, one per victim of a case."""
