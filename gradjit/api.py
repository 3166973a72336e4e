"""Public entry points: validate once, pick the backend, allocate, return plain arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from . import _chunks, _objective
from . import _validation as check
from .backends import numba_cpu, numpy_ref
from .errors import OptionError
from .stencils import COMPLEX_STEP, RICHARDSON_BASE, central_weights, one_sided_step, one_sided_weights

__all__ = ["derivative", "gradient", "grid_gradient"]


def gradient(
    f: Callable[..., float],
    x: Any,
    *,
    args: tuple = (),
    h: float | np.ndarray | None = None,
    order: int = 2,
    backend: str = "numba",
    threads: int | None = None,
    out: np.ndarray | None = None,
    vectorized: bool = False,
    method: str = "central",
    full_output: bool = False,
    bounds: Any = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Finite-difference gradient of a scalar function at one point or a batch of points.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float`` where ``x`` is a 1-D float64 array of length d.
        With ``backend="numba"`` it must be compilable by Numba in nopython mode
        (plain Python functions are jitted for you; Numba dispatchers are used as
        they are). Write it with scalar indexing (``x[0] * x[0] + ...``) or loops:
        array expressions such as ``np.sum(x * x)`` allocate on every evaluation
        and are many times slower.
    x : array_like, shape (d,), (N, d) or (..., d)
        The point(s). Lists, integers, float32 and non-contiguous arrays are
        accepted; the arithmetic is float64 and ``x`` is never modified.
    args : tuple, optional
        Extra arguments passed unchanged to ``f`` (data arrays, parameters).
    h : float, array of shape (d,), or None, optional
        Absolute step(s). ``None`` (default) uses the automatic step
        ``h_j = eps**(1/(order+1)) * max(1, |x_j|)`` at each point (see Notes).
    order : {2, 4, 6, 8}, optional
        Order of the central stencil: the truncation error is ``O(h**order)``
        and each entry costs ``order`` evaluations of ``f``.
    backend : {"numba", "numpy"}, optional
        ``"numba"``: the parallel kernels. ``"numpy"``: the reference, which
        accepts any Python callable.
    threads : int, optional
        How many threads this call may use (default: all Numba threads).
    out : ndarray, optional
        A float64 array of the result's shape to write into (avoids a fresh
        allocation, which dominates the cost of very cheap functions).
    vectorized : bool, optional
        Only with ``backend="numpy"``: ``f`` maps an ``(N, d)`` array to ``(N,)``
        and each stencil point is evaluated for all points in one call.
    method : {"central", "richardson", "forward", "backward", "complex"}, optional
        ``"central"`` (default): the central stencils above. ``"richardson"``:
        the order-2 central difference at 14 steps ``0.6**i * max(1, |x_j|)``
        (or ``h * 0.6**i``), extrapolated up to eight times (Richardson); of
        every level from 2 up and every window of steps, the candidate with the
        smallest error estimate wins: at most 28 evaluations of f per entry
        (it stops once no smaller step can change the result), errors near
        1e-15 (99% below 3e-13 on the test suite) and an error estimate per
        entry (``full_output``). The largest step reaches ``max(1, |x_j|)``
        from ``x``: steps where f is NaN or infinite lose, but an f that
        raises outside its domain needs ``bounds``.
        ``"forward"`` /
        ``"backward"``: one-sided stencils of ``order`` 1 to 6, evaluating f
        only at ``x + k h e_j`` (or ``x - k h e_j``), ``k = 0..order``: for f
        defined on one side of ``x`` only. ``"complex"``: the complex-step
        derivative ``Im f(x + i h e_j) / h`` with ``h = 1e-20 max(1, |x_j|)``,
        exact to rounding (no subtraction, so no cancellation) for f analytic
        in its inputs; f is then called with a complex128 array and must return
        a complex number (``np.sin``, ``np.exp``, products work; ``abs``,
        comparisons and ``math.*`` do not; write integer powers as products:
        Numba computes a complex ``**`` through exp and log, which loses the
        tiny imaginary part for a negative base). ``order`` must be 2 there.
    full_output : bool, optional
        With ``method="richardson"``: also return an error estimate per entry
        (how far the candidate's level moved from the previous window, plus
        what its last extrapolation changed there and in the previous window,
        plus the rounding error ``10 G_k eps |f(x)| / h`` amplified by its
        level; it bounds the true error in 99.9% of entries on the test suite).
    bounds : (lower, upper), optional
        Numbers or arrays of shape ``(d,)``: f is never evaluated outside
        ``[lower, upper]``. With ``method="central"`` or ``"richardson"`` a
        coordinate whose stencil would cross a bound uses the one-sided stencil
        toward the inside, its step shrunk to fit if needed (as scipy's
        ``approx_derivative`` does). Richardson drops the steps that would cross
        while six or more remain; nearer the bound, one-sided extrapolation
        toward the inside and central extrapolation over steps from the
        distance to the bound down compete, and the smaller error estimate
        wins. Every point must lie inside.

    Returns
    -------
    ndarray, shape like ``x`` (float64)
        ``out`` if given. With ``full_output``, a pair ``(gradient, error_estimate)``.

    Raises
    ------
    CompileError
        Numba cannot compile ``f`` (a ``TypeError``); ``backend="numpy"`` works.
    ObjectiveError
        ``f`` is not callable or does not return a scalar.
    ShapeError, StepError, OrderError, OptionError
        Bad arguments (all ``ValueError``).

    See Also
    --------
    grid_gradient : the gradient at every point of a grid given by its axes.
    derivative : functions of one variable.

    Notes
    -----
    Entry ``j`` is ``(1/h) * sum_k w_k (f(x + k h e_j) - f(x - k h e_j))`` with the
    weights of :func:`gradjit.stencils.central_weights`. The step actually used
    is re-measured as ``(x_j + h_j) - x_j`` so that the quotient is not polluted
    by the rounding of ``x_j + h_j``. The automatic step balances truncation
    error (``~ h**order``) against rounding error (``~ eps / h``); it is
    documented in :func:`gradjit.stencils.default_step`. A NaN or inf in ``x`` or
    from ``f`` affects only the entries whose evaluations see it.

    Examples
    --------
    >>> import numpy as np, gradjit
    >>> def f(x):
    ...     return x[0] ** 2 + 3.0 * x[1]
    >>> np.round(gradjit.gradient(f, [1.0, 2.0]), 8)
    array([2., 3.])
    >>> gradjit.gradient(f, np.zeros((5, 2)), order=4).shape
    (5, 2)
    """
    check.objective(f)
    points, batch_shape = check.points(x)
    return _differentiate(f, points, (*batch_shape, points.shape[1]), False, args, h, order, backend, threads, out, vectorized,
                          method, full_output, bounds)


