"""Richardson extrapolation of central (and, next to a bound, one-sided) differences."""

from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable

from ..errors import ObjectiveError
from .weights import MAX_DERIVATIVE

__all__ = ["RICHARDSON_BASE", "RICHARDSON_GRADIENT_BASE", "RICHARDSON_LEVELS", "RICHARDSON_MAX_SLIDE", "RICHARDSON_RATIO",
           "RICHARDSON_STEPS", "RICHARDSON_TABLE_SIZE", "extend_tableau", "richardson_column", "richardson_entry"]

_EPS = float(np.finfo(np.float64).eps)

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
# planned sequence spans both, from max(1, |x_j|) / 1.1 down to 0.0012 max(1, |x_j|),
# and where the best estimate there is still above RICHARDSON_SLIDE_ABOVE of the value,
# the steps slide on down (RICHARDSON_MAX_SLIDE): a function of x in units of 1e-6 varies on a scale far below
# the planned steps, and Richardson finds it (python benchmarks/accuracy.py, "Units").
# Where the sequence ends with its newest candidates still farther from the best than
# both estimates, the estimate grows to cover them (_newest_disagreement). Where f is
# not smooth within reach of the last steps (a kink of ReLU or abs), the estimate grows
# to cover the one-sided quotients (_kink_within_reach), and where the forward or the
# backward quotients of the last steps, extrapolated on their own, disagree with the
# result beyond both estimates (the kink's far side stays smooth), it grows to that
# distance (_one_side_disagrees). The parameters
# were chosen on the test suite: with python benchmarks/accuracy.py --seed 11 (1, 2, 3)
# the 99th percentile of the relative error is 2.9e-13 to 3.2e-13, the worst 1.1e-12
# to 2.5e-12.

#: Relative base step (the largest), times ``max(1, |x_j|)``.
RICHARDSON_BASE = 1.0
#: The same for first derivatives (:func:`richardson_entry`, whose steps slide below the
#: planned ones): no terminating decimal fraction, so that in decimal units of x the steps
#: are never whole multiples of a period of f (Ackley's cos(2 pi x) in units of 1e-6 saw
#: the same value at x +- 1e6 * 0.6**i, i <= 6, and took f for constant).
RICHARDSON_GRADIENT_BASE = 1.0 / 1.1
#: Ratio of one step to the one before.
RICHARDSON_RATIO = 0.6
#: Steps in the geometric sequence (2 evaluations of f each).
RICHARDSON_STEPS = 14
#: The highest extrapolation level (the lowest is 2).
RICHARDSON_LEVELS = 8
#: Most steps past the planned ones, taken until rounding would outweigh the best
#: estimate (0.6**54 is 1e-12: the sequence can slide down to functions of variables
#: in units of 1e-10),
RICHARDSON_MAX_SLIDE = 40
#: where the planned steps' best estimate is above this fraction of the best value.
RICHARDSON_SLIDE_ABOVE = 1e-12
#: Fewest steps a bounded coordinate may use before it turns one-sided.
RICHARDSON_MIN_STEPS = 6
#: The rounding part of the error estimate: this many ``G_k eps |f(x)| / h``.
RICHARDSON_ROUNDING = 10.0
#: Kinks (see :func:`_kink_within_reach`): the last change of the curvature estimate must
#: exceed this many ``eps |f(x)| / h**2`` (rounding alone makes the changes grow as h shrinks);
KINK_ROUNDING = 1000.0
#: the change before the last must be at least this fraction of its own predecessor;
KINK_STEADY = 0.25
#: a result this many times further from the last central quotient than that quotient's
#: own error is a kink's work. (Chosen on issue 15's kink suite, gradjit.problems.kink_cases,
#: with no estimate raised on the smooth suite: see benchmarks/accuracy.py.)
KINK_DISAGREEMENT = 10.0
#: The one-sided check at the end of a central entry (_one_side_disagrees) extrapolates the
#: forward and backward quotients of this many last steps.
ONE_SIDED_CHECK_STEPS = 8
#: Most leading steps skipped where f is NaN or infinite (0.6**60 is 5e-14: beyond that
#: a step is at the rounding of x). Each costs two evaluations, spent only where the
#: largest steps leave f's domain.
RICHARDSON_MAX_SKIPPED = 60


