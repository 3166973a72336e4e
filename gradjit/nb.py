"""Derivatives from inside your own compiled code: entry points that ``@numba.njit``
functions call.

Simulations and optimisers that run in compiled loops need a derivative at every
step; :func:`gradient`, :func:`derivative` and :func:`hessian` here are what such a
loop calls, with a compiled ``f`` (an ``@numba.njit`` function) passed as an
argument::

    import numba, numpy as np
    from gradjit import nb

    @numba.njit
    def f(x, a):
        return a * x[0] ** 2 + np.sin(x[1])

    @numba.njit
    def steepest_descent(x, a, steps, rate):
        g = np.empty(x.size)
        for _ in range(steps):
            nb.gradient(f, x, g, args=(a,))
            x = x - rate * g
        return x

They run the formulas of :mod:`gradjit.stencils` with the steps of
:func:`gradjit.gradient`, so for the same f, point and options the results are the
same bit for bit. ``method`` and ``order`` must be constants in the calling code
(each combination is compiled into it); ``h`` may be any number. They run on the
calling thread (put them inside your own ``numba.prange`` loop to use more) and never
write to ``x``; the central gradient and derivative use no heap memory for d up to
:data:`~gradjit.backends._compiled.STACK_D` (64).

Called from Python rather than compiled code, each one runs the matching
:mod:`gradjit` function, so code can be tried out before it is compiled.

Mistakes in the constant options, in the types of the arguments or in f's result
are found while Numba compiles the caller: Numba reports them as a ``TypingError``
whose message is gradjit's. Mistakes that depend on values (``out`` of the wrong
length, ``h`` zero or not finite) raise :class:`~gradjit.errors.ShapeError` or
:class:`~gradjit.errors.StepError` when the call runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numba
import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload

from . import api, matrices
from ._config import JIT_OPTIONS
from ._memo import per_owner
from ._objective import bind, checked_signature, name_of
from ._spec import Spec, resolve
from .backends._compiled import STACK_D, coordinate_entry, hessian_entry, stack_buffer, stencil_entry
from .errors import GradjitError, ShapeError, StepError
from .stencils.richardson import RICHARDSON_TABLE_SIZE

__all__ = ["derivative", "gradient", "hessian"]

_NEG_INF, _INF = -np.inf, np.inf


# --------------------------------------------------------- the Python face


def gradient(f: Callable[..., float], x: np.ndarray, out: np.ndarray, args: tuple = (), method: str = "central",
             order: int = 2, h: float | None = None) -> None:
    """The gradient of ``f`` at one point ``x`` into ``out``, callable from ``@numba.njit`` code.

    Parameters
    ----------
    f : numba dispatcher
        ``f(x, *args) -> float``, an ``@numba.njit`` function.
    x : ndarray, shape (d,)
        The point (real numbers); not modified.
    out : ndarray, shape (d,)
        Receives the gradient (float64 or float32).
    args : tuple, optional
        Extra arguments of ``f``.
    method : str, optional
        ``"central"`` (default), ``"forward"``, ``"backward"``, ``"complex"`` or
        ``"richardson"``, as in :func:`gradjit.gradient`; a constant.
    order : int, optional
        The stencil's order, as in :func:`gradjit.gradient`; a constant.
    h : float, optional
        Absolute step, finite and nonzero; ``None`` (default) takes the method's
        automatic step times ``max(1, |x_j|)``.

    Returns
    -------
    None

    Examples
    --------
    >>> import numba, numpy as np
    >>> from gradjit import nb
    >>> @numba.njit
    ... def f(x):
    ...     return x[0] ** 2 + 3.0 * x[1]
    >>> @numba.njit
    ... def gradients(points):
    ...     out = np.empty_like(points)
    ...     for i in range(points.shape[0]):
    ...         nb.gradient(f, points[i], out[i], order=4)
    ...     return out
    >>> gradients(np.array([[1.0, 2.0], [3.0, 4.0]])).round(8)
    array([[2., 3.],
           [6., 3.]])
    """
    out[...] = api.gradient(f, np.asarray(x), args=args, method=method, order=order, h=h, threads=1)


def derivative(f: Callable[..., float], x: float, args: tuple = (), method: str = "central", order: int = 2,
               h: float | None = None, n: int = 1) -> float:
    """The derivative (``n``-th with ``n > 1``) of a function of one variable at ``x``,
    callable from ``@numba.njit`` code.

    Parameters
    ----------
    f : numba dispatcher
        ``f(x, *args) -> float`` with ``x`` a float, an ``@numba.njit`` function.
    x : float
        The point.
    args, method, order, h
        As in :func:`gradient`.
    n : int, optional
        Which derivative, 1 to 10, as in :func:`gradjit.derivative`; a constant.

    Returns
    -------
    float

    Examples
    --------
    >>> import math, numba
    >>> from gradjit import nb
    >>> @numba.njit
    ... def f(t):
    ...     return math.exp(2.0 * t)
    >>> @numba.njit
    ... def slope_and_curvature(t):
    ...     return nb.derivative(f, t, order=4), nb.derivative(f, t, n=2, order=4)
    >>> [round(v, 6) for v in slope_and_curvature(0.0)]
    [2.0, 4.0]
    """
    return float(api.derivative(f, float(x), args=args, method=method, order=order, h=h, n=n, threads=1))


def hessian(f: Callable[..., float], x: np.ndarray, out: np.ndarray, args: tuple = (), method: str = "central",
            order: int = 2, h: float | None = None) -> None:
    """The Hessian of ``f`` at one point ``x`` into ``out``, callable from ``@numba.njit`` code.

    Parameters
    ----------
    f, x, args, method, order, h
        As in :func:`gradient`; the methods and their steps are those of
        :func:`gradjit.hessian`.
    out : ndarray, shape (d, d)
        Receives the Hessian, symmetric by construction.

    Returns
    -------
    None

    Examples
    --------
    >>> import numba, numpy as np
    >>> from gradjit import nb
    >>> @numba.njit
    ... def f(x):
    ...     return x[0] ** 2 * x[1] + 3.0 * x[1] ** 2
    >>> @numba.njit
    ... def newton_step(x):
    ...     g, H = np.empty(2), np.empty((2, 2))
    ...     nb.gradient(f, x, g)
    ...     nb.hessian(f, x, H)
    ...     return H
    >>> newton_step(np.array([1.0, 2.0])).round(6)
    array([[4., 2.],
           [2., 6.]])
    """
    out[...] = matrices.hessian(f, np.asarray(x), args=args, method=method, order=order, h=h, threads=1)


# ---------------------------------------------- what the typing step decides


class _Plan(NamedTuple):
    """What one call site compiles: f's adapter, the resolved options, the step rule."""

    call: Any  # call(buf, args): f at the point in buf (gradjit._objective.bind)
    spec: Spec
    absolute: bool  # h is given: steps are absolute (typical magnitude -1), else relative (1)
    relative: float  # the automatic step, when h is not given


