"""The pure-NumPy reference backend: the ground truth every kernel is tested against.

It is the classic algorithm of "Deep Learning from Scratch" (save, perturb,
evaluate, restore, point by point and coordinate by coordinate), generalised to
every method, step and order, on a private copy of each point, calling the
formulas of :mod:`gradjit.stencils` that the kernels compile. It is
deliberately obvious. :func:`batch_gradient_vectorized` is the strongest
pure-NumPy competitor for batched functions: it shifts a whole column of
points at once. It implements :class:`gradjit.backends.Backend`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._objective import evaluate_python, name_of
from ..errors import ComplexValued, ObjectiveError
from ..stencils.bounds import bounded_column, bounded_entry, bounded_richardson_column, bounded_richardson_entry
from ..stencils.formulas import (
    central_column,
    central_entry,
    complex_step_column,
    complex_step_entry,
    one_sided_column,
    one_sided_entry,
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
from ..stencils.higher import nth_entry, richardson_nth_entry
from ..stencils.richardson import RICHARDSON_TABLE_SIZE
from ..stencils.second import (
    bounded_hessian_entry,
    bounded_richardson_second_entry,
    complex_hessian_entry,
    hessian_weights,
    one_sided_hessian_entry,
    second_entry,
)
from ..stencils.weights import actual_step
from . import GridBlock, _workers
from ._common import grid_points, vector_length, write_block

NAME = "numpy"

# Every method loops over the rows (in a private buffer) and calls the one
# formula of gradjit.stencils that the kernels compile.


def gradient(f: Callable, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None = None) -> None:
    """The gradient of ``f`` at every row of ``points`` (N, d) into ``out`` by ``spec.method``."""
    if spec.workers is not None:
        _workers.spread("gradient", f, points, spec, out, errors=errors)
        return
    f = _scalar_adapter(f) if spec.scalar_input else f
    formula = spec.formula
    if spec.n > 1:
        higher_derivative(f, points, spec, out, errors=errors)
    elif formula == "richardson":
        richardson_gradient(f, points, spec, out, errors=errors)
    elif spec.bounded:
        bounded_gradient(f, points, spec, out)
    elif formula == "complex":
        complex_step_gradient(f, points, spec, out)
    elif formula == "one-sided":
        one_sided_gradient(f, points, spec, out)
    elif spec.vectorized:
        batch_gradient_vectorized(f, points, spec, out)
    else:
        batch_gradient(f, points, spec, out)


def grid(f: Callable, axes: tuple[np.ndarray, ...], spec, block: GridBlock, *, indexing: str) -> None:
    """The gradient on the grid ``np.meshgrid(*axes, indexing=indexing)`` into ``block``."""
    points = grid_points(axes, indexing)
    found = np.empty_like(points)
    gradient(f, points, spec, found, errors=np.empty_like(points) if spec.method.error_estimates else None)
    write_block(block, found)


def values(f: Callable, points: np.ndarray, spec, out: np.ndarray) -> None:
    """``f`` at every row of ``points`` into ``out`` (N,), each on a private copy of its row."""
    if spec.workers is not None:
        _workers.spread("values", f, points, spec, out)
        return
    for i, x in _private_rows(points):
        out[i] = evaluate_python(f, x, spec.args)


def jacobian_length(f: Callable, points: np.ndarray, spec) -> int:
    """m, from F at the first point (0 points: at zeros)."""
    return vector_length(f, points, spec.args)


def _scalar_adapter(f: Callable) -> Callable:
    """f of a float as a function of a point of one coordinate (for :func:`gradjit.derivative`)."""

    def at_first_coordinate(x, *args):
        return f(x[0], *args)

    at_first_coordinate.__qualname__ = name_of(f)
    return at_first_coordinate


def _scalar_call(f: Callable) -> Callable:
    """``call(x, args)`` for the stencil formulas: f's value as a float64, checked to be a scalar."""

    def call(x, call_args):
        return np.float64(evaluate_python(f, x, call_args))

    return call


def _private_rows(points: np.ndarray, dtype=np.float64):
    """``(i, x)`` for each row, ``x`` one private buffer holding row ``i`` (the formulas perturb it)."""
    private = np.empty(points.shape[1], dtype=dtype)
    for i in range(points.shape[0]):
        private[:] = points[i]
        yield i, private