def _noise_gains(r: float, one_sided: bool, power: int = 1) -> np.ndarray:
    """``G_k`` per level ``k``: the rounding error of ``T_k(i)`` in units of
    ``eps |f| / h_i**power``. ``T_k(i) = Σ_m w_m D(h_(i-k+m))`` and ``D(h)``'s rounding
    is ``eps |f| / h**power`` (first differences, power 1: central; twice that one-sided;
    second differences, power 2, carry their own factor in the rounding term), so
    ``G_k = Σ_m |w_m| (h_i / h_(i-k+m))**power``."""
    gains = np.empty(RICHARDSON_LEVELS + 1)
    weights = np.array([1.0])
    for k in range(RICHARDSON_LEVELS + 1):
        if k:
            c = 1.0 / (r**k - 1.0)
            weights = np.concatenate([[0.0], (1.0 + c) * weights]) - np.concatenate([c * weights, [0.0]])
        gains[k] = np.sum(np.abs(weights) * RICHARDSON_RATIO ** (power * np.arange(k, -1, -1)))
    return gains * (2.0 if one_sided else 1.0)


# Per level k: 1 / (r**k - 1), the tableau's factor, and G_k (central, then one-sided).
_LEVELS = np.arange(RICHARDSON_LEVELS + 1)
_CENTRAL_FACTORS = 1.0 / np.maximum(RICHARDSON_RATIO ** (-2.0 * _LEVELS) - 1.0, 1e-300)  # level 0 unused
_ONE_SIDED_FACTORS = 1.0 / np.maximum(RICHARDSON_RATIO ** (-1.0 * _LEVELS) - 1.0, 1e-300)
_CENTRAL_GAINS = _noise_gains(RICHARDSON_RATIO**-2, one_sided=False)
_ONE_SIDED_GAINS = _noise_gains(1.0 / RICHARDSON_RATIO, one_sided=True)
# The same for second differences (rounding ~ 1 / h**2; gradjit.stencils.second).
SECOND_CENTRAL_GAINS = _noise_gains(RICHARDSON_RATIO**-2, one_sided=False, power=2)
SECOND_ONE_SIDED_GAINS = _noise_gains(1.0 / RICHARDSON_RATIO, one_sided=False, power=2)
# And for the n-th derivative's central stencils (rounding ~ 1 / h**n; gradjit.stencils.higher), row n.
NTH_GAINS = np.array([_noise_gains(RICHARDSON_RATIO**-2, one_sided=False, power=n) for n in range(MAX_DERIVATIVE + 1)])

#: Scratch floats :func:`richardson_entry` needs: the tableau and the inverse steps.
_TABLEAU = (RICHARDSON_LEVELS + 2) * RICHARDSON_STEPS
#: (the central tableau, and the forward and backward ones a central entry keeps beside it).
RICHARDSON_TABLE_SIZE = 3 * _TABLEAU


@register_jitable
def extend_tableau(table, i, factors, gains, rounding, best, best_error):
    """Add step ``i`` to the tableau and return the best ``(candidate, error_estimate)`` so far.

    The table keeps the last ``RICHARDSON_STEPS`` steps in a ring: step ``i`` is at
    position ``p = i % RICHARDSON_STEPS``. ``table[p]`` holds the new quotient and
    ``table[inverse + p]`` the inverse of its step's scale (``1 / |h|``, or
    ``1 / (hj hk)`` for second differences); ``factors`` and ``gains`` are the
    tableau's factors and rounding gains per level, ``rounding`` the rounding term's
    ``RICHARDSON_ROUNDING eps |f(x)|`` (times the formula's own factor). The
    candidates and their error estimates are described above. Shared by
    :func:`richardson_entry` and the Hessian's, the Jacobian's and higher
    derivatives' extrapolations.
    """
    n = RICHARDSON_STEPS
    here, before = i % n, (i - 1) % n  # the table keeps the last n steps, in a ring
    scale = rounding * table[(RICHARDSON_LEVELS + 1) * n + here]
    below, below_before = table[here], table[before]
    for k in range(1, min(i, RICHARDSON_LEVELS) + 1):
        value = below + (below - below_before) * factors[k]
        value_before = table[k * n + before]
        table[k * n + here] = value
        if k >= 2 and i >= k + 2:
            error = _candidate_error(value, value_before, below, below_before, gains[k] * scale)
            if error < best_error:  # a NaN error never wins
                best, best_error = value, error
        below, below_before = value, value_before
    return best, best_error


