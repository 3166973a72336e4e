"""The machine's limits for a gradient workload, measured in compiled code.

compute floor
    The time to evaluate f at the same ``order * d * N`` perturbed points the
    stencil needs, in parallel, summing the values so that nothing is optimised
    away, and writing no output.
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


@lru_cache(maxsize=64)
def _evaluation_floor(f, n_pairs: int):
    call = _objective.bind(_objective.jitted(f), 0, False)

    @numba.njit(parallel=True, error_model="numpy")
    def floor(points, h, n_chunks):
        n, d = points.shape
        total = 0.0
        work = n * d
        for c in prange(n_chunks):
            buf = np.empty(d)
            acc = 0.0
            start, stop = c * work // n_chunks, (c + 1) * work // n_chunks
            point = -1
            for item in range(start, stop):
                i, j = item // d, item % d
                if i != point:
                    point = i
                    for m in range(d):
                        buf[m] = points[i, m]
                x0 = buf[j]
                for k in range(1, n_pairs + 1):
                    buf[j] = x0 + k * h
                    acc += call(buf, ())
                    buf[j] = x0 - k * h
                    acc += call(buf, ())
                buf[j] = x0
            total += acc
        return total

    return floor


def compute_floor(f, points: np.ndarray, order: int, threads: int) -> callable:
    """A zero-argument callable that runs the compute floor once."""
    floor = _evaluation_floor(f, order // 2)
    points = np.ascontiguousarray(points, dtype=np.float64)

    def run():
        numba.set_num_threads(threads)
        return floor(points, 1e-3, threads)

    return run


@numba.njit(parallel=True)
def _fill(out_flat, n_chunks):
    n = out_flat.size
    for c in prange(n_chunks):
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            out_flat[i] = 1.0


def bandwidth_floor(shape: tuple[int, ...], threads: int, fresh: bool) -> callable:
    """A zero-argument callable that writes an array of ``shape`` once."""
    reused = np.empty(shape)

    def run():
        numba.set_num_threads(threads)
        out = np.empty(shape) if fresh else reused
        _fill(out.reshape(-1), threads)
        return out

    return run