def batch_gradient(f: Callable, points: np.ndarray, spec, out: np.ndarray, *, in_place: bool = False) -> None:
    """Write the gradient of ``f`` at every row of ``points`` (N, d) into ``out`` (N, d).

    Each point is perturbed in a private copy, unless ``in_place`` (used only by
    the classic drop-ins): then the rows of ``points`` themselves are perturbed
    and every entry is restored to its exact original value, as the classic code
    does, so that an ``f`` reading the array through a closure sees the change.
    """
    call, steps, typical, weights, args = _scalar_call(f), spec.steps, spec.typical, spec.weights, spec.args
    private = np.empty(points.shape[1])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(points.shape[0]):
            if in_place:
                x = points[i]
            else:
                x = private
                x[:] = points[i]
            for j in range(x.size):
                x0 = x[j]
                # The step in x's own dtype (float32 in the classic in-place path), so
                # that x0 + h is the point f actually sees.
                step = x.dtype.type(steps[j])
                try:
                    out[i, j] = central_entry(call, args, x, j, actual_step(x0, step, x.dtype.type(typical[j])), weights)
                finally:
                    x[j] = x0  # restored even when f raises (in_place: the caller's own array)


def batch_gradient_vectorized(f: Callable, points: np.ndarray, spec, out: np.ndarray) -> None:
    """Like :func:`batch_gradient` for an ``f`` that maps ``(N, d)`` to ``(N,)``.

    One batched call per stencil point and coordinate: ``2 * (order/2) * d`` calls.
    """
    n, d = points.shape
    steps, typical, weights, args = spec.steps, spec.typical, spec.weights, spec.args
    shifted = points.copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for j in range(d):
            column = points[:, j]
            h = actual_step(column, steps[j], typical[j])
            total = np.zeros(n)
            for k, w in enumerate(weights, start=1):
                shifted[:, j] = column + k * h
                f_plus = _batched_values(f, shifted, args, n)
                shifted[:, j] = column - k * h
                f_minus = _batched_values(f, shifted, args, n)
                total += w * (f_plus - f_minus)
            shifted[:, j] = column
            out[:, j] = total / h


def _real_array(value, what: str) -> np.ndarray:
    """``value`` as a float64 array, refusing what is not real numbers (complex, None, objects)."""
    found = np.asarray(value)
    if found.dtype.kind not in "biuf":
        raise ObjectiveError(f"{what} must be real numbers; it returned {type(value).__name__} of dtype {found.dtype}.")
    return found.astype(np.float64, copy=False)


def _batched_values(f: Callable, points: np.ndarray, args: tuple, n: int) -> np.ndarray:
    values = _real_array(f(points, *args), "with vectorized=True, f's values")
    if values.shape != (n,):
        raise ObjectiveError(
            f"with vectorized=True, f must map an (N, d) array to an (N,) array; "
            f"for N={n} it returned shape {values.shape}."
        )
    return values


def hessian(f: Callable, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None = None,
            pairs: np.ndarray | None = None) -> None:
    """The Hessian of ``f`` at every row of ``points`` (N, d) into ``out`` (N, d, d), entry by
    entry; Richardson's error estimates into ``errors`` (N, d, d). ``pairs``: only these
    entries (j, k), j <= k, flattened; all of them by default."""
    if spec.workers is not None and pairs is None:
        _workers.spread("hessian", f, points, spec, out, errors=errors)
        return
    steps, typical, args, lower, upper = spec.steps, spec.typical, spec.args, spec.lower, spec.upper
    order, formula = spec.order, spec.formula
    call = _complex_call(f) if formula == "complex" else _scalar_call(f)
    central, second, one_sided, one_sided_second = hessian_weights(order)
    table = np.empty(RICHARDSON_TABLE_SIZE)
    pairs = list(zip(*np.triu_indices(points.shape[1]))) if pairs is None else list(zip(pairs[0::2], pairs[1::2]))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, x in _private_rows(points, np.complex128 if formula == "complex" else np.float64):
            center = call(x, args) if formula != "complex" else 0.0
            for j, k in pairs:
                if formula == "complex":
                    hk = actual_step(x[k].real, steps[k], typical[k])
                    value = complex_hessian_entry(call, args, x, j, k, hk, central)
                    out[i, j, k] = out[i, k, j] = value
                    continue
                if formula == "one-sided":
                    hj = actual_step(x[j], spec.direction * steps[j], typical[j])
                    hk = actual_step(x[k], spec.direction * steps[k], typical[k])
                    out[i, j, k] = out[i, k, j] = one_sided_hessian_entry(call, args, x, j, k, hj, hk, central, one_sided,
                                                                          one_sided_second, center)
                    continue
                hj, hk = actual_step(x[j], steps[j], typical[j]), actual_step(x[k], steps[k], typical[k])
                if formula == "richardson":
                    value, errors[i, j, k] = bounded_richardson_second_entry(call, args, x, j, k, hj, hk, lower, upper,
                                                                             center, table)
                    errors[i, k, j] = errors[i, j, k]
                elif spec.bounded:
                    value = bounded_hessian_entry(call, args, x, j, k, hj, hk, lower, upper, second, central, one_sided,
                                                  one_sided_second, center)
                else:
                    value = second_entry(call, args, x, j, k, hj, hk, second, center)
                out[i, j, k] = out[i, k, j] = value


