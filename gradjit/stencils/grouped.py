"""Difference formulas that perturb a group of coordinates at once (column grouping).

When no component of a vector function F depends on two coordinates of one
group (a colouring of its sparsity pattern, :class:`gradjit.Sparsity`), one
evaluation of F with the whole group perturbed gives every component the value
it would have with only *its* coordinate perturbed: the Jacobian's columns of
the group come out of the evaluations of one column (Curtis, Powell and Reid,
1974). Each function here moves the group's coordinates (``columns[first:last]``,
by the steps ``hs``, from their values ``saved``, which :func:`group_steps`
fills), evaluates F, and writes per component ``r`` the weighted
combination of F's values, ``sums[r]``, that the single-column formula of
:mod:`gradjit.stencils.formulas` would divide by the step: entry ``(r, j)`` is
``sums[r] / h_j`` for the one coordinate ``j`` of the group that component ``r``
depends on. The single-column formulas are these with a group of one, so a
grouped Jacobian equals the dense one bit for bit.

A component that depends on none of the group's coordinates must not change.
The formulas compare the values of the components ``silent`` (the rows that
no coordinate of the group reaches: :attr:`gradjit.Sparsity.silent_rows`, or
:func:`silent_rows` from marks) across the evaluations, and return the first
that changed (``-1``: none). That checks the pattern at no extra evaluation of
F: a dependency the pattern leaves out shows up the moment it moves F (unless
it falls in a group where the component already has a coordinate;
``check=True`` catches that one).

Like every formula of :mod:`gradjit.stencils` they are ``register_jitable``:
the NumPy reference runs them as they are and the kernels compile them.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from ..errors import ObjectiveError
from .weights import actual_step

__all__ = [
    "DENSE",
    "LAYOUTS",
    "SPARSE",
    "TERMS",
    "central_group",
    "column_dependencies",
    "complex_group",
    "complex_group_steps",
    "complex_step_size",
    "group_second_sums",
    "group_steps",
    "hessian_pair",
    "mark_group",
    "one_sided_group",
    "silent_rows",
    "sum_of_terms",
    "write_group",
]


@register_jitable
def complex_step_size(x0, step, typical):
    """The complex step at ``x0``: ``step * max(typical, |x0|)``, or ``step`` for ``typical < 0``."""
    return step * max(typical, abs(x0.real)) if typical >= 0.0 else step


@register_jitable
def _move(x, columns, first, last, saved, hs, factor):
    """The group's coordinates to ``saved + factor * h``. (Unsigned indices: a signed one
    makes Numba check for a negative index at every access.)"""
    start = np.uint64(first)
    for c in range(start, np.uint64(last)):
        t = c - start
        x[np.uint64(columns[c])] = saved[t] + factor * hs[t]


@register_jitable
def _checked_length(value, m, x, columns, first, last, saved):
    if value.shape[0] != m:
        _restore(x, columns, first, last, saved)
        raise ObjectiveError("F must return arrays of the same length m at every point; it did not.")


@register_jitable
def _restore(x, columns, first, last, saved):
    start = np.uint64(first)
    for c in range(start, np.uint64(last)):
        x[np.uint64(columns[c])] = saved[c - start]


@register_jitable
def _differ(a, b):
    """Whether two values of one component differ (NaN equals NaN: it did not change)."""
    return a != b and not (np.isnan(a) and np.isnan(b))


@register_jitable
def _first_changed(a, b, silent):
    """The first component of ``silent`` whose values in ``a`` and ``b`` differ, or -1."""
    for t in range(silent.size):
        r = silent[t]
        if _differ(a[r], b[r]):
            return r
    return -1


@register_jitable
def central_group(call, args, x, columns, first, last, saved, hs, weights, sums, silent):
    """``sums[r] = Σ_k w_k (F_r(x + k H) - F_r(x - k H))`` with ``H`` the group's steps
    (the central stencil of :func:`~gradjit.stencils.formulas.central_column`); returns
    the first component of ``silent`` that changed, or -1 (see the module docstring)."""
    m = sums.shape[0]
    changed = -1
    for k in range(len(weights)):
        _move(x, columns, first, last, saved, hs, k + 1)
        plus = call(x, args)
        _move(x, columns, first, last, saved, hs, -(k + 1))
        minus = call(x, args)
        _checked_length(plus, m, x, columns, first, last, saved)
        _checked_length(minus, m, x, columns, first, last, saved)
        w = weights[k]
        if k == 0:  # the first pair sets the sums (no pass to zero them)
            for r in range(np.uint64(m)):
                sums[r] = w * (plus[r] - minus[r])
        else:
            for r in range(np.uint64(m)):
                sums[r] += w * (plus[r] - minus[r])
        if changed < 0:
            changed = _first_changed(plus, minus, silent)
    _restore(x, columns, first, last, saved)
    return changed


@register_jitable
def one_sided_group(call, args, x, columns, first, last, saved, hs, weights, sums, silent, reference):
    """``sums[r] = Σ_k c_k F_r(x + k H)`` (the one-sided stencil; negative steps go
    backward); ``reference`` (length m) holds F(x) for the check."""
    m = sums.shape[0]
    changed = -1
    for k in range(len(weights)):
        _move(x, columns, first, last, saved, hs, k)
        value = call(x, args)
        _checked_length(value, m, x, columns, first, last, saved)
        w = weights[k]
        if k == 0:
            for r in range(np.uint64(m)):
                sums[r] = w * value[r]
        else:
            for r in range(np.uint64(m)):
                sums[r] += w * value[r]
        if silent.size:
            if k == 0:
                for r in range(m):
                    reference[r] = value[r]
            elif changed < 0:
                changed = _first_changed(reference, value, silent)
    _restore(x, columns, first, last, saved)
    return changed


@register_jitable
def complex_group(call, args, x, columns, first, last, saved, hs, sums, silent):
    """``sums[r] = Im F_r(x + i H)`` at the complex point ``x`` (the complex step); a
    component outside the group must stay real."""
    m = sums.shape[0]
    for c in range(first, last):
        x[columns[c]] = saved[c - first] + 1j * hs[c - first]
    value = call(x, args)
    _restore(x, columns, first, last, saved)
    if value.shape[0] != m:
        raise ObjectiveError("F must return arrays of the same length m at every point; it did not.")
    for r in range(m):
        sums[r] = value[r].imag
    for t in range(silent.size):
        if value[silent[t]].imag != 0.0:
            return silent[t]
    return -1


@register_jitable
def _move_pair(x, columns, a_first, a_last, b_first, b_last, saved, hs, a_factor, b_factor):
    _move(x, columns, a_first, a_last, saved, hs, a_factor)
    for c in range(b_first, b_last):
        t = a_last - a_first + c - b_first  # B's slots follow A's in saved and hs
        x[columns[c]] = saved[t] + b_factor * hs[t]


@register_jitable
def _restore_pair(x, columns, a_first, a_last, b_first, b_last, saved):
    _restore(x, columns, a_first, a_last, saved)
    for c in range(b_first, b_last):
        x[columns[c]] = saved[a_last - a_first + c - b_first]


@register_jitable
def group_second_sums(call, args, x, columns, a_first, a_last, b_first, b_last, saved, hs, weights, center,
                      entry_first, entry_last, entry_row_ptr, entry_rows, acc, silent):
    """The second differences of the terms F_r over a pair of groups A, B (``A == B``: one
    group, ``b_first == b_last``), summed per Hessian entry into ``acc``.

    With the central second-difference ``weights`` ``c_a`` of
    :mod:`gradjit.stencils.second` (``center`` is F(x)): for one group,
    ``acc[e] = Σ_a c_a Σ_r ((F_r(x + a H_A) - F_r(x)) + (F_r(x - a H_A) - F_r(x)))``;
    for two, with ``u = H_A + H_B`` and ``v = H_A - H_B``,
    ``acc[e] = Σ_a c_a Σ_r ((F_r(x + a u) - F_r(x + a v)) - (F_r(x - a v) - F_r(x - a u)))``,
    the sums over the rows ``entry_rows[entry_row_ptr[e]:entry_row_ptr[e + 1]]`` of each
    entry ``e`` in ``entry_first..entry_last`` (index ``e - entry_first`` of ``acc``).
    Entry ``(j, k)`` is then ``acc / h_j**2`` or ``acc / (4 h_j h_k)``: a term that
    depends on ``x_j`` and ``x_k`` sees only those two move, as in
    :func:`~gradjit.stencils.second.second_entry`. ``saved`` and ``hs`` hold A's
    coordinates, then B's. Returns the first component of ``silent`` (reached by
    neither group) that changed, or -1.
    """
    m = center.shape[0]
    a_count = a_last - a_first
    for c in range(a_first, a_last):
        saved[c - a_first] = x[columns[c]]
    for c in range(b_first, b_last):
        saved[a_count + c - b_first] = x[columns[c]]
    for e in range(entry_last - entry_first):
        acc[e] = 0.0
    changed = -1
    two = b_last > b_first
    for a in range(len(weights)):
        s = a + 1.0
        if two:
            _move_pair(x, columns, a_first, a_last, b_first, b_last, saved, hs, s, s)
            plus_plus = call(x, args)
            _move_pair(x, columns, a_first, a_last, b_first, b_last, saved, hs, s, -s)
            plus_minus = call(x, args)
            _move_pair(x, columns, a_first, a_last, b_first, b_last, saved, hs, -s, -s)
            minus_minus = call(x, args)
            _move_pair(x, columns, a_first, a_last, b_first, b_last, saved, hs, -s, s)
            minus_plus = call(x, args)
            _restore_pair(x, columns, a_first, a_last, b_first, b_last, saved)
            for value in (plus_plus, plus_minus, minus_minus, minus_plus):
                if value.shape[0] != m:
                    raise ObjectiveError("F must return arrays of the same length m at every point; it did not.")
            for e in range(entry_first, entry_last):
                for p in range(entry_row_ptr[e], entry_row_ptr[e + 1]):
                    r = entry_rows[p]
                    acc[e - entry_first] += weights[a] * ((plus_plus[r] - plus_minus[r]) - (minus_plus[r] - minus_minus[r]))
            if changed < 0:
                changed = _first_changed(plus_plus, minus_minus, silent)
            if changed < 0:
                changed = _first_changed(plus_minus, minus_plus, silent)
        else:
            _move(x, columns, a_first, a_last, saved, hs, s)
            plus = call(x, args)
            _move(x, columns, a_first, a_last, saved, hs, -s)
            minus = call(x, args)
            _restore(x, columns, a_first, a_last, saved)
            if plus.shape[0] != m or minus.shape[0] != m:
                raise ObjectiveError("F must return arrays of the same length m at every point; it did not.")
            for e in range(entry_first, entry_last):
                for p in range(entry_row_ptr[e], entry_row_ptr[e + 1]):
                    r = entry_rows[p]
                    acc[e - entry_first] += weights[a] * ((plus[r] - center[r]) + (minus[r] - center[r]))
            if changed < 0:
                changed = _first_changed(plus, center, silent)
            if changed < 0:
                changed = _first_changed(minus, center, silent)
    return changed


@register_jitable
def group_steps(x, columns, first, last, steps, typical, direction, hs, saved):
    """The step each coordinate of the group takes (:func:`~gradjit.stencils.weights.actual_step`;
    ``direction`` -1 for backward differences) into ``hs``, and its value into ``saved``
    (what the formulas move from and restore)."""
    start = np.uint64(first)
    for c in range(start, np.uint64(last)):
        j = np.uint64(columns[c])
        x0 = x[j]
        saved[c - start] = x0
        hs[c - start] = actual_step(x0, direction * steps[j], typical[j])


@register_jitable
def complex_group_steps(x, columns, first, last, steps, typical, hs, saved):
    """The complex step of each coordinate of the group (:func:`complex_step_size`) into ``hs``,
    and its value into ``saved``."""
    for c in range(first, last):
        j = columns[c]
        saved[c - first] = x[j]
        hs[c - first] = complex_step_size(x[j], steps[j], typical[j])


@register_jitable
def mark_group(group_rows, first, last, marks, stamp):
    """``marks[r] = stamp`` for every component the group reaches (``group_rows[first:last]``,
    :attr:`gradjit.Sparsity.group_rows`)."""
    for p in range(first, last):
        marks[group_rows[p]] = stamp


@register_jitable
def silent_rows(marks, stamp, scratch):
    """The components not marked ``stamp`` (reached by no coordinate of the group), ascending,
    as a view of ``scratch`` (length m)."""
    count = 0
    for r in range(marks.size):
        if marks[r] != stamp:
            scratch[count] = r
            count += 1
    return scratch[:count]


#: Where grouped entries go (:func:`write_group`, :func:`hessian_pair`): integers, as
#: comparing strings in a loop over the columns costs more than the arithmetic.
DENSE, SPARSE, TERMS = 0, 1, 2
#: The layouts by name.
LAYOUTS = {"dense": DENSE, "sparse": SPARSE, "terms": TERMS}


@register_jitable
def write_group(layout, i, d, columns, first, last, hs, sums, group_col_ptr, group_rows, group_positions, out):
    """The group's entries ``(r, j)``, ``sums[r] / h_j``, at point ``i`` by ``layout``, in
    the order of :meth:`gradjit.Sparsity._order_entries_by_group` (flat loops):
    :data:`DENSE` into ``out`` (N * m * d), :data:`SPARSE` at the entries' CSR positions in
    the point's ``out`` (N * nnz), or :data:`TERMS`, the gradient of ``Σ_r F_r``:
    ``(Σ_r sums[r]) / h_j`` over the column's components in ascending order, into
    ``out`` (N * d): one division per column (the sum of the Jacobian's column to
    rounding; bit for bit that of every column evaluated alone)."""
    m = sums.shape[0]
    if layout == TERMS:
        base = np.uint64(i * d)
        for c in range(np.uint64(first), np.uint64(last)):
            total = 0.0
            for p in range(np.uint64(group_col_ptr[c]), np.uint64(group_col_ptr[c + np.uint64(1)])):
                total += sums[np.uint64(group_rows[p])]
            out[base + np.uint64(columns[c])] = total / hs[c - np.uint64(first)]
    elif layout == DENSE:
        for c in range(first, last):
            j = columns[c]
            h = hs[c - first]
            for p in range(group_col_ptr[c], group_col_ptr[c + 1]):
                r = group_rows[p]
                out[(i * m + r) * d + j] = sums[r] / h
    else:
        base = i * group_positions.size
        for c in range(first, last):
            h = hs[c - first]
            for p in range(group_col_ptr[c], group_col_ptr[c + 1]):
                out[base + group_positions[p]] = sums[group_rows[p]] / h


@register_jitable
def hessian_pair(call, args, x, i, p, layout, weights, steps, typical, center, group_ptr, group_columns, group_rows,
                 group_entry_ptr, pairs, entry_ptr, entry_j, entry_k, entry_row_ptr, entry_rows, position_jk, position_kj,
                 saved, hs, acc, marks, scratch, out):
    """One work item of the Hessian of ``Σ_r F_r``: the pair of groups ``pairs[p]`` at
    point ``i`` (``x`` holds it, ``center`` is F there).

    Runs :func:`group_second_sums` and writes each entry ``(j, k)`` of the pair,
    ``acc / h_j**2`` on the diagonal and ``acc / (4 h_j h_k)`` off it (as
    :func:`~gradjit.stencils.second.second_entry` divides), to ``(j, k)`` and
    ``(k, j)``: ``layout`` :data:`DENSE` into ``out`` (N * d * d), :data:`SPARSE` at
    ``position_jk``/``position_kj`` of the point's CSR data (N * nnz). Returns the
    first component outside both groups that changed, or -1.
    """
    d = steps.size
    a, b = pairs[2 * p], pairs[2 * p + 1]
    a_first, a_last = group_ptr[a], group_ptr[a + 1]
    b_first, b_last = (group_ptr[b], group_ptr[b + 1]) if b != a else (0, 0)
    stamp = i * (pairs.size // 2) + p
    t = 0
    for first, last in ((a_first, a_last), (b_first, b_last)):
        for c in range(first, last):
            j = group_columns[c]
            hs[t] = actual_step(x[j], steps[j], typical[j])
            t += 1
    mark_group(group_rows, group_entry_ptr[a], group_entry_ptr[a + 1], marks, stamp)
    if b != a:
        mark_group(group_rows, group_entry_ptr[b], group_entry_ptr[b + 1], marks, stamp)
    silent = silent_rows(marks, stamp, scratch)
    e0, e1 = entry_ptr[p], entry_ptr[p + 1]
    changed = group_second_sums(call, args, x, group_columns, a_first, a_last, b_first, b_last, saved, hs, weights,
                                center, e0, e1, entry_row_ptr, entry_rows, acc, silent)
    nnz = position_jk.size
    for e in range(e0, e1):
        j, k = entry_j[e], entry_k[e]
        hj = actual_step(x[j], steps[j], typical[j])
        if j == k:
            value = acc[e - e0] / (hj * hj)
        else:
            value = acc[e - e0] / (4.0 * hj * actual_step(x[k], steps[k], typical[k]))
        if layout == DENSE:
            out[(i * d + j) * d + k] = value
            out[(i * d + k) * d + j] = value
        else:
            out[i * nnz + position_jk[e]] = value
            out[i * nnz + position_kj[e]] = value
    return changed


@register_jitable
def sum_of_terms(values):
    """``Σ_r values[r]`` in ascending r: f of a function given as its terms."""
    total = 0.0
    for r in range(values.shape[0]):
        total += values[r]
    return total


@register_jitable
def column_dependencies(call, args, x, j, probes, deltas, bases, marks, rows, offset):
    """The components of F that coordinate ``j`` moves, at each probe point (pattern detection).

    At each probe (row ``p`` of ``probes``, with F there in row ``p`` of
    ``bases``), ``x_j`` is moved by ``deltas[p, j]`` and then set to NaN; a
    component depends on ``x_j`` if its value changed with the move, or became
    NaN from a number. Each component is counted once (``marks[r] == j`` once
    found) and, when ``rows`` is not empty, written to it from ``offset`` on in the
    order found.
    Returns how many components depend on ``x_j``; ``x`` is left as the last probe.
    """
    count = 0
    m = bases.shape[1]
    for p in range(probes.shape[0]):
        for t in range(x.size):
            x[t] = probes[p, t]
        x0 = x[j]
        x[j] = x0 + deltas[p, j]
        moved = call(x, args)
        x[j] = np.nan
        poisoned = call(x, args)
        x[j] = x0
        if moved.shape[0] != m or poisoned.shape[0] != m:
            raise ObjectiveError("F must return arrays of the same length m at every point; it did not.")
        for r in range(m):
            base = bases[p, r]
            if marks[r] != j and (_differ(base, moved[r]) or (np.isnan(poisoned[r]) and not np.isnan(base))):
                marks[r] = j
                if rows.size:
                    rows[offset + count] = r
                count += 1
    return count