def _constant(value: Any, name: str) -> Any:
    """The value of an option that must be a constant at the call site."""
    if not isinstance(value, types.Type):
        return value  # left out: the Python default
    if isinstance(value, types.Omitted):
        return value.value
    if isinstance(value, types.NoneType):
        return None
    if isinstance(value, types.Literal):
        return value.literal_value
    raise TypingError(f"gradjit.nb: {name} must be a constant in the calling code (a literal such as {name}=4), "
                      f"because each choice compiles different code; got a variable of type {value}.")


def _plan(what: str, f: Any, x: Any, args: Any, method: Any, order: Any, h: Any, n: Any = 1) -> _Plan:
    """Check one call site's types and constant options (raising Numba's ``TypingError``
    with gradjit's message) and resolve them as the Python API does."""
    if not isinstance(f, types.Dispatcher):
        raise TypingError(f"gradjit.nb.{what}: f must be an @numba.njit function passed as an argument; got {f}.")
    scalar_input = what == "derivative"
    if scalar_input:
        if not isinstance(x, (types.Float, types.Integer)):
            raise TypingError(f"gradjit.nb.derivative: x must be a real number; got {x}.")
    elif not (isinstance(x, types.Array) and x.ndim == 1 and isinstance(x.dtype, (types.Float, types.Integer))):
        raise TypingError(f"gradjit.nb.{what}: x must be a 1-D array of real numbers (one point); got {x}.")
    if isinstance(args, types.Omitted):  # how Numba's inliner passes a left-out argument
        args = args.value
    if isinstance(args, types.Type) and not isinstance(args, types.BaseTuple):
        raise TypingError(f"gradjit.nb.{what}: args must be a tuple of f's extra arguments; got {args}.")
    if not (h is None or isinstance(h, (types.NoneType, types.Omitted, types.Float, types.Integer))):
        raise TypingError(f"gradjit.nb.{what}: h must be a real number or None; got {h}.")
    absolute = h is not None and isinstance(h, (types.Float, types.Integer))
    kind = "hessian" if what == "hessian" else "gradient"
    try:
        # One coordinate stands for all: the options and steps do not depend on d.
        spec = resolve(1, kind=kind, method=_constant(method, "method"), order=_constant(order, "order"),
                       h=1.0 if absolute else None, n=_constant(n, "n"), scalar_input=scalar_input)
        arg_types = tuple(types.unliteral(t) for t in args.types) if isinstance(args, types.BaseTuple) else ()
        checked_signature(f.dispatcher, arg_types, scalar_input, spec.returns)
    except GradjitError as exc:
        raise TypingError(f"gradjit.nb.{what}({name_of(f.dispatcher)}, ...): {exc}") from None
    call = bind(f.dispatcher, len(arg_types), scalar_input)
    return _Plan(call, spec, absolute, float(spec.steps[0]))


