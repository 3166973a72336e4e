"""The Numba backend: parallel central-difference kernels.

Structure (each layer takes a slice of the work, so chunked and distributed
evaluation reuse the same compiled code):

``entry``
    One gradient entry: perturb coordinate ``j`` of a private point buffer,
    evaluate the stencil, restore it. Shared by every kernel below.
``rows`` (d <= STACK_D)
    Points ``start..stop`` of a batch. The point lives in a fixed-size buffer
    on the stack (code specialised per d), so with the objective inlined LLVM
    keeps it in registers and vectorises across points. Indices are unsigned:
    a signed index makes Numba insert a negative-index wrap-around that stops
    the vectoriser.
``rows_heap`` (d > STACK_D)
    The same with one heap buffer per call, for any d.
``items`` (fewer points than threads)
    The flattened (point, coordinate) work ``start..stop`` with one heap buffer
    per call: this is what keeps every core busy on one point with many
    coordinates.
``grid``
    Grid points ``start..stop`` (C order), row by row along the last grid
    axis, each point's coordinates taken from the axes: the meshgrid is never
    built, and the innermost loop runs along a row, where LLVM vectorises.
``_drive``
    ``prange`` over one contiguous slice per thread, each calling one of the
    kernels above, passed in as a first-class function: the driver does not
    depend on the objective, so it is compiled once per argument types and
    cached on disk, and a new objective only compiles its own small kernels.
    Small problems call the kernel directly, serially.

Every output entry is computed by the same instructions whatever the slicing,
so results are bitwise identical for any thread count.
"""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext
from functools import lru_cache

import numba
import numpy as np
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .. import _contention
from .._blas import one_blas_thread
from .._config import (
    DRIVER_JIT_OPTIONS,
    INTERNAL_JIT_OPTIONS,
    JIT_OPTIONS,
    SERIAL_WORK_THRESHOLD,
    launch_lock,
    usable_threads,
)
from .._memo import memo_of, owner_of, per_owner
from ..errors import GradjitError
from ..stencils import (
    RICHARDSON_STEPS,
    RICHARDSON_TABLE_SIZE,
    actual_step,
    bounded_entry,
    bounded_richardson_entry,
    central_entry,
    complex_step_entry,
    hessian_entry,
    jacobian_column,
    one_sided_entry,
)

#: Largest d with a stack buffer and code specialised per d for batches.
STACK_D = 64

#: Up to this d the stencil entry stays a separate function that LLVM inlines
#: and vectorises across points (objectives of a few variables are typically
#: written with explicit indices, x[0] * x[0] + ...). Above it the entry is
#: inlined at Numba's IR level, which optimises a loop inside f better.
VECTOR_D = 4

_VECTOR = types.float64[::1]
_BATCH_TYPES = (_VECTOR, _VECTOR, _VECTOR, types.boolean)

_actual_step = numba.njit(inline="always", **JIT_OPTIONS)(actual_step)
# The hot path calls the central formula through a plain dispatcher: through its
# register_jitable overload a new function's first call compiled 0.18 s longer.
_central_entry = numba.njit(inline="always", **INTERNAL_JIT_OPTIONS)(central_entry)


@intrinsic
def _stack_buffer(typingctx, length):
    """A pointer to ``length`` float64s on the calling function's stack."""
    if not isinstance(length, types.IntegerLiteral):
        return None
    size = length.literal_value

    def codegen(context, builder, signature, args):
        # alloca_once places the alloca in the entry block: one buffer per call.
        return cgutils.alloca_once(builder, context.get_value_type(types.float64), size=size)

    return types.CPointer(types.float64)(length), codegen


@numba.njit(inline="always", **JIT_OPTIONS)
def _load_point(x_flat, buf, i):
    """Copy point ``i`` of the flat (N, d) array into ``buf`` (length d)."""
    d = buf.size
    for c in range(d):
        buf[c] = x_flat[i * d + c]


