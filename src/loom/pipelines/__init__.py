"""Pipelines: ``loom.yaml`` stages, their DAG, ``loom.lock``, ``loom repro`` and the run cache.

Modules, from the file up: ``yamlfile`` (YAML with line numbers), ``template``
(``vars``, ``${…}``, ``foreach``, ``matrix``), ``spec`` (the stages, resolved),
``params`` (their values), ``dag``, ``lock``, ``versions`` (what a path holds now),
``plan`` (what runs and why), ``executor`` (run one command), ``outputs``,
``runcache``, ``record`` (each stage a Loom run) and ``repro`` (the scheduler).
Comparing revisions: ``revfiles`` (files at a git revision or on disk),
``declared`` (which params/metrics/plots files a loom.yaml names), ``formats``,
``compare``, ``params_diff``, ``metrics``, ``plots`` and ``plots_html``.

    >>> from loom.pipelines.spec import load          # doctest: +SKIP
    >>> load(ws.root).stages["train"].deps            # doctest: +SKIP
"""
