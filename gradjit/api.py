"""Public entry points: validate once into a spec, then one call into the backend.

Every option is checked by :func:`gradjit._spec.resolve`, and the backend
(:mod:`gradjit.backends`) receives the resolved spec; this module only reads
the points and shapes the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _device_api, _run, _validation, structured
from . import _validation as check
from ._spec import resolve
from .errors import OptionError, ShapeError

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
    jit: str | None = None,
    out: np.ndarray | None = None,
    vectorized: bool = False,
    method: str = "central",
    full_output: bool = False,
    bounds: Any = None,
    dtype: Any = None,
    x_scale: Any = None,
    terms: bool = False,
    sparsity: Any = None,
    check: bool = False,
    workers: Any = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Finite-difference gradient of a scalar function at one point or a batch of points.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float`` where ``x`` is a 1-D float64 array of length d
        (or a complex number: then the gradient is complex, that of the real
        part plus ``i`` times that of the imaginary part, from one evaluation of
        f per stencil point, by any method but ``"complex"``).
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
        Absolute step(s), nonzero: one-sided methods step toward each
        coordinate's sign, the symmetric stencils ignore it. ``None`` (default)
        uses the method's automatic step times ``max(1, |x_j|)`` at each point
        (``max(x_scale_j, |x_j|)`` with ``x_scale``): for central stencils
        ``c_p * eps**(1/(p+1))`` with ``p = order`` and the safety factor
        ``c_p`` of :data:`gradjit.stencils.weights.STEP_FACTORS` (see Notes and
        :func:`gradjit.stencils.default_step`).
    order : int, optional
        Order of the stencil (central: 2, 4, 6, 8; forward and backward: 1 to
        6): the truncation error is ``O(h**order)``. A central entry costs
        ``order`` evaluations of ``f``.
    backend : str, optional
        One of :func:`gradjit.backends.available`. ``"numba"`` (default): the
        parallel kernels. ``"numpy"``: the reference, which accepts any Python
        callable. ``"cuda"``: the kernels' formulas on an NVIDIA GPU
        (:mod:`gradjit.backends.cuda`; ``pip install "gradjit[cuda]"``); ``x``
        and ``out`` may then be CUDA device arrays, which stay on the device.
    threads : int, optional
        How many threads this call may use (default: all Numba threads).
    jit : {"auto", "fast-start", "inline"}, optional
        Which compiled kernels run the call (``backend="numba"``). ``"fast-start"``:
        kernels compiled once and cached on disk, which call f through its
        address; a new f costs only its own compilation (tens of ms), each
        point 2-4x more than inlined. ``"inline"``: kernels with f inlined and
        vectorised, the fastest per point, compiled per f (0.3-1 s; cached on
        disk for functions defined in files). ``"auto"`` (default, or the
        environment variable ``GRADJIT_JIT``): fast start, switching to inline
        once the time spent on f repays its compilation. Results are identical,
        bit for bit.
    out : ndarray, optional
        A float64 or float32 array of the result's shape to write into (a
        float64 one avoids a fresh allocation, which dominates the cost of very
        cheap functions).
    vectorized : bool, optional
        Only with ``backend="numpy"``: ``f`` maps an ``(N, d)`` array to ``(N,)``
        and each stencil point is evaluated for all points in one call.
    method : str, optional
        A method of :data:`gradjit.stencils.METHODS` (its documentation
        describes each): ``"central"`` (default), ``"richardson"``
        (extrapolation over many steps, errors near 1e-15 and an error
        estimate per entry), ``"forward"`` / ``"backward"`` (one-sided, for f
        defined on one side of ``x``), ``"complex"`` (the complex step, exact
        to rounding for f analytic in its inputs: f is called with a complex128
        array and must return a complex number; write integer powers as
        products, as Numba computes a complex ``**`` through exp and log).
    full_output : bool, optional
        With a method that makes error estimates (``"richardson"``): also
        return an error estimate per entry (see
        :mod:`gradjit.stencils.richardson`; it bounds the true error in 99.9%
        of entries or more on the test suite, and grows near a kink of f
        closer than the smallest step, where the value itself is unreliable).
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
    dtype : {None, np.float64, np.float32}, optional
        Storage of the result (and of the error estimates): ``None`` (default)
        is float64, or ``out``'s dtype if ``out`` is given. The arithmetic is
        float64 whatever ``x``'s dtype: float32 rounds the finished result
        (relative error up to 6e-8), it does not compute in single precision.
    x_scale : None, "auto", float or array of shape (d,), optional
        The typical magnitude of each coordinate: the automatic steps are the
        method's relative step times ``max(x_scale_j, |x_j|)``. ``None``
        (default) is 1, the rule for variables of order 1 (as scipy's and
        MATLAB's ``TypicalX`` default); give the scale of the units for
        variables far from it (``x_scale=1e-6`` for positions near a
        micrometre in metres). ``"auto"``: the largest ``|x_j|`` over the
        points (see Notes of :func:`gradjit.stencils.default_step` for when that
        fails). Not with ``h``, whose steps are absolute.
    terms : bool, optional
        f is given as its vector of terms, ``F(x, *args) -> (m,)`` with
        ``f = sum(F(x))``: the gradient is ``J_F^T 1``, computed from the column
        groups of F's sparsity pattern without forming the Jacobian, in
        ``order * n_groups`` evaluations of F per point (central; forward and
        backward ``(order + 1) * n_groups``, complex ``n_groups``) whatever d is.
        Methods ``"central"``, ``"forward"``, ``"backward"``, ``"complex"``; no
        ``bounds``. See :mod:`gradjit.structured`.
    sparsity : "auto", array_like (m, d), scipy.sparse matrix or Sparsity, optional
        With ``terms=True``: which terms depend on which coordinates
        (:class:`gradjit.Sparsity`; a Sparsity reuses its colouring across
        calls). ``None`` (default) means ``"auto"``: detected by probing F
        (:mod:`gradjit._detect` says when that can miss a dependency) and
        cached on F. A dependency the pattern leaves out raises
        :class:`~gradjit.errors.PatternError` whenever it moves a term outside its
        group; it is never silently used.
    check : bool, optional
        With ``terms=True``: also evaluate every coordinate alone at one point
        and raise :class:`~gradjit.errors.PatternError` unless the result is the
        same bit for bit (``2 d`` more evaluations of F at that point).
    workers : int or callable, optional
        With ``backend="numpy"``: spread the evaluations of f over a thread pool
        of this size, or over a map-like callable such as
        ``multiprocessing.Pool(4).map`` (f must then pickle: a module-level
        function). Threads suit f that releases the GIL (a simulator in C,
        I/O, ``time.sleep``); processes suit f that computes in Python. The
        results are the same bits as without workers, and an exception raised
        by f reaches the caller.

    Returns
    -------
    ndarray, shape like ``x``
        float64 unless ``dtype`` or ``out`` says otherwise; ``out`` if given
        (complex128, or complex64 with ``dtype=np.float32``, for a complex-valued
        f). With ``full_output``, a pair ``(gradient, error_estimate)``.

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
    >>> gradjit.gradient(f, np.ones((5, 2), dtype=np.float32), dtype=np.float32).dtype
    dtype('float32')
    """
    _validation.objective(f)  # the module: check is an option here
    if _device_api.on_device(x, out):
        if terms or sparsity is not None or check or vectorized or workers is not None or dtype is not None:
            raise OptionError("terms=, sparsity=, check=, vectorized=, workers= and dtype= apply to host (NumPy) arrays; "
                              "device arrays take the other options.")
        return _device_api.gradient(f, x, out=out, full_output=full_output, method=method, order=order, h=h,
                                    bounds=bounds, backend=backend, threads=threads, args=args, jit=jit, x_scale=x_scale)
    points, batch_shape = _validation.points(x)
    shape = (*batch_shape, points.shape[1])
    if not terms:
        if sparsity is not None or check:
            raise OptionError("sparsity= and check= apply to f given as its terms (terms=True); for the Jacobian of a "
                              "vector function use gradjit.jacobian(F, x, sparsity=...).")
        spec = resolve(points.shape[1], method=method, order=order, h=h, bounds=bounds, points=points, backend=backend,
                       threads=threads, args=args, vectorized=vectorized, full_output=full_output, jit=jit,
                       x_scale=x_scale, workers=workers)
        return _run.differentiate(f, points, spec, shape, out=out, full_output=full_output, dtype=dtype)
    if vectorized:
        raise OptionError("vectorized=True does not apply with terms=True: F is evaluated one point at a time.")
    spec = resolve(points.shape[1], kind="terms", method=method, order=order, h=h, bounds=bounds, points=points,
                   backend=backend, threads=threads, args=args, full_output=full_output, jit=jit, x_scale=x_scale,
                   workers=workers)
    spec = spec._replace(terms=structured.pattern_of(f, points, spec, sparsity))
    return _run.differentiate(f, points, spec, shape, out=out, full_output=full_output, dtype=dtype,
                              check_pattern=check)


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
    jit: str | None = None,
    x_scale: Any = None,
    n: int = 1,
    workers: Any = None,
) -> np.ndarray | np.float64 | tuple:
    """Derivative of a function of one variable, elementwise: ``f'`` or ``f^(n)``.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float`` with ``x`` a float (a complex number with
        ``method="complex"``).
    x : float or array_like
        The point(s); the derivative is taken at each element independently.
    args, h, order, backend, threads, method, full_output, bounds, jit, x_scale, workers
        As in :func:`gradient` (``h`` is a nonzero float or None; ``bounds``
        a pair of numbers; ``x_scale`` a positive float or ``"auto"``, the
        largest ``|x|`` of the elements).
    n : int, optional
        Which derivative, 1 (default) to 10. Above 1: ``method="central"``
        (the central stencil of ``order``, 2 to 8, on ``n + order - 1`` or
        ``n + order`` points, :func:`gradjit.stencils.weights.nth_weights`, step
        ``c_p * eps**(1/(n+p)) * max(1, |x|)``) or ``"richardson"`` (with
        ``full_output``, an error estimate), no ``bounds``. Each higher
        derivative loses accuracy to rounding (order 2: about 1e-8 relative for
        n = 2, 1e-3 for n = 8): higher orders and Richardson win it back.

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
    >>> round(float(gradjit.derivative(lambda t: t ** 5, 2.0, n=3, order=4)), 6)
    240.0
    """
    check.objective(f)
    if _device_api.on_device(x):
        if workers is not None:
            raise OptionError("workers= applies to host (NumPy) arrays with backend='numpy'.")
        return _device_api.derivative(f, x, full_output=full_output, method=method, order=order, h=h,
                                      bounds=bounds, backend=backend, threads=threads, args=args, jit=jit, x_scale=x_scale, n=n)
    values = check.as_float_array(x, "x")
    points = values.reshape(-1, 1)
    spec = resolve(1, method=method, order=order, h=h, bounds=bounds, points=points, backend=backend, threads=threads,
                   args=args, full_output=full_output, scalar_input=True, jit=jit, x_scale=x_scale, n=n, workers=workers)
    found = _run.differentiate(f, points, spec, values.shape, full_output=full_output)
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
    method: str = "central",
    bounds: Any = None,
    jit: str | None = None,
    x_scale: Any = None,
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
    args, h, order, backend, threads, method, bounds, jit, x_scale
        As in :func:`gradient` (every grid point must lie inside ``bounds``;
        ``x_scale="auto"`` reads the largest ``|x_j|`` from the axes).
        Central differences without bounds run on the grid kernel, which never
        builds the grid's points; the other methods evaluate each slab's
        points as a batch (two more slab-sized arrays).
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
    axes = check.axes(axes)
    indexing = check.indexing(indexing)
    storage = check.result_dtype(dtype)
    corners = check.grid_corners(axes)
    spec = resolve(len(axes), kind="grid", method=method, order=order, h=h, bounds=bounds, points=corners, backend=backend,
                   threads=threads, args=args, jit=jit, x_scale=x_scale)
    if _device_api.on_device(out):
        along = check.grid_axes(len(axes), indexing)
        return _device_api.grid(f, axes, spec, out, indexing=indexing,
                                result_shape=(len(axes), *(axes[a].size for a in along)))
    return _run.grid(f, axes, indexing, spec, out=out, dtype=storage, progress=progress)