def jacobian(f: Callable, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None = None) -> None:
    """The Jacobian of the vector function ``f`` at every row of ``points`` (N, d) into ``out``
    (N, m, d); Richardson's error estimates into ``errors``."""
    if spec.workers is not None:
        _workers.spread("jacobian", f, points, spec, out, errors=errors, m=out.shape[1])
        return
    m, formula, steps, typical, args = out.shape[1], spec.formula, spec.steps, spec.typical, spec.args
    complex_input = spec.method.complex_input
    call = _vector_call(f, m, complex_input)
    table = np.empty(m * RICHARDSON_TABLE_SIZE)
    column_errors = np.empty(m)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, x in _private_rows(points, np.complex128 if complex_input else np.float64):
            center = call(x, args) if formula == "richardson" else None
            for j in range(x.size):
                column = out[i, :, j]
                if formula == "richardson":
                    s = actual_step(x[j], steps[j], typical[j])
                    bounded_richardson_column(call, args, x, j, s, spec.lower[j], spec.upper[j], center, table, column,
                                              column_errors)
                    errors[i, :, j] = column_errors
                elif complex_input:
                    complex_step_column(call, args, x, j, steps[j], typical[j], column)
                elif spec.bounded:
                    s = actual_step(x[j], steps[j], typical[j])
                    bounded_column(call, args, x, j, s, spec.lower[j], spec.upper[j], spec.weights, spec.one_sided, column)
                elif formula == "central":
                    central_column(call, args, x, j, actual_step(x[j], steps[j], typical[j]), spec.weights, column)
                else:
                    h = actual_step(x[j], spec.direction * steps[j], typical[j])
                    one_sided_column(call, args, x, j, h, spec.weights, column)


def _vector_call(f: Callable, m: int, complex_input: bool) -> Callable:
    """``call(x, args)`` for the column formulas: F's value, checked to be m real (or complex) numbers."""

    def call(x, call_args):
        value = f(x, *call_args)
        if complex_input:
            value = np.asarray(value)
            if value.dtype.kind != "c":
                raise ObjectiveError(f"method='complex' needs F to return complex components for complex input; "
                                     f"it returned dtype {value.dtype}.")
        else:
            value = _real_array(value, "F's components")
        if value.shape != (m,):
            raise ObjectiveError(f"F must return a 1-D array of length {m} at every point; it returned shape {value.shape}.")
        return value

    return call


