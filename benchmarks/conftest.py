"""The pytest-benchmark suite's switches.

``pytest benchmarks --benchmark-only`` times the ``quick`` sizes (``--tier full``
for every size); ``--benchmark-compare`` compares with a saved run. In a plain
``pytest`` run (the test suite, CI) timing is disabled and the ``smoke`` sizes
run once each, so the suite never rots.
"""

from gradjit.bench.workloads import TIERS


def pytest_addoption(parser):
    parser.addoption("--tier", choices=TIERS, default=None, help="gradjit benchmark sizes (default: quick when timing, else smoke)")


def pytest_configure(config):
    timing = config.getoption("benchmark_only", False) or config.getoption("benchmark_enable", False)
    if not timing:
        config.option.benchmark_disable = True
    config.gradjit_tier = config.getoption("--tier") or ("quick" if timing else "smoke")