def derivative(
    f: Callable[..., float],
    x: Any,
    *,
    args: tuple = (),
    h: float | None = None,
    order: int = 2,
    backend: str = "numba",
    threads: int | None = None,
    method: str = "central",
    full_output: bool = False,
    bounds: Any = None,
) -> np.ndarray | np.float64 | tuple:
    """Derivative of a function of one variable, elementwise.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float`` with ``x`` a float (a complex number with
        ``method="complex"``).
    x : float or array_like
        The point(s); the derivative is taken at each element independently.
    args, h, order, backend, threads, method, full_output, bounds
        As in :func:`gradient` (``h`` is a positive float or None; ``bounds``
        a pair of numbers).

    Returns
    -------
    float64 or ndarray
        The same shape as ``x``. With ``full_output`` (``method="richardson"``),
        a pair ``(derivative, error_estimate)`` of that shape.

    Examples
    --------
    >>> import gradjit
    >>> round(float(gradjit.derivative(lambda t: t ** 3, 10.0)), 6)
    300.0
    >>> gradjit.derivative(lambda t: 2 * t, [1.0, 2.0, 3.0]).round(8)
    array([2., 2., 2.])
    >>> d, error = gradjit.derivative(lambda t: np.exp(t), 1.0, method="richardson", full_output=True)
    >>> bool(abs(d - np.e) <= error < 1e-12)
    True
    """
    check.objective(f)
    values = check.as_float_array(x, "x")
    found = _differentiate(f, values.reshape(-1, 1), values.shape, True, args, h, order, backend, threads, None, False, method,
                           full_output, bounds)
    return (found[0][()], found[1][()]) if full_output else found[()]


