"""Telling minima from maxima and saddles, and finding every critical point in a box.

:func:`classify` reads the signs of the Hessian's eigenvalues at given points;
:func:`find` runs batched Newton iterations on the gradient from a grid of
starts, keeps the points where the gradient vanishes, merges duplicates and
classifies them.

Examples
--------
>>> import gradjit.critical_points as cp
>>> def saddle(x):
...     return x[0] ** 2 - x[1] ** 2
>>> cp.classify(saddle, [0.0, 0.0]).kind
'saddle'
>>> found = cp.find(saddle, [(-1, 1), (-1, 1)], n=5)
>>> found.kind.tolist(), (found.points.round(6) + 0.0).tolist()
(['saddle'], [[0.0, 0.0]])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _run
from . import _validation as check
from ._spec import resolve
from .errors import OptionError, ShapeError
from .matrices import hessian

__all__ = ["Classification", "CriticalPoints", "classify", "find", "group"]

#: Eigenvalues within this fraction of the largest |eigenvalue| (or of 1) count
#: as zero: the Hessian's second differences are accurate to about 1e-6.
EIGENVALUE_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Classification:
    """What :func:`classify` returns.

    Attributes
    ----------
    kind : str or ndarray of str
        ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"`` (some
        eigenvalue is zero within the tolerance and the others do not decide).
    eigenvalues : ndarray, shape (..., d)
        The Hessian's eigenvalues, ascending.
    hessian : ndarray, shape (..., d, d)
    """

    kind: Any
    eigenvalues: np.ndarray
    hessian: np.ndarray


def _kinds(eigenvalues: np.ndarray, tolerance: float) -> np.ndarray:
    zero = tolerance * np.maximum(1.0, np.abs(eigenvalues).max(axis=-1, keepdims=True))
    positive, negative = eigenvalues > zero, eigenvalues < -zero
    kind = np.full(eigenvalues.shape[:-1], "degenerate", dtype="<U10")
    kind[positive.all(axis=-1)] = "minimum"
    kind[negative.all(axis=-1)] = "maximum"
    kind[positive.any(axis=-1) & negative.any(axis=-1)] = "saddle"
    return kind


def classify(
    f: Callable[..., float],
    x: Any,
    *,
    args: tuple = (),
    h: float | np.ndarray | None = None,
    tolerance: float = EIGENVALUE_TOLERANCE,
    backend: str = "numba",
) -> Classification:
    """Classify the point(s) ``x`` by the eigenvalues of the Hessian of ``f`` there.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``.
    x : array_like, shape (d,) or (..., d)
        Critical points (where the gradient vanishes; elsewhere the answer
        describes the curvature only).
    args, h, backend
        As in :func:`gradjit.hessian`.
    tolerance : float, optional
        Eigenvalues within ``tolerance * max(1, max |eigenvalue|)`` of zero count as zero.

    Returns
    -------
    Classification
        ``kind`` is a str for one point, else an array of str.
    """
    if not (check._real(tolerance) and 0 <= tolerance < 1):
        raise OptionError(f"tolerance must be a number in [0, 1); got {tolerance!r}.")
    if np.shape(x)[-1:] in ((), (0,)):
        raise ShapeError(f"x must be a point of shape (d,) or points of shape (..., d) with d >= 1; got shape {np.shape(x)}.")
    H = hessian(f, x, args=args, h=h, backend=backend)
    eigenvalues = np.linalg.eigvalsh(H)
    kind = _kinds(eigenvalues, tolerance)
    return Classification(str(kind) if kind.ndim == 0 else kind, eigenvalues, H)


def group(points: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge points closer than ``tolerance`` (max-norm) to a group's first point.

    A point near the first points of two groups joins the earlier group. One
    vectorised pass over the points per group.

    Parameters
    ----------
    points : ndarray, shape (N, d)
    tolerance : float
        The max-norm distance within which a point joins a group.

    Returns
    -------
    labels : ndarray of int, shape (N,)
        The group of each point.
    firsts : ndarray, shape (G, d)
        The first point of each group, in order of first appearance.
    """
    points = np.asarray(points, dtype=np.float64)
    labels = np.full(points.shape[0], -1, dtype=np.int64)
    firsts: list[np.ndarray] = []
    unassigned = np.arange(points.shape[0])
    while unassigned.size:
        first = points[unassigned[0]]
        near = np.max(np.abs(points[unassigned] - first), axis=1) <= tolerance
        near[0] = True  # the first point belongs to its own group, even with a NaN
        labels[unassigned[near]] = len(firsts)
        firsts.append(first)
        unassigned = unassigned[~near]
    return labels, np.array(firsts).reshape(-1, points.shape[1])