def _check_out_type(what: str, out: Any, ndim: int) -> None:
    if not (isinstance(out, types.Array) and out.ndim == ndim and isinstance(out.dtype, types.Float) and out.mutable):
        raise TypingError(f"gradjit.nb.{what}: out must be a writable {ndim}-D float array; got {out}.")


# The pieces below are memoised on f (``per_owner``, keyed by the call adapter and the
# options): Numba calls an overload more than once per call site, and several call sites
# with one f and the same options share the pieces compiled out of line.


@per_owner
def _step_of(call, relative: float, signed: bool, absolute: bool):
    """``step(h)``: the step the formulas take (as :func:`gradjit._spec.resolve` makes it):
    the automatic relative step, or ``h`` checked (the symmetric formulas take ``|h|``)."""
    if not absolute:
        @numba.njit(inline="always", **JIT_OPTIONS)
        def step(h):
            return relative
    else:
        # Not inlined at Numba's level (LLVM still inlines it): a raise inside the
        # caller's own prange loop would stop Numba from parallelising that loop.
        @numba.njit(inline="never", **JIT_OPTIONS)
        def step(h):
            if not (np.isfinite(h) and h != 0):
                raise StepError("gradjit.nb: the step h must be finite and nonzero")
            return h if signed else abs(h)
    return step


@numba.njit(inline="never", **JIT_OPTIONS)
def _check_gradient_out(d, length):
    # Out of line for the reason given in _step_of.
    if length != d:
        raise ShapeError("gradjit.nb.gradient: out must have the length of x")


@numba.njit(inline="never", **JIT_OPTIONS)
def _check_hessian_out(d, rows, columns):
    if rows != d or columns != d:
        raise ShapeError("gradjit.nb.hessian: out must have the shape (d, d), d the length of x")


@numba.njit(inline="always", **JIT_OPTIONS)
def _load(x, buf):
    for j in range(x.shape[0]):
        buf[j] = x[j]


@per_owner
def _point_gradient(call, formula: str, n: int, weights: tuple, one_sided: tuple, direction: float, absolute: bool):
    """``fill(buf, x, out, step, args)``: every entry of the gradient at ``x`` into ``out``,
    with ``buf`` (length d) as the moving point."""
    typical = -1.0 if absolute else 1.0
    if formula == "central" and n == 1:
        entry = stencil_entry(call, weights, False, "absolute" if absolute else "unit")

        @numba.njit(inline="always", **JIT_OPTIONS)
        def fill(buf, x, out, step, args):
            _load(x, buf)
            for j in range(x.shape[0]):
                out[j] = entry(buf, j, step, typical, args)

        return fill

    entry = coordinate_entry(call, method=formula, bounded=False, weights=weights, one_sided=one_sided,
                             direction=direction, n=n)
    needs_center = formula == "richardson" or (n > 1 and n % 2 == 0)
    table_size = RICHARDSON_TABLE_SIZE if needs_center else 0

    @numba.njit(inline="always", **JIT_OPTIONS)
    def fill(buf, x, out, step, args):
        _load(x, buf)
        center = call(buf, args) if needs_center else 0.0
        table = np.empty(table_size)
        for j in range(x.shape[0]):
            out[j] = entry(buf, j, step, typical, _NEG_INF, _INF, center, table, args)[0]

    return fill


