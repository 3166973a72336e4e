"""Stencils that never evaluate f outside a box ``[lower, upper]``.

Next to a bound a central stencil turns one-sided toward the inside, with a
step shrunk to fit (as scipy's ``approx_derivative`` does); Richardson drops
the steps that would cross, and nearer still compares one-sided and central
extrapolations (:func:`bounded_richardson_entry`).
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from .formulas import central_column, central_entry, one_sided_column, one_sided_entry
from .richardson import RICHARDSON_MIN_STEPS, RICHARDSON_RATIO, RICHARDSON_STEPS, richardson_column, richardson_entry

__all__ = ["bounded_column", "bounded_entry", "bounded_richardson_column", "bounded_richardson_entry", "choose_side",
           "fitting_steps", "stencil_fits"]


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
def fitting_steps(x0, s, direction, lower, upper, reach):
    """``(base, count)``: the tail of the steps ``s * RICHARDSON_RATIO**i`` whose stencils,
    reaching ``reach`` steps from ``x0``, fit inside ``[lower, upper]`` (the steps
    shrink, so once one fits the rest do)."""
    first = 0
    while first < RICHARDSON_STEPS and not stencil_fits(x0, s, direction, reach, lower, upper):
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
    base, count = fitting_steps(x0, s, 0, lower, upper, 1)
    if count >= RICHARDSON_MIN_STEPS:
        return richardson_entry(call, args, x, j, base, count, 0, center, table)
    down, up = x0 - lower, upper - x0
    direction = 1 if up >= down else -1
    base, count = fitting_steps(x0, s, direction, lower, upper, 1)
    if count < RICHARDSON_MIN_STEPS:
        base, count = fitting_steps(x0, max(down, up), direction, lower, upper, 1)
    one_sided, one_sided_error = richardson_entry(call, args, x, j, base, count, direction, center, table)
    if min(down, up) > 0.0:
        base, count = fitting_steps(x0, min(down, up), 0, lower, upper, 1)
        central, central_error = richardson_entry(call, args, x, j, base, count, 0, center, table)
        if central_error < one_sided_error:
            return central, central_error
    return one_sided, one_sided_error


@register_jitable
def bounded_column(call, args, x, j, s, lower, upper, weights, one_sided, column):
    """:func:`bounded_entry` for every component of a vector function at once (NaN
    where there is no room for any stencil)."""
    x0 = x[j]
    direction, s = choose_side(x0, s, lower, upper, len(weights), len(one_sided) - 1)
    h = ((x0 + s) - x0) if direction >= 0 else ((x0 - s) - x0)
    if h == 0.0:
        for r in range(column.shape[0]):
            column[r] = np.nan
    elif direction == 0:
        central_column(call, args, x, j, h, weights, column)
    else:
        one_sided_column(call, args, x, j, h, one_sided, column)


@register_jitable
def bounded_richardson_column(call, args, x, j, s, lower, upper, center, table, column, errors):
    """:func:`richardson_column` with largest step ``s`` that never evaluates F outside
    ``[lower, upper]``: central over the steps that fit while ``RICHARDSON_MIN_STEPS`` do,
    else one-sided toward the side with more room (from ``s``, or from the room down).
    NaN with an infinite estimate where there is no room at all."""
    x0 = x[j]
    base, count = fitting_steps(x0, s, 0, lower, upper, 1)
    if count >= RICHARDSON_MIN_STEPS:
        richardson_column(call, args, x, j, base, count, 0, center, table, column, errors)
        return
    down, up = x0 - lower, upper - x0
    if max(down, up) <= 0.0:
        for r in range(column.shape[0]):
            column[r] = np.nan
            errors[r] = np.inf
        return
    direction = 1 if up >= down else -1
    base, count = fitting_steps(x0, s, direction, lower, upper, 1)
    if count < RICHARDSON_MIN_STEPS:
        base, count = fitting_steps(x0, max(down, up), direction, lower, upper, 1)
    richardson_column(call, args, x, j, base, count, direction, center, table, column, errors)