@dataclass(frozen=True)
class CriticalPoints:
    """What :func:`find` returns, one row per distinct critical point (minima first, then saddles, maxima, degenerate; by value).

    Attributes
    ----------
    points : ndarray, shape (k, d)
    kind : ndarray of str, shape (k,)
    eigenvalues : ndarray, shape (k, d)
    value : ndarray, shape (k,)
        f at each point.
    starts : ndarray of int, shape (k,)
        How many starts converged to each point.
    """

    points: np.ndarray
    kind: np.ndarray
    eigenvalues: np.ndarray
    value: np.ndarray
    starts: np.ndarray

    def __len__(self) -> int:
        return self.points.shape[0]

    def __repr__(self) -> str:
        rows = [f"{len(self)} critical points:"]
        for point, kind, value, starts in zip(self.points, self.kind, self.value, self.starts):
            rows.append(f"  {kind:10s} at {np.array2string(point, precision=6)}  f = {value:.6g}  ({starts} starts)")
        return "\n".join(rows)


#: The most starts :func:`find` makes (each holds a d x d Hessian per step).
MAX_STARTS = 1_000_000

_ORDER = {"minimum": 0, "saddle": 1, "maximum": 2, "degenerate": 3}


def find(
    f: Callable[..., float],
    bounds: Sequence[tuple[float, float]],
    *,
    n: int = 20,
    args: tuple = (),
    gtol: float = 1e-7,
    max_iter: int = 50,
    tolerance: float = 1e-5,
    backend: str = "numba",
) -> CriticalPoints:
    """Every critical point of ``f`` in a box that Newton's method reaches from a grid of starts.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``, smooth in the box.
    bounds : sequence of (low, high)
        The box, one pair per variable (d = ``len(bounds)``).
    n : int, optional
        Starts per axis: ``n**d`` starts on a regular grid.
    args, backend
        As in :func:`gradjit.gradient`.
    gtol : float, optional
        A start has converged when the largest entry of its gradient is at most ``gtol``.
    max_iter : int, optional
        Newton steps per start.
    tolerance : float, optional
        Points closer than this (max-norm, relative to the box's size) are one.

    Returns
    -------
    CriticalPoints

    Notes
    -----
    Every start takes Newton steps ``x <- x - H(x)^+ g(x)`` on the gradient
    (order 4) with the numerical Hessian, all starts in one batched call per
    step; the pseudo-inverse keeps singular Hessians finite. Newton's method
    converges to the nearest critical point whatever its kind, which is what
    makes saddles and maxima findable (descent finds only minima). Starts that
    leave the box are dropped. Each distinct point is classified by
    :func:`classify`.
    """
    box = check.box(bounds)
    n = check.count("n", n)
    max_iter = check.count("max_iter", max_iter)
    gtol = check.positive("gtol", gtol)
    if not (check.positive("tolerance", tolerance) < 1):
        raise OptionError(f"tolerance must be a number in (0, 1) (relative to the box's size); got {tolerance!r}.")
    check.objective(f)
    d = box.shape[0]
    # One spec each for the gradients (order 4), the Hessians and the values, reused at every step.
    gradient_spec = resolve(d, order=4, backend=backend, args=args)
    hessian_spec = resolve(d, kind="hessian", backend=backend, args=args)
    if n**d > MAX_STARTS:
        raise OptionError(f"n**d = {n}**{d} starts is more than {MAX_STARTS:,}; choose a smaller n (or a smaller box and several calls).")
    axes = [np.linspace(low, high, n) for low, high in box]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    converged = np.zeros(X.shape[0], dtype=bool)
    alive = np.ones(X.shape[0], dtype=bool)
    for _ in range(max_iter):
        active = np.flatnonzero(alive & ~converged)
        if active.size == 0:
            break
        g = _run.differentiate(f, np.ascontiguousarray(X[active]), gradient_spec, (active.size, d))
        done = np.abs(g).max(axis=1) <= gtol
        converged[active[done]] = True
        moving = active[~done]
        if moving.size == 0:
            break
        H = np.empty((moving.size, d, d))
        hessian_spec.backend.hessian(f, np.ascontiguousarray(X[moving]), hessian_spec, H)
        X[moving] = X[moving] - np.einsum("nij,nj->ni", np.linalg.pinv(H), g[~done])
        outside = ~np.isfinite(X[moving]).all(axis=1) | (X[moving] < box[:, 0]).any(axis=1) | (X[moving] > box[:, 1]).any(axis=1)
        alive[moving[outside]] = False
    found = X[converged]
    if found.shape[0] == 0:
        empty = np.zeros((0, d))
        return CriticalPoints(empty, np.array([], dtype="<U10"), empty, np.zeros(0), np.zeros(0, dtype=np.int64))
    labels, points = group(found, tolerance * float(np.max(box[:, 1] - box[:, 0])))
    kinds = classify(f, points, args=args, backend=backend)
    value = _run.evaluate(f, np.ascontiguousarray(points), gradient_spec)
    starts = np.bincount(labels, minlength=points.shape[0])
    order = sorted(range(points.shape[0]), key=lambda k: (_ORDER[str(kinds.kind[k])], value[k]))
    return CriticalPoints(points[order], np.asarray(kinds.kind)[order], kinds.eigenvalues[order], value[order], starts[order])
