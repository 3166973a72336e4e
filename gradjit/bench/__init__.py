"""The benchmark harness behind ``gradjit bench`` and the pytest-benchmark suite.

* :mod:`~gradjit.bench.workloads` — the workloads and their sizes, defined once.
* :mod:`~gradjit.bench.floors` — the machine's limits: compute and bandwidth floors.
* :mod:`~gradjit.bench.competitors` — every way of computing a workload's gradient.
* :mod:`~gradjit.bench.runner` — times the matrix in one run.
* :mod:`~gradjit.bench.report` — the table, ``results.json``, ``results.md`` and the chart.
"""
