"""The machine's limits for a gradient workload, measured in compiled code.

compute floor
    The time to evaluate f at the same ``order * d * N`` perturbed points the
    stencil needs, in parallel, with the same compiler flags as the kernels,
    summing the values of each entry (point, coordinate) and storing that sum
    (so nothing is optimised away, no fast-math is needed for the loop over
    points to vectorise, and entries stay independent as in the kernels). No
    step rule, no weights, no division. Points come from the same place as in
    the kernel: a stack buffer filled from the batch, or generated from the
    grid's axes.
bandwidth floor
    The time to write the ``N * d`` output in parallel, into a fresh array
    (page faults included) or into a reused one.

terms floor
    For f given as its terms (``gradient(..., terms=True)``): the time to
    evaluate the terms F at the ``order * n_groups * N`` points the grouped
    stencil needs (each group's coordinates moved together), in parallel over
    (point, group), summing each evaluation's components into a sink. No
    steps, no weights, no scatter into the gradient.

The practical limit of a gradient kernel is the larger of the two.

The stencil loop is written out in each floor on purpose: moving it into a
shared compiled helper made the Rosenbrock floor 1.6x slower (measured with
``gradjit bench --workloads rosenbrock``), and a floor must be the fastest
honest evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numba
import numpy as np
from numba import prange

from .. import _objective
from .._config import JIT_OPTIONS, PARALLEL_JIT_OPTIONS
from .._memo import per_owner
from ..backends._compiled import stack_buffer

#: The step of the floors' perturbations (its value does not change the cost).
_H = 1e-3


@per_owner
def _batch_floor(f: Callable, d: int, n_pairs: int):
    call = _objective.bind(_objective.jitted(f), 0, False)

    @numba.njit(**JIT_OPTIONS)
    def chunk(x_flat, sink, start, stop):
        buf = numba.carray(stack_buffer(d), d)
        for i in range(np.uint64(start), np.uint64(stop)):
            base = i * np.uint64(d)
            for j in range(d):
                buf[j] = x_flat[base + np.uint64(j)]
            for j in range(d):
                x0 = buf[j]
                total = 0.0
                for k in range(1, n_pairs + 1):
                    buf[j] = x0 + k * _H
                    total += call(buf, ())
                    buf[j] = x0 - k * _H
                    total += call(buf, ())
                buf[j] = x0
                sink[base + np.uint64(j)] = total

    @numba.njit(**PARALLEL_JIT_OPTIONS)
    def floor(x_flat, sink, n, n_chunks):
        for c in prange(n_chunks):
            chunk(x_flat, sink, c * n // n_chunks, (c + 1) * n // n_chunks)

    return floor


@per_owner
def _coordinate_floor(f: Callable, n_pairs: int):
    # One point, its coordinates split between threads (the case of large d).
    call = _objective.bind(_objective.jitted(f), 0, False)

    @numba.njit(**JIT_OPTIONS)
    def chunk(x, sink, start, stop):
        buf = x.copy()
        for j in range(start, stop):
            x0 = buf[j]
            total = 0.0
            for k in range(1, n_pairs + 1):
                buf[j] = x0 + k * _H
                total += call(buf, ())
                buf[j] = x0 - k * _H
                total += call(buf, ())
            buf[j] = x0
            sink[j] = total

    @numba.njit(**PARALLEL_JIT_OPTIONS)
    def floor(x, sink, n_chunks):
        for c in prange(n_chunks):
            chunk(x, sink, c * x.size // n_chunks, (c + 1) * x.size // n_chunks)

    return floor


@per_owner
def _grid_floor(f: Callable, d: int, n_pairs: int):
    # Grid points generated from the axes ('ij' order), row by row along the last axis.
    call = _objective.bind(_objective.jitted(f), 0, False)

    @numba.njit(**JIT_OPTIONS)
    def chunk(axes, sinks, start_row, stop_row):
        buf = numba.carray(stack_buffer(d), d)
        last_axis = axes[d - 1]
        row_length = np.uint64(last_axis.size)
        for row in range(start_row, stop_row):
            rest = row
            for g in range(d - 2, -1, -1):
                axis = axes[g]
                buf[g] = axis[rest % axis.size]
                rest //= axis.size
            base = np.uint64(row) * row_length
            for t in range(np.uint64(0), row_length):
                buf[d - 1] = last_axis[t]
                for j in range(d):
                    x0 = buf[j]
                    total = 0.0
                    for k in range(1, n_pairs + 1):
                        buf[j] = x0 + k * _H
                        total += call(buf, ())
                        buf[j] = x0 - k * _H
                        total += call(buf, ())
                    buf[j] = x0
                    sinks[j][base + t] = total

    @numba.njit(**PARALLEL_JIT_OPTIONS)
    def floor(axes, sinks, n_rows, n_chunks):
        for c in prange(n_chunks):
            chunk(axes, sinks, c * n_rows // n_chunks, (c + 1) * n_rows // n_chunks)

    return floor


def compute_floor(f: Callable, order: int, threads: int, *, points: np.ndarray | None = None,
                  axes: Sequence[np.ndarray] | None = None) -> Callable[[], object]:
    """A zero-argument callable that runs the compute floor once on ``threads`` threads.

    Give either the batch ``points`` (N, d) or the grid ``axes``.
    """
    n_pairs = order // 2
    if axes is not None:
        axes = tuple(np.ascontiguousarray(a, dtype=np.float64) for a in axes)
        d = len(axes)
        floor = _grid_floor(f, d, n_pairs)
        n_points = int(np.prod([a.size for a in axes]))
        sinks = tuple(np.empty(n_points) for _ in range(d))
        n_rows = n_points // axes[-1].size
        return _on_threads(threads, lambda: floor(axes, sinks, n_rows, threads))
    points = np.ascontiguousarray(points, dtype=np.float64)
    n, d = points.shape
    if n < threads:
        floor = _coordinate_floor(f, n_pairs)
        sink = np.empty(d)
        return _on_threads(threads, lambda: floor(points[0], sink, threads))
    floor = _batch_floor(f, d, n_pairs)
    flat, sink = points.reshape(-1), np.empty(n * d)
    return _on_threads(threads, lambda: floor(flat, sink, n, threads))


@per_owner
def _terms_floor(F: Callable, n_pairs: int):
    call = _objective.bind(_objective.jitted(F), 0, False)

    @numba.njit(**JIT_OPTIONS)
    def chunk(x_flat, d, group_ptr, columns, sink, start, stop):
        n_groups = group_ptr.size - 1
        buf = np.empty(d)
        for item in range(start, stop):
            i, g = item // n_groups, item % n_groups
            for j in range(d):
                buf[j] = x_flat[i * d + j]
            total = 0.0
            for k in range(1, n_pairs + 1):
                for sign in (1.0, -1.0):
                    for c in range(group_ptr[g], group_ptr[g + 1]):
                        j = columns[c]
                        buf[j] = x_flat[i * d + j] + sign * k * _H
                    values = call(buf, ())
                    for r in range(values.size):
                        total += values[r]
            sink[item] = total

    @numba.njit(**PARALLEL_JIT_OPTIONS)
    def floor(x_flat, d, group_ptr, columns, sink, n_items, n_chunks):
        for c in prange(n_chunks):
            chunk(x_flat, d, group_ptr, columns, sink, c * n_items // n_chunks, (c + 1) * n_items // n_chunks)

    return floor


def terms_floor(F: Callable, pattern, order: int, threads: int, points: np.ndarray) -> Callable[[], object]:
    """A zero-argument callable that evaluates the terms F at the grouped stencil's points
    once on ``threads`` threads (the terms floor above), for the :class:`~gradjit.Sparsity` ``pattern``."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    n, d = points.shape
    floor = _terms_floor(F, order // 2)
    n_items = n * pattern.n_groups
    sink = np.empty(n_items)
    flat = points.reshape(-1)
    return _on_threads(threads, lambda: floor(flat, d, pattern.group_ptr, pattern.group_columns, sink, n_items,
                                              min(threads, n_items)))


@numba.njit(**PARALLEL_JIT_OPTIONS)
def _fill(out_flat, n_chunks):  # pragma: no cover - compiled
    n = out_flat.size
    for c in prange(n_chunks):
        for i in range(np.uint64(c * n // n_chunks), np.uint64((c + 1) * n // n_chunks)):
            out_flat[i] = 1.0


def bandwidth_floor(shape: tuple[int, ...], threads: int, fresh: bool) -> Callable[[], object]:
    """A zero-argument callable that writes an array of ``shape`` once (fresh or reused)."""
    reused = None if fresh else np.empty(shape)

    def write():
        out = np.empty(shape) if fresh else reused
        _fill(out.reshape(-1), threads)
        return out

    return _on_threads(threads, write)


def _on_threads(threads: int, run: Callable[[], object]) -> Callable[[], object]:
    def with_threads():
        previous = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            return run()
        finally:
            numba.set_num_threads(previous)

    return with_threads
