"""Second derivatives and vector functions: ``hessian`` and ``jacobian``, batched and parallel like ``gradient``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from . import _chunks, _objective
from . import _validation as check
from .backends import numba_cpu, numpy_ref
from .errors import ObjectiveError
from .stencils import HESSIAN_STEP, central_weights

__all__ = ["hessian", "jacobian"]


def hessian(
    f: Callable[..., float],
    x: Any,
    *,
    args: tuple = (),
    h: float | np.ndarray | None = None,
    backend: str = "numba",
    threads: int | None = None,
) -> np.ndarray:
    """The Hessian of a scalar function at one point or a batch of points.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``, as for :func:`gradjit.gradient`.
    x : array_like, shape (d,), (N, d) or (..., d)
        The point(s).
    args, backend, threads
        As in :func:`gradjit.gradient`.
    h : float, array of shape (d,), or None, optional
        Absolute step(s); ``None`` uses ``eps**(1/4) * max(1, |x_j|)``
        (:data:`gradjit.stencils.HESSIAN_STEP`), where the truncation and
        rounding errors of second differences balance at about 1e-8 relative.

    Returns
    -------
    ndarray, shape (..., d, d)
        Symmetric by construction: each entry ``(j, k)``, ``j <= k``, is computed
        once and written to both places.

    Notes
    -----
    Central second differences (:func:`gradjit.stencils.hessian_entry`): the
    diagonal from ``f(x ± h e_j)`` and ``f(x)``, each off-diagonal entry from
    four points ``x ± hj e_j ± hk e_k``; ``2 d**2 + 1`` evaluations of f per
    point, error ``O(h**2)``. The work is split over (point, entry) items, so
    one point with many variables runs in parallel too.

    Examples
    --------
    >>> import numpy as np, gradjit
    >>> def f(x):
    ...     return x[0] ** 2 * x[1] + 3.0 * x[1] ** 2
    >>> np.round(gradjit.hessian(f, [1.0, 2.0]), 6)
    array([[4., 2.],
           [2., 6.]])
    """
    check.objective(f)
    backend = check.backend(backend)
    args = check.arguments(args)
    points, batch_shape = check.points(x)
    d = points.shape[1]
    steps, scaled = check.steps(h, d, 2, relative=HESSIAN_STEP)
    n_threads = check.threads(threads, numba.config.NUMBA_NUM_THREADS)
    out = _chunks.new_output((points.shape[0], d, d))  # d**2 per point grows fast
    if backend == "numba":
        call, args_type = _objective.compiled_call(f, args, points=points)
        numba_cpu.hessian(call, points, steps, scaled, args, args_type, out, n_threads)
    else:
        numpy_ref.hessian(f, points, steps, scaled, args, out)
    return out.reshape(*batch_shape, d, d)


def jacobian(
    F: Callable[..., np.ndarray],
    x: Any,
    *,
    args: tuple = (),
    h: float | np.ndarray | None = None,
    order: int = 2,
    backend: str = "numba",
    threads: int | None = None,
) -> np.ndarray:
    """The Jacobian of a vector function at one point or a batch of points.

    Parameters
    ----------
    F : callable
        ``F(x, *args) -> 1-D array of length m`` (the same m at every point).
        With ``backend="numba"`` it must compile in nopython mode.
    x : array_like, shape (d,), (N, d) or (..., d)
        The point(s).
    args, h, order, backend, threads
        As in :func:`gradjit.gradient`; each column is one central stencil
        applied to all m components at once.

    Returns
    -------
    ndarray, shape (..., m, d)
        ``J[..., r, j] = dF_r / dx_j``.

    Examples
    --------
    >>> import numpy as np, gradjit
    >>> def F(x):
    ...     return np.array([x[0] * x[1], x[0] + x[1] ** 2, np.sin(x[0])])
    >>> J = gradjit.jacobian(F, [1.0, 2.0], order=4)
    >>> J.shape, np.round(J[:2], 6)
    ((3, 2), array([[2., 1.],
           [1., 4.]]))
    """
    check.objective(F)
    stencil_order = check.order(order)
    backend = check.backend(backend)
    args = check.arguments(args)
    points, batch_shape = check.points(x)
    n, d = points.shape
    steps, scaled = check.steps(h, d, stencil_order)
    n_threads = check.threads(threads, numba.config.NUMBA_NUM_THREADS)
    weights = central_weights(stencil_order)
    if backend == "numba":
        call, args_type = _objective.compiled_call(F, args, returns="vector", points=points)
        m = _components(_objective.jitted(F), points, args)
    else:
        m = _components(F, points, args)
    out = _chunks.new_output((n, m, d))
    if backend == "numba":
        numba_cpu.jacobian(call, points, steps, scaled, weights, m, args, args_type, out, n_threads)
    else:
        numpy_ref.jacobian(F, points, steps, scaled, weights, args, out)
    return out.reshape(*batch_shape, m, d)


def _components(F: Callable, points: np.ndarray, args: tuple) -> int:
    """m, from F at the first point (0 points: F at zeros)."""
    probe = points[0].copy() if points.shape[0] else np.zeros(points.shape[1])
    value = np.asarray(F(probe, *args))
    if value.ndim != 1:
        raise ObjectiveError(f"F must return a 1-D array (its m components); it returned shape {value.shape}.")
    return value.shape[0]