def grouped_jacobian(f: Callable, points: np.ndarray, spec, sparsity, out: np.ndarray, violations: np.ndarray, *,
                     layout: str) -> None:
    """The Jacobian of F by the groups of ``sparsity`` (:mod:`gradjit.stencils.grouped`), item by
    item as the kernel does them."""
    m, n_groups = sparsity.shape[0], sparsity.n_groups
    complex_input = spec.method.complex_input
    call = _vector_call(f, m, complex_input)
    direction = spec.direction if spec.formula == "one-sided" else 1.0
    largest = int(np.max(np.diff(sparsity.group_ptr), initial=0))
    dtype = np.complex128 if complex_input else np.float64
    saved, hs, sums = np.empty(largest, dtype=dtype), np.empty(largest), np.empty(m)
    marks, scratch, reference = np.full(m, -1, dtype=np.int64), np.empty(m, dtype=np.int64), np.empty(m)
    flat, d = out.reshape(-1), points.shape[1]
    columns, weights = sparsity.group_columns, spec.weights
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, x in _private_rows(points, dtype):
            for g in range(n_groups):
                first, last, stamp = sparsity.group_ptr[g], sparsity.group_ptr[g + 1], i * n_groups + g
                if sparsity.silent_ptr.size:
                    silent = sparsity.silent[sparsity.silent_ptr[g]:sparsity.silent_ptr[g + 1]]
                else:
                    mark_group(sparsity.group_rows, sparsity.group_entry_ptr[g], sparsity.group_entry_ptr[g + 1], marks,
                               stamp)
                    silent = silent_rows(marks, stamp, scratch)
                if complex_input:
                    complex_group_steps(x, columns, first, last, spec.steps, spec.typical, hs, saved)
                    changed = complex_group(call, spec.args, x, columns, first, last, saved, hs, sums, silent)
                else:
                    group_steps(x, columns, first, last, spec.steps, spec.typical, direction, hs, saved)
                    if spec.formula == "central":
                        changed = central_group(call, spec.args, x, columns, first, last, saved, hs, weights, sums, silent)
                    else:
                        changed = one_sided_group(call, spec.args, x, columns, first, last, saved, hs, weights, sums,
                                                  silent, reference)
                violations[stamp] = changed
                write_group(LAYOUTS[layout], i, d, columns, first, last, hs, sums, sparsity.group_col_ptr,
                            sparsity.group_rows, sparsity.group_positions, flat)


