"""Central finite-difference stencils and the step rule, shared by every backend.

A central stencil of order ``p`` (``p`` even) uses ``m = p / 2`` pairs of
points ``x ± k h`` (``k = 1 .. m``)::

    f'(x) ≈ (1 / h) * Σ_k w_k * (f(x + k h) - f(x - k h))

The weights ``w_k`` are the unique ones that make the formula exact for every
polynomial of degree up to ``p``; the truncation error is ``O(h^p f^(p+1))``.

The ``*_entry`` functions below are the one home of each formula: the NumPy
reference calls them as they are, and, being ``register_jitable``, compiled
kernels call them too (they are compiled for each kernel's types).
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np
from numba.extending import register_jitable

from .errors import ObjectiveError

__all__ = [
    "COMPLEX_STEP",
    "HESSIAN_STEP",
    "ONE_SIDED_ORDERS",
    "ORDERS",
    "RICHARDSON_TABLE_SIZE",
    "actual_step",
    "bounded_entry",
    "bounded_richardson_entry",
    "central_entry",
    "central_weights",
    "choose_side",
    "complex_step_entry",
    "default_step",
    "hessian_entry",
    "jacobian_column",
    "one_sided_entry",
    "one_sided_step",
    "one_sided_weights",
    "richardson_entry",
    "stencil_fits",
]

#: The supported (even) stencil orders.
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
    """Relative step ``c_p * eps ** (1 / (p + 1))`` used when ``h`` is None (``p = order``).

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
    """
    return STEP_FACTORS[order] * _EPS ** (1.0 / (order + 1))


def actual_step(x, h, scaled):
    """The step actually taken at ``x``: ``(x + s) - x`` with ``s = h * scale``.

    ``scale`` is ``max(1, |x|)`` when ``scaled`` is true (the automatic rule)
    and 1 otherwise. Re-measuring the step removes the representation error of
    ``x + s`` from the quotient. Works elementwise on arrays and is also
    compiled by Numba (the one home of the step rule for every backend).
    A step that vanishes (``x + s == x``, e.g. ``|x| > 1e13`` with ``h=1e-4``)
    is returned as 0, and the quotient then gives NaN, never a fake zero.
    """
    scale = np.maximum(1.0, np.abs(x)) if scaled else 1.0
    return (x + h * scale) - x


#: Relative step of the Hessian's second differences: ``eps ** (1/4)``, about 1.2e-4.
#: Their truncation error is about ``h**2 |f^(4)| / 12`` and their rounding error
#: about ``eps |f| / h**2``; the two balance at ``h ~ eps ** (1/4)``, where both
#: are about ``sqrt(eps)`` (1e-8) relative to the scale of f.
HESSIAN_STEP = _EPS**0.25


@register_jitable
def hessian_entry(call, args, x, j, k, hj, hk, center):
    """Entry ``(j, k)`` of the Hessian at ``x`` by central second differences.

    ``call(x, args)`` evaluates f; ``center`` is ``f(x)``; ``hj``, ``hk`` are the
    steps actually taken (:func:`actual_step`). ``x`` is perturbed in place and
    restored exactly. The diagonal is ``(f(x + h e_j) - 2 f(x) + f(x - h e_j)) / h**2``;
    an off-diagonal entry is the four-point cross difference divided by
    ``4 hj hk``, symmetric in ``j`` and ``k``. Compiled by Numba for the kernels
    and run as it is by the NumPy reference: the one home of the formula.
    """
    xj = x[j]
    if j == k:
        x[j] = xj + hj
        plus = call(x, args)
        x[j] = xj - hj
        minus = call(x, args)
        x[j] = xj
        return (plus - 2.0 * center + minus) / (hj * hj)
    xk = x[k]
    x[j] = xj + hj
    x[k] = xk + hk
    plus_plus = call(x, args)
    x[k] = xk - hk
    plus_minus = call(x, args)
    x[j] = xj - hj
    minus_minus = call(x, args)
    x[k] = xk + hk
    minus_plus = call(x, args)
    x[j] = xj
    x[k] = xk
    return ((plus_plus - plus_minus) - (minus_plus - minus_minus)) / (4.0 * hj * hk)


@register_jitable
def jacobian_column(call, args, x, j, h, weights, column):
    """Column ``j`` of the Jacobian of a vector function at ``x`` into ``column`` (length m).

    ``call(x, args)`` returns F(x), a 1-D array; ``h`` is the step actually
    taken; the central stencil with ``weights`` is applied to every component
    at once. ``x`` is perturbed in place and restored exactly. Shared by the
    kernels and the NumPy reference like :func:`hessian_entry`.
    """
    x0 = x[j]
    for r in range(column.shape[0]):
        column[r] = 0.0
    for k in range(len(weights)):
        x[j] = x0 + (k + 1) * h
        plus = call(x, args)
        x[j] = x0 - (k + 1) * h
        minus = call(x, args)
        if plus.shape[0] != column.shape[0] or minus.shape[0] != column.shape[0]:
            x[j] = x0
            raise ObjectiveError("F must return arrays of the same length m at every point; it did not.")
        for r in range(column.shape[0]):
            column[r] += weights[k] * (plus[r] - minus[r])
    x[j] = x0
    for r in range(column.shape[0]):
        column[r] /= h


#: Orders of the one-sided (forward and backward) stencils.
ONE_SIDED_ORDERS = (1, 2, 3, 4, 5, 6)


@cache
def _exact_one_sided_weights(order: int) -> tuple[Fraction, ...]:
    # c_0 .. c_p with Σ_k c_k k^m = [m == 1] for m = 0 .. p: exact on polynomials of degree p.
    n = order + 1
    rows = [[Fraction(k) ** m for k in range(n)] for m in range(n)]
    return _solve_exactly(rows, [Fraction(1 if m == 1 else 0) for m in range(n)])


def one_sided_weights(order: int) -> tuple[float, ...]:
    """Weights ``c_0 .. c_p`` of the forward stencil ``f'(x) ≈ (1/h) Σ_k c_k f(x + k h)``.

    The backward stencil is the same with ``-h``. Order 1 is ``(-1, 1)``, order 2
    ``(-3/2, 2, -1/2)``; the truncation error is ``O(h^p)``.
    """
    return tuple(float(w) for w in _exact_one_sided_weights(order))


@register_jitable
def one_sided_entry(call, args, x, j, h, weights):
    """``(1/h) Σ_k c_k f(x + k h e_j)`` at ``x`` (perturbed in place and restored);
    ``h`` < 0 gives the backward stencil. Shared by the kernels and the reference."""
    x0 = x[j]
    total = 0.0
    for k in range(len(weights)):
        x[j] = x0 + k * h
        total += weights[k] * call(x, args)
    x[j] = x0
    return total / h


#: Relative step of the complex-step derivative. There is no subtraction, so
#: no cancellation: any tiny step works, and the truncation error
#: ``h**2 |f'''| / 6`` vanishes at this one.
COMPLEX_STEP = 1e-20


@register_jitable
def complex_step_entry(call, args, x, j, step, scaled):
    """``Im f(x + i h e_j) / h`` at the complex point ``x`` (restored after), with
    ``h = step * max(1, |x_j|)`` when ``scaled``: exact to rounding for f analytic
    in its inputs (no subtraction, so the step needs no re-measuring)."""
    x0 = x[j]
    h = step * max(1.0, abs(x0.real)) if scaled else step
    x[j] = x0 + 1j * h
    value = call(x, args)
    x[j] = x0
    return value.imag / h


#: Safety factors of the one-sided automatic step, per order (as :data:`STEP_FACTORS`).
ONE_SIDED_STEP_FACTORS = {1: 1.0, 2: 0.5, 3: 0.25, 4: 0.25, 5: 0.1, 6: 0.1}


def one_sided_step(order: int) -> float:
    """Relative step of the one-sided stencil of order ``p``: ``c_p * eps ** (1 / (p + 1))``,
    where truncation ``~ h**p`` and rounding ``~ eps / h`` balance, as for the central
    stencils (:func:`default_step`). The factors :data:`ONE_SIDED_STEP_FACTORS` were
    chosen on the test suite (``python benchmarks/accuracy_table.py``): the worst
    relative error of orders 4 to 6 drops from 1e-7–1e-5 at ``c = 0.5`` to 4e-9–1e-8.
    """
    return ONE_SIDED_STEP_FACTORS[order] * _EPS ** (1.0 / (order + 1))


# Richardson extrapolation of the order-2 central difference
#     D(h) = f'(x) + a1 h^2 + a2 h^4 + ...
# over the geometric steps h_i = base * q**i (q = RICHARDSON_RATIO, i < RICHARDSON_STEPS).
# With r = 1 / q^2, level k of the tableau removes the h^(2k) term:
#     T_k(i) = T_(k-1)(i) + (T_(k-1)(i) - T_(k-1)(i-1)) / (r**k - 1).
# One-sided differences (f(x ± h) - f(x)) / ±h have every power of h: there r = 1 / q.
# Every T_k(i) of levels 2 .. RICHARDSON_LEVELS is a candidate, with the error estimate
#     |T_k(i) - T_k(i-1)|           truncation: how far the level moved from the last window,
#   + |T_k(i) - T_(k-1)(i)|         what the last extrapolation changed, here and in the
#   + |T_k(i-1) - T_(k-1)(i-1)|     window before (windows that agree by chance, or that
#                                   settle on a plateau, do not pass all three),
#   + RICHARDSON_ROUNDING * G_k * eps |f(x)| / h_i    rounding of f, amplified by the level,
# and the candidate with the smallest estimate wins. The steps are taken largest first,
# and the loop stops once no later candidate can win (their estimates are at least
# their rounding terms, which only grow). Large steps suit functions whose
# f is large beside their gradient (rounding), small ones fast-varying functions; the
# sequence spans both, from max(1, |x_j|) down to 0.0013 max(1, |x_j|). The parameters
# were chosen on the test suite: with python benchmarks/accuracy.py --seed 11 (1, 2, 3)
# the 99th percentile of the relative error is 2.9e-13 to 3.2e-13, the worst 1.1e-12
# to 2.5e-12.

#: Relative base step (the largest), times ``max(1, |x_j|)``.
RICHARDSON_BASE = 1.0
#: Ratio of one step to the one before.
RICHARDSON_RATIO = 0.6
#: Steps in the geometric sequence (2 evaluations of f each).
RICHARDSON_STEPS = 14
#: The highest extrapolation level (the lowest is 2).
RICHARDSON_LEVELS = 8
#: Fewest steps a bounded coordinate may use before it turns one-sided.
RICHARDSON_MIN_STEPS = 6
#: The rounding part of the error estimate: this many ``G_k eps |f(x)| / h``.
RICHARDSON_ROUNDING = 10.0


def _noise_gains(r: float, one_sided: bool) -> np.ndarray:
    """``G_k`` per level ``k``: the rounding error of ``T_k(i)`` in units of
    ``eps |f| / h_i``. ``T_k(i) = Σ_m w_m D(h_(i-k+m))`` and ``D(h)``'s rounding
    is ``eps |f| / h`` (central; twice that one-sided), so ``G_k = Σ_m |w_m| h_i / h_(i-k+m)``."""
    gains = np.empty(RICHARDSON_LEVELS + 1)
    weights = np.array([1.0])
    for k in range(RICHARDSON_LEVELS + 1):
        if k:
            c = 1.0 / (r**k - 1.0)
            weights = np.concatenate([[0.0], (1.0 + c) * weights]) - np.concatenate([c * weights, [0.0]])
        gains[k] = np.sum(np.abs(weights) * RICHARDSON_RATIO ** np.arange(k, -1, -1))
    return gains * (2.0 if one_sided else 1.0)


# Per level k: 1 / (r**k - 1), the tableau's factor, and G_k (central, then one-sided).
_LEVELS = np.arange(RICHARDSON_LEVELS + 1)
_CENTRAL_FACTORS = 1.0 / np.maximum(RICHARDSON_RATIO ** (-2.0 * _LEVELS) - 1.0, 1e-300)  # level 0 unused
_ONE_SIDED_FACTORS = 1.0 / np.maximum(RICHARDSON_RATIO ** (-1.0 * _LEVELS) - 1.0, 1e-300)
_CENTRAL_GAINS = _noise_gains(RICHARDSON_RATIO**-2, one_sided=False)
_ONE_SIDED_GAINS = _noise_gains(1.0 / RICHARDSON_RATIO, one_sided=True)

#: Scratch floats :func:`richardson_entry` needs: the tableau and the inverse steps.
RICHARDSON_TABLE_SIZE = (RICHARDSON_LEVELS + 2) * RICHARDSON_STEPS


@register_jitable
def richardson_entry(call, args, x, j, base, count, direction, center, table):
    """``(estimate, error_estimate)`` of ``df/dx_j`` at ``x`` by Richardson extrapolation.

    The steps are ``base * RICHARDSON_RATIO**i`` for ``i < count``
    (``RICHARDSON_MIN_STEPS <= count <= RICHARDSON_STEPS``), each re-measured as
    ``(x_j ± s) - x_j``. ``direction`` 0 extrapolates central differences (error
    in even powers of h); +1 / -1 forward / backward ones ``(f(x ± h e_j) - f(x)) / ±h``
    (all powers), for points next to a bound. ``center`` is ``f(x)``; ``table`` is
    scratch space of ``RICHARDSON_TABLE_SIZE`` floats. The candidates and their
    error estimates are described above. ``x`` is perturbed in place and restored.
    Shared by the kernels and the NumPy reference.
    """
    n = RICHARDSON_STEPS
    inverse = (RICHARDSON_LEVELS + 1) * n  # where 1 / |h_i| is kept
    factors = _CENTRAL_FACTORS if direction == 0 else _ONE_SIDED_FACTORS
    gains = _CENTRAL_GAINS if direction == 0 else _ONE_SIDED_GAINS
    rounding = RICHARDSON_ROUNDING * _EPS * abs(center)
    best, best_error = np.nan, np.inf
    x0 = x[j]
    sign = -1.0 if direction < 0 else 1.0
    step = base
    for i in range(count):
        # Step i: a new difference quotient, then the new column of the tableau and its candidates.
        h = (x0 + sign * step) - x0
        x[j] = x0 + h
        plus = call(x, args)
        if direction == 0:
            x[j] = x0 - h
            table[i] = (plus - call(x, args)) / (2.0 * h)
        else:
            table[i] = (plus - center) / h
        table[inverse + i] = 1.0 / abs(h)
        for k in range(1, min(i, RICHARDSON_LEVELS) + 1):
            row, below_row = k * n, (k - 1) * n
            below = table[below_row + i]
            value = below + (below - table[below_row + i - 1]) * factors[k]
            table[row + i] = value
            if k >= 2 and i >= k + 2:
                error = (abs(value - table[row + i - 1]) + abs(value - below)
                         + abs(table[row + i - 1] - table[below_row + i - 1])
                         + rounding * gains[k] * table[inverse + i])
                if error < best_error:  # a NaN error never wins
                    best, best_error = value, error
        # Every later candidate's estimate is at least its rounding term, and those
        # only grow (smaller steps, higher levels' larger gains): once the best beats
        # the smallest of them, no later step can change the result, so stop early.
        step *= RICHARDSON_RATIO
        if best_error <= rounding * gains[2] * (1.0 / abs((x0 + sign * step) - x0)):
            break
    x[j] = x0
    return best, best_error


@register_jitable
def stencil_fits(x0, s, direction, reach, lower, upper):
    """Whether a stencil of step ``s`` reaching ``reach`` steps from ``x0`` (both ways
    for ``direction`` 0, else toward its sign) evaluates f inside ``[lower, upper]``
    only. The farthest points are computed as :func:`central_entry`,
    :func:`one_sided_entry` and :func:`richardson_entry` compute them, and rounding
    is monotonic, so no point of the stencil can round past a bound."""
    h = ((x0 - s) - x0) if direction < 0 else ((x0 + s) - x0)
    far = x0 + reach * h
    if direction == 0:
        return far <= upper and x0 - reach * h >= lower
    return lower <= far <= upper


@register_jitable
def choose_side(x0, s, lower, upper, central_reach, one_sided_reach):
    """``(direction, s)``: central (0) when the stencil of step ``s`` fits in
    ``[lower, upper]`` (:func:`stencil_fits`); else one-sided toward the side with
    more room (+1 up, -1 down), with ``s`` shrunk so that it fits (as scipy's
    ``approx_derivative`` does with bounds). ``s`` is 0 when there is no room at all."""
    if stencil_fits(x0, s, 0, central_reach, lower, upper):
        return 0, s
    down, up = x0 - lower, upper - x0
    direction = 1 if up >= down else -1
    s = min(s, max(up, down) * (1.0 - 1e-12) / one_sided_reach)
    for _ in range(64):  # the farthest point may still round past the bound: halve until it does not
        if stencil_fits(x0, s, direction, one_sided_reach, lower, upper):
            return direction, s
        s *= 0.5
    return direction, 0.0


@register_jitable
def central_entry(call, args, x, j, h, weights):
    """``(1/h) Σ_k w_k (f(x + k h e_j) - f(x - k h e_j))`` at ``x`` (restored after)."""
    x0 = x[j]
    total = 0.0
    for k in range(len(weights)):
        x[j] = x0 + (k + 1) * h
        plus = call(x, args)
        x[j] = x0 - (k + 1) * h
        total += weights[k] * (plus - call(x, args))
    x[j] = x0
    return total / h


@register_jitable
def bounded_entry(call, args, x, j, s, lower, upper, weights, one_sided):
    """A central entry of step ``s`` that never evaluates f outside ``[lower, upper]``:
    next to a bound it becomes the one-sided stencil of the same order (weights
    ``one_sided``) toward the inside, with a step that fits (:func:`choose_side`)."""
    x0 = x[j]
    direction, s = choose_side(x0, s, lower, upper, len(weights), len(one_sided) - 1)
    h = ((x0 + s) - x0) if direction >= 0 else ((x0 - s) - x0)
    if h == 0.0:
        return np.nan
    if direction == 0:
        return central_entry(call, args, x, j, h, weights)
    return one_sided_entry(call, args, x, j, h, one_sided)


@register_jitable
def _fitting_steps(x0, s, direction, lower, upper):
    """``(base, count)``: the tail of the steps ``s * RICHARDSON_RATIO**i`` that fit
    inside ``[lower, upper]`` (the steps shrink, so once one fits the rest do)."""
    first = 0
    while first < RICHARDSON_STEPS and not stencil_fits(x0, s, direction, 1, lower, upper):
        s *= RICHARDSON_RATIO
        first += 1
    return s, RICHARDSON_STEPS - first


@register_jitable
def bounded_richardson_entry(call, args, x, j, s, lower, upper, center, table):
    """:func:`richardson_entry` with largest step ``s`` that never evaluates f outside
    ``[lower, upper]``. Steps that would cross a bound are dropped while at least
    ``RICHARDSON_MIN_STEPS`` remain. Nearer a bound two extrapolations compete, and
    the one with the smaller error estimate wins: one-sided toward the side with
    more room, over the steps that fit (or, with too little room even for that,
    ``RICHARDSON_STEPS`` steps from the room down); and central, over
    ``RICHARDSON_STEPS`` steps from the nearer bound's distance down (for functions
    that vary on that scale, such as log x near 0). ``(nan, inf)`` where there is no
    room at all."""
    x0 = x[j]
    base, count = _fitting_steps(x0, s, 0, lower, upper)
    if count >= RICHARDSON_MIN_STEPS:
        return richardson_entry(call, args, x, j, base, count, 0, center, table)
    down, up = x0 - lower, upper - x0
    direction = 1 if up >= down else -1
    base, count = _fitting_steps(x0, s, direction, lower, upper)
    if count < RICHARDSON_MIN_STEPS:
        base, count = _fitting_steps(x0, max(down, up), direction, lower, upper)
    one_sided, one_sided_error = richardson_entry(call, args, x, j, base, count, direction, center, table)
    if min(down, up) > 0.0:
        base, count = _fitting_steps(x0, min(down, up), 0, lower, upper)
        central, central_error = richardson_entry(call, args, x, j, base, count, 0, center, table)
        if central_error < one_sided_error:
            return central, central_error
    return one_sided, one_sided_error
