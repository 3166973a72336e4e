"""The machine's limits for a gradient workload, measured in compiled code.

compute floor
    The time to evaluate f at the same ``order * d * N`` perturbed points the
    stencil needs, in parallel, with the same compiler flags as the kernels,
    summing the values of each point (or coordinate) in order and storing that
    one sum (so nothing is optimised away, and no fast-math is needed for the
    loop over points to vectorise). No step rule, no division, no gradient
    output. Points come from the same place as in the kernel: a stack buffer
    filled from the batch, or from the grid's axes.
bandwidth floor
    The time to write the ``N * d`` output in parallel (into a fresh array, and
    into a reused one).

The practical limit of a gradient kernel is the larger of the two.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np
from numba import prange

from gradjit import _objective
from gradjit.backends.numba_cpu import _stack_buffer

_FLAGS = {"error_model": "numpy"}


@lru_cache(maxsize=64)
def _batch_floor(f, d: int, n_pairs: int):
    call = _objective.bind(_objective.jitted(f), 0, False)

    @numba.njit(**_FLAGS)
    def chunk(x_flat, sink, h, start, stop):
        buf = numba.carray(_stack_buffer(d), d)
        for i in range(np.uint64(start), np.uint64(stop)):
            base = i * np.uint64(d)
            for j in range(d):
                buf[j] = x_flat[base + np.uint64(j)]
            acc = 0.0
            for j in range(d):
                x0 = buf[j]
                for k in range(1, n_pairs + 1):
                    buf[j] = x0 + k * h
                    acc += call(buf, ())
                    buf[j] = x0 - k * h
                    acc += call(buf, ())
                buf[j] = x0
            sink[i] = acc

    @numba.njit(parallel=True)
    def floor(x_flat, sink, h, n, n_chunks):
        for c in prange(n_chunks):
            chunk(x_flat, sink, h, c * n // n_chunks, (c + 1) * n // n_chunks)

    return floor


@lru_cache(maxsize=64)
def _coordinate_floor(f, n_pairs: int):
    # One point, coordinates split between threads (the case of large d).
    call = _objective.bind(_objective.jitted(f), 0, False)

    @numba.njit(**_FLAGS)
    def chunk(x, sink, h, start, stop):
        buf = x.copy()
        for j in range(start, stop):
            x0 = buf[j]
            acc = 0.0
            for k in range(1, n_pairs + 1):
                buf[j] = x0 + k * h
                acc += call(buf, ())
                buf[j] = x0 - k * h
                acc += call(buf, ())
            buf[j] = x0
            sink[j] = acc

    @numba.njit(parallel=True)
    def floor(x, sink, h, n_chunks):
        for c in prange(n_chunks):
            chunk(x, sink, h, c * x.size // n_chunks, (c + 1) * x.size // n_chunks)

    return floor


@lru_cache(maxsize=64)
def _grid_floor_2d(f, n_pairs: int):
    call = _objective.bind(_objective.jitted(f), 0, False)

    @numba.njit(**_FLAGS)
    def chunk(x0_axis, x1_axis, sink, h, start, stop):
        buf = numba.carray(_stack_buffer(2), 2)
        for r in range(start, stop):
            buf[1] = x1_axis[r]
            base = np.uint64(r) * np.uint64(x0_axis.size)
            for t in range(np.uint64(0), np.uint64(x0_axis.size)):
                buf[0] = x0_axis[t]
                acc = 0.0
                for j in range(2):
                    xj = buf[j]
                    for k in range(1, n_pairs + 1):
                        buf[j] = xj + k * h
                        acc += call(buf, ())
                        buf[j] = xj - k * h
                        acc += call(buf, ())
                    buf[j] = xj
                sink[base + t] = acc

    @numba.njit(parallel=True)
    def floor(x0_axis, x1_axis, sink, h, n_chunks):
        rows = x1_axis.size
        for c in prange(n_chunks):
            chunk(x0_axis, x1_axis, sink, h, c * rows // n_chunks, (c + 1) * rows // n_chunks)

    return floor


def compute_floor(f, points: np.ndarray, order: int, threads: int, grid_axes=None):
    """A zero-argument callable that runs the compute floor once on ``threads`` threads."""
    n_pairs = order // 2
    if grid_axes is not None:
        if len(grid_axes) != 2:
            raise ValueError("the grid floor is implemented for 2-D grids")
        floor = _grid_floor_2d(f, n_pairs)
        a0, a1 = (np.ascontiguousarray(a, dtype=np.float64) for a in grid_axes)
        sink = np.empty(a0.size * a1.size)
        return lambda: (numba.set_num_threads(threads), floor(a0, a1, sink, 1e-3, threads))
    points = np.ascontiguousarray(points, dtype=np.float64)
    n, d = points.shape
    if n < threads:
        floor = _coordinate_floor(f, n_pairs)
        sink = np.empty(d)
        return lambda: (numba.set_num_threads(threads), floor(points[0], sink, 1e-3, threads))
    floor = _batch_floor(f, d, n_pairs)
    flat, sink = points.reshape(-1), np.empty(n)
    return lambda: (numba.set_num_threads(threads), floor(flat, sink, 1e-3, n, threads))


@numba.njit(parallel=True)
def _fill(out_flat, n_chunks):
    n = out_flat.size
    for c in prange(n_chunks):
        for i in range(np.uint64(c * n // n_chunks), np.uint64((c + 1) * n // n_chunks)):
            out_flat[i] = 1.0


def bandwidth_floor(shape: tuple[int, ...], threads: int, fresh: bool):
    """A zero-argument callable that writes an array of ``shape`` once."""
    reused = np.empty(shape)

    def run():
        numba.set_num_threads(threads)
        out = np.empty(shape) if fresh else reused
        _fill(out.reshape(-1), threads)
        return out

    return run
