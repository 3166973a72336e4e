"""JAX as a competitor, in float64, when it is installed (``pip install "gradjit[bench]"``).

Two ways a JAX user would compute the same gradients:

* ``jit(vmap(grad(f)))``: exact reverse-mode gradients of a traceable ``f``;
* the same central differences as gradjit (same step rule, order 2), written
  with ``jax.numpy``, vmapped over points and over coordinates.

JAX traces Python functions, so each workload gets a ``jax.numpy`` twin of its
objective here (gradjit's objectives use ``math.sin`` and loops that JAX
cannot trace or would unroll).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..stencils import central_weights, default_step
from .workloads import Case


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _objective(case: Case) -> Callable:
    import jax.numpy as jnp

    twins = {
        "sphere-grid": lambda x: x[0] * x[0] + x[1] * x[1],
        "rosenbrock": lambda x: jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2),
        "rosenbrock-terms": lambda x: jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2),
        "one-point-large-d": lambda x: jnp.sum(x * x + jnp.sin(x)),
        "saddle-3d": lambda x: x[0] * x[0] - x[1] * x[1] + 0.5 * x[2] * x[2],
        "many-starts": lambda x: (x[0] * x[0] + x[1] - 11.0) ** 2 + (x[0] + x[1] * x[1] - 7.0) ** 2,
    }
    if case.workload not in twins:
        raise KeyError(f"no JAX twin for workload {case.workload!r}")
    return twins[case.workload]


def _ready(run: Callable, points: np.ndarray) -> Callable[[], object]:
    jax = _jax()
    device_points = jax.device_put(np.asarray(points, dtype=np.float64))
    return lambda: run(device_points).block_until_ready()


def autodiff(case: Case, points: np.ndarray) -> Callable[[], object]:
    """``jit(vmap(grad(f)))`` over the points."""
    jax = _jax()
    return _ready(jax.jit(jax.vmap(jax.grad(_objective(case)))), points)


def central_differences(case: Case, points: np.ndarray) -> Callable[[], object]:
    """gradjit's order-``case.order`` central differences, written as a JAX user would.

    Two forms, both ``vmap``-ed over the points, with gradjit's step rule per
    point and coordinate; the faster on this case is used (timed after
    compiling), as a user would pick:

    * dense: all of a point's perturbed copies at once, ``x + k * diag(h)``
      (row j moves coordinate j by ``k h_j``, exactly as gradjit's kernels
      move it), f ``vmap``-ed over the rows. It wins for a few variables
      (10x the form below on the 10^6-point sphere grid).
    * mapped: ``lax.map`` over the coordinates, each a ``x.at[j].add`` copy;
      it wins for many variables, where the dense form moves d x d values per
      point (12x at d = 100).
    """
    jax = _jax()
    import jax.numpy as jnp

    f = _objective(case)
    weights = central_weights(case.order)
    relative = default_step(case.order)
    on_rows = jax.vmap(f)

    def steps_of(x):
        return (x + relative * jnp.maximum(1.0, jnp.abs(x))) - x  # the step actually taken, per coordinate

    def dense(x):
        h = steps_of(x)
        rows = jnp.diag(h)
        total = 0.0
        for k, w in enumerate(weights, start=1):
            total += w * (on_rows(x + k * rows) - on_rows(x - k * rows))
        return total / h

    def mapped(x):
        h = steps_of(x)

        def coordinate(j):
            total = 0.0
            for k, w in enumerate(weights, start=1):
                total += w * (f(x.at[j].add(k * h[j])) - f(x.at[j].add(-k * h[j])))
            return total / h[j]

        return jax.lax.map(coordinate, jnp.arange(x.shape[0]))

    forms = [_ready(jax.jit(jax.vmap(form)), points) for form in ((dense, mapped) if case.d <= 1024 else (mapped,))]
    return min(forms, key=_best_of_three)  # one point with d = 10,000: the dense form would take 800 MB


def _best_of_three(run: Callable[[], object]) -> float:
    import time

    run()  # compile
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)
