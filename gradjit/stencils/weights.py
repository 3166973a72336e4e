"""Stencil weights and step rules: the numbers every backend's formulas use.

A central stencil of order ``p`` (``p`` even) uses ``m = p / 2`` pairs of
points ``x ± k h`` (``k = 1 .. m``)::

    f'(x) ≈ (1 / h) * Σ_k w_k * (f(x + k h) - f(x - k h))

The weights ``w_k`` are the unique ones that make the formula exact for every
polynomial of degree up to ``p``; the truncation error is ``O(h^p f^(p+1))``.
A forward stencil of order ``p`` uses ``x + k h``, ``k = 0 .. p``, with weights
exact on polynomials of degree ``p``. Both are solved in rationals, once per order.

The automatic step of every method balances its truncation error against the
rounding error of f: see :func:`default_step` and :func:`one_sided_step`.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

__all__ = [
    "COMPLEX_STEP",
    "HESSIAN_STEP",
    "HESSIAN_STEP_FACTORS",
    "ONE_SIDED_ORDERS",
    "ONE_SIDED_STEP_FACTORS",
    "ORDERS",
    "STEP_FACTORS",
    "actual_step",
    "central_weights",
    "default_step",
    "hessian_step",
    "one_sided_second_weights",
    "one_sided_step",
    "one_sided_weights",
    "second_weights",
]

#: The supported (even) orders of the central stencils.
ORDERS = (2, 4, 6, 8)

_EPS = float(np.finfo(np.float64).eps)


def _solve_exactly(rows: list[list[Fraction]], rhs: list[Fraction]) -> tuple[Fraction, ...]:
    """Solve the small non-singular system ``rows @ w = rhs`` in rationals (Gauss-Jordan)."""
    n = len(rhs)
    rows, rhs = [list(r) for r in rows], list(rhs)
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rhs[col], rhs[pivot] = rhs[pivot], rhs[col]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col])]
                rhs[r] -= factor * rhs[col]
    return tuple(rhs[k] / rows[k][k] for k in range(n))



@cache
def _exact_weights(order: int) -> tuple[Fraction, ...]:
    # Exactness on x^(2i-1), i = 1..m, for the antisymmetric combination:
    #   Σ_k w_k * 2 k^(2i-1) = [i == 1]
    m = order // 2
    rows = [[Fraction(2 * k ** (2 * i - 1)) for k in range(1, m + 1)] for i in range(1, m + 1)]
    return _solve_exactly(rows, [Fraction(1 if i == 1 else 0) for i in range(1, m + 1)])


@cache
def central_weights(order: int) -> tuple[float, ...]:
    """Weights ``w_1 .. w_m`` of the central stencil of the given order.

    Parameters
    ----------
    order : int
        One of :data:`ORDERS`.

    Returns
    -------
    tuple of float
        ``order // 2`` weights; for order 2 this is ``(0.5,)``, for order 4
        ``(2/3, -1/12)``.
    """
    return tuple(float(w) for w in _exact_weights(order))


#: Safety factors ``c_p`` of the automatic step, per order (see :func:`default_step`).
STEP_FACTORS = {2: 0.5, 4: 0.25, 6: 0.1, 8: 0.1}


def default_step(order: int) -> float:
    """Relative step ``c_p * eps ** (1 / (p + 1))`` of the central stencils when ``h`` is None.

    Parameters
    ----------
    order : int
        ``p``, one of :data:`ORDERS`.

    Returns
    -------
    float
        The step relative to ``max(1, |x_j|)``; ``c_p`` is ``STEP_FACTORS[p]``.

    Notes
    -----
    The error of an order-``p`` central difference has two parts: truncation,
    about ``C h^p |f^(p+1)|``, which shrinks with ``h``, and rounding, about
    ``eps |f| / h``, which grows as ``h`` shrinks. They balance at
    ``h ~ eps^(1/(p+1))`` (times the scale of ``x``: the step applied is
    ``default_step(p) * max(1, |x_j|)``), where the total error is
    ``~ eps^(p/(p+1))``: about 4e-11 for ``p = 2`` and 1e-14 for ``p = 8``.
    A step that ignores the order (say 1e-5 for every order) leaves the higher
    orders dominated by rounding. The factors :data:`STEP_FACTORS` (0.5 to 0.1)
    shrink the step for functions that vary on scales below 1 (``cos(2 pi x)``
    in Rastrigin and Ackley): on the test suite of :mod:`gradjit.problems` they
    cut the worst relative error of order 8 from 1e-2 to 2e-10 while the
    median stays near 5e-14.

    **Scale.** ``max(1, |x_j|)`` assumes variables of order 1 (scipy's
    ``approx_derivative`` and MATLAB's ``TypicalX`` make the same default). For
    variables on another scale, ``x_scale=`` gives each coordinate's typical
    magnitude ``t_j`` and the step becomes ``h * max(t_j, |x_j|)``: a change of
    units ``x -> s x`` with ``x_scale`` multiplied by ``s`` then takes the same
    relative steps and gives the same relative accuracy (``tests/test_scale.py``;
    ``python benchmarks/accuracy.py``, section "Units"). ``x_scale="auto"`` takes
    ``t_j`` from the points themselves (the largest ``|x_j|`` over the batch,
    exactly invariant under units), but x alone cannot tell a variable of 1e-8
    in a function of scale 1e-8 from one of order 1 that happens to be near 0:
    for ``f = 1 + x**2`` near its minimum at ``x = 1e-8`` the automatic scale
    would take steps of 6e-14, which ``1 + x**2`` cannot resolve: it returns 0
    for the derivative 2e-8, where the default's error stays below 1e-10 (a test). That is why it
    is not the default.
    """
    return STEP_FACTORS[order] * _EPS ** (1.0 / (order + 1))


@register_jitable
def actual_step(x, h, typical):
    """The step actually taken at ``x``: ``(x + s) - x`` with ``s = h * scale``.

    ``scale`` is ``max(typical, |x|)`` where ``typical >= 0`` (the automatic
    rule: ``typical`` is the coordinate's typical magnitude, 1 unless
    ``x_scale=`` says otherwise) and 1 where ``typical < 0`` (absolute steps,
    ``h=`` given). Re-measuring the step removes the representation error of
    ``x + s`` from the quotient. Works elementwise on arrays and is also
    compiled by Numba (the one home of the step rule for every backend).
    A step that vanishes (``x + s == x``, e.g. ``|x| > 1e13`` with ``h=1e-4``)
    is returned as 0, and the quotient then gives NaN, never a fake zero.
    """
    scale = _scale(x, typical) if typical >= 0.0 else 1.0
    return (x + h * scale) - x


def _scale(x, typical):
    """``max(typical, |x|)``, elementwise on arrays (the NumPy reference's columns)."""
    return np.maximum(typical, np.abs(x))


@overload(_scale)
def _scale_compiled(x, typical):
    # Compiled code sees one float at a time; the builtins compile for every target
    # (CUDA has no NumPy ufuncs) and give the same value as the ufuncs.
    if isinstance(x, types.Float):
        return lambda x, typical: max(typical, abs(x))
    return None


@cache
def _exact_second_weights(order: int) -> tuple[Fraction, ...]:
    # c_1 .. c_m of (1/h^2) [c_0 f(x) + Σ_k c_k (f(x + k h) + f(x - k h))], c_0 = -2 Σ_k c_k (exact
    # on constants): exactness on x^(2i), i = 1..m, asks Σ_k c_k 2 k^(2i) = 2 [i == 1].
    m = order // 2
    rows = [[Fraction(k ** (2 * i)) for k in range(1, m + 1)] for i in range(1, m + 1)]
    return _solve_exactly(rows, [Fraction(1 if i == 1 else 0) for i in range(1, m + 1)])


@cache
def second_weights(order: int) -> tuple[float, ...]:
    """Weights ``c_1 .. c_m`` of the central second difference of the given order.

    ``f''(x) ≈ (1/h**2) Σ_k c_k ((f(x + k h) - f(x)) + (f(x - k h) - f(x)))``,
    exact for polynomials of degree ``order + 1``; truncation error
    ``O(h**order f^(order+2))``. Order 2 is ``(1,)``, order 4 ``(4/3, -1/12)``.

    Parameters
    ----------
    order : int
        One of :data:`ORDERS`.

    Returns
    -------
    tuple of float
    """
    return tuple(float(c) for c in _exact_second_weights(order))


@cache
def _exact_one_sided_second_weights(order: int) -> tuple[Fraction, ...]:
    # c_0 .. c_(p+1) with Σ_k c_k k^m = 2 [m == 2] for m = 0 .. p+1: f'' exact on degree p + 1.
    n = order + 2
    rows = [[Fraction(k) ** m for k in range(n)] for m in range(n)]
    return _solve_exactly(rows, [Fraction(2 if m == 2 else 0) for m in range(n)])


@cache
def one_sided_second_weights(order: int) -> tuple[float, ...]:
    """Weights ``c_0 .. c_(p+1)`` of the forward second difference ``f''(x) ≈ (1/h**2) Σ_k c_k f(x + k h)``.

    Error ``O(h**p)``; ``-h`` gives the backward one. Order 1 is ``(1, -2, 1)``.
    Used by Hessians next to a bound (:func:`gradjit.stencils.second.bounded_hessian_entry`).

    Parameters
    ----------
    order : int
        ``p >= 1``.

    Returns
    -------
    tuple of float
        ``p + 2`` weights.
    """
    return tuple(float(c) for c in _exact_one_sided_second_weights(order))


#: Safety factors of the Hessian's automatic step, per order (see :func:`hessian_step`).
HESSIAN_STEP_FACTORS = {2: 1.0, 4: 0.25, 6: 0.1, 8: 0.1}


def hessian_step(order: int) -> float:
    """Relative step ``c_p * eps ** (1 / (p + 2))`` of the Hessian's central stencils when ``h`` is None.

    Parameters
    ----------
    order : int
        ``p``, one of :data:`ORDERS`.

    Returns
    -------
    float
        The step relative to ``max(1, |x_j|)``.

    Notes
    -----
    A second difference of order ``p`` has truncation error about
    ``C h**p |f^(p+2)|`` and rounding error about ``eps |f| / h**2`` (the
    differences of f are divided by ``h**2``, or ``hj hk`` off the diagonal).
    They balance at ``h ~ eps ** (1 / (p + 2))``, where the error is about
    ``eps ** (p / (p + 2))``: 1e-8 for order 2 (``h`` = 1.2e-4), 4e-13 for order 8
    (``h`` = 0.027 times ``c_8``). Structural zeros (a pair of variables that no
    term of f couples) have no truncation error at all, only rounding,
    ``eps |f| / (hj hk)``: the larger steps of the higher orders bring them
    down with it (order 8 about 1e-12 |f|). The factors
    :data:`HESSIAN_STEP_FACTORS` were chosen on the test suite (``python
    benchmarks/accuracy.py``), as :data:`STEP_FACTORS` were.
    """
    return HESSIAN_STEP_FACTORS[order] * _EPS ** (1.0 / (order + 2))


#: Safety factors of the one-sided Hessian's automatic step, per order (see :func:`one_sided_hessian_step`).
ONE_SIDED_HESSIAN_STEP_FACTORS = {1: 2.0, 2: 1.0, 3: 0.5, 4: 0.25, 5: 0.25, 6: 0.25}


def one_sided_hessian_step(order: int) -> float:
    """Relative step ``c_p * eps ** (1 / (p + 2))`` of the Hessian's one-sided stencils
    (``method="forward"``, ``"backward"``), orders 1 to 6: truncation ``~ h**p`` and
    rounding ``~ eps |f| / h**2`` balance there, as for :func:`hessian_step`; the factors
    :data:`ONE_SIDED_HESSIAN_STEP_FACTORS` were chosen on
    :func:`gradjit.problems.hessian_cases`.
    """
    return ONE_SIDED_HESSIAN_STEP_FACTORS[order] * _EPS ** (1.0 / (order + 2))


#: Relative step of the Hessian's order-2 second differences (:func:`hessian_step`
#: at order 2): ``eps ** (1/4)``, about 1.2e-4, where the truncation error
#: ``h**2 |f^(4)| / 12`` and the rounding error ``eps |f| / h**2`` are both about
#: ``sqrt(eps)`` (1e-8) relative to the scale of f.
HESSIAN_STEP = _EPS**0.25


#: Orders of the one-sided (forward and backward) stencils.
ONE_SIDED_ORDERS = (1, 2, 3, 4, 5, 6)


@cache
def _exact_one_sided_weights(order: int) -> tuple[Fraction, ...]:
    # c_0 .. c_p with Σ_k c_k k^m = [m == 1] for m = 0 .. p: exact on polynomials of degree p.
    n = order + 1
    rows = [[Fraction(k) ** m for k in range(n)] for m in range(n)]
    return _solve_exactly(rows, [Fraction(1 if m == 1 else 0) for m in range(n)])


@cache
def one_sided_weights(order: int) -> tuple[float, ...]:
    """Weights ``c_0 .. c_p`` of the forward stencil ``f'(x) ≈ (1/h) Σ_k c_k f(x + k h)``.

    The backward stencil is the same with ``-h``; the truncation error is ``O(h^p)``.

    Parameters
    ----------
    order : int
        ``p``, one of :data:`ONE_SIDED_ORDERS` (higher orders are solved too).

    Returns
    -------
    tuple of float
        ``p + 1`` weights: order 1 is ``(-1, 1)``, order 2 ``(-3/2, 2, -1/2)``.
    """
    return tuple(float(w) for w in _exact_one_sided_weights(order))


#: Safety factors of the one-sided automatic step, per order (as :data:`STEP_FACTORS`).
ONE_SIDED_STEP_FACTORS = {1: 1.0, 2: 0.5, 3: 0.25, 4: 0.25, 5: 0.1, 6: 0.1}


def one_sided_step(order: int) -> float:
    """Relative step ``c_p * eps ** (1 / (p + 1))`` of the one-sided stencils when ``h`` is None.

    Truncation ``~ h**p`` and rounding ``~ eps / h`` balance there, as for the
    central stencils (:func:`default_step`). The factors
    :data:`ONE_SIDED_STEP_FACTORS` were chosen on the test suite
    (``python benchmarks/accuracy_table.py``): the worst relative error of
    orders 4 to 6 drops from 1e-7–1e-5 at ``c = 0.5`` to 4e-9–1e-8.

    Parameters
    ----------
    order : int
        ``p``, one of :data:`ONE_SIDED_ORDERS`.

    Returns
    -------
    float
        The step relative to ``max(1, |x_j|)``.
    """
    return ONE_SIDED_STEP_FACTORS[order] * _EPS ** (1.0 / (order + 1))


#: Relative step of the complex-step derivative. There is no subtraction, so
#: no cancellation: any tiny step works, and the truncation error
#: ``h**2 |f'''| / 6`` vanishes at this one.
COMPLEX_STEP = 1e-20


#: The highest derivative :func:`gradjit.derivative` takes (``n=``).
MAX_DERIVATIVE = 10


@cache
def _exact_nth_weights(n: int, order: int) -> tuple[Fraction, ...]:
    # c_(-m) .. c_m on the points k = -m .. m with Σ_k c_k k^j = n! [j == n] for j = 0 .. 2m:
    # exact on polynomials of degree 2m (Fornberg's weights at equispaced points, solved
    # exactly). m = (n + p - 1) // 2 makes the error O(h^p): the stencil is symmetric for
    # even n and antisymmetric for odd n, so the first term left has degree n + p.
    m = (n + order - 1) // 2
    points = range(-m, m + 1)
    rows = [[Fraction(k) ** j for k in points] for j in range(2 * m + 1)]
    factorial = 1
    for i in range(2, n + 1):
        factorial *= i
    return _solve_exactly(rows, [Fraction(factorial if j == n else 0) for j in range(2 * m + 1)])


@cache
def nth_weights(n: int, order: int) -> tuple[float, ...]:
    """Weights ``c_(-m) .. c_m`` of the central stencil of the ``n``-th derivative:
    ``f^(n)(x) ≈ (1/h**n) Σ_k c_k f(x + k h)``, error ``O(h**order)``.

    Parameters
    ----------
    n : int
        The derivative, 1 to :data:`MAX_DERIVATIVE`.
    order : int
        One of :data:`ORDERS`.

    Returns
    -------
    tuple of float
        ``2 m + 1`` weights, ``m = (n + order - 1) // 2``: for ``n = 3``, order 2,
        ``(-1/2, 1, 0, -1, 1/2)``.
    """
    return tuple(float(c) for c in _exact_nth_weights(n, order))


#: Safety factors of the n-th derivative's automatic step, per order (see :func:`nth_step`).
NTH_STEP_FACTORS = {2: 0.5, 4: 0.5, 6: 0.25, 8: 0.25}


def nth_step(n: int, order: int) -> float:
    """Relative step ``c_p * (A eps) ** (1 / (n + p))`` of the ``n``-th derivative's central
    stencil of order ``p`` when ``h`` is None (times ``max(1, |x|)``), ``A = Σ|c_k|``.

    The truncation error is about ``C h**p |f^(n+p)|`` and the rounding error about
    ``A eps |f| / h**n``, ``A`` the sum of the weights' magnitudes (it grows like ``2**n``:
    1024 for ``n = 10`` at order 2); they balance at ``h ~ (A eps) ** (1 / (n + p))``, where
    the error is about ``(A eps) ** (p / (n + p))`` relative: each higher derivative loses
    accuracy (order 2: 3e-9 for ``n = 2``, 1e-2 for ``n = 8`` on
    :func:`gradjit.problems.derivative_cases`), which higher orders and Richardson win
    back. The factors :data:`NTH_STEP_FACTORS` were chosen on those cases for n = 2 to 10.
    """
    amplification = sum(abs(c) for c in nth_weights(n, order))
    return NTH_STEP_FACTORS[order] * (amplification * _EPS) ** (1.0 / (n + order))
