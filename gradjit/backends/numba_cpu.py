"""The Numba backend: parallel central-difference kernels.

Structure (each layer takes a slice of the work, so chunked and distributed
evaluation reuse the same compiled code):

``entry``
    One gradient entry: perturb coordinate ``j`` of a private point buffer,
    evaluate the stencil, restore it. Shared by every kernel below.
``rows`` (d <= SMALL_D)
    Points ``start..stop`` of a batch. The point lives in a fixed-size buffer
    on the stack (code specialised per d), so with the objective inlined LLVM
    keeps it in registers and vectorises across points. Indices are unsigned:
    a signed index makes Numba insert a negative-index wrap-around that stops
    the vectoriser.
``items`` (any d)
    The flattened (point, coordinate) work ``start..stop`` with one heap buffer
    per call: this is what keeps every core busy on one point with many
    coordinates.
``grid_row``
    Part of one row (the last grid axis) of a grid, with each point's
    coordinates taken from the axes: the meshgrid is never built.
``drivers``
    ``prange`` over ``n_chunks`` contiguous slices, compiled parallel, and the
    same source compiled serial for small problems.

Every output entry is computed by the same instructions whatever the slicing,
so results are bitwise identical for any thread count.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import JIT_OPTIONS, PARALLEL_JIT_OPTIONS, SERIAL_WORK_THRESHOLD, launch_lock
from ..stencils import actual_step

#: Largest d with a stack buffer and code specialised per d for batches.
SMALL_D = 16

_actual_step = numba.njit(inline="always", **JIT_OPTIONS)(actual_step)


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


@lru_cache(maxsize=256)
def _entry(call, weights: tuple[float, ...]):
    n_pairs = len(weights)

    @numba.njit(**JIT_OPTIONS)
    def entry(buf, j, step, scaled, args):
        x0 = buf[j]
        h = _actual_step(x0, step, scaled)
        total = 0.0
        for k in range(n_pairs):
            buf[j] = x0 + (k + 1) * h
            f_plus = call(buf, args)
            buf[j] = x0 - (k + 1) * h
            f_minus = call(buf, args)
            total += weights[k] * (f_plus - f_minus)
        buf[j] = x0
        return total / h

    return entry


@lru_cache(maxsize=256)
def _rows(call, weights, d: int):
    entry = _entry(call, weights)

    @numba.njit(**JIT_OPTIONS)
    def rows(x_flat, out_flat, steps, scaled, start, stop, args):
        buf = numba.carray(_stack_buffer(d), d)
        for i in range(np.uint64(start), np.uint64(stop)):
            base = i * np.uint64(d)
            for j in range(d):
                buf[j] = x_flat[base + j]
            for j in range(d):
                out_flat[base + j] = entry(buf, j, steps[j], scaled, args)

    return rows


@lru_cache(maxsize=256)
def _items(call, weights):
    entry = _entry(call, weights)

    @numba.njit(**JIT_OPTIONS)
    def items(x_flat, out_flat, steps, scaled, start, stop, args):
        d = steps.size
        buf = np.empty(d)
        point = start // d
        j = start - point * d
        for i in range(d):
            buf[i] = x_flat[point * d + i]
        for item in range(start, stop):
            out_flat[item] = entry(buf, j, steps[j], scaled, args)
            j += 1
            if j == d and item + 1 < stop:
                j = 0
                point += 1
                for i in range(d):
                    buf[i] = x_flat[point * d + i]

    return items


@lru_cache(maxsize=256)
def _grid_row(call, weights, d: int, swap_first_two: bool):
    entry = _entry(call, weights)
    # order[g] = the coordinate that grid dimension g runs along ('xy' swaps 0 and 1).
    order = tuple([1, 0] + list(range(2, d))) if swap_first_two else tuple(range(d))
    last = order[d - 1]

    @numba.njit(**JIT_OPTIONS)
    def grid_row(axes, shape, outs, steps, scaled, row, start, stop, args):
        buf = numba.carray(_stack_buffer(d), d)
        rest = row
        for g in range(d - 2, -1, -1):
            buf[order[g]] = axes[order[g]][rest % shape[g]]
            rest //= shape[g]
        last_axis = axes[last]
        base = np.uint64(row) * np.uint64(shape[d - 1])
        for t in range(np.uint64(start), np.uint64(stop)):
            buf[last] = last_axis[t]
            for j in range(d):
                outs[j][base + t] = entry(buf, j, steps[j], scaled, args)

    return grid_row


def _compile_drivers(source):
    return numba.njit(**PARALLEL_JIT_OPTIONS)(source), numba.njit(**JIT_OPTIONS)(source)


@lru_cache(maxsize=256)
def _batch_drivers(kernel):
    def drive(x_flat, out_flat, steps, scaled, n_work, n_chunks, args):
        for c in prange(n_chunks):
            kernel(x_flat, out_flat, steps, scaled, c * n_work // n_chunks, (c + 1) * n_work // n_chunks, args)

    return _compile_drivers(drive)


@lru_cache(maxsize=256)
def _grid_drivers(kernel, d: int):
    def drive(axes, shape, outs, steps, scaled, n_points, n_chunks, args):
        row_length = shape[d - 1]
        for c in prange(n_chunks):
            start = c * n_points // n_chunks
            stop = (c + 1) * n_points // n_chunks
            row = start // row_length
            while row * row_length < stop:
                first = row * row_length
                kernel(axes, shape, outs, steps, scaled, row, max(start - first, 0), min(stop - first, row_length), args)
                row += 1

    return _compile_drivers(drive)


def _launch(drivers, n_evaluations: int, threads: int, leading: tuple, args: tuple) -> None:
    """Run a driver: serially for small work, else on ``threads`` threads, one slice each."""
    parallel, serial = drivers
    if threads == 1 or n_evaluations < SERIAL_WORK_THRESHOLD:
        serial(*leading, 1, args)
        return
    previous = numba.get_num_threads()
    with launch_lock():
        numba.set_num_threads(threads)
        try:
            parallel(*leading, threads, args)
        except SystemError as exc:
            # An exception raised by f inside a parallel region reaches Python as
            # "returned a result with an exception set", chained to the original.
            if isinstance(exc.__cause__, Exception):
                raise exc.__cause__ from None
            raise
        finally:
            numba.set_num_threads(previous)


def batch_gradient(call, points, steps, scaled, weights, args, out, threads) -> None:
    """Gradient at every row of ``points`` (N, d), C-contiguous, into ``out`` (N, d), C-contiguous."""
    n, d = points.shape
    if n == 0 or d == 0:
        return
    n_evaluations = 2 * len(weights) * n * d
    x_flat, out_flat = points.reshape(-1), out.reshape(-1)
    if d <= SMALL_D and n >= threads:
        drivers, n_work = _batch_drivers(_rows(call, weights, d)), n
    else:
        drivers, n_work = _batch_drivers(_items(call, weights)), n * d
    _launch(drivers, n_evaluations, threads, (x_flat, out_flat, steps, scaled, n_work), args)


def grid_gradient(call, axes, indexing, steps, scaled, weights, args, out, threads) -> None:
    """Gradient on the grid of ``axes`` into ``out`` of shape (d, *grid_shape), C-contiguous."""
    d = len(axes)
    grid_shape = out.shape[1:]
    n_points = int(np.prod(grid_shape))
    if n_points == 0:
        return
    swap = indexing == "xy" and d >= 2
    flat = out.reshape(d, n_points)
    outs = tuple(flat[j] for j in range(d))
    drivers = _grid_drivers(_grid_row(call, weights, d, swap), d)
    shape = np.array(grid_shape, dtype=np.int64)
    _launch(drivers, 2 * len(weights) * n_points * d, threads, (axes, shape, outs, steps, scaled, n_points), args)