def grid_gradient(
    f: Callable[..., float],
    axes: Any,
    *,
    args: tuple = (),
    h: float | np.ndarray | None = None,
    order: int = 2,
    indexing: str = "xy",
    backend: str = "numba",
    threads: int | None = None,
    out: Any = None,
    dtype: Any = np.float64,
    progress: bool = False,
) -> Any:
    """The gradient at every point of the grid spanned by ``axes``, never materialised.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float`` as in :func:`gradient`.
    axes : sequence of d 1-D arrays
        Coordinates along each axis; the grid is the one
        ``np.meshgrid(*axes, indexing=indexing)`` describes.
    indexing : {"xy", "ij"}, optional
        As in :func:`numpy.meshgrid`: with ``"xy"`` (default) and d >= 2 the
        first two grid dimensions are ``(len(axes[1]), len(axes[0]))``.
    args, h, order, backend, threads
        As in :func:`gradient`.
    out : array_like, optional
        Where to write the result: a float64 or float32 NumPy array (a
        ``np.memmap`` too, for results larger than memory) or any array-like of
        the result's shape with slice assignment (a zarr or h5py array).
    dtype : {np.float64, np.float32}, optional
        Storage of a new result (``out`` not given); the arithmetic is float64.
    progress : bool, optional
        A progress bar over the chunks (tqdm).

    Returns
    -------
    ndarray, shape (d, *grid_shape)
        ``result[j]`` is the partial derivative along coordinate ``j`` at each
        grid point, so ``U, V = grid_gradient(f, (x0, x1))`` feeds
        ``plt.quiver(X, Y, -U, -V)`` with ``X, Y = np.meshgrid(x0, x1)``.
        ``out`` if given.

    Raises
    ------
    OutputTooLarge
        A new result would not fit in the memory available (a ``MemoryError``);
        the message gives the estimate and the ways out.
    GridInterrupted
        Ctrl-C: raised between chunks, with the rows finished so far written
        (a ``KeyboardInterrupt``).

    Notes
    -----
    The grid is evaluated in slabs along its first dimension of about 64 MiB
    of output each: written straight into a C-contiguous float64 result,
    otherwise through one reused buffer of that size. Memory beyond the output
    is that buffer at most, whatever the grid (see :mod:`gradjit._chunks`).
    For grids beyond one machine, see :mod:`gradjit.dask`.

    Examples
    --------
    >>> import numpy as np, gradjit
    >>> def f(x):
    ...     return x[0] * x[0] + x[1] * x[1]
    >>> U, V = gradjit.grid_gradient(f, (np.linspace(-2, 2, 5), np.linspace(-1, 1, 3)))
    >>> U.shape
    (3, 5)
    >>> np.round(U[0], 6)
    array([-4., -2.,  0.,  2.,  4.])
    >>> gradjit.grid_gradient(f, (np.linspace(-2, 2, 5), np.linspace(-1, 1, 3)), dtype=np.float32).dtype
    dtype('float32')
    """
    check.objective(f)
    stencil_order = check.order(order)
    backend = check.backend(backend)
    args = check.arguments(args)
    axes = check.axes(axes)
    indexing = check.indexing(indexing)
    storage = check.result_dtype(dtype)
    d = len(axes)
    steps, scaled = check.steps(h, d, stencil_order)
    n_threads = check.threads(threads, numba.config.NUMBA_NUM_THREADS)
    along = check.grid_axes(d, indexing)
    grid_shape = tuple(axes[a].size for a in along)
    result_shape = (d, *grid_shape)
    out = check.grid_output(out, result_shape)
    if out is None:
        out = _chunks.new_output(result_shape, storage)
    elif isinstance(out, np.ndarray) and any(np.shares_memory(out, a) for a in axes):
        axes = tuple(a.copy() for a in axes)  # the axes are read while out is written
    direct = isinstance(out, np.ndarray) and out.dtype == np.float64 and out.flags.c_contiguous
    first = along[0]  # the axis along the result's first grid dimension, which the slabs split
    weights = central_weights(stencil_order)
    call, args_type = _objective.compiled_call(f, args, points=check.first_grid_point(axes)) if backend == "numba" else (None, None)

    def compute(r0: int, r1: int, components: tuple[np.ndarray, ...]) -> None:
        sub_axes = axes[:first] + (axes[first][r0:r1],) + axes[first + 1:]
        if backend == "numba":
            numba_cpu.grid_gradient(call, sub_axes, indexing, steps, scaled, weights, args, args_type, components, n_threads)
        else:
            sub_shape = (r1 - r0, *grid_shape[1:])
            target = np.empty((d, *sub_shape))
            numpy_ref.grid_gradient(f, sub_axes, indexing, steps, scaled, weights, args, target)
            for j in range(d):
                components[j][...] = target[j].reshape(-1)

    _chunks.evaluate(compute, out, direct=direct, progress=progress)
    return out


