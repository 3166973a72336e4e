"""Every competitor of every workload, one pytest-benchmark group per (workload, size).

The workloads and competitors are the ones ``gradjit bench`` runs
(gradjit.bench.workloads and gradjit.bench.competitors); pytest-benchmark adds
its statistics, ``--benchmark-compare`` and ``--benchmark-histogram``.
"""

import numba
import pytest

from gradjit.bench.competitors import competitors
from gradjit.bench.workloads import WORKLOADS

THREADS = numba.config.NUMBA_NUM_THREADS
#: The classic per-point loop runs here only up to this many evaluations of f
#: (``gradjit bench`` extrapolates it for larger sizes).
CLASSIC_MAX_EVALUATIONS = 200_000


def pytest_generate_tests(metafunc):
    # Only the sizes of the selected tier (conftest.py: smoke unless timing).
    tier = metafunc.config.gradjit_tier
    params = [
        pytest.param(name, size, competitor, id=f"{name}-{size}-{competitor.name}".replace(" ", "_"))
        for name, workload in WORKLOADS.items()
        for size in workload.sizes[tier]
        for competitor in competitors(THREADS)
        if workload.unavailable() or competitor.applies(workload.build(size))
    ]
    metafunc.parametrize("name, size, competitor", params)


_built = {}


def _case_and_points(name, size):
    key = (name, size)
    if key not in _built:
        _built.clear()  # keep one case's points in memory at a time
        case = WORKLOADS[name].build(size)
        _built[key] = (case, case.points())
    return _built[key]


def test_gradient_speed(benchmark, name, size, competitor):
    reason = WORKLOADS[name].unavailable()
    if reason:
        pytest.skip(reason)
    case, points = _case_and_points(name, size)
    if competitor.name == "classic loop" and case.evaluations > CLASSIC_MAX_EVALUATIONS:
        pytest.skip("the classic loop would take too long here; gradjit bench extrapolates it")
    run_once = competitor.prepare(case, points, THREADS)
    run_once()  # compile outside the timing
    benchmark.group = f"{name} {case.label}"
    benchmark.extra_info.update(workload=name, size=case.label, evaluations=case.evaluations, kind=competitor.kind)
    benchmark(run_once)
