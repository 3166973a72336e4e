"""Checking a hand-written gradient without choosing a step: the Taylor-remainder test.

``scipy.optimize.check_grad`` compares ``grad`` with one forward difference at one
step, so its verdict depends on that step: a correct gradient of a steep function
"fails", a wrong one hidden under the difference's own error "passes".
:func:`check_gradient` asks a question whose answer does not depend on a step.
Along a direction ``v``, the remainder

    r(e) = |f(x + e v) - f(x) - e grad(x)·v|

falls like ``e**2`` when ``grad(x)·v`` is the derivative along v, and only like
``e`` when it is off by any amount ``δ``: ``r(e) ≈ e |δ| + e**2 |v·Hv| / 2``, so
below ``e ≈ 2|δ| / |v·Hv|`` the first power wins. The test halves ``e`` from
``scale / 2`` (``scale = max(1, max_j |x_j|)``) :data:`HALVINGS` times and reads
the *observed order*, ``log2 r(e) / r(e/2)``, at the smallest steps whose remainder
stands clear of rounding (:data:`ROUNDING_FLOOR`). A point is consistent when that
order is at least 1.5 along every direction, or when the remainder is rounding at
every step (f affine there along v and grad exact). Directions are random signs
over ``sqrt(d)``: every coordinate takes part with weight ``1/sqrt(d)``.

To say *which* coordinate is off, the gradient is also compared with gradjit's
Richardson gradient (:func:`gradjit.gradient` with ``method="richardson"``), whose
error estimate tells a real discrepancy from the numerical one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _validation as check
from .api import gradient, values
from .errors import ObjectiveError, ShapeError

__all__ = ["GradientCheck", "check_gradient"]

#: Halvings of the step e, from ``scale / 2``: the smallest step is ``scale * 2**-25``.
HALVINGS = 24
#: A remainder below this multiple of ``eps * (|f(x)| + |f(x + e v)| + |e grad·v|)`` is rounding.
ROUNDING_FLOOR = 1e4
#: The observed order is the median of this many slopes at the smallest clear steps.
SLOPES_READ = 3
#: A point is consistent when its observed order is at least this along every direction.
ORDER_THRESHOLD = 1.5
#: Memory bound: evaluation points made at once (points x directions x steps x d).
_CHUNK_ENTRIES = 4_000_000


@dataclass(frozen=True)
class GradientCheck:
    """The verdict of :func:`check_gradient`, per point (arrays of the batch's shape,
    or scalars for one point).

    Attributes
    ----------
    consistent : bool or ndarray of bool
        The remainder falls like ``e**2`` (order at least 1.5) along every direction.
    order : float or ndarray
        The observed order of the remainder, the smallest over the directions: near 2
        (or above) for a correct gradient, near 1 for a wrong one; ``inf`` where the
        remainder is rounding at every step.
    worst_coordinate : int or ndarray of int
        The coordinate where ``grad`` differs most from the Richardson gradient,
        relative to ``max(1, |derivative|)``.
    discrepancy : float or ndarray
        ``|grad_j - richardson_j|`` at that coordinate.
    error_estimate : float or ndarray
        Richardson's own error estimate there: a discrepancy far above it is real.
    """

    consistent: Any
    order: Any
    worst_coordinate: Any
    discrepancy: Any
    error_estimate: Any

    @property
    def all_consistent(self) -> bool:
        """Whether every point passed."""
        return bool(np.all(self.consistent))

    def summary(self, shown: int = 5) -> str:
        """A few lines: how many points passed, and the first ``shown`` that did not."""
        consistent = np.atleast_1d(self.consistent).reshape(-1)
        order, worst = np.atleast_1d(self.order).reshape(-1), np.atleast_1d(self.worst_coordinate).reshape(-1)
        discrepancy = np.atleast_1d(self.discrepancy).reshape(-1)
        estimate = np.atleast_1d(self.error_estimate).reshape(-1)
        failed = np.flatnonzero(~consistent)
        headline = (f"check_gradient: {consistent.size - failed.size} of {consistent.size} point(s) consistent "
                    f"(Taylor remainder of order >= {ORDER_THRESHOLD}).")
        lines = [headline]
        for i in failed[:shown]:
            lines.append(f"  point {i}: remainder of order {order[i]:.2f}; worst coordinate {worst[i]}, off by "
                         f"{discrepancy[i]:.3g} from the Richardson gradient (its error estimate {estimate[i]:.2g})")
        if failed.size > shown:
            lines.append(f"  ... and {failed.size - shown} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def check_gradient(f: Callable[..., float], grad: Callable[..., Any], x: Any, *, args: tuple = (), directions: int = 3,
                   seed: int | None = 0, backend: str = "numba", threads: int | None = None) -> GradientCheck:
    """Check ``grad`` against ``f`` at one point or a batch, with no step to choose.

    The Taylor-remainder test of :mod:`gradjit.gradient_check`: along random
    directions v, ``|f(x + e v) - f(x) - e grad(x)·v|`` must fall like ``e**2`` as
    ``e`` halves; a wrong gradient makes it fall like ``e``. f is evaluated by
    gradjit's compiled kernels, every point and step in parallel.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``, as for :func:`gradjit.gradient`.
    grad : callable
        ``grad(x, *args) -> array of shape (d,)``: the gradient to check, called
        once per point (in Python).
    x : array_like, shape (d,), (N, d) or (..., d)
        The point(s).
    args : tuple, optional
        Extra arguments of f and grad.
    directions : int, optional
        Random directions per point (default 3).
    seed : int or None, optional
        Seed of the directions (default 0: the same verdict every run).
    backend, threads
        As in :func:`gradjit.gradient`.

    Returns
    -------
    GradientCheck
        Per point: ``consistent``, the observed ``order``, and the
        ``worst_coordinate`` with its ``discrepancy`` from the Richardson
        gradient and that gradient's ``error_estimate``; ``print`` it for a summary.

    Examples
    --------
    >>> import numpy as np, gradjit
    >>> def f(x):
    ...     return x[0] ** 2 * x[1] + np.sin(x[1])
    >>> def grad(x):
    ...     return np.array([2 * x[0] * x[1], x[0] ** 2 + np.cos(x[1])])
    >>> def wrong(x):
    ...     return grad(x) * [1.0, 1.01]
    >>> X = np.random.default_rng(0).uniform(-2, 2, (100, 2))
    >>> gradjit.check_gradient(f, grad, X).all_consistent
    True
    >>> result = gradjit.check_gradient(f, wrong, X)
    >>> int(np.sum(~result.consistent)), int(np.bincount(result.worst_coordinate).argmax())
    (100, 1)
    """
    check.objective(f)
    if not callable(grad):
        raise ObjectiveError(f"grad must be a callable grad(x, *args) -> array of shape (d,); got {type(grad).__name__}.")
    if isinstance(directions, bool) or not isinstance(directions, (int, np.integer)) or directions < 1:
        raise ShapeError(f"directions must be a positive integer; got {directions!r}.")
    points, batch_shape = check.points(x)
    n, d = points.shape
    given = _gradients(grad, points, args)
    rng = np.random.default_rng(seed)
    order = np.full(n, np.inf)
    per_chunk = max(1, _CHUNK_ENTRIES // (directions * HALVINGS * max(d, 1)))
    for start in range(0, n, per_chunk):
        stop = min(n, start + per_chunk)
        signs = rng.choice((-1.0, 1.0), size=(stop - start, directions, d)) / math.sqrt(max(d, 1))
        order[start:stop] = _observed_orders(f, points[start:stop], given[start:stop], signs, args, backend, threads)
    richardson, estimate = gradient(f, points, args=args, method="richardson", full_output=True, backend=backend,
                                    threads=threads)
    relative = np.abs(given - richardson) / np.maximum(1.0, np.abs(richardson))
    worst = np.argmax(relative, axis=1) if d else np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    discrepancy = np.abs(given - richardson)[rows, worst] if d else np.zeros(n)
    return GradientCheck(*(_shaped(a, batch_shape) for a in (order >= ORDER_THRESHOLD, order, worst, discrepancy,
                                                              estimate[rows, worst] if d else np.zeros(n))))


def _gradients(grad: Callable, points: np.ndarray, args: tuple) -> np.ndarray:
    n, d = points.shape
    given = np.empty((n, d))
    for i in range(n):
        value = np.asarray(grad(points[i].copy(), *args))
        if value.shape != (d,) or value.dtype.kind not in "biuf":
            raise ShapeError(f"grad must return a real array of shape ({d},) at a point of {d} coordinate(s); "
                             f"it returned {value.dtype} of shape {value.shape}.")
        given[i] = value
    return given


def _observed_orders(f, points, given, signs, args, backend, threads) -> np.ndarray:
    """The observed order, the median over the directions, per point."""
    n, m, d = signs.shape
    scale = np.maximum(1.0, np.max(np.abs(points), axis=1)) if d else np.ones(n)
    steps = scale[:, None] * 0.5 ** np.arange(1, HALVINGS + 2)  # (n, K + 1)
    moved = points[:, None, None, :] + steps[:, None, :, None] * signs[:, :, None, :]  # (n, m, K + 1, d)
    with np.errstate(all="ignore"):  # the largest steps may leave f's domain: NaN there is expected
        at_moved = values(f, moved.reshape(-1, d), args=args, backend=backend, threads=threads).reshape(n, m, -1)
        at_x = values(f, points, args=args, backend=backend, threads=threads)[:, None, None]
    linear = steps[:, None, :] * np.einsum("nmd,nd->nm", signs, given)[:, :, None]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        remainder = np.abs(at_moved - at_x - linear)
        floor = ROUNDING_FLOOR * np.finfo(float).eps * (np.abs(at_x) + np.abs(at_moved) + np.abs(linear))
        clear = remainder > floor
        pair_clear = clear[..., :-1] & clear[..., 1:]
        slopes = np.log2(remainder[..., :-1] / remainder[..., 1:])
    # The last SLOPES_READ clear pairs (the smallest steps), their median per direction.
    from_the_end = np.cumsum(pair_clear[..., ::-1], axis=-1)[..., ::-1]
    read = np.where(pair_clear & (from_the_end <= SLOPES_READ), slopes, np.nan)
    orders = np.full((n, m), np.inf)  # no clear pair: the remainder is rounding at every step
    some = pair_clear.any(axis=-1)
    orders[some] = np.nanmedian(read[some], axis=-1)
    orders[~np.isfinite(at_moved).all(axis=2) & np.isinf(orders)] = np.nan  # f undefined along the path
    return np.median(orders, axis=1) if m else np.full(n, np.inf)


def _shaped(values_: np.ndarray, batch_shape: tuple) -> Any:
    shaped = values_.reshape(batch_shape)
    return shaped[()] if shaped.ndim == 0 else shaped
