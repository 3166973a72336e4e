"""The Numba backend: parallel finite-difference kernels.

Every kernel is ``kernel(inputs, start, stop, args)`` over work items
``start..stop`` (launched by :func:`gradjit.backends._launch.launch`, serially
or one slice per thread), with its inputs named in a NamedTuple:

``rows`` (central gradient, d <= STACK_D), inputs :class:`Rows`
    Points ``start..stop`` of a batch. The point lives in a fixed-size buffer
    on the stack (code specialised per d), so with the objective inlined LLVM
    keeps it in registers and vectorises across points. Indices are unsigned:
    a signed index makes Numba insert a negative-index wrap-around that stops
    the vectoriser.
``rows_heap`` (d > STACK_D)
    The same with one heap buffer per call, for any d.
``items`` (fewer points than threads)
    The flattened (point, coordinate) work with one heap buffer per call: this
    is what keeps every core busy on one point with many coordinates.
``grid``, inputs :class:`Grid`
    Grid points ``start..stop`` (C order), row by row along the last grid
    axis, each point's coordinates taken from the axes: the meshgrid is never
    built, and the innermost loop runs along a row, where LLVM vectorises.
``coordinate_items``, ``hessian_items``, ``jacobian_items``, inputs :class:`Items`
    The other methods, bounds, second derivatives and vector functions: one
    (point, entry) per item, each calling one formula of :mod:`gradjit.stencils`.
``values``, inputs :class:`Values`
    f at points ``start..stop``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from .. import _tiers
from .._config import JIT_OPTIONS, SERIAL_WORK_THRESHOLD
from .._memo import per_owner
from .._objective import compiled_call, jitted, python_function
from ..errors import ObjectiveError
from ..stencils.bounds import bounded_column, bounded_richardson_column
from ..stencils.formulas import (
    central_column,
    complex_step_column,
    one_sided_column,
)
from ..stencils.grouped import (
    LAYOUTS,
    central_group,
    column_dependencies,
    complex_group,
    complex_group_steps,
    group_steps,
    hessian_pair,
    mark_group,
    one_sided_group,
    silent_rows,
    sum_of_terms,
    write_group,
)
from ..stencils.richardson import RICHARDSON_TABLE_SIZE
from ..stencils.second import (
    hessian_weights,
)
from . import GridBlock
from ._common import grid_points, hessian_pairs, vector_length, write_block
from ._compiled import (
    STACK_D,
    VECTOR_D,
    compiled_actual_step,
    coordinate_entry,
    hessian_entry,
    load_point,
    stack_buffer,
    stencil_entry,
    step_rule,
)
from ._launch import compile_for, inputs_type, launch

NAME = "numba"

_EMPTY = np.zeros(0)
_NO_PAIRS = np.zeros(0, dtype=np.int64)


class Rows(NamedTuple):
    """Inputs of the central-gradient kernels over points (they unpack it in this order)."""

    x: np.ndarray  # (N * d,) the points, flat
    out: np.ndarray  # (N * d,) the gradient, flat
    steps: np.ndarray  # (d,)
    typical: np.ndarray  # (d,) the typical magnitude of each coordinate; < 0: absolute steps


class Values(NamedTuple):
    """Inputs of the kernels that evaluate f."""

    x: np.ndarray  # (N * d,) the points, flat
    out: np.ndarray  # (N,) f at each


class Grid(NamedTuple):
    """Inputs of the grid kernel."""

    axes: np.ndarray  # (d, longest): axis a in axes[a, :lengths[a]]
    lengths: np.ndarray  # (d,) int64
    out: np.ndarray  # (d, P): component j of grid point p at out[j, offset + p]
    offset: int
    steps: np.ndarray  # (d,)
    typical: np.ndarray  # (d,) the typical magnitude of each coordinate; < 0: absolute steps


class Items(NamedTuple):
    """Inputs of the (point, entry) item kernels; a kernel reads the fields its method needs."""

    x: np.ndarray  # (N * d,) the points, flat
    out: np.ndarray  # the result, flat: (N * d), (N * d * d) for Hessians, (N * m * d) for Jacobians
    errors: np.ndarray  # (N * d,) Richardson's error estimates, else empty
    steps: np.ndarray  # (d,)
    typical: np.ndarray  # (d,) the typical magnitude of each coordinate; < 0: absolute steps
    lower: np.ndarray  # (d,) the box f may be evaluated in
    upper: np.ndarray
    pairs: np.ndarray  # the Hessian's (j, k), j <= k, flattened (int64), else empty
    m: int  # the Jacobian's number of components, else 0


class Grouped(NamedTuple):
    """Inputs of the grouped Jacobian kernel (:mod:`gradjit.stencils.grouped`)."""

    x: np.ndarray  # (N * d,) the points, flat
    out: np.ndarray  # flat: (N * m * d) dense, (N * nnz) sparse, (N * d) the gradient of the terms' sum
    steps: np.ndarray  # (d,)
    typical: np.ndarray  # (d,)
    group_ptr: np.ndarray  # the Sparsity's groups and its entries in group order, int64
    group_columns: np.ndarray
    group_col_ptr: np.ndarray
    group_rows: np.ndarray  # the components each group reaches
    group_positions: np.ndarray  # each entry's place in CSR order
    group_entry_ptr: np.ndarray
    silent_ptr: np.ndarray  # the components each group does not reach (empty: found from marks)
    silent: np.ndarray
    violations: np.ndarray  # (N * groups,) int64: a component that changed outside its group, else -1
    m: int


class TermsHessian(NamedTuple):
    """Inputs of the kernel of the Hessian of a sum of terms (:func:`gradjit.stencils.grouped.hessian_pair`)."""

    x: np.ndarray
    out: np.ndarray  # flat: (N * d * d) dense or (N * nnz) sparse
    steps: np.ndarray
    typical: np.ndarray
    group_ptr: np.ndarray
    group_columns: np.ndarray
    group_rows: np.ndarray
    group_entry_ptr: np.ndarray
    pairs: np.ndarray  # the HessianPattern, flattened where 2-D
    entry_ptr: np.ndarray
    entry_j: np.ndarray
    entry_k: np.ndarray
    entry_row_ptr: np.ndarray
    entry_rows: np.ndarray
    position_jk: np.ndarray
    position_kj: np.ndarray
    violations: np.ndarray  # (N * pairs,) int64
    m: int


class Probes(NamedTuple):
    """Inputs of the pattern-detection kernel (:func:`gradjit.stencils.grouped.column_dependencies`)."""

    probes: np.ndarray  # (P, d) probe points
    deltas: np.ndarray  # (P, d) the move of each coordinate at each probe
    counts: np.ndarray  # (d,) int64: how many components depend on each coordinate
    ptr: np.ndarray  # (d + 1,) int64 with rows, the second pass: coordinate j's components go to rows[ptr[j]:]
    rows: np.ndarray
    m: int


class StencilSums(NamedTuple):
    """Inputs of the kernel of weighted sums of f along a line (:func:`stencil_sums`)."""

    x: np.ndarray  # (N,) the centres
    dx: np.ndarray  # (N,) the spacing at each
    divisor: np.ndarray  # (N,) what each sum is divided by
    weights: np.ndarray  # (K,), K odd: the stencil, centred
    out: np.ndarray  # (N,)


_ROWS_TYPE = inputs_type(Rows(_EMPTY, _EMPTY, _EMPTY, _EMPTY))
_VALUES_TYPE = inputs_type(Values(_EMPTY, _EMPTY))
_GRID_TYPE = inputs_type(Grid(np.zeros((1, 1)), _NO_PAIRS, np.zeros((1, 1)), 0, _EMPTY, _EMPTY))
_ITEMS_TYPE = inputs_type(Items(_EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY, _NO_PAIRS, 0))
_GROUPED_TYPE = inputs_type(Grouped(_EMPTY, _EMPTY, _EMPTY, _EMPTY, *([_NO_PAIRS] * 9), 0))
_PROBES_TYPE = inputs_type(Probes(np.zeros((1, 1)), np.zeros((1, 1)), _NO_PAIRS, _NO_PAIRS, _NO_PAIRS, 0))
_TERMS_HESSIAN_TYPE = inputs_type(TermsHessian(_EMPTY, _EMPTY, _EMPTY, _EMPTY, *([_NO_PAIRS] * 13), 0))
_SUMS_TYPE = inputs_type(StencilSums(_EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY))


@per_owner
def _rows(call, weights, d: int, rule: str):
    entry = stencil_entry(call, weights, d > VECTOR_D, rule)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def rows(inputs, start, stop, args):
        # Unpacked in Rows' field order: a new function's first call on a point compiles
        # about 50 ms faster than with four attribute reads (benchmarks/compile_profile.py).
        x, out, steps, typical = inputs
        buf = numba.carray(stack_buffer(d), d)
        for i in range(np.uint64(start), np.uint64(stop)):
            base = i * np.uint64(d)
            for j in range(d):
                buf[j] = x[base + np.uint64(j)]
            for j in range(d):
                out[base + np.uint64(j)] = entry(buf, j, steps[j], typical[j], args)

    return rows


@per_owner
def _rows_heap(call, weights, rule: str):
    entry = stencil_entry(call, weights, True, rule)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def rows_heap(inputs, start, stop, args):
        x, out, steps, typical = inputs
        d = steps.size
        buf = np.empty(d)
        for i in range(start, stop):
            for j in range(d):
                buf[j] = x[i * d + j]
            for j in range(d):
                out[i * d + j] = entry(buf, j, steps[j], typical[j], args)

    return rows_heap


@per_owner
def _items(call, weights, rule: str):
    entry = stencil_entry(call, weights, True, rule)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(inputs, start, stop, args):
        x, out, steps, typical = inputs
        d = steps.size
        buf = np.empty(d)
        point = start // d
        j = start - point * d
        load_point(x, buf, point)
        for item in range(start, stop):
            out[item] = entry(buf, j, steps[j], typical[j], args)
            j += 1
            if j == d and item + 1 < stop:
                j = 0
                point += 1
                load_point(x, buf, point)

    return items


@per_owner
def _grid(call, weights, d: int, swap_first_two: bool, rule: str):
    entry = stencil_entry(call, weights, False, rule)
    # order[g] = the coordinate that grid dimension g runs along ('xy' swaps 0 and 1).
    order = tuple([1, 0] + list(range(2, d))) if swap_first_two else tuple(range(d))
    last = order[d - 1]

    @numba.njit(inline="always", **JIT_OPTIONS)
    def grid(inputs, start, stop, args):
        axes, lengths, out, steps, typical = inputs.axes, inputs.lengths, inputs.out, inputs.steps, inputs.typical
        buf = numba.carray(stack_buffer(d), d)
        last_axis = axes[last]
        row_length = lengths[last]
        row = start // row_length
        while row * row_length < stop:
            # The coordinates along every dimension but the last are fixed in a row.
            rest = row
            for g in range(d - 2, -1, -1):
                a = order[g]
                buf[a] = axes[a, rest % lengths[a]]
                rest //= lengths[a]
            first = row * row_length
            base = np.uint64(first + inputs.offset)
            for t in range(np.uint64(max(start - first, 0)), np.uint64(min(stop - first, row_length))):
                buf[last] = last_axis[t]
                for j in range(d):
                    out[j, base + t] = entry(buf, j, steps[j], typical[j], args)
            row += 1

    return grid


@per_owner
def _values(call, d: int):
    @numba.njit(inline="always", **JIT_OPTIONS)
    def values(inputs, start, stop, args):
        x, out = inputs.x, inputs.out
        buf = numba.carray(stack_buffer(d), d)
        for i in range(np.uint64(start), np.uint64(stop)):
            base = i * np.uint64(d)
            for j in range(d):
                buf[j] = x[base + np.uint64(j)]
            out[i] = call(buf, args)

    return values


@per_owner
def _values_heap(call):
    @numba.njit(inline="always", **JIT_OPTIONS)
    def values_heap(inputs, start, stop, args):
        x, out = inputs.x, inputs.out
        buf = np.empty(x.size // out.size)
        for i in range(start, stop):
            load_point(x, buf, i)
            out[i] = call(buf, args)

    return values_heap


@per_owner
def _coordinate_items(call, *, method: str, bounded: bool, weights: tuple, one_sided: tuple, direction: float,
                      n: int = 1):
    """Item = (point i, coordinate j), one gradient entry each, by :func:`coordinate_entry`
    (Richardson's error estimates into ``inputs.errors``)."""
    dtype = np.complex128 if method == "complex" else np.float64
    table_size = RICHARDSON_TABLE_SIZE
    needs_center = method == "richardson" or (n > 1 and n % 2 == 0)
    entry = coordinate_entry(call, method=method, bounded=bounded, weights=weights, one_sided=one_sided,
                             direction=direction, n=n)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(inputs, start, stop, args):
        x, out, steps, typical, lower, upper = inputs.x, inputs.out, inputs.steps, inputs.typical, inputs.lower, inputs.upper
        d = steps.size
        buf = np.empty(d, dtype=dtype)
        table = np.empty(table_size if needs_center else 0)
        point, center = -1, 0.0
        for item in range(start, stop):
            i = item // d
            if i != point:
                point = i
                load_point(x, buf, i)
                if needs_center:
                    center = call(buf, args)
            j = item - i * d
            value, error = entry(buf, j, steps[j], typical[j], lower[j], upper[j], center, table, args)
            out[item] = value
            if method == "richardson":
                inputs.errors[item] = error

    return items


@per_owner
def _hessian_items(call, *, method: str, bounded: bool, order: int, direction: float):
    """Item = (point i, pair p), pairs (j, k), j <= k, listed in ``inputs.pairs``: one
    Hessian entry each by :func:`hessian_entry`, written to both places (Richardson's
    error estimates into ``inputs.errors``)."""
    table_size = RICHARDSON_TABLE_SIZE if method == "richardson" else 0
    dtype = np.complex128 if method == "complex" else np.float64
    entry = hessian_entry(call, method=method, bounded=bounded, order=order, direction=direction)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(inputs, start, stop, args):
        x, out, steps, typical, pairs = inputs.x, inputs.out, inputs.steps, inputs.typical, inputs.pairs
        d = steps.size
        n_pairs = pairs.size // 2
        buf = np.empty(d, dtype=dtype)
        table = np.empty(table_size)
        point, center = -1, 0.0
        for item in range(start, stop):
            i = item // n_pairs
            if i != point:
                point = i
                load_point(x, buf, i)
                if method != "complex":
                    center = call(buf, args)
            p = item - i * n_pairs
            j, k = pairs[2 * p], pairs[2 * p + 1]
            value, error = entry(buf, j, k, steps, typical, inputs.lower, inputs.upper, center, table, args)
            if method == "richardson":
                inputs.errors[i * d * d + j * d + k] = error
                inputs.errors[i * d * d + k * d + j] = error
            out[i * d * d + j * d + k] = value
            out[i * d * d + k * d + j] = value  # symmetric by construction

    return items


@per_owner
def _jacobian_items(call, *, method: str, bounded: bool, weights: tuple, one_sided: tuple, direction: float):
    """Item = (point i, coordinate j): column j of the Jacobian at point i by the formula
    ``method`` (``"central"``, ``"one-sided"``, ``"complex"``, ``"richardson"`` with its
    error estimates into ``inputs.errors``); the output is laid out as (N, m, d)."""
    dtype = np.complex128 if method == "complex" else np.float64
    richardson = method == "richardson"

    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(inputs, start, stop, args):
        x, out, steps, typical, m = inputs.x, inputs.out, inputs.steps, inputs.typical, inputs.m
        d = steps.size
        buf = np.empty(d, dtype=dtype)
        column = np.empty(m)
        column_errors = np.empty(m if richardson else 0)
        table = np.empty(m * RICHARDSON_TABLE_SIZE if richardson else 0)
        center = np.empty(0)
        point = -1
        for item in range(start, stop):
            i = item // d
            if i != point:
                point = i
                load_point(x, buf, i)
                if richardson:
                    center = call(buf, args)
            j = item - i * d
            if richardson:
                s = compiled_actual_step(buf[j], steps[j], typical[j])
                bounded_richardson_column(call, args, buf, j, s, inputs.lower[j], inputs.upper[j], center, table, column,
                                          column_errors)
                for r in range(m):
                    inputs.errors[i * m * d + r * d + j] = column_errors[r]
            elif method == "complex":
                complex_step_column(call, args, buf, j, steps[j], typical[j], column)
            elif bounded:
                s = compiled_actual_step(buf[j], steps[j], typical[j])
                bounded_column(call, args, buf, j, s, inputs.lower[j], inputs.upper[j], weights, one_sided, column)
            elif method == "central":
                central_column(call, args, buf, j, compiled_actual_step(buf[j], steps[j], typical[j]), weights, column)
            else:
                one_sided_column(call, args, buf, j, compiled_actual_step(buf[j], direction * steps[j], typical[j]), weights,
                                 column)
            for r in range(m):
                out[i * m * d + r * d + j] = column[r]

    return items


@per_owner
def _grouped_items(call, *, method: str, layout: int, weights: tuple, direction: float):
    """Item = (point i, group g) of a :class:`gradjit.Sparsity`: the group's steps, its
    formula of :mod:`gradjit.stencils.grouped` and its entries (:func:`write_group`,
    ``layout`` of :data:`~gradjit.stencils.grouped.LAYOUTS`); the stamp of the item's marks is the item."""
    dtype = np.complex128 if method == "complex" else np.float64

    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(inputs, start, stop, args):
        group_ptr, m = inputs.group_ptr, inputs.m
        n_groups = group_ptr.size - 1
        largest = 0
        for g in range(n_groups):
            largest = max(largest, group_ptr[g + 1] - group_ptr[g])
        buf = np.empty(inputs.steps.size, dtype=dtype)
        saved, hs = np.empty(largest, dtype=dtype), np.empty(largest)
        listed = inputs.silent_ptr.size > 0
        sums = np.empty(m)
        most_silent = 0
        for g in range(n_groups if listed else 0):
            most_silent = max(most_silent, inputs.silent_ptr[g + 1] - inputs.silent_ptr[g])
        marks = np.full(0 if listed else m, -1, dtype=np.int64)
        scratch = np.empty(most_silent if listed else m, dtype=np.int64)
        reference = np.empty(m if method == "one-sided" else 0)
        steps, typical, columns = inputs.steps, inputs.typical, inputs.group_columns
        d = steps.size
        point = -1
        for item in range(start, stop):
            i = item // n_groups
            if i != point:
                point = i
                load_point(inputs.x, buf, i)
            g = item - i * n_groups
            first, last = group_ptr[g], group_ptr[g + 1]
            if listed:
                # Copied, not sliced: a slice of a shared array increments its shared reference
                # count, and the threads then contend for that one cache line at every item.
                count = inputs.silent_ptr[g + 1] - inputs.silent_ptr[g]
                for t in range(count):
                    scratch[t] = inputs.silent[inputs.silent_ptr[g] + t]
                silent = scratch[:count]
            else:
                mark_group(inputs.group_rows, inputs.group_entry_ptr[g], inputs.group_entry_ptr[g + 1], marks, item)
                silent = silent_rows(marks, item, scratch)
            if method == "complex":
                complex_group_steps(buf, columns, first, last, steps, typical, hs, saved)
                changed = complex_group(call, args, buf, columns, first, last, saved, hs, sums, silent)
            else:
                group_steps(buf, columns, first, last, steps, typical, direction, hs, saved)
                if method == "central":
                    changed = central_group(call, args, buf, columns, first, last, saved, hs, weights, sums, silent)
                else:
                    changed = one_sided_group(call, args, buf, columns, first, last, saved, hs, weights, sums, silent,
                                              reference)
            inputs.violations[item] = changed
            write_group(layout, i, d, columns, first, last, hs, sums, inputs.group_col_ptr, inputs.group_rows,
                        inputs.group_positions, inputs.out)

    return items


@per_owner
def _terms_hessian_items(call, *, layout: int, weights: tuple):
    """Item = (point i, pair p of groups): the pair's Hessian entries by :func:`hessian_pair`."""

    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(inputs, start, stop, args):
        group_ptr, m = inputs.group_ptr, inputs.m
        n_pairs = inputs.pairs.size // 2
        largest, most_entries = 0, 0
        for g in range(group_ptr.size - 1):
            largest = max(largest, group_ptr[g + 1] - group_ptr[g])
        for p in range(n_pairs):
            most_entries = max(most_entries, inputs.entry_ptr[p + 1] - inputs.entry_ptr[p])
        buf = np.empty(inputs.steps.size)
        saved, hs = np.empty(2 * largest), np.empty(2 * largest)
        acc, marks, scratch = np.empty(most_entries), np.full(m, -1, dtype=np.int64), np.empty(m, dtype=np.int64)
        center = np.empty(0)
        point = -1
        for item in range(start, stop):
            i = item // n_pairs
            if i != point:
                point = i
                load_point(inputs.x, buf, i)
                center = call(buf, args)
                if center.shape[0] != m:
                    raise ObjectiveError("F must return arrays of the same length m at every point; it did not.")
            inputs.violations[item] = hessian_pair(
                call, args, buf, i, item - i * n_pairs, layout, weights, inputs.steps, inputs.typical, center, group_ptr,
                inputs.group_columns, inputs.group_rows, inputs.group_entry_ptr, inputs.pairs, inputs.entry_ptr, inputs.entry_j,
                inputs.entry_k, inputs.entry_row_ptr, inputs.entry_rows, inputs.position_jk, inputs.position_kj, saved,
                hs, acc, marks, scratch, inputs.out)

    return items


@per_owner
def _dependency_items(call):
    """Item = coordinate j: the components of F that it moves at the probes, counted
    (``inputs.rows`` empty) or written to ``rows[ptr[j]:]``."""

    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(inputs, start, stop, args):
        probes, m = inputs.probes, inputs.m
        buf = np.empty(probes.shape[1])
        marks = np.full(m, -1, dtype=np.int64)
        bases = np.empty((probes.shape[0], m))  # F at each probe, by this very code
        for p in range(probes.shape[0]):
            buf[:] = probes[p]
            value = call(buf, args)
            if value.shape[0] != m:
                raise ObjectiveError("F must return arrays of the same length m at every point; it did not.")
            bases[p] = value
        for j in range(start, stop):
            offset = inputs.ptr[j] if inputs.rows.size else 0
            inputs.counts[j] = column_dependencies(call, args, buf, j, probes, inputs.deltas, bases, marks, inputs.rows,
                                                   offset)

    return items


@per_owner
def _terms_values(call):
    """Item = point i: ``Σ_r F_r`` in ascending r (the objective of a sum of terms)."""

    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(inputs, start, stop, args):
        buf = np.empty(inputs.x.size // inputs.out.size)
        for i in range(start, stop):
            load_point(inputs.x, buf, i)
            inputs.out[i] = sum_of_terms(call(buf, args))

    return items


@per_owner
def _stencil_sums(call):
    @numba.njit(inline="always", **JIT_OPTIONS)
    def sums(inputs, start, stop, args):
        x, dx, divisor, weights, out = inputs
        buf = numba.carray(stack_buffer(1), 1)
        half = weights.size // 2
        for i in range(start, stop):
            total = 0.0
            for k in range(weights.size):
                buf[0] = x[i] + (k - half) * dx[i]
                total += weights[k] * call(buf, args)
            out[i] = total / divisor[i]

    return sums


def _splits_coordinates(n: int, d: int, evaluations: int, threads: int) -> bool:
    """Fewer points than threads and enough work: the flattened (point, coordinate) items."""
    return n < threads and (d > STACK_D or evaluations * n * d * d >= SERIAL_WORK_THRESHOLD)


def uses_row_kernel(n: int, d: int, spec) -> bool:
    """Whether a central gradient at ``n`` points in ``d`` dimensions runs on the
    stack-buffer row kernel (one point after the other, vectorised across points)."""
    return d <= STACK_D and not _splits_coordinates(n, d, spec.evaluations, spec.threads)


def _items_inputs(points: np.ndarray, out: np.ndarray, spec, *, errors=_EMPTY, pairs=_NO_PAIRS, m: int = 0) -> Items:
    return Items(points.reshape(-1), out.reshape(-1), errors, spec.steps, spec.typical, spec.lower, spec.upper, pairs, m)


def _launch_on_tier(compiled, spec, family: _tiers.Kernel, inputs, inputs_type, n_work: int, cost: int) -> None:
    """The kernel of ``family`` launched over ``n_work`` items on the tier that
    ``spec.jit`` chooses (:mod:`gradjit._tiers`)."""

    def launch_with(kernel, choice) -> None:
        launch(kernel, inputs, inputs_type, n_work, cost=cost, threads=spec.threads, args=choice.args,
               args_type=choice.args_type, owner=compiled.native)

    def prepare(kernel, choice) -> None:
        compile_for(kernel, inputs_type, choice.args_type)

    _tiers.run(compiled, spec.jit, cost, spec.args, family, launch_with, prepare)


def gradient(f, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None = None) -> None:
    """The gradient at every row of ``points`` (N, d) into ``out`` (N, d)."""
    n, d = points.shape
    if n == 0 or d == 0:
        return
    compiled = compiled_call(f, spec.args, scalar_input=spec.scalar_input, returns=spec.returns, points=points)
    cost = spec.evaluations * n * d * d
    if spec.formula == "central" and not spec.bounded and spec.n == 1:
        weights, rule = spec.weights, step_rule(spec)
        if _splits_coordinates(n, d, spec.evaluations, spec.threads):
            make, n_work = _tiers.kernel(_items, weights, rule), n * d
        elif d <= STACK_D:
            make, n_work = _tiers.kernel(_rows, weights, d, rule), n
        else:
            make, n_work = _tiers.kernel(_rows_heap, weights, rule), n
        inputs = Rows(points.reshape(-1), out.reshape(-1), spec.steps, spec.typical)
        _launch_on_tier(compiled, spec, make, inputs, _ROWS_TYPE, n_work, cost)
        return

    make = _tiers.kernel(_coordinate_items, method=spec.formula, bounded=spec.bounded, weights=spec.weights,
                         one_sided=spec.one_sided, direction=spec.direction, n=spec.n)
    inputs = _items_inputs(points, out, spec, errors=_EMPTY if errors is None else errors.reshape(-1))
    _launch_on_tier(compiled, spec, make, inputs, _ITEMS_TYPE, n * d, cost)


def values(f, points: np.ndarray, spec, out: np.ndarray) -> None:
    """f at every row of ``points`` (N, d) into ``out`` (N,)."""
    n, d = points.shape
    if n == 0:
        return
    compiled = compiled_call(f, spec.args, points=points)

    make = _tiers.kernel(_values, d) if 0 < d <= STACK_D else _tiers.kernel(_values_heap)
    _launch_on_tier(compiled, spec, make, Values(points.reshape(-1), out), _VALUES_TYPE, n, n * max(d, 1))


def grid(f, axes: tuple[np.ndarray, ...], spec, block: GridBlock, *, indexing: str) -> None:
    """The gradient on the grid of ``axes`` into ``block``: the grid kernel for central
    differences, else the block's points as a batch."""
    d = len(axes)
    sizes = [a.size for a in axes]
    n_points = math.prod(sizes)
    if n_points == 0:
        return
    if spec.formula != "central" or spec.bounded:
        points = grid_points(axes, indexing)
        found = np.empty_like(points)
        gradient(f, points, spec, found, errors=np.empty_like(points) if spec.method.error_estimates else None)
        write_block(block, found)
        return
    longest = max(sizes)
    if min(sizes) == longest:
        padded = np.array(axes)  # one copy, no padding: the common square grid
    else:
        padded = np.zeros((d, longest))
        for a, axis in enumerate(axes):
            padded[a, :axis.size] = axis
    lengths = np.array(sizes, dtype=np.int64)
    compiled = compiled_call(f, spec.args, points=padded[:, :1].T)  # the grid's first point, (1, d)
    swap = indexing == "xy" and d >= 2
    inputs = Grid(padded, lengths, block.out, block.offset, spec.steps, spec.typical)
    _launch_on_tier(compiled, spec, _tiers.kernel(_grid, spec.weights, d, swap, step_rule(spec)), inputs, _GRID_TYPE, n_points,
                    spec.evaluations * n_points * d * d)


def hessian(f, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None = None,
            pairs: np.ndarray | None = None) -> None:
    """The Hessian at every row of ``points`` (N, d) into ``out`` (N, d, d); Richardson's
    error estimates into ``errors`` (N, d, d). ``pairs``: only these entries (j, k), j <= k,
    flattened (int64); all of them by default."""
    n, d = points.shape
    pairs = hessian_pairs(d) if pairs is None else pairs
    n_items = n * (pairs.size // 2)
    if n_items == 0:
        return
    compiled = compiled_call(f, spec.args, returns=spec.returns, points=points)
    inputs = _items_inputs(points, out, spec, pairs=pairs, errors=_EMPTY if errors is None else errors.reshape(-1))
    make = _tiers.kernel(_hessian_items, method=spec.formula, bounded=spec.bounded, order=spec.order,
                         direction=spec.direction)
    _launch_on_tier(compiled, spec, make, inputs, _ITEMS_TYPE, n_items, spec.hessian_evaluations * n_items * d)


def jacobian_length(f, points: np.ndarray, spec) -> int:
    """m, from F at the first point (0 points: at zeros): in Python, which compiles
    nothing; compiled where F does not run in Python."""
    try:
        with np.errstate(all="ignore"):
            return vector_length(python_function(f), points, spec.args)
    except ObjectiveError:
        raise
    except Exception:  # noqa: BLE001 - F runs only compiled (or fails: compiling says why)
        return vector_length(jitted(f), points, spec.args)


def jacobian(f, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None = None) -> None:
    """The Jacobian at every row of ``points`` (N, d) into ``out`` (N, m, d); Richardson's
    error estimates into ``errors`` (N, m, d)."""
    n, d = points.shape
    m = out.shape[1]
    if n * d == 0 or m == 0:
        return
    returns = "complex vector" if spec.method.complex_input else "vector"
    compiled = compiled_call(f, spec.args, returns=returns, points=points)

    make = _tiers.kernel(_jacobian_items, method=spec.formula, bounded=spec.bounded, weights=spec.weights,
                         one_sided=spec.one_sided, direction=spec.direction)
    inputs = _items_inputs(points, out, spec, m=m, errors=_EMPTY if errors is None else errors.reshape(-1))
    _launch_on_tier(compiled, spec, make, inputs, _ITEMS_TYPE, n * d,
                    spec.evaluations * n * d * d)


def _grouped_cost(n_items: int, evaluations: int, m: int, d: int) -> int:
    """The cost estimate (:mod:`gradjit._tiers`, the serial threshold) of grouped work items:
    each evaluates F ``evaluations`` times and walks its components and coordinates a
    few times more, each step a few times the cost of a term of F."""
    return n_items * (evaluations + 4) * (m + d) * 8


def _vector_call(f, points: np.ndarray, spec):
    returns = "complex vector" if spec.method.complex_input else "vector"
    return compiled_call(f, spec.args, returns=returns, points=points)


def grouped_jacobian(f, points: np.ndarray, spec, sparsity, out: np.ndarray, violations: np.ndarray, *,
                     layout: str) -> None:
    """The Jacobian of F at every row of ``points`` by the groups of ``sparsity`` into
    ``out`` by ``layout`` (``"dense"``, ``"sparse"`` or ``"terms"``, :func:`gradjit.stencils.grouped.write_group`);
    ``violations`` (N * groups) gets each item's first component that changed outside its group."""
    n, d = points.shape
    n_groups = sparsity.n_groups
    if n * n_groups == 0:
        return
    m = sparsity.shape[0]
    direction = spec.direction if spec.formula == "one-sided" else 1.0
    make = _tiers.kernel(_grouped_items, method=spec.formula, layout=LAYOUTS[layout], weights=spec.weights,
                         direction=direction)
    inputs = Grouped(points.reshape(-1), out.reshape(-1), spec.steps, spec.typical, sparsity.group_ptr,
                     sparsity.group_columns, sparsity.group_col_ptr, sparsity.group_rows, sparsity.group_positions,
                     sparsity.group_entry_ptr, sparsity.silent_ptr, sparsity.silent, violations, m)
    _launch_on_tier(_vector_call(f, points, spec), spec, make, inputs, _GROUPED_TYPE, n * n_groups,
                    _grouped_cost(n * n_groups, spec.evaluations, m, d))


def terms_hessian(f, points: np.ndarray, spec, sparsity, out: np.ndarray, violations: np.ndarray, *,
                  layout: str) -> None:
    """The Hessian of ``Σ_r F_r`` at every row of ``points`` by pairs of groups
    (:attr:`gradjit.Sparsity.hessian`) into ``out`` (``layout`` "dense" or "sparse")."""
    n, d = points.shape
    plan = sparsity.hessian
    n_pairs = plan.pairs.shape[0]
    if n * n_pairs == 0:
        return
    m = sparsity.shape[0]
    make = _tiers.kernel(_terms_hessian_items, layout=LAYOUTS[layout], weights=hessian_weights(spec.order)[1])
    inputs = TermsHessian(points.reshape(-1), out.reshape(-1), spec.steps, spec.typical, sparsity.group_ptr,
                          sparsity.group_columns, sparsity.group_rows, sparsity.group_entry_ptr, plan.pairs.reshape(-1),
                          plan.entry_ptr, plan.entry_j, plan.entry_k, plan.entry_row_ptr, plan.entry_rows,
                          plan.position_jk, plan.position_kj, violations, m)
    _launch_on_tier(_vector_call(f, points, spec), spec, make, inputs, _TERMS_HESSIAN_TYPE, n * n_pairs,
                    _grouped_cost(n * n_pairs, 2 * spec.order, m, d))


def stencil_sums(f, x: np.ndarray, dx: np.ndarray, divisor: np.ndarray, weights: np.ndarray, spec, out: np.ndarray) -> None:
    """``Σ_k weights[k] f(x_i + (k - K // 2) dx_i) / divisor_i`` for every i, summed in the
    order of k, into ``out``: :func:`gradjit.classic.derivative`, the arithmetic of
    ``scipy.misc.derivative`` (f of one variable, ``spec.scalar_input``)."""
    n = x.size
    if n == 0:
        return
    compiled = compiled_call(f, spec.args, scalar_input=True, points=x.reshape(-1, 1))
    _launch_on_tier(compiled, spec, _tiers.kernel(_stencil_sums), StencilSums(x, dx, divisor, weights, out), _SUMS_TYPE,
                    n, n * weights.size)


def terms_values(f, points: np.ndarray, spec, out: np.ndarray) -> None:
    """``Σ_r F_r`` at every row of ``points`` into ``out`` (N,)."""
    n, d = points.shape
    if n == 0:
        return
    compiled = compiled_call(f, spec.args, returns="vector", points=points)
    _launch_on_tier(compiled, spec, _tiers.kernel(_terms_values), Values(points.reshape(-1), out),
                    _VALUES_TYPE, n, _grouped_cost(n, 1, 0, d))


def dependencies(f, probes: np.ndarray, deltas: np.ndarray, m: int, spec, counts: np.ndarray, ptr: np.ndarray,
                 rows: np.ndarray) -> None:
    """Which components of F each coordinate moves at the probes (:mod:`gradjit._detect`):
    counts per coordinate, and with ``rows`` non-empty the components themselves."""
    d = probes.shape[1]
    if d == 0:
        return
    compiled = compiled_call(f, spec.args, returns="vector", points=probes)
    _launch_on_tier(compiled, spec, _tiers.kernel(_dependency_items),
                    Probes(probes, deltas, counts, ptr, rows, m), _PROBES_TYPE, d, 2 * probes.shape[0] * d * (m + d))