@register_jitable
def _candidate_error(value, value_before, below, below_before, rounding):
    """The error estimate of candidate ``value = T_k(i)`` (described above), from
    ``T_k(i-1)``, ``T_(k-1)(i)``, ``T_(k-1)(i-1)`` and its rounding term."""
    return abs(value - value_before) + abs(value - below) + abs(value_before - below_before) + rounding


@register_jitable
def _newest_disagreement(table, i, gains, rounding, best, best_error):
    """How far the newest column's candidates (step ``i``) are from the best beyond
    both estimates (0 where they agree). A sequence of steps that has not yet reached
    f's scale keeps moving: its newest candidates leave the best behind."""
    n = RICHARDSON_STEPS
    here, before = i % n, (i - 1) % n
    gap = 0.0
    for k in range(2, min(i, RICHARDSON_LEVELS) + 1):
        if i >= k + 2:
            value = table[k * n + here]
            own = _candidate_error(value, table[k * n + before], table[(k - 1) * n + here], table[(k - 1) * n + before],
                                   rounding * gains[k] * table[(RICHARDSON_LEVELS + 1) * n + here])
            excess = abs(value - best) - best_error - own
            if excess > gap:  # noqa: PLR1730 - a NaN excess (f NaN there) is skipped, as max need not
                gap = excess
    return gap


@register_jitable
def _one_side_disagrees(best, best_error, forward, forward_error, backward, backward_error):
    """The central estimate, raised where the surer one-sided extrapolation disagrees with
    the central result beyond both estimates.

    Beside a kink closer than the largest steps, the quotients on the kink's side average
    the two slopes, and so do the central ones; the other side's one-sided quotients stay
    smooth and their tableau converges to the derivative on x's side. Where the one with
    the smaller estimate is farther from the central result than the two estimates
    together, the estimate grows to that distance plus the one-sided estimate. A smooth f
    has all three agree within their estimates: nothing changes.
    """
    surer, surer_error = (forward, forward_error) if forward_error <= backward_error else (backward, backward_error)
    gap = abs(best - surer)
    if gap > best_error + surer_error:  # False when either is NaN
        return gap + surer_error
    return best_error


@register_jitable
def _curvature_grows(center, h, curvature, curvature_before, curvature_earlier, curvature_first):
    """Whether the curvature estimates of the last four steps (the last of size h) grow
    beyond rounding, where a smooth f's converge: the first sign of
    :func:`_kink_within_reach`. False while any is NaN (the first steps)."""
    change, change_before = abs(curvature - curvature_before), abs(curvature_before - curvature_earlier)
    return (change > change_before > KINK_STEADY * abs(curvature_earlier - curvature_first)
            and change > KINK_ROUNDING * _EPS * abs(center) / (h * h))


@register_jitable
def _kink_within_reach(best, table, i, inverse, rounding, center, h, curvature, curvature_before, curvature_earlier,
                       curvature_first):
    """Whether f looks non-smooth (a kink or a jump) within reach of the last steps, from
    what :func:`richardson_entry` evaluated (``i`` steps kept, the last of size ``h``).

    Two signs, either one suffices:

    * The curvature estimates ``((f(x+h) - f(x)) - (f(x) - f(x-h))) / h**2`` of a smooth
      f converge, ``f'' + f''''h**2/12 + ...``, their changes shrinking by about
      ``RICHARDSON_RATIO**2`` a step. A kink closer than the steps makes them grow like
      ``1/h``: the last change grew over the one before, that one was at least
      :data:`KINK_STEADY` of its own predecessor (one growing change is not enough where
      f'' crosses zero or f oscillates), and the last is beyond rounding
      (:data:`KINK_ROUNDING`).
    * The result disagrees with the central quotient at the last step by more than
      :data:`KINK_DISAGREEMENT` times that quotient's own truncation error (estimated
      from the step before, as the tableau's first level does) plus rounding: a kink
      between the last steps and the larger ones polluted every window of the tableau.
    """
    if _curvature_grows(center, h, curvature, curvature_before, curvature_earlier, curvature_first):
        return True
    if i < 2:
        return False
    last, before = (i - 1) % RICHARDSON_STEPS, (i - 2) % RICHARDSON_STEPS  # ring positions (extend_tableau)
    truncation = abs(table[last] - table[before]) * _CENTRAL_FACTORS[1] + rounding * table[inverse + last]
    return abs(best - table[last]) > KINK_DISAGREEMENT * truncation


