"""Second derivatives: the Hessian's entries, by central stencils of orders 2 to 8,
next to a bound, and by Richardson extrapolation.

Like :mod:`gradjit.stencils.formulas`, every function here computes one entry
``(j, k)`` at a point ``x`` that it perturbs in place and restores exactly,
calling f as ``call(x, args)``; ``center`` is ``f(x)``. They are
``register_jitable``: the NumPy reference runs them as they are and the kernels
compile them, so both share the arithmetic instruction for instruction.

The stencils
------------
Diagonal, order ``p = 2 m`` (weights :func:`~gradjit.stencils.weights.second_weights`)::

    H_jj ≈ (1 / h**2) Σ_a c_a ((f(x + a h e_j) - f(x)) + (f(x - a h e_j) - f(x)))

Off the diagonal, the same weights along the two diagonals ``u = hj e_j + hk e_k``
and ``v = hj e_j - hk e_k``: the second differences along u and v estimate
``u' H u`` and ``v' H v``, whose difference is ``4 hj hk H_jk``::

    H_jk ≈ (1 / (4 hj hk)) Σ_a c_a ((f(x + a u) - f(x + a v)) - (f(x - a v) - f(x - a u)))

``2 p`` evaluations per entry and error ``O(h**p)``; f(x) cancels. Where f does not
couple ``x_j`` and ``x_k`` (a structural zero), every derivative that the truncation
error involves vanishes: what is left is the rounding of f, ``eps |f| / (hj hk)``,
which is why larger steps (:func:`~gradjit.stencils.weights.hessian_step`) bring
such entries down to rounding level.

Next to a bound a coordinate whose stencil would cross it turns one-sided toward
the inside (:func:`~gradjit.stencils.bounds.choose_side`): the diagonal uses the
one-sided second difference of the same order, and an entry with a one-sided
coordinate the product of two first-derivative stencils (central or one-sided
per coordinate, same order).
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable

from .bounds import choose_side, fitting_steps
from .richardson import (
    _CENTRAL_FACTORS,
    _EPS,
    _ONE_SIDED_FACTORS,
    RICHARDSON_LEVELS,
    RICHARDSON_MAX_SKIPPED,
    RICHARDSON_MIN_STEPS,
    RICHARDSON_RATIO,
    RICHARDSON_ROUNDING,
    RICHARDSON_STEPS,
    SECOND_CENTRAL_GAINS,
    SECOND_ONE_SIDED_GAINS,
    extend_tableau,
)
from .weights import COMPLEX_STEP, central_weights, one_sided_second_weights, one_sided_weights, second_weights

__all__ = ["bounded_hessian_entry", "bounded_richardson_second_entry", "complex_hessian_entry", "hessian_weights",
           "one_sided_hessian_entry", "product_entry", "richardson_second_entry", "second_entry"]

#: The first-derivative stencils of order 1 (one-sided) and 2 (central) that Richardson's
#: second differences multiply next to a bound.
_RICHARDSON_CENTRAL = (0.5,)
_RICHARDSON_ONE_SIDED = (-1.0, 1.0)


@register_jitable
def second_entry(call, args, x, j, k, hj, hk, weights, center):
    """Entry ``(j, k)`` by the central stencil with second-difference ``weights`` (see above);
    ``hj``, ``hk`` are the steps actually taken (``hj == hk`` on the diagonal)."""
    xj = x[j]
    total = 0.0
    if j == k:
        for a in range(len(weights)):
            x[j] = xj + (a + 1) * hj
            plus = call(x, args)
            x[j] = xj - (a + 1) * hj
            total += weights[a] * ((plus - center) + (call(x, args) - center))
        x[j] = xj
        return total / (hj * hj)
    xk = x[k]
    for a in range(len(weights)):
        sj, sk = (a + 1) * hj, (a + 1) * hk
        x[j] = xj + sj
        x[k] = xk + sk
        plus_plus = call(x, args)
        x[k] = xk - sk
        plus_minus = call(x, args)
        x[j] = xj - sj
        minus_minus = call(x, args)
        x[k] = xk + sk
        minus_plus = call(x, args)
        total += weights[a] * ((plus_plus - plus_minus) - (minus_plus - minus_minus))
    x[j] = xj
    x[k] = xk
    return total / (4.0 * hj * hk)


@register_jitable
def _stencil_size(direction, central, one_sided):
    return 2 * len(central) if direction == 0 else len(one_sided)


@register_jitable
def _stencil_point(direction, central, one_sided, a):
    """``(offset, weight)`` of point ``a`` of a first-derivative stencil: central
    (offsets ±1 .. ±m, weights ±w) for ``direction`` 0, else one-sided (offsets 0 .. p;
    the sign is the step's)."""
    if direction != 0:
        return float(a), one_sided[a]
    m = len(central)
    if a < m:
        return float(a + 1), central[a]
    return -float(a - m + 1), -central[a - m]


@register_jitable
def product_entry(call, args, x, j, k, hj, dj, hk, dk, central, one_sided):
    """Entry ``(j, k)``, ``j != k``, as ``D_j D_k f``: the product of a first-derivative
    stencil along each coordinate, central (``d = 0``, weights ``central``) or one-sided
    (``d = ±1``, weights ``one_sided``, the step ``h`` negative backward)."""
    xj, xk = x[j], x[k]
    total = 0.0
    for a in range(_stencil_size(dj, central, one_sided)):
        offset_j, weight_j = _stencil_point(dj, central, one_sided, a)
        x[j] = xj + offset_j * hj
        inner = 0.0
        for b in range(_stencil_size(dk, central, one_sided)):
            offset_k, weight_k = _stencil_point(dk, central, one_sided, b)
            x[k] = xk + offset_k * hk
            inner += weight_k * call(x, args)
        x[k] = xk
        total += weight_j * inner
    x[j] = xj
    return total / (hj * hk)


@register_jitable
def _one_sided_second(call, args, x, j, h, weights, center):
    """``(1/h**2) Σ_k c_k f(x + k h e_j)``, ``c`` the one-sided second-difference weights."""
    xj = x[j]
    total = weights[0] * center
    for a in range(1, len(weights)):
        x[j] = xj + a * h
        total += weights[a] * call(x, args)
    x[j] = xj
    return total / (h * h)


@register_jitable
def _side(x0, s, lower, upper, central_reach, one_sided_reach):
    """``(direction, h)`` of one coordinate inside ``[lower, upper]`` (:func:`choose_side`), ``h`` signed."""
    direction, s = choose_side(x0, s, lower, upper, central_reach, one_sided_reach)
    h = ((x0 - s) - x0) if direction < 0 else ((x0 + s) - x0)
    return direction, h


@register_jitable
def bounded_hessian_entry(call, args, x, j, k, sj, sk, lower, upper, second, central, one_sided, one_sided_second,
                          center):
    """Entry ``(j, k)`` of steps ``sj``, ``sk`` that never evaluates f outside the box
    ``lower``, ``upper`` (arrays over the coordinates): central where both stencils fit,
    else one-sided toward the inside along the coordinates that do not (their steps shrunk
    to fit); NaN where a coordinate has no room at all. Weights of one order: ``second``
    and ``one_sided_second`` (second differences), ``central`` and ``one_sided`` (first)."""
    reach = len(one_sided_second) - 1
    dj, hj = _side(x[j], sj, lower[j], upper[j], len(central), reach)
    if hj == 0.0:
        return np.nan
    if j == k:
        if dj == 0:
            return second_entry(call, args, x, j, j, hj, hj, second, center)
        return _one_sided_second(call, args, x, j, hj, one_sided_second, center)
    dk, hk = _side(x[k], sk, lower[k], upper[k], len(central), reach)
    if hk == 0.0:
        return np.nan
    if dj == 0 and dk == 0:
        return second_entry(call, args, x, j, k, hj, hk, second, center)
    return product_entry(call, args, x, j, k, hj, dj, hk, dk, central, one_sided)


@register_jitable
def _second_quotient(call, args, x, j, k, hj, dj, hk, dk, center):
    """The lowest-order second difference at steps ``hj``, ``hk`` (signed where one-sided):
    what Richardson extrapolates."""
    if j == k:
        if dj == 0:
            return second_entry(call, args, x, j, j, hj, hj, (1.0,), center)
        return _one_sided_second(call, args, x, j, hj, (1.0, -2.0, 1.0), center)
    if dj == 0 and dk == 0:
        return second_entry(call, args, x, j, k, hj, hk, (1.0,), center)
    return product_entry(call, args, x, j, k, hj, dj, hk, dk, _RICHARDSON_CENTRAL, _RICHARDSON_ONE_SIDED)


@register_jitable
def richardson_second_entry(call, args, x, j, k, base_j, dj, base_k, dk, count, center, table):
    """``(estimate, error_estimate)`` of entry ``(j, k)`` by Richardson extrapolation.

    The steps are ``base * RICHARDSON_RATIO**i`` per coordinate for ``i < count``, each
    re-measured; ``dj``, ``dk`` are 0 (central) or the side of a one-sided coordinate.
    The quotient is the lowest-order second difference (:func:`_second_quotient`): its
    error runs in even powers of the steps when both are central, in every power
    otherwise, and the tableau (:func:`~gradjit.stencils.richardson.extend_tableau`)
    removes them level by level. The rounding term of the estimate is the quotient's:
    ``eps |f| / (hj hk)`` times 4 on the diagonal and one-sided (1 for the central
    cross difference, 2 for a mixed one). Leading steps whose quotient is NaN or
    infinite are skipped, as :func:`~gradjit.stencils.richardson.richardson_entry`
    does. The estimate does not look for kinks (the gradient's does). ``x`` is
    perturbed in place and restored.
    """
    central = dj == 0 and dk == 0
    factors = _CENTRAL_FACTORS if central else _ONE_SIDED_FACTORS
    gains = SECOND_CENTRAL_GAINS if central else SECOND_ONE_SIDED_GAINS
    if j == k or (dj != 0 and dk != 0):
        noise = 4.0
    elif central:
        noise = 1.0
    else:
        noise = 2.0
    rounding = RICHARDSON_ROUNDING * _EPS * abs(center) * noise
    inverse = (RICHARDSON_LEVELS + 1) * RICHARDSON_STEPS
    sign_j = -1.0 if dj < 0 else 1.0
    sign_k = -1.0 if dk < 0 else 1.0
    xj, xk = x[j], x[k]
    step_j, step_k = base_j, base_k
    best, best_error = np.nan, np.inf
    i = skipped = 0
    while i < count:
        hj = (xj + sign_j * step_j) - xj
        hk = (xk + sign_k * step_k) - xk
        if hj == 0.0 or hk == 0.0:
            break  # below the spacing of floats at x (only after many skipped steps)
        quotient = _second_quotient(call, args, x, j, k, hj, dj, hk, dk, center)
        if i == 0 and not math.isfinite(quotient) and skipped < RICHARDSON_MAX_SKIPPED:
            skipped += 1  # f NaN or infinite this far from x: start at a smaller step
            step_j *= RICHARDSON_RATIO
            step_k *= RICHARDSON_RATIO
            continue
        table[i] = quotient
        table[inverse + i] = 1.0 / abs(hj * hk)
        best, best_error = extend_tableau(table, i, factors, gains, rounding, best, best_error)
        step_j *= RICHARDSON_RATIO
        step_k *= RICHARDSON_RATIO
        i += 1
        # As in richardson_entry: later candidates' rounding terms only grow, so once the
        # best beats the smallest of them, stop.
        if best_error <= rounding * gains[2] / abs(((xj + step_j) - xj) * ((xk + step_k) - xk)):
            break
    return best, best_error


@register_jitable
def _richardson_plan(x0, s, lower, upper):
    """``(direction, base, count)`` of one coordinate's Richardson steps inside
    ``[lower, upper]``: central over the steps from ``s`` down that fit, while at least
    ``RICHARDSON_MIN_STEPS`` do; else one-sided toward the side with more room (its
    second difference reaches two steps), from ``s`` or, with too little room even for
    that, from the room down. ``count`` 0: no room at all."""
    base, count = fitting_steps(x0, s, 0, lower, upper, 1)
    if count >= RICHARDSON_MIN_STEPS:
        return 0, base, count
    down, up = x0 - lower, upper - x0
    direction = 1 if up >= down else -1
    base, count = fitting_steps(x0, s, direction, lower, upper, 2)
    if count < RICHARDSON_MIN_STEPS:
        base, count = fitting_steps(x0, max(down, up) / 2.0, direction, lower, upper, 2)
    if max(down, up) <= 0.0:
        count = 0
    return direction, base, count


@register_jitable
def bounded_richardson_second_entry(call, args, x, j, k, sj, sk, lower, upper, center, table):
    """:func:`richardson_second_entry` with largest steps ``sj``, ``sk`` that never
    evaluates f outside the box ``lower``, ``upper``: each coordinate planned by
    :func:`_richardson_plan`, the pair taking the fewer steps of the two.
    ``(nan, inf)`` where a coordinate has no room."""
    dj, base_j, count = _richardson_plan(x[j], sj, lower[j], upper[j])
    dk, base_k = dj, base_j
    if j != k:
        dk, base_k, count_k = _richardson_plan(x[k], sk, lower[k], upper[k])
        count = min(count, count_k)
    if count == 0:
        return np.nan, np.inf
    return richardson_second_entry(call, args, x, j, k, base_j, dj, base_k, dk, count, center, table)


@register_jitable
def one_sided_hessian_entry(call, args, x, j, k, hj, hk, central, one_sided, one_sided_second, center):
    """Entry ``(j, k)`` from one side only (``method="forward"`` or ``"backward"``): the
    one-sided second difference on the diagonal, the product of one-sided first-derivative
    stencils off it (``(p + 1)**2`` evaluations). The steps are signed: each coordinate
    steps toward its step's sign."""
    dj = 1 if hj > 0.0 else -1
    if j == k:
        return _one_sided_second(call, args, x, j, hj, one_sided_second, center)
    dk = 1 if hk > 0.0 else -1
    return product_entry(call, args, x, j, k, hj, dj, hk, dk, central, one_sided)


@register_jitable
def _complex_step_partial(call, args, x, j, step):
    """``Im f(x + i step e_j) / step`` at the complex point ``x`` (restored after)."""
    x0 = x[j]
    x[j] = x0 + 1j * step
    value = call(x, args)
    x[j] = x0
    return value.imag / step


def hessian_weights(order: int) -> tuple[tuple[float, ...], ...]:
    """``(central, second, one_sided, one_sided_second)``: the weights every Hessian formula
    here takes at ``order`` (first and second differences, central and one-sided). The
    one-sided orders may be odd: the central weights are then those of the next even
    order, passed but never used."""
    even = order if order % 2 == 0 else order + 1
    return central_weights(even), second_weights(even), one_sided_weights(order), one_sided_second_weights(order)


@register_jitable
def complex_hessian_entry(call, args, x, j, k, hk, weights):
    """Entry ``(j, k)`` as the central difference along ``k`` (step ``hk``, first-derivative
    ``weights``) of the complex-step partial derivative along ``j`` (step
    ``COMPLEX_STEP * max(1, |x_j|)``): ``Σ_a w_a (g_j(x + a hk e_k) - g_j(x - a hk e_k)) / hk``
    with ``g_j = Im f(x + i h e_j) / h``, exact to rounding. Only the real difference
    truncates (``O(hk**order)``), and it subtracts partial derivatives, not values of f.
    ``x`` is a complex buffer, perturbed in place and restored."""
    complex_step = COMPLEX_STEP * max(1.0, abs(x[j].real))
    xk = x[k]
    total = 0.0
    for a in range(len(weights)):
        x[k] = xk + (a + 1) * hk
        plus = _complex_step_partial(call, args, x, j, complex_step)
        x[k] = xk - (a + 1) * hk
        total += weights[a] * (plus - _complex_step_partial(call, args, x, j, complex_step))
    x[k] = xk
    return total / hk
