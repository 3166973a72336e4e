"""Drop-in replacements for the classic functions of "Deep Learning from Scratch".

Same names, signatures and results as the NumPy code of the seeds (central
difference, ``h = 1e-4``), computed by gradjit's kernels:

* :func:`numerical_diff` — ``(f(x + h) - f(x - h)) / (2 h)``.
* :func:`numerical_gradient` — the gradient at ``X`` of shape ``(d,)`` or at each
  row of ``X`` of shape ``(N, d)``.
* :func:`gradient_descent` — ``step_num`` steps of ``x -= lr * grad``; returns
  ``(x, x_history)``.

And one more classic, from SciPy, which removed it in version 1.12:

* :func:`derivative` — ``scipy.misc.derivative(func, x0, dx=1.0, n=1, args=(), order=3)``,
  with its signature and its arithmetic, compiled and elementwise over arrays.

Differences from the classic code, all deliberate:

* The quotient uses the step actually taken, ``(x + h) - x``; results agree with
  the classic ones to rounding (about 1e-12 relative).
* An integer ``X`` gives the right gradient. (The classic code computes it
  into ``np.zeros_like(X)``, an integer array, and so returns truncated
  garbage, and it perturbs the integer array itself, so ``x + 1e-4`` is
  rounded back to ``x``.)
* When Numba cannot compile ``f`` (it uses Python objects, say), these
  functions fall back to the NumPy reference with a :class:`FallbackWarning`
  saying why and that the speed-up is lost (the failure is remembered by code
  object, so a ``lambda W: net.loss(x, t)`` made anew on every call is not
  compiled again and again).
* When ``f`` may read ``X`` through a closure (it cannot be compiled, or it
  reads arrays from a closure or a global, which Numba would freeze),
  :func:`numerical_gradient` perturbs the caller's ``X`` in place, in its own
  dtype (float32 too), and restores every entry exactly, as the classic code
  does; a read-only ``X`` is refused then, as the classic code fails on it.
* The book has two functions named ``numerical_gradient``. The one of its
  gradient-field chapter treats a 2-D ``X`` as a batch of points: that is
  :func:`numerical_gradient` here. The one its networks import
  (``common/gradient.py``) differentiates f with respect to every element of
  an array of any shape: that is :func:`numerical_gradient_common` here
  (``from gradjit.classic import numerical_gradient_common as numerical_gradient``).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _objective, _run, api
from . import _validation as check
from ._memo import per_owner
from ._spec import resolve
from .backends import numba_cpu, numpy_ref
from .errors import CompileError, OptionError, OrderError, ShapeError
from .optim import minimize

__all__ = ["CLASSIC_STEP", "FallbackWarning", "derivative", "gradient_descent", "numerical_diff", "numerical_gradient",
           "numerical_gradient_common"]

#: The classic code's step.
CLASSIC_STEP = 1e-4


class FallbackWarning(UserWarning):
    """A classic function runs on the NumPy reference because Numba cannot compile ``f``."""


def numerical_diff(f: Callable[[float], float], x: Any) -> Any:
    """Derivative of ``f`` at ``x`` by the central difference with ``h = 1e-4``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for a float ``x``.
    x : float or array_like
        The point(s); elementwise for an array.

    Returns
    -------
    float64 or ndarray
        The shape of ``x``.

    Examples
    --------
    >>> from gradjit.classic import numerical_diff
    >>> round(float(numerical_diff(lambda x: x ** 3, 10)), 6)
    300.0
    """
    check.objective(f)
    try:
        return api.derivative(f, x, h=CLASSIC_STEP)
    except CompileError as exc:
        _warn_fallback(f, exc)
    return api.derivative(f, x, h=CLASSIC_STEP, backend="numpy")


def numerical_gradient(f: Callable[[np.ndarray], float], X: Any) -> np.ndarray:
    """Gradient of ``f`` at ``X`` (shape ``(d,)``) or at each row of ``X`` (``(N, d)``).

    ``h = 1e-4``, central difference, as the classic code.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for a 1-D array ``x``.
    X : array_like, shape (d,) or (N, d)
        The point or the points (rows). ``X`` is left unchanged.

    Returns
    -------
    ndarray (float64)
        The shape of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradjit.classic import numerical_gradient
    >>> def function_2(x):
    ...     return x[0] ** 2 + x[1] ** 2
    >>> numerical_gradient(function_2, np.array([3.0, 4.0])).round(6)
    array([6., 8.])
    """
    check.objective(f)
    points = check.as_float_array(X, "X")
    if points.ndim == 0:
        raise ShapeError("X must be an array of shape (d,) or (N, d); got a scalar. Use numerical_diff for one variable.")
    if points.shape[-1] == 0:
        raise ShapeError(f"X must have at least one coordinate; got shape {points.shape}.")
    if not _reads_captured_arrays(f):
        try:
            rows = points.reshape(-1, points.shape[-1])
            spec = resolve(rows.shape[1], h=CLASSIC_STEP)
            return _run.differentiate(f, rows, spec, points.shape)
        except CompileError as exc:
            _warn_fallback(f, exc)
    # f may read X through a closure: perturb the caller's X itself, as the classic code does.
    return _in_place_reference(f, X, points, points.shape[-1]).reshape(points.shape)


def numerical_gradient_common(f: Callable[[np.ndarray], float], x: Any) -> np.ndarray:
    """The gradient of ``f`` with respect to every element of ``x``, an array of any shape.

    The ``numerical_gradient`` of the book's ``common/gradient.py``, which its
    networks import (``from common.gradient import numerical_gradient``): f
    receives the whole array ``x`` (a weight matrix, say), and entry ``idx`` of
    the result is ``(f(x + h e_idx) - f(x - h e_idx)) / (2 h)`` with
    ``h = 1e-4``. Use :func:`numerical_gradient` instead for a batch of points,
    one per row.

    When ``f`` compiles and reads no arrays through a closure, every element is
    differentiated in parallel by the kernels, f receiving a private copy of
    ``x`` (reshaped); ``x`` is left unchanged. Otherwise (the book's
    ``lambda W: net.loss(x, t)``) ``x`` itself is perturbed in place, in its own
    dtype, and every element restored exactly, as the book does.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for an array ``x`` of the shape of ``x``.
    x : array_like
        The array (any shape, at least one element).

    Returns
    -------
    ndarray
        The shape of ``x``; its dtype if floating, else float64.

    Examples
    --------
    >>> import numpy as np
    >>> from gradjit.classic import numerical_gradient_common
    >>> W = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> numerical_gradient_common(lambda w: np.sum(w) ** 2, W).round(6)
    array([[20., 20.],
           [20., 20.]])
    """
    check.objective(f)
    values = check.as_float_array(x, "x")
    if values.size == 0:
        raise ShapeError(f"x must have at least one element; got shape {values.shape}.")
    dtype = x.dtype if isinstance(x, np.ndarray) and x.dtype.kind == "f" else np.dtype(np.float64)
    if not _reads_captured_arrays(f):
        try:
            flat_f = _on_flat(_objective.jitted(f), values.shape)
            spec = resolve(values.size, h=CLASSIC_STEP)
            found = _run.differentiate(flat_f, values.reshape(1, -1), spec, values.shape)
            return found.astype(dtype, copy=False)
        except CompileError as exc:
            _warn_fallback(f, exc)
    found = _in_place_reference(lambda flat: f(flat.reshape(values.shape)), x, values.reshape(1, -1), values.size,
                                whole=True)
    return found.reshape(values.shape).astype(dtype, copy=False)


@per_owner
def _on_flat(compiled: Callable, shape: tuple[int, ...]) -> Callable:
    """f of the whole array as a function of its flattened elements (memoised per shape)."""

    def on_flat(flat):
        return compiled(flat.reshape(shape))

    on_flat.__qualname__ = _objective.name_of(compiled)
    return on_flat


def _reads_captured_arrays(f: Callable) -> bool:
    return bool(_objective.captured_values(_objective.python_function(f))[1])


def _in_place_reference(f: Callable, X: Any, points: np.ndarray, d: int, *, whole: bool = False) -> np.ndarray:
    """The reference on the caller's own array when it is a float array (perturbed
    in its dtype and restored exactly), else on the float64 copy ``points``."""
    own = isinstance(X, np.ndarray) and X.dtype.kind == "f"
    if own and not X.flags.writeable:
        raise OptionError(
            "X is read-only, but f may read it through a closure (f cannot be compiled, or reads arrays from a closure "
            "or global), so numerical_gradient must perturb X in place, as the classic code does (which fails on it "
            "too). Pass a writeable array, or make f use its argument.")
    target = X if own else points
    if whole:
        rows = target.reshape(1, -1)
    else:
        rows = target if target.ndim == 2 else target.reshape(-1, d)
    if own and not np.shares_memory(rows, X):
        # A non-contiguous X that cannot be viewed as rows: perturbing a copy would hide the
        # perturbation from an f that reads X through a closure, a silently wrong (zero) gradient.
        raise OptionError(
            f"X (shape {X.shape}, strides {X.strides}) cannot be perturbed in place as rows, and f may read it through "
            "a closure: pass a C-contiguous array (np.ascontiguousarray), and have f read that array.")
    out = np.empty(rows.shape)
    numpy_ref.batch_gradient(f, rows, resolve(d, h=CLASSIC_STEP, backend="numpy"), out, in_place=True)
    return out


def gradient_descent(f: Callable[[np.ndarray], float], init_x: Any, lr: float = 0.01, step_num: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """``step_num`` steps of gradient descent ``x -= lr * grad`` from ``init_x``.

    Returns ``(x, x_history)`` where ``x_history[i]`` is the point before step
    ``i`` (shape ``(step_num, d)``), exactly as the classic code.

    It runs on :func:`gradjit.minimize` (plain descent, ``h = 1e-4``, no early
    stop). Like the classic code, a float ``init_x`` array is updated in place
    and returned as ``x``. Anything else (a list, an integer array, which the
    classic code cannot update) is copied to float64 first and left unchanged.

    It stops early, with a ``RuntimeWarning``, where the classic loop runs on
    into garbage: when the run diverges by :func:`gradjit.minimize`'s rule (x,
    f or the gradient is not finite, or f exceeds its starting value by
    ``DIVERGENCE_FACTOR = 1e6`` times ``max(1, |f(x0)|)``). ``x`` is then the
    last finite iterate and ``x_history`` ends there. With the book's
    ``lr=10.0`` on ``function_2`` from ``[-3, 4]`` (f = 25) that is after 3 of
    100 steps, at about ``[20577, -27436]``: the book's loop goes on until
    ``x + h == x`` freezes it at ``[-2.58983747e+13, -1.29524862e+12]``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for a 1-D array ``x``.
    init_x : array_like, shape (d,)
        The starting point.
    lr : float, optional
        The learning rate.
    step_num : int, optional
        The number of steps.

    Returns
    -------
    x : ndarray
        The last point.
    x_history : ndarray, shape (step_num, d)
        The point before each step.

    Examples
    --------
    >>> import numpy as np
    >>> from gradjit.classic import gradient_descent
    >>> def function_2(x):
    ...     return x[0] ** 2 + x[1] ** 2
    >>> x, history = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, step_num=100)
    >>> bool(np.abs(x).max() < 1e-8), history.shape
    (True, (100, 2))
    """
    in_place = isinstance(init_x, np.ndarray) and init_x.dtype.kind == "f" and init_x.flags.writeable
    start = check.as_float_array(init_x, "init_x")
    if start.ndim != 1:
        raise ShapeError(f"init_x must be one point of shape (d,); got shape {start.shape}.")
    step_num = check.count("step_num", step_num)
    lr = check.positive("lr", lr)
    options = {"method": "gd", "lr": lr, "max_iter": step_num, "gtol": 0.0, "h": CLASSIC_STEP}
    try:
        result = minimize(f, start, **options)
    except CompileError as exc:
        _warn_fallback(f, exc)
        result = minimize(f, start, backend="numpy", **options)
    history = result.history["x"][:step_num]
    if result.status == 0 and len(history) < step_num:
        # A zero gradient: the classic loop would go on repeating the same point.
        history = np.concatenate([history, np.repeat(history[-1:], step_num - len(history), axis=0)])
    elif result.status == 2:
        warnings.warn(
            f"gradient_descent diverged after {result.nit} of {step_num} steps (lr={lr!r} is too large): "
            "x is the last finite iterate and x_history stops there.",
            RuntimeWarning,
            stacklevel=2,
        )
    if in_place:
        init_x[...] = result.x
        return init_x, history
    return result.x, history


#: ``scipy.misc.derivative``'s own stencils for n = 1 and 2: (n, order) -> (integers, divisor);
#: ``np.array(integers) / divisor`` gives the very weights it used.
_SCIPY_STENCILS = {
    (1, 3): ((-1, 0, 1), 2.0),
    (1, 5): ((1, -8, 0, 8, -1), 12.0),
    (1, 7): ((-1, 9, -45, 0, 45, -9, 1), 60.0),
    (1, 9): ((3, -32, 168, -672, 0, 672, -168, 32, -3), 840.0),
    (2, 3): ((1, -2, 1), 1.0),
    (2, 5): ((-1, 16, -30, 16, -1), 12.0),
    (2, 7): ((2, -27, 270, -490, 270, -27, 2), 180.0),
    (2, 9): ((-9, 128, -1008, 8064, -14350, 8064, -1008, 128, -9), 5040.0),
}


def derivative_weights(order: int, n: int) -> np.ndarray:
    """The ``order``-point central stencil of the ``n``-th derivative that
    ``scipy.misc.derivative`` uses: its table for n = 1, 2 and orders 3 to 9, otherwise
    row ``n`` of the inverse of the Vandermonde matrix of the offsets ``-order//2 ..
    order//2``, times ``n!`` (SciPy inverted it with ``scipy.linalg.inv``, NumPy's
    inverse here may differ from it in the last bits)."""
    known = _SCIPY_STENCILS.get((n, order))
    if known is not None:
        integers, divisor = known
        return np.array(integers, dtype=np.float64) / divisor
    half = order >> 1
    offsets = np.arange(-half, half + 1.0)[:, np.newaxis]
    vandermonde = np.hstack([offsets ** k for k in range(order)])
    return np.prod(np.arange(1, n + 1), axis=0) * np.linalg.inv(vandermonde)[n]


def derivative(func: Callable[..., float], x0: Any, dx: Any = 1.0, n: int = 1, args: tuple = (), order: int = 3) -> Any:
    """The ``n``-th derivative of ``func`` at ``x0`` by the ``order``-point central
    difference with spacing ``dx``: ``scipy.misc.derivative``, compiled.

    The signature, the stencils and the order of the arithmetic are SciPy's (removed
    from SciPy in 1.12), so for n = 1 and 2 with ``order`` 3 to 9 (SciPy's tabulated
    stencils) the results are SciPy's bit for bit wherever ``func`` itself gives the
    same values compiled as in Python; other stencils come from the same Vandermonde
    inverse computed by NumPy, equal to SciPy's to the rounding of the inverse.
    (Compiled ``func`` may differ in the last bit: Numba computes ``x ** 3`` by
    multiplication where Python calls ``pow``, and its ``exp`` or ``sin`` are the C
    library's, not NumPy's; the difference quotient divides that bit by ``dx``.)
    Unlike SciPy, ``func`` is called with one number at a time (compiled, in
    parallel, elementwise over ``x0``); a ``func`` Numba cannot compile runs as
    SciPy ran it, with the whole array, after a :class:`FallbackWarning`.

    Parameters
    ----------
    func : callable
        ``func(x, *args) -> float``.
    x0 : float or array_like
        The point(s).
    dx : float or array_like, optional
        The spacing (default 1.0, as in SciPy: far too large for most functions;
        :func:`gradjit.derivative` chooses the step itself). Broadcast with ``x0``.
    n : int, optional
        Which derivative (default 1).
    args : tuple, optional
        Extra arguments of ``func``.
    order : int, optional
        The number of points, odd and at least ``n + 1`` (default 3).

    Returns
    -------
    float64 or ndarray
        The shape of ``x0`` and ``dx`` broadcast together.

    See Also
    --------
    gradjit.derivative : the same derivative with automatic steps, more methods and
        error estimates: ``derivative(f, x0, dx, n, order=k)`` is close to
        ``gradjit.derivative(f, x0, h=dx, n=n, order=k - 1)`` (scipy's ``order``
        counts points, gradjit's is the order of the error).

    Examples
    --------
    >>> from gradjit.classic import derivative
    >>> def f(x):
    ...     return x * x * x + x * x
    >>> float(derivative(f, 1.0, dx=1e-6))
    5.000000000032756
    >>> derivative(f, [1.0, 2.0], dx=1e-3, n=2, order=5).round(9)
    array([ 8., 14.])
    """
    check.objective(func)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise OrderError(f"n, the derivative, must be a positive integer; got {n!r}.")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise OrderError(f"order, the number of points, must be an odd integer; got {order!r}.")
    if order < n + 1:  # SciPy's own two checks, with its words
        raise OrderError("'order' (the number of points used to compute the derivative), must be at least the "
                         "derivative order 'n' + 1.")
    if order % 2 == 0:
        raise OrderError("'order' (the number of points used to compute the derivative) must be odd.")
    centres, spacing = np.broadcast_arrays(check.as_float_array(x0, "x0"), check.as_float_array(dx, "dx"))
    weights = derivative_weights(int(order), int(n))
    divisor = np.prod((spacing,) * int(n), axis=0)  # dx ** n as SciPy forms it
    spec = resolve(1, args=args, scalar_input=True)
    out = np.empty(centres.shape)
    try:
        numba_cpu.stencil_sums(func, np.ascontiguousarray(centres).reshape(-1), np.ascontiguousarray(spacing).reshape(-1),
                               np.ascontiguousarray(divisor).reshape(-1), weights, spec, out.reshape(-1))
        return out[()]
    except CompileError as exc:
        _warn_fallback(func, exc, "func called with the whole array, as SciPy did.")
    total = 0.0
    half = int(order) >> 1
    for k in range(int(order)):
        total += weights[k] * func(centres + (k - half) * spacing, *args)
    return np.float64(total / divisor) if np.ndim(total / divisor) == 0 else total / divisor


#: The code objects already warned about (bounded): one FallbackWarning per function,
#: also for a lambda made anew on every call.
_warned: OrderedDict = OrderedDict()


def _warn_fallback(f: Callable, exc: CompileError,
                   how: str = "X perturbed in place in its own dtype, as the classic code does.") -> None:
    key = getattr(_objective.python_function(f), "__code__", None) or exc.function_name
    if key in _warned:
        return
    _warned[key] = True
    while len(_warned) > 256:
        _warned.popitem(last=False)
    reason = exc.numba_message.strip().splitlines()[0] if exc.numba_message.strip() else "unknown"
    warnings.warn(
        f"gradjit.classic: Numba cannot compile {exc.function_name!r} ({reason}); falling back to the NumPy "
        f"reference: no speed-up (one Python call per evaluation, no parallelism), and {how}",
        FallbackWarning,
        stacklevel=3,
    )