@register_jitable
def _curvature(plus, center, minus, h):
    """The forward minus the backward quotient, over h: about f''(x) for a smooth f."""
    return ((plus - center) - (center - minus)) / (h * h)


@register_jitable
def _settled(taken, count, best, best_error, rounding, gain, next_inverse):
    """Whether the sequence stops after ``taken`` steps of the ``count`` planned, with the
    next step's ``1 / |h|`` (see :func:`richardson_entry`): no later candidate can win
    (their rounding terms are at least ``rounding * gain / |h|``); or, at the end of
    the planned steps, the best is good (:data:`RICHARDSON_SLIDE_ABOVE`); or, sliding,
    the best is within rounding of its own size."""
    if best_error <= rounding * gain * next_inverse:
        return True
    if taken == count:
        return best_error <= RICHARDSON_SLIDE_ABOVE * abs(best)
    return taken > count and best_error <= RICHARDSON_ROUNDING * _EPS * gain * abs(best)


@register_jitable
def richardson_entry(call, args, x, j, base, count, direction, center, table):
    """``(estimate, error_estimate)`` of ``df/dx_j`` at ``x`` by Richardson extrapolation.

    The steps are ``base * RICHARDSON_RATIO**i``, each re-measured as ``(x_j ± s) - x_j``:
    ``count`` of them (``RICHARDSON_MIN_STEPS <= count <= RICHARDSON_STEPS``), and then
    more, up to :data:`RICHARDSON_MAX_SLIDE`, until rounding would outweigh the best
    estimate: where f varies on a scale far below the planned steps (x in small units),
    the sequence slides down to it. Where the
    largest steps give a NaN or infinite quotient (f undefined or overflowing that far
    from ``x``, such as ``log`` at 1e-3), they are skipped and the steps start at the
    first that gives a finite one (at most :data:`RICHARDSON_MAX_SKIPPED` skipped).

    ``direction`` 0 extrapolates central differences (error in even powers of h); +1 / -1 forward / backward ones ``(f(x ± h e_j) - f(x)) / ±h``
    (all powers), for points next to a bound. ``center`` is ``f(x)``; ``table`` is
    scratch space of ``RICHARDSON_TABLE_SIZE`` floats. The candidates and their
    error estimates are described above. ``x`` is perturbed in place and restored.
    Shared by the kernels and the NumPy reference.
    """
    n = RICHARDSON_STEPS
    inverse = (RICHARDSON_LEVELS + 1) * n  # where 1 / |h| is kept
    factors = _CENTRAL_FACTORS if direction == 0 else _ONE_SIDED_FACTORS
    gains = _CENTRAL_GAINS if direction == 0 else _ONE_SIDED_GAINS
    rounding = RICHARDSON_ROUNDING * _EPS * abs(center)
    best, best_error = np.nan, np.inf
    # The forward and backward quotients of the same evaluations, kept to be extrapolated
    # on their own at the end (every power of h): beside a kink one side stays smooth.
    forward_table, backward_table = table[_TABLEAU:2 * _TABLEAU], table[2 * _TABLEAU:3 * _TABLEAU]
    x0 = x[j]
    sign = -1.0 if direction < 0 else 1.0
    step = base
    h = 0.0
    i = skipped = 0
    curvature = curvature_before = curvature_earlier = curvature_first = np.nan  # at the last four steps
    while i < count + RICHARDSON_MAX_SLIDE:
        # Step i: a new difference quotient, then the new column of the tableau and its candidates.
        h = (x0 + sign * step) - x0
        if h == 0.0:
            break  # below the spacing of floats at x0
        x[j] = x0 + h
        plus = call(x, args)
        if direction == 0:
            x[j] = x0 - h
            minus = call(x, args)
            quotient = (plus - minus) / ((x0 + h) - (x0 - h))  # the points' own distance (central_entry)
            curvature_first, curvature_earlier, curvature_before = curvature_earlier, curvature_before, curvature
            curvature = _curvature(plus, center, minus, h)
        else:
            quotient = (plus - center) / h
        if i == 0 and not math.isfinite(quotient) and skipped < RICHARDSON_MAX_SKIPPED:
            # f is NaN or infinite this far from x (outside its domain, near a pole or an
            # overflow): the sequence starts at the first step where it is not.
            skipped += 1
            step *= RICHARDSON_RATIO
            curvature = curvature_before = curvature_earlier = curvature_first = np.nan  # kept steps only
            continue
        here = i % n
        table[here] = quotient
        table[inverse + here] = 1.0 / abs(h)
        best, best_error = extend_tableau(table, i, factors, gains, rounding, best, best_error)
        if direction == 0:
            forward_table[here], backward_table[here] = (plus - center) / h, (center - minus) / h
            if _curvature_grows(center, h, curvature, curvature_before, curvature_earlier, curvature_first):
                # The steps so far are not where f is smooth (beyond a kink, or far beyond
                # f's scale, where f(x +- h) is flat and every quotient 0): the best so far
                # is distrusted by as much as f'' moved, times this step (where the change
                # is only f's own rounding, more than eps |f(x)| shows, that is little).
                best_error += abs((curvature - curvature_before) * h)
        # Every later candidate's estimate is at least its rounding term, and those
        # only grow (smaller steps, higher levels' larger gains): once the best beats
        # the smallest of them, no later step can change the result, so stop early.
        # The sequence slides on past the planned steps only where their best is poor
        # (RICHARDSON_SLIDE_ABOVE): at small steps f's own rounding can exceed the
        # eps |f(x)| the estimates count (x0**2 - x1**2 where both are large), and a
        # good result is not traded for a lucky one. Sliding, a best within rounding
        # of its own size stops it too (where f(x) = 0, rounding stays near eps |f'|).
        step *= RICHARDSON_RATIO
        i += 1
        if _settled(i, count, best, best_error, rounding, gains[2], 1.0 / abs((x0 + sign * step) - x0)):
            break
    x[j] = x0
    if i > 0:  # where the sequence ran out with newer candidates still disagreeing, the estimate covers them
        best_error += _newest_disagreement(table, i - 1, gains, rounding, best, best_error)
    if direction == 0 and _kink_within_reach(best, table, i, inverse, rounding, center, h, curvature, curvature_before,
                                             curvature_earlier, curvature_first):
        # The central quotients there average the two sides; the derivative on x's side
        # is near the forward or the backward quotient at the last step, D +- |curvature|
        # h / 2 (D the central one). The estimate grows by how far the result is from D,
        # plus the whole gap between the two (twice what it takes, for the smooth part).
        best_error += abs(best - table[(i - 1) % n]) + abs(curvature * h)
    if direction == 0 and i >= ONE_SIDED_CHECK_STEPS:
        forward, forward_error = _last_steps_extrapolated(forward_table, table, i, inverse, rounding)
        backward, backward_error = _last_steps_extrapolated(backward_table, table, i, inverse, rounding)
        best_error = _one_side_disagrees(best, best_error, forward, forward_error, backward, backward_error)
    return best, best_error