def jac(f: Callable[..., float], **gradient_options: Any) -> Callable[..., np.ndarray]:
    """The gradient of ``f`` as a ``jac=`` callable for :func:`scipy.optimize.minimize`.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``.
    **gradient_options
        ``h``, ``order``, ``backend`` or ``threads``, as in :func:`gradient`.

    Returns
    -------
    callable
        ``jac(x, *args)``: scipy passes the same ``args`` to ``fun`` and ``jac``.

    Examples
    --------
    >>> import numpy as np, gradjit
    >>> def f(x):
    ...     return (x[0] - 1.0) ** 2 + 10.0 * (x[1] + 2.0) ** 2
    >>> np.round(gradjit.jac(f, order=4)(np.array([0.0, 0.0])), 6)
    array([-2., 40.])
    """
    check.objective(f)
    unknown = set(gradient_options) - {"h", "order", "backend", "threads"}
    if unknown:
        raise OptionError(f"jac takes the gradient options h, order, backend and threads; got {sorted(unknown)}.")

    def jacobian(x: np.ndarray, *args: Any) -> np.ndarray:
        return gradient(f, x, args=args, **gradient_options)

    return jacobian


def values(f: Callable, points: np.ndarray, *, args: tuple = (), backend: str = "numba", threads: int | None = None) -> np.ndarray:
    """``f`` at every row of ``points`` (N, d): an array of N values (used by the optimizers).

    ``points`` must be a float64 array; with ``backend="numba"`` the rows are
    evaluated in parallel by the same compiled adapter the gradient kernels use.
    """
    points = np.ascontiguousarray(points, dtype=np.float64)
    out = np.empty(points.shape[0])
    if backend == "numba":
        call, args_type = _objective.compiled_call(f, args, points=points)
        numba_cpu.evaluate(call, points, args, args_type, out, check.threads(threads, numba.config.NUMBA_NUM_THREADS))
    else:
        for i, row in enumerate(points):
            out[i] = _objective.evaluate_python(f, row.copy(), args)
    return out


