"""Pipelines: loom.yaml, the DAG, loom.lock, repro, the run cache; params, metrics and plots
at git revisions (issue 13)."""
