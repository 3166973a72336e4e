"""Every way of computing a workload's gradient that the benchmark compares.

A competitor turns a :class:`~gradjit.bench.workloads.Case` into a zero-argument
callable that computes the gradient once (inputs are built before timing).
gradjit's steady state is measured on its inlined tier (``jit="inline"``, what
``jit="auto"`` switches to once the work repays the compilation); the first
call on a new function is measured apart (:mod:`gradjit.bench.first_call`).
For a workload given as terms (``Case.terms``), "gradjit" differentiates the
terms by column groups and "gradjit dense f" the same f the usual way.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import api
from .floors import bandwidth_floor, compute_floor, terms_floor
from .workloads import Case

#: The competitor every speed-up is measured against.
REFERENCE = "numpy vectorized"
GRADJIT = "gradjit"
ONE_THREAD = "gradjit 1 thread"
COMPUTE_FLOOR = "compute floor"
WRITE_FLOOR = "write floor"


@dataclass(frozen=True)
class Competitor:
    name: str
    kind: str  # "gradjit", "reference", "floor" or "jax"
    prepare: Callable[[Case, np.ndarray | None, int], Callable[[], object]]
    applies: Callable[[Case], bool] = lambda case: True
    #: How many units of work one call does (times are reported per unit).
    per_call: int = 1


#: Steps of ``minimize`` per timed call of the "minimize, per step" competitor.
LOOP_STEPS = 50


def _gradjit(case: Case, points, threads: int, *, out: bool = False, batch: bool = False):
    target = np.empty(case.output_shape if case.axes is not None and not batch else (case.n_points, case.d)) if out else None
    if case.terms is not None:
        return lambda: api.gradient(case.terms, points, order=case.order, threads=threads, out=target, terms=True,
                                    sparsity=case.pattern, jit="inline")
    if case.axes is not None and not batch:
        return lambda: api.grid_gradient(case.f, case.axes, indexing="ij", order=case.order, threads=threads, out=target,
                                         jit="inline")
    return lambda: api.gradient(case.f, points, order=case.order, threads=threads, out=target, jit="inline")


def _gradjit_dense(case: Case, points, threads: int):
    """gradjit's dense gradient of the same f (2 d evaluations of f per point), beside its terms."""
    return lambda: api.gradient(case.f, points, order=case.order, threads=threads, jit="inline")


def _compute_floor(case: Case, points, threads: int):
    if case.terms is not None:
        return terms_floor(case.terms, case.pattern, case.order, threads, points)
    return compute_floor(case.f, case.order, threads, points=None if case.axes is not None else points, axes=case.axes)


def _numpy_vectorized(case: Case, points, threads: int):
    return lambda: api.gradient(case.batched, points, order=case.order, backend="numpy", vectorized=True)


def classic_loop(case: Case, points, threads: int):
    """The seeds' per-point, per-coordinate Python loop (gradjit's reference backend)."""
    return lambda: api.gradient(case.f, points, order=case.order, backend="numpy")


def _minimize_steps(case: Case, points, threads: int):
    # LOOP_STEPS steps of plain descent for every start: LOOP_STEPS + 1 gradients
    # and values, LOOP_STEPS updates; never stopping early (gtol=0, no record).
    from ..optim import minimize

    return lambda: minimize(case.f, points, method="gd", lr=1e-3, max_iter=LOOP_STEPS, gtol=0.0, record=False, jit="inline")


def _jax_available() -> bool:
    return importlib.util.find_spec("jax") is not None


def _jax_autodiff(case: Case, points, threads: int):
    from . import jax_competitors

    return jax_competitors.autodiff(case, points)


def _jax_central(case: Case, points, threads: int):
    from . import jax_competitors

    return jax_competitors.central_differences(case, points)


def competitors(threads: int) -> list[Competitor]:
    """The competitors, in table order."""
    found = [
        Competitor(GRADJIT, "gradjit", lambda c, p, t: _gradjit(c, p, t)),
        Competitor("gradjit out=", "gradjit", lambda c, p, t: _gradjit(c, p, t, out=True)),
        Competitor("gradjit batch", "gradjit", lambda c, p, t: _gradjit(c, p, t, batch=True), lambda c: c.axes is not None),
        Competitor(ONE_THREAD, "gradjit", lambda c, p, t: _gradjit(c, p, 1)),
        Competitor("minimize, per step", "gradjit", _minimize_steps, lambda c: c.workload == "many-starts", LOOP_STEPS),
        Competitor(REFERENCE, "reference", _numpy_vectorized),
        # The seeds' loop on one point of a sum of 10^4 terms would take minutes (2 d calls of f in Python).
        Competitor("classic loop", "reference", classic_loop, lambda c: c.terms is None or c.d <= 2000),
        Competitor("gradjit dense f", "gradjit", _gradjit_dense, lambda c: c.terms is not None),
        Competitor(COMPUTE_FLOOR, "floor", _compute_floor),
        Competitor(WRITE_FLOOR, "floor", lambda c, p, t: bandwidth_floor(c.output_shape, t, fresh=True)),
        Competitor("write floor reused", "floor", lambda c, p, t: bandwidth_floor(c.output_shape, t, fresh=False)),
    ]
    if _jax_available():
        found += [
            Competitor("jax jit(vmap(grad))", "jax", _jax_autodiff),
            Competitor("jax central differences", "jax", _jax_central, lambda c: c.terms is None),
        ]
    return found