#: The options :func:`jac` passes on to :func:`gradient`.
JAC_OPTIONS = ("h", "order", "backend", "threads", "method", "bounds", "jit", "x_scale")


def jac(f: Callable[..., float], **gradient_options: Any) -> Callable[..., np.ndarray]:
    """The gradient of ``f`` as a ``jac=`` callable for :func:`scipy.optimize.minimize`.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``.
    **gradient_options
        ``h``, ``order``, ``backend``, ``threads``, ``method``, ``bounds``,
        ``jit`` or ``x_scale``, as in :func:`gradient` (``x_scale="auto"``
        reads the scale from the first point scipy passes).

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
    unknown = set(gradient_options) - set(JAC_OPTIONS)
    if unknown:
        raise OptionError(f"jac takes the gradient options {', '.join(JAC_OPTIONS)}; got {sorted(unknown)}.")

    specs: dict = {}  # resolved once per d: scipy calls jac at every iteration

    def jacobian(x: np.ndarray, *args: Any) -> np.ndarray:
        points, batch_shape = check.points(x)
        d = points.shape[1]
        spec = specs.get(d)
        if spec is None or spec.bounded or args != spec.args:  # bounds are checked against each x
            options = {key: value for key, value in gradient_options.items() if key != "bounds"}
            spec = specs[d] = resolve(d, points=points, args=args, bounds=gradient_options.get("bounds"), **options)
        return _run.differentiate(f, points, spec, (*batch_shape, d))

    return jacobian


def values(f: Callable, points: np.ndarray, *, args: tuple = (), backend: str = "numba", threads: int | None = None,
           jit: str | None = None) -> np.ndarray:
    """``f`` at every row of ``points`` (N, d): an array of N values.

    With ``backend="numba"`` the rows are evaluated in parallel by the same
    compiled adapter the gradient kernels use.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``.
    points : array_like, shape (N, d)
        The points.
    args, backend, threads, jit
        As in :func:`gradient`.

    Returns
    -------
    ndarray, shape (N,)
        ``f`` at each row.
    """
    check.objective(f)
    rows = check.as_float_array(points, "points")
    if rows.ndim != 2:
        raise ShapeError(f"points must have shape (N, d); got {rows.shape}.")
    spec = resolve(rows.shape[1], kind="values", backend=backend, threads=threads, args=args, jit=jit)
    return _run.evaluate(f, rows, spec)