def _differentiate(
    f: Callable, points: np.ndarray, result_shape: tuple[int, ...], scalar_input: bool, args: tuple, h: Any, order: int,
    backend: str, threads: int | None, out: np.ndarray | None, vectorized: bool, method: str, full_output: bool, bounds: Any
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """:func:`gradient` and :func:`derivative` at the rows of ``points`` (N, d), shaped
    ``result_shape``: the checks of the options and the choice of kernel, once.
    ``scalar_input``: f takes a float (``derivative``, d = 1) instead of an array."""
    method = check.method(method)
    stencil_order = check.order(order, method)
    backend = check.backend(backend)
    args = check.arguments(args)
    d = points.shape[1]
    if full_output and method != "richardson":
        raise OptionError("full_output=True returns error estimates, which method='richardson' makes; the other methods have none.")
    if bounds is not None and method not in ("central", "richardson"):
        raise OptionError("bounds apply to method='central' and 'richardson' (the one-sided methods choose their side themselves).")
    if bounds is not None and vectorized:
        raise OptionError("bounds and vectorized=True do not go together.")
    lower, upper = check.bounds(bounds, points)
    one_sided = method in ("forward", "backward")
    relative = {"complex": COMPLEX_STEP, "richardson": RICHARDSON_BASE}.get(method)
    if one_sided:
        relative = one_sided_step(stencil_order)
    steps, scaled = check.steps(h, d, stencil_order, relative=relative)
    n_threads = check.threads(threads, numba.config.NUMBA_NUM_THREADS)
    out = check.output(out, result_shape)
    if vectorized and (backend != "numpy" or method != "central"):
        raise OptionError("vectorized=True applies to backend='numpy' and method='central' only.")
    weights = one_sided_weights(stencil_order) if one_sided else central_weights(stencil_order)

    errors = np.empty(result_shape) if method == "richardson" else None
    g = _scalar_adapter(f) if scalar_input else f  # what the NumPy reference calls

    def compute(target: np.ndarray) -> None:
        target2d = target.reshape(points.shape)
        if backend == "numba":
            call, args_type = _objective.compiled_call(f, args, scalar_input, "complex" if method == "complex" else "real",
                                                       points=points)
            if method == "richardson":
                numba_cpu.richardson_gradient(call, points, steps, scaled, lower, upper, args, args_type, target2d, errors, n_threads)
            elif method == "central" and bounds is not None:
                numba_cpu.bounded_gradient(call, points, steps, scaled, weights, one_sided_weights(stencil_order), lower, upper,
                                           args, args_type, target2d, n_threads)
            elif method == "central":
                numba_cpu.batch_gradient(call, points, steps, scaled, weights, args, args_type, target2d, n_threads)
            elif method == "complex":
                numba_cpu.complex_step_gradient(call, points, steps, scaled, args, args_type, target2d, n_threads)
            else:
                numba_cpu.one_sided_gradient(call, points, steps, scaled, weights, method == "backward", args, args_type, target2d, n_threads)
        elif method == "richardson":
            numpy_ref.richardson_gradient(g, points, steps, scaled, lower, upper, args, target2d, errors.reshape(points.shape))
        elif bounds is not None:
            numpy_ref.bounded_gradient(g, points, steps, scaled, weights, one_sided_weights(stencil_order), lower, upper, args, target2d)
        elif method == "complex":
            numpy_ref.complex_step_gradient(g, points, steps, scaled, args, target2d)
        elif one_sided:
            numpy_ref.one_sided_gradient(g, points, steps, scaled, weights, method == "backward", args, target2d)
        elif vectorized:
            numpy_ref.batch_gradient_vectorized(g, points, steps, scaled, weights, args, target2d)
        else:
            numpy_ref.batch_gradient(g, points, steps, scaled, weights, args, target2d)

    result = _into(out, result_shape, compute, points)
    return (result, errors) if full_output else result


def _scalar_adapter(f: Callable) -> Callable:
    def at_first_coordinate(x, *args):
        return f(x[0], *args)

    at_first_coordinate.__qualname__ = _objective.name_of(f)
    return at_first_coordinate


def _into(out: np.ndarray | None, shape: tuple[int, ...], compute: Callable[[np.ndarray], None], *inputs: np.ndarray) -> np.ndarray:
    """Run ``compute`` into ``out`` directly when it is C-contiguous and shares no
    memory with the inputs, else into a fresh array (copied into ``out`` if given)."""
    if out is not None and out.flags.c_contiguous and not any(np.shares_memory(out, a) for a in inputs):
        compute(out)
        return out
    result = np.empty(shape)
    compute(result)
    if out is not None:
        out[...] = result
        return out
    return result
