"""Pipelines: ``loom.yaml`` stages, ``loom.lock``, ``loom repro`` (issue 13)."""
