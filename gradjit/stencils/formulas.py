"""The difference formulas, each written once for every backend.

Each ``*_entry`` function computes one derivative entry at a point ``x`` that
it perturbs in place and restores exactly, calling f as ``call(x, args)``.
They are ``register_jitable``: the NumPy reference runs them as they are, and
every compiled kernel compiles them for its own types, so the reference and the
kernels share the arithmetic instruction for instruction.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from .grouped import central_group, complex_group, complex_step_size, one_sided_group

__all__ = ["central_column", "central_entry", "complex_step_column", "complex_step_entry", "one_sided_column",
           "one_sided_entry"]


@register_jitable
def central_entry(call, args, x, j, h, weights):
    """``(1/h) Σ_k w_k (f(x + k h e_j) - f(x - k h e_j))`` at ``x`` (restored after).

    Each pair's difference is divided by the distance between the two points f actually
    saw, ``(x + k h) - (x - k h)``, not by ``2 k h``: ``h`` is re-measured so that
    ``x + h`` is exact, but ``x - k h`` rounds where it falls in a coarser binade (x
    just above a power of two in magnitude, on the side away from 0), which cost up to
    ``ulp(x) / h`` relative (1e-8 at ``h = 1e-8``; scipy's quotient divides by the same
    distance). As ``Σ_k (2 k w_k) (f(x_k+) - f(x_k-)) / (x_k+ - x_k-)``.
    """
    x0 = x[j]
    total = 0.0
    for k in range(len(weights)):
        plus_at, minus_at = x0 + (k + 1) * h, x0 - (k + 1) * h
        x[j] = plus_at
        plus = call(x, args)
        x[j] = minus_at
        total += (2 * (k + 1)) * weights[k] * ((plus - call(x, args)) / (plus_at - minus_at))
    x[j] = x0
    return total


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


@register_jitable
def complex_step_entry(call, args, x, j, step, typical):
    """``Im f(x + i h e_j) / h`` at the complex point ``x`` (restored after), with
    ``h = step * max(typical, |x_j|)`` (``step`` itself for ``typical < 0``,
    :func:`~gradjit.stencils.weights.actual_step`): exact to rounding for f analytic
    in its inputs (no subtraction, so the step needs no re-measuring)."""
    x0 = x[j]
    h = complex_step_size(x0, step, typical)
    x[j] = x0 + 1j * h
    value = call(x, args)
    x[j] = x0
    return value.imag / h


@register_jitable
def _one_column(x, j):
    """``(columns, saved, silent)`` of a group of one coordinate ``j`` (no pattern to check)."""
    return np.full(1, j), np.full(1, x[j]), np.empty(0, dtype=np.int64)


@register_jitable
def central_column(call, args, x, j, h, weights, column):
    """Column ``j`` of the Jacobian of a vector function at ``x`` into ``column`` (length m).

    ``call(x, args)`` returns F(x), a 1-D array; ``h`` is the step actually
    taken; the central stencil with ``weights`` is applied to every component
    at once: :func:`~gradjit.stencils.grouped.central_group` with a group of one.
    ``x`` is perturbed in place and restored exactly. Shared by the kernels and
    the NumPy reference like :func:`central_entry`.
    """
    columns, saved, silent = _one_column(x, j)
    central_group(call, args, x, columns, 0, 1, saved, np.full(1, h), weights, column, silent)
    for r in range(column.shape[0]):
        column[r] /= h


@register_jitable
def one_sided_column(call, args, x, j, h, weights, column):
    """:func:`one_sided_entry` for every component of a vector function at once (``h`` < 0: backward)."""
    columns, saved, silent = _one_column(x, j)
    one_sided_group(call, args, x, columns, 0, 1, saved, np.full(1, h), weights, column, silent, column)
    for r in range(column.shape[0]):
        column[r] /= h


@register_jitable
def complex_step_column(call, args, x, j, step, typical, column):
    """:func:`complex_step_entry` for every component of a vector function at once."""
    h = complex_step_size(x[j], step, typical)
    columns, saved, silent = _one_column(x, j)
    complex_group(call, args, x, columns, 0, 1, saved, np.full(1, h), column, silent)
    for r in range(column.shape[0]):
        column[r] /= h
