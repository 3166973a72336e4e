"""The benchmark workloads, defined once for ``gradjit bench`` and ``benchmarks/``.

Each workload has sizes per tier (``smoke``: tiny, for CI; ``quick``: the
default, under a minute on 2 cores; ``full``: every size) and builds a
:class:`Case` per size: the objective, its batched NumPy twin (for the
vectorised reference), and the points or the grid axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .. import problems

TIERS = ("smoke", "quick", "full")


@dataclass(frozen=True)
class Case:
    """One workload at one size."""

    workload: str
    label: str
    f: Callable
    batched: Callable
    d: int
    n_points: int
    points: Callable[[], np.ndarray]
    axes: tuple[np.ndarray, ...] | None = None
    order: int = 2
    #: f given as its terms (``gradient(terms, x, terms=True, sparsity=pattern)``), for structured workloads.
    terms: Callable | None = None
    pattern: object = None

    @property
    def output_shape(self) -> tuple[int, ...]:
        if self.axes is not None:
            return (self.d, *(a.size for a in self.axes))
        return (self.n_points, self.d)

    @property
    def evaluations(self) -> int:
        """Evaluations of f one gradient takes: ``order * d * N`` (of the terms with ``terms``:
        ``order * n_groups * N``)."""
        if self.terms is not None:
            return self.order * self.pattern.n_groups * self.n_points
        return self.order * self.d * self.n_points


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    sizes: dict[str, list]
    build: Callable[[object], Case]
    requires: Callable[[], str | None] = field(default=lambda: None)  # why it cannot run here, if it cannot

    def cases(self, tier: str) -> Iterator[Case]:
        for size in self.sizes[tier]:
            yield self.build(size)

    def unavailable(self) -> str | None:
        """Why this workload cannot run here, or None."""
        return self.requires()


# ---------------------------------------------------------------- objectives


def sphere_2d(x):
    return x[0] * x[0] + x[1] * x[1]


def sphere_2d_batched(X):
    return X[:, 0] * X[:, 0] + X[:, 1] * X[:, 1]


def squares_and_sines(x):
    total = 0.0
    for i in range(x.size):
        total += x[i] * x[i] + math.sin(x[i])
    return total


def squares_and_sines_batched(X):
    return np.sum(X * X + np.sin(X), axis=1)


def saddle_3d(x):
    return x[0] * x[0] - x[1] * x[1] + 0.5 * x[2] * x[2]


def saddle_3d_batched(X):
    return X[:, 0] * X[:, 0] - X[:, 1] * X[:, 1] + 0.5 * X[:, 2] * X[:, 2]


# ---------------------------------------------------------------- builders


def _grid_points(axes: tuple[np.ndarray, ...]) -> Callable[[], np.ndarray]:
    return lambda: np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))


def _sphere_grid(side: int) -> Case:
    axis = np.linspace(-2.0, 2.0, side)
    axes = (axis, axis.copy())
    return Case("sphere-grid", f"{side}x{side}", sphere_2d, sphere_2d_batched, 2, side * side, _grid_points(axes), axes)


def _rosenbrock(size: tuple[int, int]) -> Case:
    d, n = size
    rosen = problems.get("rosenbrock")
    return Case("rosenbrock", f"d={d}, N={n}", rosen.f, rosen.batched, d, n,
                lambda: np.random.default_rng(0).uniform(-2.0, 2.0, (n, d)))


def _rosenbrock_terms(size: tuple[int, int]) -> Case:
    d, n = size
    rosen = problems.get("rosenbrock")
    return Case("rosenbrock-terms", f"d={d}, N={n}", rosen.f, rosen.batched, d, n,
                lambda: np.random.default_rng(0).uniform(-2.0, 2.0, (n, d)), terms=problems.rosenbrock_terms,
                pattern=problems.band_pattern(d - 1, d, (0, 1)))


def _one_point(d: int) -> Case:
    return Case("one-point-large-d", f"d={d}", squares_and_sines, squares_and_sines_batched, d, 1,
                lambda: np.random.default_rng(0).uniform(-2.0, 2.0, (1, d)))


def _saddle_3d(side: int) -> Case:
    axis = np.linspace(-1.0, 1.0, side)
    axes = (axis, axis.copy(), axis.copy())
    return Case("saddle-3d", f"{side}^3", saddle_3d, saddle_3d_batched, 3, side**3, _grid_points(axes), axes)


def _many_starts(n: int) -> Case:
    himmelblau = problems.get("himmelblau")
    return Case("many-starts", f"N={n}", himmelblau.f, himmelblau.batched, 2, n,
                lambda: np.random.default_rng(0).uniform(-5.0, 5.0, (n, 2)))


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload("sphere-grid", "x0² + x1² on a square 2-D grid, by grid_gradient and on the materialised batch",
                 {"smoke": [10], "quick": [100, 1000], "full": [100, 1000, 2000]}, _sphere_grid),
        Workload("rosenbrock", "Rosenbrock at random points in [-2, 2]^d",
                 {"smoke": [(10, 20)], "quick": [(10, 10_000)], "full": [(10, 10_000), (100, 1_000)]}, _rosenbrock),
        Workload("rosenbrock-terms", "Rosenbrock given as its d - 1 terms: 2 column groups, 4 evaluations of the "
                 "terms per gradient whatever d (NumPy and the floors: the same f, dense)",
                 {"smoke": [(20, 3)], "quick": [(2_000, 1), (100, 1_000)], "full": [(10_000, 1), (100, 1_000)]},
                 _rosenbrock_terms),
        Workload("one-point-large-d", "Σ x_i² + Σ sin x_i at one point: coordinates in parallel",
                 {"smoke": [50], "quick": [2_000], "full": [10_000]}, _one_point),
        Workload("saddle-3d", "x0² − x1² + 0.5·x2² on a cubic 3-D grid",
                 {"smoke": [5], "quick": [60], "full": [200]}, _saddle_3d),
        Workload("many-starts", "Himmelblau from many starts in 2-D: the gradient, and one step of minimize",
                 {"smoke": [100], "quick": [100_000], "full": [100_000]}, _many_starts),
    ]
}