def _pieces(plan: _Plan) -> tuple:
    """``(fill, step)`` of a gradient or derivative call site (:func:`_point_gradient`, :func:`_step_of`)."""
    spec = plan.spec
    fill = _point_gradient(plan.call, spec.formula, spec.n, spec.weights, spec.one_sided, spec.direction, plan.absolute)
    return fill, _step_of(plan.call, plan.relative, spec.formula == "one-sided", plan.absolute)


@per_owner
def _on_heap(fill, complex_point: bool):
    """``fill`` with a point buffer on the heap (d above the stack buffer, or complex)."""

    @numba.njit(inline="never", **JIT_OPTIONS)
    def on_heap(x, out, step, args):
        fill(np.empty(x.shape[0], dtype=np.complex128 if complex_point else np.float64), x, out, step, args)

    return on_heap


@per_owner
def _hessian_fill(call, formula: str, order: int, direction: float, absolute: bool, complex_point: bool):
    """``fill(x, out, step, args)``: the Hessian at ``x`` into ``out``: entries (j, k), j <= k,
    each written to both places, as :func:`gradjit.hessian` does."""
    entry = hessian_entry(call, method=formula, bounded=False, order=order, direction=direction)
    typical_value = -1.0 if absolute else 1.0
    richardson = formula == "richardson"
    table_size = RICHARDSON_TABLE_SIZE if richardson else 0

    @numba.njit(inline="never", **JIT_OPTIONS)
    def fill(x, out, step, args):
        d = x.shape[0]
        buf = np.empty(d, dtype=np.complex128 if complex_point else np.float64)
        _load(x, buf)
        steps, typical = np.full(d, step), np.full(d, typical_value)
        lower, upper = np.full(d if richardson else 0, _NEG_INF), np.full(d if richardson else 0, _INF)
        table = np.empty(table_size)
        center = 0.0 if complex_point else call(buf, args)
        for j in range(d):
            for k in range(j, d):
                value = entry(buf, j, k, steps, typical, lower, upper, center, table, args)[0]
                out[j, k] = value
                out[k, j] = value

    return fill


# ------------------------------------------------------- the compiled face


@overload(gradient, prefer_literal=True, inline="always")
def _gradient(f, x, out, args=(), method="central", order=2, h=None):
    plan = _plan("gradient", f, x, args, method, order, h)
    _check_out_type("gradient", out, 1)
    fill, step_of = _pieces(plan)
    complex_point = plan.spec.method.complex_input
    on_heap = _on_heap(fill, complex_point)

    def implementation(f, x, out, args=(), method="central", order=2, h=None):
        d = x.shape[0]
        _check_gradient_out(d, out.shape[0])
        step = step_of(h)
        if complex_point or d > STACK_D:
            on_heap(x, out, step, args)
        else:
            fill(numba.carray(stack_buffer(STACK_D), d), x, out, step, args)

    return implementation


@overload(derivative, prefer_literal=True, inline="always")
def _derivative(f, x, args=(), method="central", order=2, h=None, n=1):
    plan = _plan("derivative", f, x, args, method, order, h, n)
    fill, step_of = _pieces(plan)

    if plan.spec.method.complex_input:
        def implementation(f, x, args=(), method="central", order=2, h=None, n=1):
            point, out = np.empty(1), np.empty(1)
            point[0] = x
            fill(np.empty(1, dtype=np.complex128), point, out, step_of(h), args)
            return out[0]
    else:
        def implementation(f, x, args=(), method="central", order=2, h=None, n=1):
            point, out = numba.carray(stack_buffer(1), 1), numba.carray(stack_buffer(1), 1)
            point[0] = x
            fill(numba.carray(stack_buffer(1), 1), point, out, step_of(h), args)
            return out[0]

    return implementation


@overload(hessian, prefer_literal=True, inline="always")
def _hessian(f, x, out, args=(), method="central", order=2, h=None):
    plan = _plan("hessian", f, x, args, method, order, h)
    _check_out_type("hessian", out, 2)
    spec = plan.spec
    step_of = _step_of(plan.call, plan.relative, spec.formula == "one-sided", plan.absolute)
    fill = _hessian_fill(plan.call, spec.formula, spec.order, spec.direction, plan.absolute, spec.method.complex_input)

    def implementation(f, x, out, args=(), method="central", order=2, h=None):
        _check_hessian_out(x.shape[0], out.shape[0], out.shape[1])
        fill(x, out, step_of(h), args)

    return implementation