def terms_hessian(f: Callable, points: np.ndarray, spec, sparsity, out: np.ndarray, violations: np.ndarray, *,
                  layout: str) -> None:
    """The Hessian of ``Σ_r F_r`` by pairs of groups (see :func:`gradjit.stencils.grouped.hessian_pair`)."""
    m, plan = sparsity.shape[0], sparsity.hessian
    call = _vector_call(f, m, False)
    n_pairs = plan.pairs.shape[0]
    largest = int(np.max(np.diff(sparsity.group_ptr), initial=0))
    saved, hs = np.empty(2 * largest), np.empty(2 * largest)
    acc = np.empty(int(np.max(np.diff(plan.entry_ptr), initial=0)))
    marks, scratch, flat, pairs = np.full(m, -1, dtype=np.int64), np.empty(m, dtype=np.int64), out.reshape(-1), plan.pairs.reshape(-1)
    weights = hessian_weights(spec.order)[1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, x in _private_rows(points):
            center = call(x, spec.args)
            for p in range(n_pairs):
                violations[i * n_pairs + p] = hessian_pair(
                    call, spec.args, x, i, p, LAYOUTS[layout], weights, spec.steps, spec.typical, center, sparsity.group_ptr,
                    sparsity.group_columns, sparsity.group_rows, sparsity.group_entry_ptr, pairs, plan.entry_ptr, plan.entry_j,
                    plan.entry_k, plan.entry_row_ptr, plan.entry_rows, plan.position_jk, plan.position_kj, saved, hs,
                    acc, marks, scratch, flat)


def terms_values(f: Callable, points: np.ndarray, spec, out: np.ndarray) -> None:
    """``Σ_r F_r`` (in ascending r) at every row of ``points`` into ``out`` (N,)."""
    for i, x in _private_rows(points):
        values = _real_array(f(x, *spec.args), "F's components")
        if values.ndim != 1:
            raise ObjectiveError(f"F must return a 1-D array (its m components); it returned shape {values.shape}.")
        out[i] = sum_of_terms(values)


def dependencies(f: Callable, probes: np.ndarray, deltas: np.ndarray, m: int, spec, counts: np.ndarray, ptr: np.ndarray,
                 rows: np.ndarray) -> None:
    """Which components of F each coordinate moves at the probes (see :func:`column_dependencies`)."""
    d = probes.shape[1]
    call = _vector_call(f, m, False)
    x, marks = np.empty(d), np.full(m, -1, dtype=np.int64)
    with np.errstate(all="ignore"):
        bases = np.array([call(probe.copy(), spec.args) for probe in probes]).reshape(probes.shape[0], m)
        for j in range(d):
            counts[j] = column_dependencies(call, spec.args, x, j, probes, deltas, bases, marks, rows,
                                            ptr[j] if rows.size else 0)


def one_sided_gradient(f: Callable, points: np.ndarray, spec, out: np.ndarray) -> None:
    """Forward (or backward) differences of ``f`` at every row of ``points`` into ``out``."""
    call, direction, steps, typical, weights, args = _scalar_call(f), spec.direction, spec.steps, spec.typical, spec.weights, spec.args
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, x in _private_rows(points):
            for j in range(x.size):
                out[i, j] = one_sided_entry(call, args, x, j, actual_step(x[j], direction * steps[j], typical[j]), weights)


def _complex_call(f: Callable) -> Callable:
    """``call(x, args)`` for the complex-step formulas: f's value, checked to be a complex scalar."""

    def call(x, call_args):
        value = f(x, *call_args)
        if np.ndim(value) != 0 or not np.iscomplexobj(value):
            raise ObjectiveError(
                "method='complex' needs f to return a complex scalar for complex input (f must be analytic: "
                f"no abs, comparisons or real-only functions); it returned {type(value).__name__}."
            )
        return value

    return call


def complex_step_gradient(f: Callable, points: np.ndarray, spec, out: np.ndarray) -> None:
    """Complex-step derivatives ``Im f(x + i h e_j) / h`` at every row of ``points`` into ``out``."""
    call = _complex_call(f)
    if points.shape[0] and np.iscomplexobj(f(points[0].copy(), *spec.args)):
        raise ComplexValued.refused_by_complex_step(name_of(f))
    steps, typical, args = spec.steps, spec.typical, spec.args
    for i, x in _private_rows(points, np.complex128):
        for j in range(x.size):
            out[i, j] = complex_step_entry(call, args, x, j, steps[j], typical[j])


def richardson_gradient(f: Callable, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray) -> None:
    """Richardson-extrapolated gradient of ``f`` at every row of ``points`` into ``out``, error
    estimates into ``errors``; one-sided next to the bounds ``spec.lower``, ``spec.upper``."""
    call, steps, typical, lower, upper, args = _scalar_call(f), spec.steps, spec.typical, spec.lower, spec.upper, spec.args
    table = np.empty(RICHARDSON_TABLE_SIZE)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, x in _private_rows(points):
            center = call(x, args)
            for j in range(x.size):
                s = actual_step(x[j], steps[j], typical[j])
                out[i, j], errors[i, j] = bounded_richardson_entry(call, args, x, j, s, lower[j], upper[j], center, table)


def higher_derivative(f: Callable, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None) -> None:
    """The ``spec.n``-th derivative along each coordinate at every row of ``points`` into
    ``out``: central (:func:`nth_entry`) or Richardson (estimates into ``errors``)."""
    call, steps, typical, args, n, weights = _scalar_call(f), spec.steps, spec.typical, spec.args, spec.n, spec.weights
    table = np.empty(RICHARDSON_TABLE_SIZE)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, x in _private_rows(points):
            center = call(x, args) if spec.formula == "richardson" or n % 2 == 0 else 0.0
            for j in range(x.size):
                s = actual_step(x[j], steps[j], typical[j])
                if spec.formula == "richardson":
                    out[i, j], errors[i, j] = richardson_nth_entry(call, args, x, j, s, n, weights, center, table)
                else:
                    out[i, j] = nth_entry(call, args, x, j, s, n, weights, center)


def bounded_gradient(f: Callable, points: np.ndarray, spec, out: np.ndarray) -> None:
    """Central differences of ``f`` that never leave ``[spec.lower, spec.upper]`` (one-sided next to a bound)."""
    call, steps, typical, args = _scalar_call(f), spec.steps, spec.typical, spec.args
    weights, one_sided, lower, upper = spec.weights, spec.one_sided, spec.lower, spec.upper
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, x in _private_rows(points):
            for j in range(x.size):
                s = actual_step(x[j], steps[j], typical[j])
                out[i, j] = bounded_entry(call, args, x, j, s, lower[j], upper[j], weights, one_sided)
