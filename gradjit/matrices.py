"""Second derivatives and vector functions: ``hessian`` and ``jacobian``, batched and parallel like ``gradient``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _chunks
from . import _validation as check
from ._spec import resolve

__all__ = ["hessian", "jacobian"]


def hessian(
    f: Callable[..., float],
    x: Any,
    *,
    args: tuple = (),
    h: float | np.ndarray | None = None,
    backend: str = "numba",
    threads: int | None = None,
    method: str = "central",
    jit: str | None = None,
) -> np.ndarray:
    """The Hessian of a scalar function at one point or a batch of points.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``, as for :func:`gradjit.gradient`.
    x : array_like, shape (d,), (N, d) or (..., d)
        The point(s).
    args, backend, threads, jit
        As in :func:`gradjit.gradient`.
    h : float, array of shape (d,), or None, optional
        Absolute step(s); ``None`` uses ``eps**(1/4) * max(1, |x_j|)``
        (:data:`gradjit.stencils.HESSIAN_STEP`), where the truncation and
        rounding errors of second differences balance at about 1e-8 relative.
    method : {"central"}, optional
        Central second differences, the only method for Hessians (the option
        is there so that every entry point takes the same options; bounds are
        not supported: every evaluation is within ``2 h`` of ``x``).

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
    points, batch_shape = check.points(x)
    d = points.shape[1]
    spec = resolve(d, kind="hessian", method=method, h=h, backend=backend, threads=threads, args=args, jit=jit)
    out = _chunks.new_output((points.shape[0], d, d))  # d**2 per point grows fast
    spec.backend.hessian(f, points, spec, out)
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
    method: str = "central",
    bounds: Any = None,
    jit: str | None = None,
    dtype: Any = None,
) -> np.ndarray:
    """The Jacobian of a vector function at one point or a batch of points.

    Parameters
    ----------
    F : callable
        ``F(x, *args) -> 1-D array of length m`` (the same m at every point).
        With ``backend="numba"`` it must compile in nopython mode.
    x : array_like, shape (d,), (N, d) or (..., d)
        The point(s).
    args, h, order, backend, threads, bounds, jit
        As in :func:`gradjit.gradient`; each column is one stencil applied to
        all m components at once.
    method : {"central", "forward", "backward", "complex"}, optional
        As in :func:`gradjit.gradient` (the methods with
        ``vector=True`` in :data:`gradjit.stencils.METHODS`; Richardson's
        choice among candidates is per entry, not per column). With
        ``"complex"``, F is called with a complex128 array and returns a 1-D
        complex array.
    dtype : {None, np.float64, np.float32}, optional
        Storage of the result, float64 by default; the arithmetic is float64
        (float32 rounds the finished Jacobian).

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
    points, batch_shape = check.points(x)
    storage = np.dtype(np.float64) if dtype is None else check.result_dtype(dtype)
    n, d = points.shape
    spec = resolve(d, kind="jacobian", method=method, order=order, h=h, bounds=bounds, points=points, backend=backend,
                   threads=threads, args=args, jit=jit)
    m = spec.backend.jacobian_length(F, points, spec)
    out = _chunks.new_output((n, m, d))
    spec.backend.jacobian(F, points, spec, out)
    return out.reshape(*batch_shape, m, d).astype(storage, copy=False)
