"""The difference formulas, each written once for every backend.

Each ``*_entry`` function computes one derivative entry at a point ``x`` that
it perturbs in place and restores exactly, calling f as ``call(x, args)``.
They are ``register_jitable``: the NumPy reference runs them as they are, and
every compiled kernel compiles them for its own types, so the reference and the
kernels share the arithmetic instruction for instruction.
"""

from __future__ import annotations

from numba.extending import register_jitable

from ..errors import ObjectiveError

__all__ = ["central_column", "central_entry", "complex_step_column", "complex_step_entry", "hessian_entry", "one_sided_column",
           "one_sided_entry"]


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
def central_column(call, args, x, j, h, weights, column):
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


@register_jitable
def _same_length(value, column, x, j, x0):
    if value.shape[0] != column.shape[0]:
        x[j] = x0
        raise ObjectiveError("F must return arrays of the same length m at every point; it did not.")


@register_jitable
def one_sided_column(call, args, x, j, h, weights, column):
    """:func:`one_sided_entry` for every component of a vector function at once (``h`` < 0: backward)."""
    x0 = x[j]
    for r in range(column.shape[0]):
        column[r] = 0.0
    for k in range(len(weights)):
        x[j] = x0 + k * h
        value = call(x, args)
        _same_length(value, column, x, j, x0)
        for r in range(column.shape[0]):
            column[r] += weights[k] * value[r]
    x[j] = x0
    for r in range(column.shape[0]):
        column[r] /= h


@register_jitable
def complex_step_column(call, args, x, j, step, scaled, column):
    """:func:`complex_step_entry` for every component of a vector function at once."""
    x0 = x[j]
    h = step * max(1.0, abs(x0.real)) if scaled else step
    x[j] = x0 + 1j * h
    value = call(x, args)
    x[j] = x0
    _same_length(value, column, x, j, x0)
    for r in range(column.shape[0]):
        column[r] = value[r].imag / h