@register_jitable
def _last_steps_extrapolated(quotients, table, count, inverse, rounding):
    """``(best, error_estimate)`` of the one-sided quotients of the last
    :data:`ONE_SIDED_CHECK_STEPS` of ``count`` steps (kept in ``quotients``' ring, their
    rounding scales in the central ``table``'s), extrapolated at the start of ``quotients``."""
    n = RICHARDSON_STEPS
    scratch = RICHARDSON_LEVELS * n  # the top level's row: ONE_SIDED_CHECK_STEPS <= RICHARDSON_LEVELS leaves it unused
    first = count - ONE_SIDED_CHECK_STEPS
    for m in range(ONE_SIDED_CHECK_STEPS):
        quotients[scratch + m] = quotients[(first + m) % n]
    for m in range(ONE_SIDED_CHECK_STEPS):
        quotients[m] = quotients[scratch + m]
        quotients[inverse + m] = table[inverse + (first + m) % n]
    best, best_error = np.nan, np.inf
    for m in range(ONE_SIDED_CHECK_STEPS):
        best, best_error = extend_tableau(quotients, m, _ONE_SIDED_FACTORS, _ONE_SIDED_GAINS, rounding, best, best_error)
    return best, best_error


@register_jitable
def richardson_column(call, args, x, j, base, count, direction, center, table, column, errors):
    """Column ``j`` of a vector function's Jacobian by Richardson extrapolation, each
    component with its own tableau and its own best candidate (written to ``column`` and
    its error estimate to ``errors``, both of length m).

    As :func:`richardson_entry` for every component at once: one evaluation of F per
    stencil point serves all m. ``center`` is F(x) (its components scale the rounding
    terms); ``table`` holds ``m * RICHARDSON_TABLE_SIZE`` floats. The steps stop once
    every component has stopped improving by the rounding rule. Past the planned steps
    they slide on, as :func:`richardson_entry`'s do, for the components whose planned
    best was poor (each of the others is final from there on), and a component whose
    newest candidates still disagree with its best when the steps run out has its
    estimate grown to cover them. A leading step where any component's quotient is NaN
    or infinite is skipped (at most :data:`RICHARDSON_MAX_SKIPPED`). The estimates do
    not look for kinks.
    """
    m = column.shape[0]
    n = RICHARDSON_STEPS
    size = RICHARDSON_TABLE_SIZE
    inverse = (RICHARDSON_LEVELS + 1) * n
    final = _TABLEAU  # per component, 1.0 once its best is final (a float of its table's unused part),
    curvatures = _TABLEAU + 1  # and the curvature estimates of its last four steps, oldest first
    factors = _CENTRAL_FACTORS if direction == 0 else _ONE_SIDED_FACTORS
    gains = _CENTRAL_GAINS if direction == 0 else _ONE_SIDED_GAINS
    for r in range(m):
        column[r] = np.nan
        errors[r] = np.inf
        table[r * size + final] = 0.0
        table[r * size + curvatures:r * size + curvatures + 4] = np.nan
    x0 = x[j]
    sign = -1.0 if direction < 0 else 1.0
    step = base
    i = skipped = 0
    while i < count + RICHARDSON_MAX_SLIDE:
        h = (x0 + sign * step) - x0
        if h == 0.0:
            break
        x[j] = x0 + h
        plus = call(x, args)
        minus = center
        if direction == 0:
            x[j] = x0 - h
            minus = call(x, args)
        x[j] = x0
        if plus.shape[0] != m or minus.shape[0] != m:
            raise ObjectiveError("F must return arrays of the same length m at every point; it did not.")
        finite = True
        for r in range(m):
            quotient = (plus[r] - minus[r]) / (((x0 + h) - (x0 - h)) if direction == 0 else h)
            table[r * size + i % n] = quotient
            finite = finite and math.isfinite(quotient)
            if direction == 0:  # as richardson_entry keeps them, for its curvature guard
                c = r * size + curvatures
                table[c], table[c + 1], table[c + 2] = table[c + 1], table[c + 2], table[c + 3]
                table[c + 3] = _curvature(plus[r], center[r], minus[r], h)
        if i == 0 and not finite and skipped < RICHARDSON_MAX_SKIPPED:
            skipped += 1  # F NaN or infinite this far from x: start at a smaller step
            step *= RICHARDSON_RATIO
            for r in range(m):
                table[r * size + curvatures:r * size + curvatures + 4] = np.nan  # kept steps only
            continue
        settled = True
        next_inverse = 1.0 / abs((x0 + sign * step * RICHARDSON_RATIO) - x0)
        for r in range(m):
            component = table[r * size:(r + 1) * size]
            if component[final] != 0.0:
                continue
            component[inverse + i % n] = 1.0 / abs(h)
            rounding = RICHARDSON_ROUNDING * _EPS * abs(center[r])
            column[r], errors[r] = extend_tableau(component, i, factors, gains, rounding, column[r], errors[r])
            c = curvatures
            if direction == 0 and _curvature_grows(center[r], h, component[c + 3], component[c + 2], component[c + 1],
                                                   component[c]):
                errors[r] += abs((component[c + 3] - component[c + 2]) * h)  # richardson_entry's guard
            done = _settled(i + 1, count, column[r], errors[r], rounding, gains[2], next_inverse)
            if done and i + 1 >= count:
                component[final] = 1.0
            settled = settled and done
        step *= RICHARDSON_RATIO
        i += 1
        if settled:
            break
    if i > 0:
        for r in range(m):
            component = table[r * size:(r + 1) * size]
            if component[final] == 0.0:  # still sliding when the steps ran out
                rounding = RICHARDSON_ROUNDING * _EPS * abs(center[r])
                errors[r] += _newest_disagreement(component, i - 1, gains, rounding, column[r], errors[r])
