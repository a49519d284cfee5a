"""Workflows: plan (pure: matrix, DAG), run (scheduler, steps, workflow commands), executors."""