@per_owner
def _entry(call, weights: tuple[float, ...], inline: bool):
    # inline=True merges the entry into the kernel at Numba's IR level, which lets
    # LLVM optimise a loop inside f together with the kernel (1.4x faster for
    # Rosenbrock, d = 10) but stops it vectorising across points (see VECTOR_D).
    @numba.njit(inline="always" if inline else "never", **INTERNAL_JIT_OPTIONS)
    def entry(buf, j, step, scaled, args):
        return _central_entry(call, args, buf, j, _actual_step(buf[j], step, scaled), weights)

    return entry


@per_owner
def _rows(call, weights, d: int):
    entry = _entry(call, weights, inline=d > VECTOR_D)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def rows(x_flat, out_flat, steps, scaled, start, stop, args):
        buf = numba.carray(_stack_buffer(d), d)
        for i in range(np.uint64(start), np.uint64(stop)):
            base = i * np.uint64(d)
            for j in range(d):
                buf[j] = x_flat[base + np.uint64(j)]
            for j in range(d):
                out_flat[base + np.uint64(j)] = entry(buf, j, steps[j], scaled, args)

    return rows


@per_owner
def _rows_heap(call, weights):
    entry = _entry(call, weights, inline=True)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def rows_heap(x_flat, out_flat, steps, scaled, start, stop, args):
        d = steps.size
        buf = np.empty(d)
        for i in range(start, stop):
            for j in range(d):
                buf[j] = x_flat[i * d + j]
            for j in range(d):
                out_flat[i * d + j] = entry(buf, j, steps[j], scaled, args)

    return rows_heap


@per_owner
def _items(call, weights):
    entry = _entry(call, weights, inline=True)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(x_flat, out_flat, steps, scaled, start, stop, args):
        d = steps.size
        buf = np.empty(d)
        point = start // d
        j = start - point * d
        _load_point(x_flat, buf, point)
        for item in range(start, stop):
            out_flat[item] = entry(buf, j, steps[j], scaled, args)
            j += 1
            if j == d and item + 1 < stop:
                j = 0
                point += 1
                _load_point(x_flat, buf, point)

    return items


@per_owner
def _grid(call, weights, d: int, swap_first_two: bool):
    entry = _entry(call, weights, inline=False)
    # order[g] = the coordinate that grid dimension g runs along ('xy' swaps 0 and 1).
    order = tuple([1, 0] + list(range(2, d))) if swap_first_two else tuple(range(d))
    last = order[d - 1]

    @numba.njit(inline="always", **JIT_OPTIONS)
    def grid(axes, outs, steps, scaled, start, stop, args):
        buf = numba.carray(_stack_buffer(d), d)
        last_axis = axes[last]
        row_length = last_axis.size
        row = start // row_length
        while row * row_length < stop:
            # The coordinates along every dimension but the last are fixed in a row.
            rest = row
            for g in range(d - 2, -1, -1):
                axis = axes[order[g]]
                buf[order[g]] = axis[rest % axis.size]
                rest //= axis.size
            first = row * row_length
            base = np.uint64(first)
            for t in range(np.uint64(max(start - first, 0)), np.uint64(min(stop - first, row_length))):
                buf[last] = last_axis[t]
                for j in range(d):
                    outs[j][base + t] = entry(buf, j, steps[j], scaled, args)
            row += 1

    return grid


@per_owner
def _values(call, d: int):
    # f at points start..stop. Same argument layout as the gradient kernels
    # (x, out, steps, scaled, start, stop, args) so the same driver runs it;
    # steps and scaled are not used.

    @numba.njit(inline="always", **JIT_OPTIONS)
    def values(x_flat, out, steps, scaled, start, stop, args):
        buf = numba.carray(_stack_buffer(d), d)
        for i in range(np.uint64(start), np.uint64(stop)):
            base = i * np.uint64(d)
            for j in range(d):
                buf[j] = x_flat[base + np.uint64(j)]
            out[i] = call(buf, args)

    return values


