"""Drop-in replacements for the classic functions of "Deep Learning from Scratch".

Same names, signatures and results as the NumPy code of the seeds (central
difference, ``h = 1e-4``), computed by gradjit's kernels:

* :func:`numerical_diff` — ``(f(x + h) - f(x - h)) / (2 h)``.
* :func:`numerical_gradient` — the gradient at ``X`` of shape ``(d,)`` or at each
  row of ``X`` of shape ``(N, d)``.
* :func:`gradient_descent` — ``step_num`` steps of ``x -= lr * grad``; returns
  ``(x, x_history)``.

Differences from the classic code, all deliberate:

* The quotient uses the step actually taken, ``(x + h) - x``; results agree with
  the classic ones to rounding (about 1e-12 relative).
* An integer ``X`` gives the right gradient. (The classic code computes it
  into ``np.zeros_like(X)``, an integer array, and so returns truncated
  garbage, and it perturbs the integer array itself, so ``x + 1e-4`` is
  rounded back to ``x``.)
* When Numba cannot compile ``f`` (it uses Python objects, say), these
  functions fall back to the NumPy reference with one warning per function
  (:class:`FallbackWarning`) saying why and that the speed-up is lost. On that
  path a float64 ``X`` is perturbed in place and restored entry by entry, as
  the classic code does, so an ``f`` that ignores its argument and reads the
  array through a closure (``lambda W: net.loss(x, t)``) still works.
* Numba freezes global arrays into compiled code: an ``f`` that reads a
  *global* array that you later change will not see the change. Pass data
  through arguments, or use ``gradjit.gradient(f, x, args=(...))``.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _validation as check
from .api import derivative, gradient
from .backends import numpy_ref
from .errors import CompileError, ShapeError
from .optim import minimize
from .stencils import central_weights

__all__ = ["CLASSIC_STEP", "FallbackWarning", "gradient_descent", "numerical_diff", "numerical_gradient"]

#: The classic code's step.
CLASSIC_STEP = 1e-4

# Functions Numba could not compile, with the reason (weak keys: no leak).
_uncompilable: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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
    if not _falls_back(f, lambda: derivative(f, 0.0, h=CLASSIC_STEP)):
        return derivative(f, x, h=CLASSIC_STEP)
    return derivative(f, x, h=CLASSIC_STEP, backend="numpy")


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
    points = check.as_float_array(X, "X")
    if points.ndim == 0:
        raise ShapeError("X must be an array of shape (d,) or (N, d); got a scalar. Use numerical_diff for one variable.")
    probe = points.reshape(-1, points.shape[-1])[:1]
    if not _falls_back(f, lambda: gradient(f, probe, h=CLASSIC_STEP)):
        return gradient(f, points, h=CLASSIC_STEP)
    # The reference path, in place on the caller's float64 array like the classic code.
    in_place = isinstance(X, np.ndarray) and X.dtype == np.float64 and X.flags.writeable and X.ndim >= 1
    target = X if in_place else points
    rows = target.reshape(-1, target.shape[-1]) if target.ndim > 1 else target[np.newaxis]
    out = np.empty(rows.shape)
    d = rows.shape[1]
    steps, scaled = check.steps(CLASSIC_STEP, d, 2)
    numpy_ref.batch_gradient(f, rows, steps, scaled, central_weights(2), (), out, in_place=in_place and np.shares_memory(rows, X))
    return out.reshape(points.shape)


def gradient_descent(f: Callable[[np.ndarray], float], init_x: Any, lr: float = 0.01, step_num: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """``step_num`` steps of gradient descent ``x -= lr * grad`` from ``init_x``.

    Returns ``(x, x_history)`` where ``x_history[i]`` is the point before step
    ``i`` (shape ``(step_num, d)``), exactly as the classic code.

    It runs on :func:`gradjit.minimize` (plain descent, ``h = 1e-4``, no early
    stop). Like the classic code, a float ``init_x`` array is updated in place
    and returned as ``x``. Anything else (a list, an integer array, which the
    classic code cannot update) is copied to float64 first and left unchanged.
    Where the classic loop would run on into garbage (a learning rate so large
    that ``x + h == x``), this one stops at the last finite iterate with a
    ``RuntimeWarning``, and ``x_history`` ends there.

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
    backend = "numpy" if _falls_back(f, lambda: gradient(f, start, h=CLASSIC_STEP)) else "numba"
    result = minimize(f, start, method="gd", lr=lr, max_iter=step_num, gtol=0.0, h=CLASSIC_STEP, backend=backend)
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


def _falls_back(f: Callable, probe: Callable[[], Any]) -> bool:
    """True when ``f`` must run on the reference; warns once per function.

    ``probe`` is a cheap call on the Numba backend; a :class:`CompileError`
    from it decides (and is remembered, so compilation is not retried).
    """
    try:
        if f in _uncompilable:
            return True
    except TypeError:  # not hashable or not weak-referenceable: no memo
        pass
    try:
        probe()
        return False
    except CompileError as exc:
        reason = exc.numba_message.strip().splitlines()[0] if exc.numba_message.strip() else "unknown"
        try:
            _uncompilable[f] = reason
        except TypeError:
            pass
        warnings.warn(
            f"gradjit.classic: Numba cannot compile {exc.function_name!r} ({reason}); "
            "falling back to the NumPy reference, which gives the same numbers without the "
            "speed-up (one Python call per evaluation, no parallelism).",
            FallbackWarning,
            stacklevel=3,
        )
        return True
