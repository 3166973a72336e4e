"""Higher derivatives along one coordinate, ``f^(n)`` for ``n`` = 2 .. 10
(:func:`gradjit.derivative` with ``n=``): central stencils of any order, and Richardson.

The central stencil of the ``n``-th derivative on the points ``x + k h``, ``k = -m .. m``
(weights :func:`~gradjit.stencils.weights.nth_weights`, solved exactly) is symmetric
for even ``n`` and antisymmetric for odd ``n``; it is evaluated in pairs::

    odd n:   (1 / h**n) Σ_k c_k (f(x + k h) - f(x - k h))
    even n:  (1 / h**n) Σ_k c_k ((f(x + k h) - f(x)) + (f(x - k h) - f(x)))

(``k = 1 .. m``), so that f's own size cancels before the weights amplify it. Like
every formula of :mod:`gradjit.stencils`, these are ``register_jitable``: the NumPy
reference runs them as they are and the kernels compile them.
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable

from .richardson import (
    _CENTRAL_FACTORS,
    _EPS,
    NTH_GAINS,
    RICHARDSON_LEVELS,
    RICHARDSON_MAX_SKIPPED,
    RICHARDSON_RATIO,
    RICHARDSON_ROUNDING,
    RICHARDSON_STEPS,
    extend_tableau,
)

__all__ = ["nth_entry", "richardson_nth_entry"]


@register_jitable
def _power(h, n):
    """``h**n`` by repeated products: the same bits in Python and compiled (``**`` is not)."""
    result = h
    for _ in range(n - 1):
        result *= h
    return result


@register_jitable
def nth_entry(call, args, x, j, h, n, weights, center):
    """The ``n``-th derivative along coordinate ``j`` at ``x`` by the central stencil with
    ``weights`` (``c_(-m) .. c_m``) and step ``h``; ``center`` is ``f(x)`` (read for even
    ``n`` only). ``x`` is perturbed in place and restored."""
    x0 = x[j]
    m = len(weights) // 2
    total = 0.0
    for k in range(1, m + 1):
        x[j] = x0 + k * h
        plus = call(x, args)
        x[j] = x0 - k * h
        minus = call(x, args)
        if n % 2 == 1:
            total += weights[m + k] * (plus - minus)
        else:
            total += weights[m + k] * ((plus - center) + (minus - center))
    x[j] = x0
    return total / _power(h, n)


@register_jitable
def richardson_nth_entry(call, args, x, j, base, n, weights, center, table):
    """``(estimate, error_estimate)`` of the ``n``-th derivative along ``j`` by Richardson
    extrapolation of the order-2 stencil ``weights`` over the steps ``base *
    RICHARDSON_RATIO**i``: its error runs in even powers of h, and the tableau and the
    candidates are the gradient's (:func:`~gradjit.stencils.richardson.extend_tableau`),
    with rounding ``Σ|c_k| eps |f| / h**n``. Leading steps with a NaN or infinite
    quotient are skipped; the estimate does not look for kinks. ``table`` is scratch
    space of ``RICHARDSON_TABLE_SIZE`` floats; ``x`` is perturbed in place and restored.
    """
    gains = NTH_GAINS[n]
    amplification = 0.0
    for c in weights:
        amplification += abs(c)
    rounding = RICHARDSON_ROUNDING * _EPS * abs(center) * amplification
    inverse = (RICHARDSON_LEVELS + 1) * RICHARDSON_STEPS
    x0 = x[j]
    step = base
    best, best_error = np.nan, np.inf
    i = skipped = 0
    while i < RICHARDSON_STEPS:
        h = (x0 + step) - x0
        if h == 0.0:
            break
        quotient = nth_entry(call, args, x, j, h, n, weights, center)
        if i == 0 and not math.isfinite(quotient) and skipped < RICHARDSON_MAX_SKIPPED:
            skipped += 1  # f NaN or infinite this far from x: start at a smaller step
            step *= RICHARDSON_RATIO
            continue
        table[i] = quotient
        table[inverse + i] = 1.0 / _power(abs(h), n)
        best, best_error = extend_tableau(table, i, _CENTRAL_FACTORS, gains, rounding, best, best_error)
        step *= RICHARDSON_RATIO
        i += 1
        if best_error <= rounding * gains[2] / _power(abs((x0 + step) - x0), n):
            break  # later candidates' rounding terms only grow (richardson_entry)
    return best, best_error