@per_owner
def _values_heap(call):
    @numba.njit(inline="always", **JIT_OPTIONS)
    def values_heap(x_flat, out, steps, scaled, start, stop, args):
        buf = np.empty(x_flat.size // out.size)
        for i in range(start, stop):
            _load_point(x_flat, buf, i)
            out[i] = call(buf, args)

    return values_heap


@per_owner
def _guarded(kernel):
    """``kernel`` wrapped to return False instead of raising.

    An exception raised by f in a worker thread does not reach Python from a
    parallel region (only the main thread's does), so each slice runs guarded;
    :func:`_launch` re-runs a failed slice in the calling thread, where the
    exception surfaces with its message.
    """

    @numba.njit(**JIT_OPTIONS)
    def guarded(a0, a1, a2, a3, start, stop, args):  # the kernel is inlined here (inline="always")
        try:
            kernel(a0, a1, a2, a3, start, stop, args)
        except Exception:  # noqa: BLE001 - re-raised by _launch
            return False
        return True

    return guarded


def _drive(kernel, a0, a1, a2, a3, n_work, n_chunks, failed, args):  # pragma: no cover - compiled
    # One contiguous slice of the work per chunk; the kernel is a first-class
    # function argument, so this driver is compiled once per argument types (and
    # cached on disk), not once per objective.
    for c in prange(n_chunks):
        if not kernel(a0, a1, a2, a3, c * n_work // n_chunks, (c + 1) * n_work // n_chunks, args):
            failed[c] = True


_drivers: dict = {}
_drivers_lock = threading.Lock()


def _parallel_driver(kernel_signature):
    """The parallel driver for kernels of this signature, compiled on first use."""
    with _drivers_lock:
        driver = _drivers.get(kernel_signature)
        if driver is None:
            kernel_type = types.FunctionType(kernel_signature)
            a = kernel_signature.args
            signature = types.void(kernel_type, *a[:4], types.int64, types.int64, types.boolean[::1], a[6])
            driver = numba.njit(signature, **DRIVER_JIT_OPTIONS)(_drive)
            _drivers[kernel_signature] = driver
        return driver


def _launcher(kernel, leading_types: tuple, args_type):
    """``_guarded_and_driver`` memoised on the kernel (whose leading types never
    change) and the type of ``args``: hashing a tuple of Numba types on every
    call costs microseconds."""
    memo = memo_of(owner_of(kernel))
    key = ("_launcher", kernel, args_type)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _guarded_and_driver(kernel, (*leading_types, types.int64, types.int64, args_type))
    return found


def _guarded_and_driver(kernel, argument_types: tuple):
    """The guarded kernel as a first-class function value, and its driver.

    The compiled kernel is wrapped by its address (``CompileResultWAP``): passing
    the dispatcher itself would make Numba look its compiled version up again on
    every call, which costs more than a small problem's whole evaluation.
    """
    guarded = _guarded(kernel)
    guarded.compile(argument_types)
    compiled = guarded.overloads[argument_types]
    driver = _parallel_driver(compiled.signature)
    # The compiled entry point of the driver's only signature: calling it skips
    # the dispatcher's type inference of the arguments.
    entry_point = driver.overloads[driver.signatures[0]].entry_point
    return types.CompileResultWAP(compiled), entry_point


def _launch(kernel, leading: tuple, leading_types: tuple, n_work: int, cost: int, threads: int, args: tuple, args_type) -> None:
    """Run ``kernel(*leading, start, stop, args)`` over ``0..n_work``: serially for
    small work, else on ``threads`` threads, one contiguous slice each.

    Both paths run the guarded kernel (one compilation); only when f raised is
    the plain kernel compiled and re-run on the failed slice, to raise f's
    exception with its message. ``cost`` estimates the work as evaluations of f
    times d (an evaluation of a typical f reads all d coordinates).
    ``leading_types`` and ``args_type`` are the Numba types of ``leading`` and
    ``args`` (cheaper to pass than to infer on every call)."""
    threads = usable_threads(threads)
    memo = memo_of(owner_of(kernel))
    rate_key = ("seconds per cost", kernel)
    if threads == 1 or cost < SERIAL_WORK_THRESHOLD or _contention.contended(_estimate(memo.get(rate_key), cost)):
        cpu_start = time.thread_time()
        if not _guarded(kernel)(*leading, 0, n_work, args):
            _reraise(kernel, leading, [(0, n_work)], args)
        memo[rate_key] = (time.thread_time() - cpu_start) / max(cost, 1)
        return
    failed = np.zeros(threads, dtype=np.bool_)
    guarded, driver = _launcher(kernel, leading_types, args_type)
    previous = numba.get_num_threads()
    blas = one_blas_thread() if memo.get("calls_blas") else nullcontext()
    with launch_lock(), blas:
        if threads != previous:
            numba.set_num_threads(threads)
        try:
            start, cpu_start = time.perf_counter(), time.thread_time()
            driver(guarded, *leading, n_work, threads, failed, args)
            wall, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
        finally:
            if threads != previous:
                numba.set_num_threads(previous)
    _contention.observe(wall, cpu)
    # One-thread work, from the CPU time of the calling thread (its share of the
    # work): unlike the wall time, it does not grow when the scheduler sets threads aside.
    memo[rate_key] = cpu * threads / max(cost, 1)
    if failed.any():
        slices = [(c * n_work // threads, (c + 1) * n_work // threads) for c in np.flatnonzero(failed)]
        _reraise(kernel, leading, slices, args)


def _estimate(seconds_per_cost: float | None, cost: int) -> float | None:
    return None if seconds_per_cost is None else seconds_per_cost * cost


def _reraise(kernel, leading: tuple, slices: list[tuple[int, int]], args: tuple) -> None:
    """Re-run the failed slices with the plain kernel, in this thread, so f's exception surfaces."""
    for start, stop in slices:
        kernel(*leading, start, stop, args)
    raise GradjitError("f raised an exception in compiled code that did not recur when re-evaluated.")


def _splits_coordinates(n: int, d: int, n_pairs: int, threads: int) -> bool:
    """Fewer points than threads and enough work: the flattened (point, coordinate) items."""
    return n < threads and (d > STACK_D or 2 * n_pairs * n * d * d >= SERIAL_WORK_THRESHOLD)


def uses_row_kernel(n: int, d: int, n_pairs: int, threads: int) -> bool:
    """Whether a batch of ``n`` points in ``d`` dimensions runs on the stack-buffer
    row kernel (one point after the other, vectorised across points)."""
    return d <= STACK_D and not _splits_coordinates(n, d, n_pairs, threads)


def batch_gradient(call, points, steps, scaled, weights, args, args_type, out, threads) -> None:
    """Gradient at every row of ``points`` (N, d), C-contiguous, into ``out`` (N, d), C-contiguous."""
    n, d = points.shape
    if n == 0 or d == 0:
        return
    cost = 2 * len(weights) * n * d * d
    if _splits_coordinates(n, d, len(weights), threads):
        kernel, n_work = _items(call, weights), n * d
    elif d <= STACK_D:
        kernel, n_work = _rows(call, weights, d), n
    else:
        kernel, n_work = _rows_heap(call, weights), n
    leading = (points.reshape(-1), out.reshape(-1), steps, scaled)
    _launch(kernel, leading, _BATCH_TYPES, n_work, cost, threads, args, args_type)


#: The steps argument of the values kernels, which take none.
_NO_STEPS = np.zeros(0)


def evaluate(call, points, args, args_type, out, threads) -> None:
    """f at every row of ``points`` (N, d), C-contiguous, into ``out`` (N,)."""
    n, d = points.shape
    if n == 0:
        return
    kernel = _values(call, d) if 0 < d <= STACK_D else _values_heap(call)
    leading = (points.reshape(-1), out, _NO_STEPS, False)
    _launch(kernel, leading, _BATCH_TYPES, n, n * max(d, 1), threads, args, args_type)


@lru_cache(maxsize=64)
def _grid_types(d: int) -> tuple:
    vectors = types.UniTuple(_VECTOR, d)
    return (vectors, vectors, _VECTOR, types.boolean)


def grid_gradient(call, axes, indexing, steps, scaled, weights, args, args_type, outs, threads) -> None:
    """Gradient on the grid of ``axes``: component ``j`` into ``outs[j]``, a flat
    C-contiguous float64 array with one entry per grid point in C order."""
    d = len(axes)
    n_points = outs[0].size
    if n_points == 0:
        return
    kernel = _grid(call, weights, d, indexing == "xy" and d >= 2)
    leading_types = _grid_types(d)
    _launch(kernel, (axes, tuple(outs), steps, scaled), leading_types, n_points, 2 * len(weights) * n_points * d * d, threads, args, args_type)


# Other methods, second order and vector functions: flattened (point, entry)
# items, so that one point with many entries keeps every core busy as well as
# many points do. Each kernel holds the point of its current item in a private
# buffer (_load_point) and calls one formula of gradjit.stencils per item.

#: (points, out, (steps, integer table), scaled): the table lists the Hessian's
#: (j, k) pairs, or holds the Jacobian's m.
_PAIRS_TYPES = (_VECTOR, _VECTOR, types.Tuple((_VECTOR, types.int64[::1])), types.boolean)
#: (points, out, vectors, scaled) with 3 or 4 float vectors (steps, and errors or bounds).
_VECTORS3_TYPES = (_VECTOR, _VECTOR, types.UniTuple(_VECTOR, 3), types.boolean)
_VECTORS4_TYPES = (_VECTOR, _VECTOR, types.UniTuple(_VECTOR, 4), types.boolean)


def _launch_items(kernel, points, out, third, third_types, scaled, n_items, evaluations_per_item, threads, args, args_type) -> None:
    """Run an items kernel over ``n_items`` (point, entry) items of ``points`` (N, d)."""
    d = points.shape[1]
    if n_items == 0:
        return
    leading = (points.reshape(-1), out.reshape(-1), third, scaled)
    _launch(kernel, leading, third_types, n_items, evaluations_per_item * n_items * d, threads, args, args_type)


@per_owner
def _hessian_items(call):
    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(x_flat, out_flat, tables, scaled, start, stop, args):
        # Item = (point i, pair p) with pairs (j, k), j <= k, listed in tables[1].
        steps, pairs = tables
        d = steps.size
        n_pairs = pairs.size // 2
        buf = np.empty(d)
        point, center = -1, 0.0
        for item in range(start, stop):
            i = item // n_pairs
            if i != point:
                point = i
                _load_point(x_flat, buf, i)
                center = call(buf, args)
            p = item - i * n_pairs
            j, k = pairs[2 * p], pairs[2 * p + 1]
            hj = _actual_step(buf[j], steps[j], scaled)
            hk = _actual_step(buf[k], steps[k], scaled)
            value = hessian_entry(call, args, buf, j, k, hj, hk, center)
            out_flat[i * d * d + j * d + k] = value
            out_flat[i * d * d + k * d + j] = value  # symmetric by construction

    return items


@lru_cache(maxsize=64)
def _pairs(d: int) -> np.ndarray:
    """The Hessian's (j, k), j <= k, flattened; made once per d (the kernels only read it)."""
    j, k = np.triu_indices(d)
    return np.ascontiguousarray(np.stack([j, k], axis=1).reshape(-1), dtype=np.int64)


def hessian(call, points, steps, scaled, args, args_type, out, threads) -> None:
    """Hessian at every row of ``points`` (N, d) into ``out`` (N, d, d), C-contiguous."""
    n, d = points.shape
    pairs = _pairs(d)
    _launch_items(_hessian_items(call), points, out, (steps, pairs), _PAIRS_TYPES, scaled, n * (pairs.size // 2), 4,
                  threads, args, args_type)


@per_owner
def _jacobian_items(call, weights):
    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(x_flat, out_flat, tables, scaled, start, stop, args):
        # Item = (point i, coordinate j): column j of the Jacobian at point i;
        # out is laid out as (N, m, d), with m in tables[1].
        steps, sizes = tables
        d = steps.size
        m = sizes[0]
        buf = np.empty(d)
        column = np.empty(m)
        point = -1
        for item in range(start, stop):
            i = item // d
            if i != point:
                point = i
                _load_point(x_flat, buf, i)
            j = item - i * d
            jacobian_column(call, args, buf, j, _actual_step(buf[j], steps[j], scaled), weights, column)
            for r in range(m):
                out_flat[i * m * d + r * d + j] = column[r]

    return items


def jacobian(call, points, steps, scaled, weights, m, args, args_type, out, threads) -> None:
    """Jacobian (m components) at every row of ``points`` (N, d) into ``out`` (N, m, d), C-contiguous."""
    n, d = points.shape
    sizes = np.array([m], dtype=np.int64)
    _launch_items(_jacobian_items(call, weights), points, out, (steps, sizes), _PAIRS_TYPES, scaled, n * d if m else 0,
                  2 * len(weights), threads, args, args_type)


@per_owner
def _coordinate_items(call, method: str, weights: tuple, one_sided: tuple):
    """Item = (point i, coordinate j), one entry each, by ``method``:

    ``"forward"`` / ``"backward"``: :func:`one_sided_entry` with ``weights``;
    ``"bounded"``: :func:`bounded_entry` (central ``weights``, ``one_sided`` next
    to a bound); ``"complex"``: :func:`complex_step_entry` on a complex buffer;
    ``"richardson"``: :func:`bounded_richardson_entry`, its error estimates into
    ``vectors[1]``. ``vectors`` holds the steps, then the error estimates
    (Richardson), then the bounds (bounded and Richardson).
    """
    direction = -1.0 if method == "backward" else 1.0
    dtype = np.complex128 if method == "complex" else np.float64
    table_size = RICHARDSON_TABLE_SIZE
    needs_center = method == "richardson"

    @numba.njit(inline="always", **JIT_OPTIONS)
    def items(x_flat, out_flat, vectors, scaled, start, stop, args):
        steps = vectors[0]
        d = steps.size
        buf = np.empty(d, dtype=dtype)
        table = np.empty(table_size if needs_center else 0)
        point, center = -1, 0.0
        for item in range(start, stop):
            i = item // d
            if i != point:
                point = i
                _load_point(x_flat, buf, i)
                if needs_center:
                    center = call(buf, args)
            j = item - i * d
            if method == "complex":
                out_flat[item] = complex_step_entry(call, args, buf, j, steps[j], scaled)
            elif method == "richardson":
                s = _actual_step(buf[j], steps[j], scaled)
                out_flat[item], vectors[1][item] = bounded_richardson_entry(
                    call, args, buf, j, s, vectors[2][j], vectors[3][j], center, table)
            elif method == "bounded":
                s = _actual_step(buf[j], steps[j], scaled)
                out_flat[item] = bounded_entry(call, args, buf, j, s, vectors[1][j], vectors[2][j], weights, one_sided)
            else:
                h = _actual_step(buf[j], direction * steps[j], scaled)
                out_flat[item] = one_sided_entry(call, args, buf, j, h, weights)

    return items


def one_sided_gradient(call, points, steps, scaled, weights, backward, args, args_type, out, threads) -> None:
    """Forward (or backward) differences at every row of ``points`` (N, d) into ``out`` (N, d)."""
    kernel = _coordinate_items(call, "backward" if backward else "forward", weights, ())
    _launch_items(kernel, points, out, (steps, steps, steps), _VECTORS3_TYPES, scaled, points.size, len(weights),
                  threads, args, args_type)


def complex_step_gradient(call, points, steps, scaled, args, args_type, out, threads) -> None:
    """Complex-step derivatives at every row of ``points`` (N, d) into ``out`` (N, d)."""
    _launch_items(_coordinate_items(call, "complex", (), ()), points, out, (steps, steps, steps), _VECTORS3_TYPES, scaled,
                  points.size, 1, threads, args, args_type)


def richardson_gradient(call, points, steps, scaled, lower, upper, args, args_type, out, errors, threads) -> None:
    """Richardson-extrapolated gradient at every row of ``points`` (N, d) into ``out``, error
    estimates into ``errors``; ``lower``, ``upper`` (d,) bound where f may be evaluated."""
    _launch_items(_coordinate_items(call, "richardson", (), ()), points, out, (steps, errors.reshape(-1), lower, upper),
                  _VECTORS4_TYPES, scaled, points.size, 2 * RICHARDSON_STEPS, threads, args, args_type)


def bounded_gradient(call, points, steps, scaled, weights, one_sided, lower, upper, args, args_type, out, threads) -> None:
    """Central differences that never evaluate f outside ``[lower, upper]`` (one-sided next to a bound)."""
    _launch_items(_coordinate_items(call, "bounded", weights, one_sided), points, out, (steps, lower, upper), _VECTORS3_TYPES,
                  scaled, points.size, len(one_sided), threads, args, args_type)
