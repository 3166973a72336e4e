"""Second derivatives and vector functions: ``hessian`` and ``jacobian``, batched and parallel like ``gradient``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _chunks, _device_api, _validation, structured
from ._spec import resolve
from .errors import OptionError, PatternError
from .sparsity import Sparsity

__all__ = ["hessian", "jacobian"]


def hessian(
    f: Callable[..., float],
    x: Any,
    *,
    args: tuple = (),
    h: float | np.ndarray | None = None,
    order: int = 2,
    backend: str = "numba",
    threads: int | None = None,
    method: str = "central",
    full_output: bool = False,
    bounds: Any = None,
    jit: str | None = None,
    x_scale: Any = None,
    terms: bool = False,
    sparsity: Any = None,
    sparse: bool = False,
    check: bool = False,
    workers: Any = None,
) -> Any:
    """The Hessian of a scalar function at one point or a batch of points.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``, as for :func:`gradjit.gradient`.
    x : array_like, shape (d,), (N, d) or (..., d)
        The point(s).
    args, backend, threads, jit, x_scale
        As in :func:`gradjit.gradient`.
    h : float, array of shape (d,), or None, optional
        Absolute step(s); ``None`` uses the automatic step times
        ``max(1, |x_j|)`` (``max(x_scale_j, |x_j|)`` with ``x_scale``): ``c_p * eps**(1/(p+2))`` for the central stencils
        (:func:`gradjit.stencils.hessian_step`: 1.2e-4 at order 2, 6.8e-3 at
        order 8), where truncation and rounding balance; Richardson's largest
        step is ``max(1, |x_j|)`` (``h`` times that when given).
    order : int, optional
        Order of the stencils: 2, 4, 6 or 8 (central), 1 to 6 (forward,
        backward); the truncation error is ``O(h**order)``.
    method : {"central", "richardson", "forward", "backward", "complex"}, optional
        ``"central"`` (default): the central second differences of ``order``.
        ``"richardson"``: order-2 second differences at up to 14 geometric
        steps, extrapolated as the gradient's Richardson is (errors near
        1e-13 relative to ``max(1, |H|)`` on the test suite, and an error
        estimate per entry with ``full_output``). ``"forward"`` /
        ``"backward"``: f evaluated on one side of x only (the one-sided
        second difference on the diagonal, products of one-sided first
        differences off it, ``(order + 1)**2`` evaluations an entry; step
        :func:`gradjit.stencils.weights.one_sided_hessian_step`).
        ``"complex"``: the central difference along ``x_k`` of the complex-step
        partial derivative along ``x_j`` (f analytic, called with complex
        input; 2 evaluations an entry, errors near 1e-11).
    full_output : bool, optional
        With ``method="richardson"``: also return the error estimate of each
        entry (its estimate does not look for kinks, unlike the gradient's).
    bounds : (lower, upper), optional
        As in :func:`gradjit.gradient`: f is never evaluated outside
        ``[lower, upper]``. A coordinate whose stencil would cross a bound
        turns one-sided toward the inside (same order, step shrunk to fit);
        Richardson drops the steps that would cross while six or more remain,
        else extrapolates one-sided second differences.
    terms : bool, optional
        f is given as its vector of terms ``F(x, *args) -> (m,)``, ``f = sum(F)``,
        with ``sparsity`` the pattern of F (``"auto"`` by default, as in
        :func:`gradjit.gradient`). ``H = Σ_r ∇²F_r`` is computed by pairs of
        column groups: one evaluation with the coordinates of two groups moved
        gives every term the mixed second difference of *its* two coordinates
        (a term has at most one coordinate per group). Cost per point: 1 + ``order``
        evaluations of F per group and ``2 * order`` per pair of groups that
        some term couples (:meth:`gradjit.sparsity.HessianPattern.evaluations`), whatever d
        is: 9 for Rosenbrock's terms (2 groups) at order 2. The central stencils only.
    sparsity : array_like (m, d) or (d, d), scipy.sparse matrix, Sparsity or "auto", optional
        With ``terms=True``: the pattern of F. Otherwise: the pattern of the
        Hessian of the scalar f (``(d, d)``, symmetrised): only its entries are
        computed, each by the chosen method as in the dense Hessian (bit for bit
        the same), ``2 * order`` evaluations of f per entry instead of per pair
        of all ``d (d + 1) / 2``; the others are 0. ``"auto"`` needs ``terms=True``.
    sparse : bool, optional
        With ``sparsity`` or ``terms``: return ``scipy.sparse.csr_array`` (one per
        point: a list for a batch, in the batch's C order) instead of dense arrays.
    check : bool, optional
        With ``sparsity`` or ``terms``: verify the pattern at one point of the
        batch and raise :class:`~gradjit.errors.PatternError` if it misses a
        dependency. For terms, every coordinate alone (F's pattern) and every
        entry by its own pair must give the same bits; for a scalar f, the dense
        Hessian at that point must agree on the pattern and be below
        ``1e-6 max(1, max |H|)`` off it.
    workers : int or callable, optional
        With ``backend="numpy"``: a thread pool of this size or a map-like
        callable (``multiprocessing.Pool(4).map``) to spread the evaluations of f
        over, as in :func:`gradjit.gradient`.

    Returns
    -------
    ndarray, shape (..., d, d)
        Symmetric by construction: each entry ``(j, k)``, ``j <= k``, is computed
        once and written to both places. With ``full_output``, a pair
        ``(hessian, error_estimate)`` of that shape.

    Notes
    -----
    The stencils are those of :mod:`gradjit.stencils.second`: on the diagonal
    the central second difference of ``order``; off it, the same weights along
    the diagonals ``hj e_j ± hk e_k``, ``2 * order`` evaluations per entry. A
    pair of variables that f does not couple (a structural zero) has no
    truncation error, only rounding, ``eps |f| / (hj hk)``: higher orders, with
    their larger steps, and Richardson, which starts at ``max(1, |x_j|)``,
    bring such entries to 1e-12 |f| or below. The work is split over
    (point, entry) items, so one point with many variables runs in parallel too.

    Examples
    --------
    >>> import numpy as np, gradjit
    >>> def f(x):
    ...     return x[0] ** 2 * x[1] + 3.0 * x[1] ** 2
    >>> np.round(gradjit.hessian(f, [1.0, 2.0]), 6)
    array([[4., 2.],
           [2., 6.]])
    >>> H, error = gradjit.hessian(f, [1.0, 2.0], method="richardson", full_output=True)
    >>> bool(np.all(np.abs(H - [[4.0, 2.0], [2.0, 6.0]]) <= error))
    True
    """
    _validation.objective(f)
    if _device_api.on_device(x):
        if terms or sparsity is not None or sparse or check or workers is not None:
            raise OptionError("terms=, sparsity=, sparse=, check= and workers= apply to host (NumPy) arrays.")
        return _device_api.hessian(f, x, full_output=full_output, method=method, order=order, h=h,
                                   bounds=bounds, backend=backend, threads=threads, args=args, jit=jit, x_scale=x_scale)
    points, batch_shape = _validation.points(x)
    d = points.shape[1]
    if terms or sparsity is not None:
        return _structured_hessian(f, points, batch_shape, terms=terms, sparsity=sparsity, sparse=sparse, check=check,
                                   method=method, order=order, h=h, bounds=bounds, backend=backend, threads=threads,
                                   args=args, full_output=full_output, jit=jit, x_scale=x_scale, workers=workers)
    _dense_only(sparse, check, "sparsity= or terms=True")
    spec = resolve(d, kind="hessian", method=method, order=order, h=h, bounds=bounds, points=points, backend=backend,
                   threads=threads, args=args, full_output=full_output, jit=jit, x_scale=x_scale, workers=workers)
    shape = (points.shape[0], d, d)
    out = _chunks.new_output(shape)  # d**2 per point grows fast
    errors = _chunks.new_output(shape) if spec.method.error_estimates else None
    spec.backend.hessian(f, points, spec, out, errors=errors)
    result = out.reshape(*batch_shape, d, d)
    if full_output:
        return result, errors.reshape(*batch_shape, d, d)
    return result


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
    x_scale: Any = None,
    full_output: bool = False,
    sparsity: Any = None,
    sparse: bool = False,
    check: bool = False,
    workers: Any = None,
) -> Any:
    """The Jacobian of a vector function at one point or a batch of points.

    Parameters
    ----------
    F : callable
        ``F(x, *args) -> 1-D array of length m`` (the same m at every point).
        With ``backend="numba"`` it must compile in nopython mode.
    x : array_like, shape (d,), (N, d) or (..., d)
        The point(s).
    args, h, order, backend, threads, bounds, jit, x_scale
        As in :func:`gradjit.gradient`; each column is one stencil applied to
        all m components at once.
    method : {"central", "richardson", "forward", "backward", "complex"}, optional
        As in :func:`gradjit.gradient`. With ``"complex"``, F is called with a
        complex128 array and returns a 1-D complex array. Richardson evaluates
        each column's steps once for all m components and extrapolates each
        component with its own tableau, so every entry gets its own best
        candidate and error estimate (they do not look for kinks).
    full_output : bool, optional
        With ``method="richardson"``: also return the error estimate of each entry.
    dtype : {None, np.float64, np.float32}, optional
        Storage of the result, float64 by default; the arithmetic is float64
        (float32 rounds the finished Jacobian).
    sparsity : array_like (m, d), scipy.sparse matrix, Sparsity or "auto", optional
        Which components depend on which coordinates (:class:`gradjit.Sparsity`:
        give one to colour once and reuse it). Columns that no component shares
        are perturbed together (their groups are a greedy largest-first
        colouring), so a point costs ``order * n_groups`` evaluations of F
        (central; forward and backward ``(order + 1) * n_groups``, complex
        ``n_groups``) instead of per column; entries are bit for bit those of
        the dense Jacobian. ``"auto"`` detects the pattern by probing F (see
        :mod:`gradjit._detect`). Methods central, forward, backward, complex; no
        ``bounds``. A component that changes where the pattern says it cannot
        raises :class:`~gradjit.errors.PatternError`.
    sparse : bool, optional
        With ``sparsity``: return ``scipy.sparse.csr_array`` (m, d), one per
        point (a list for a batch, in the batch's C order), instead of a dense
        array (zeros off the pattern).
    check : bool, optional
        With ``sparsity``: also evaluate every column alone at one point of the
        batch and raise :class:`~gradjit.errors.PatternError` if any component
        changes off the pattern or any entry differs.
    workers : int or callable, optional
        With ``backend="numpy"``: a thread pool of this size or a map-like
        callable (``multiprocessing.Pool(4).map``) to spread the evaluations of f
        over, as in :func:`gradjit.gradient`.

    Returns
    -------
    ndarray, shape (..., m, d)
        ``J[..., r, j] = dF_r / dx_j``. With ``full_output``, a pair
        ``(jacobian, error_estimate)`` of that shape.

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
    _validation.objective(F)
    if _device_api.on_device(x):
        if sparsity is not None or sparse or check or workers is not None or dtype is not None:
            raise OptionError("sparsity=, sparse=, check=, workers= and dtype= apply to host (NumPy) arrays.")
        return _device_api.jacobian(F, x, full_output=full_output, method=method, order=order, h=h,
                                    bounds=bounds, backend=backend, threads=threads, args=args, jit=jit, x_scale=x_scale)
    points, batch_shape = _validation.points(x)
    storage = np.dtype(np.float64) if dtype is None else _validation.result_dtype(dtype)
    n, d = points.shape
    if sparsity is not None:
        spec = resolve(d, kind="terms", method=method, order=order, h=h, bounds=bounds, points=points, backend=backend,
                       threads=threads, args=args, jit=jit, x_scale=x_scale, full_output=full_output, workers=workers)
        pattern = structured.pattern_of(F, points, spec, sparsity)
        found = structured.jacobian(F, points, spec, pattern, sparse=sparse, check=check).astype(storage, copy=False)
        if sparse:
            return _per_point([pattern.csr(row) for row in found], batch_shape)
        return found.reshape(*batch_shape, *pattern.shape)
    _dense_only(sparse, check, "sparsity=")
    spec = resolve(d, kind="jacobian", method=method, order=order, h=h, bounds=bounds, points=points, backend=backend,
                   threads=threads, args=args, jit=jit, x_scale=x_scale, full_output=full_output, workers=workers)
    m = spec.backend.jacobian_length(F, points, spec)
    out = _chunks.new_output((n, m, d))
    errors = _chunks.new_output((n, m, d)) if spec.method.error_estimates else None
    spec.backend.jacobian(F, points, spec, out, errors=errors)
    result = out.reshape(*batch_shape, m, d).astype(storage, copy=False)
    if full_output:
        return result, errors.reshape(*batch_shape, m, d).astype(storage, copy=False)
    return result


def _dense_only(sparse: bool, check: bool, needs: str) -> None:
    if sparse or check:
        raise OptionError(f"sparse= and check= apply with {needs}: they return and verify structured results.")


def _per_point(results: list, batch_shape: tuple[int, ...]) -> Any:
    """One result for one point (x of shape (d,)), else the list in the batch's C order."""
    return results[0] if batch_shape == () else results


def _structured_hessian(f, points: np.ndarray, batch_shape: tuple[int, ...], *, terms: bool, sparsity: Any, sparse: bool,
                        check: bool, **options: Any) -> Any:
    """:func:`hessian` of f given as terms, or of a scalar f with a Hessian pattern."""
    d = points.shape[1]
    if terms:
        if options["full_output"]:
            raise OptionError("full_output=True needs error estimates, which terms=True (central stencils) does not make.")
        spec = resolve(d, kind="terms hessian", points=points, **{k: v for k, v in options.items() if k != "full_output"})
        pattern = structured.pattern_of(f, points, spec, sparsity)
        found = structured.hessian_of_terms(f, points, spec, pattern, sparse=sparse, check=check)
        if sparse:
            return _per_point([pattern.hessian.csr(row, d) for row in found], batch_shape)
        return found.reshape(*batch_shape, d, d)
    if isinstance(sparsity, str):
        raise OptionError("sparsity='auto' for a Hessian needs f as its terms (terms=True): the coupling of a scalar f's "
                          "variables cannot be seen one coordinate at a time. Give the Hessian's (d, d) pattern.")
    full_output = options["full_output"]
    spec = resolve(d, kind="hessian", points=points, **options)
    pattern = Sparsity(sparsity)
    if pattern.shape != (d, d):
        raise PatternError(f"the Hessian's sparsity pattern must be ({d}, {d}) for f of {d} variables; got {pattern.shape}. "
                           "(A pattern of F's terms goes with terms=True.)")
    on = pattern.toarray()
    on |= on.T
    found, errors = structured.sparse_hessian(f, points, spec, on, check=check)
    if sparse:
        symmetric = Sparsity(on)
        rows = np.repeat(np.arange(d), np.diff(symmetric.row_ptr))
        values = [symmetric.csr(H[rows, symmetric.col_idx]) for H in found]
        if full_output:
            return _per_point(values, batch_shape), _per_point([symmetric.csr(E[rows, symmetric.col_idx]) for E in errors],
                                                              batch_shape)
        return _per_point(values, batch_shape)
    result = found.reshape(*batch_shape, d, d)
    return (result, errors.reshape(*batch_shape, d, d)) if full_output else result
