"""Compiled descent steps: judge every running row and move it, in one pass.

One iteration of :func:`~gradjit.optim.minimize` needs, per row: f and the
gradient, the gradient's norm, the verdict (converged, diverged, out of
iterations, or running) and the optimizer's update. Done as NumPy operations
on whole arrays that is a dozen passes over memory and fresh temporaries per
step, many times the cost of the gradient itself for cheap functions of a few
variables. Here it is one compiled pass that works in place:

``settle``
    The verdicts and the moves of a slice of rows whose f values and gradients
    are known. The optimizer's elementwise rule (:mod:`gradjit.optim.rules`) is
    compiled into it, so NumPy's ``Optimizer.step`` and this kernel share one
    formula. Written so that LLVM vectorises it across rows (see its
    docstring): branchy per-row code here cost more than the gradient.
``fused`` (d <= STACK_D)
    f and the gradient of a block of rows into stack buffers, with the
    gradient kernel's stencil entry (vectorised across rows), then ``settle``
    on the block while it is in cache.
``settle_rows``
    ``settle`` alone, after the gradient and f values were computed by
    :func:`gradjit.gradient` and :func:`gradjit.api.values` (d > STACK_D, a few
    rows with much work each, or the NumPy backend).

Both run through the gradient kernels' launcher: serial for small work, else
one contiguous slice of rows per thread; a row's result does not depend on
the slicing. Arguments are packed as ``(flat, per_row, vectors, scaled)``
(see :func:`pack`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import numba
import numpy as np
from numba import types

from .._config import INTERNAL_JIT_OPTIONS, JIT_OPTIONS
from .._memo import per_owner
from ..backends.numba_cpu import VECTOR_D, _entry, _launch, _stack_buffer

#: Row status codes (scipy's for the finished ones: 0 means success).
RUNNING, CONVERGED, MAX_ITER, DIVERGED, CALLBACK = -1, 0, 1, 2, 3

#: Positions in the ``loop`` vector of settings the kernels read: the gradient
#: tolerance, the divergence factor, the step number, the last step number
#: (max_iter), and whether every step's f, gradient and norm are wanted.
GTOL, FACTOR, STEP, LAST_STEP, WATCH = range(5)

#: Gradient entries per block of the fused kernel (f and the gradient for a
#: block of rows into a stack buffer, then their verdicts and moves).
BLOCK_ENTRIES = 1024

#: Blocks per span: a span whose rows have all stopped is skipped.
SPAN = 16

_VECTOR = types.float64[::1]
_LEADING_TYPES = (
    types.UniTuple(_VECTOR, 4),
    types.Tuple((_VECTOR, _VECTOR, _VECTOR, types.int8[::1], types.int64[::1])),
    types.UniTuple(_VECTOR, 3),
    types.boolean,
)
_NO_ARGS_TYPE = types.Tuple(())


class Buffers(NamedTuple):
    """The state of a run that the kernels read and update in place (all C-contiguous)."""

    x: np.ndarray  # (N, d) the current points
    grad: np.ndarray  # (N, d) the gradient at the last evaluated points
    a: np.ndarray  # (N, d) the optimizer's first moment slot, or empty
    b: np.ndarray  # (N, d) the second, or empty
    fun: np.ndarray  # (N,) f at the last evaluated points
    f0: np.ndarray  # (N,) f at the starts
    norm: np.ndarray  # (N,) the gradient norms
    status: np.ndarray  # (N,) int8, RUNNING or a final status
    nit: np.ndarray  # (N,) int64 steps taken


def new_buffers(start: np.ndarray, n_moments: int) -> Buffers:
    """Buffers for a run from the starts ``start`` (N, d), copied.

    ``grad``, ``fun``, ``f0`` and ``norm`` start uninitialised: the kernels write
    a row's entries at the first step (f0), when the row stops, and at every
    step while the loop watches, which covers every read.
    """
    n, d = start.shape
    return Buffers(
        x=np.array(start, dtype=np.float64, order="C"),
        grad=np.empty((n, d)),
        a=np.zeros((n, d) if n_moments >= 1 else (0, d)),
        b=np.zeros((n, d) if n_moments >= 2 else (0, d)),
        fun=np.empty(n),
        f0=np.empty(n),
        norm=np.empty(n),
        status=np.full(n, RUNNING, dtype=np.int8),
        nit=np.zeros(n, dtype=np.int64),
    )


def pack(buffers: Buffers, steps: np.ndarray, loop: np.ndarray, coefficients: np.ndarray, scaled: bool) -> tuple:
    """The kernels' four leading arguments."""
    flat = tuple(a.reshape(-1) for a in (buffers.x, buffers.grad, buffers.a, buffers.b))
    per_row = (buffers.fun, buffers.f0, buffers.norm, buffers.status, buffers.nit)
    return flat, per_row, (steps, loop, coefficients), scaled


#: ``verdicts`` entry of a row that had stopped before this step.
_FINISHED = -2


@lru_cache(maxsize=64)
def _compiled_rule(rule: Callable):
    """The optimizer's rule as a dispatcher, once per rule (it is compiled once per
    argument types, whatever the d of the settle passes that call it)."""
    return numba.njit(inline="never", **JIT_OPTIONS)(rule)


@lru_cache(maxsize=64)
def _settle(rule: Callable, n_moments: int, d: int):
    """The verdict and the move of rows ``first..last``, whose f values and gradients
    are ``values[i - first]`` and ``gradients[(i - first) * d + j]`` (``d`` = 0:
    read d from the arrays). ``verdicts`` (a float per row) and ``moved_x``,
``moved_a``, ``moved_b`` (d floats per row) are scratch space.

    The first pass over the rows has no data-dependent branch or conditional
    store, so LLVM vectorises it: each row's verdict, and its move into
    ``scratch``. The moves are then copied back in one contiguous stream when
    every row of the slice moves (the common case), else row by row; the
    bookkeeping of rows that stop is a scalar pass skipped when none does.
    """
    rule = _compiled_rule(rule)

    @numba.njit(inline="never", **INTERNAL_JIT_OPTIONS)
    def settle(first, last, values, gradients, verdicts, moved_x, moved_a, moved_b, flat, per_row, loop, coefficients):
        x, grad, a, b = flat
        fun, f0, norm_out, status, nit = per_row
        dim = np.uint64(d if d > 0 else x.size // fun.size)
        rows = np.uint64(last - first)
        entries = rows * dim
        gtol_squared, factor = loop[GTOL] * loop[GTOL], loop[FACTOR]
        is_first, is_last, watch = loop[STEP] == 0.0, loop[STEP] == loop[LAST_STEP], loop[WATCH] != 0.0
        if is_first:
            for r in range(rows):
                f0[np.uint64(first) + r] = values[r]
        staying = 0
        for r in range(rows):
            i = np.uint64(first) + r
            row, source = i * dim, r * dim
            value = values[r]
            # The squared norm against gtol**2 spares a square root per row.
            squares, finite = 0.0, math.isfinite(value)
            for j in range(dim):
                g = gradients[source + j]
                squares += g * g
                finite = finite and math.isfinite(g)
            start = f0[i]
            # Diverged: a non-finite f or gradient, or f far beyond its start.
            diverged = not finite or value > start + factor * max(1.0, abs(start))
            verdict = DIVERGED if diverged else (CONVERGED if squares <= gtol_squared else (MAX_ITER if is_last else RUNNING))
            finite = True
            for j in range(dim):
                new = rule(x[row + j], gradients[source + j],
                           a[row + j] if n_moments >= 1 else 0.0, b[row + j] if n_moments >= 2 else 0.0, coefficients)
                moved_x[source + j] = new[0]
                if n_moments >= 1:
                    moved_a[source + j] = new[1]
                if n_moments >= 2:
                    moved_b[source + j] = new[2]
                finite = finite and math.isfinite(new[0])
            verdict = DIVERGED if verdict == RUNNING and not finite else verdict  # keep the last finite iterate
            verdict = verdict if status[i] == RUNNING else _FINISHED
            verdicts[r] = verdict
            staying += verdict != RUNNING
        offset = np.uint64(first) * dim
        if staying == 0:
            for k in range(entries):
                x[offset + k] = moved_x[k]
                if n_moments >= 1:
                    a[offset + k] = moved_a[k]
                if n_moments >= 2:
                    b[offset + k] = moved_b[k]
        else:
            for r in range(rows):
                if verdicts[r] == RUNNING:
                    for j in range(dim):
                        k = r * dim + j
                        x[offset + k] = moved_x[k]
                        if n_moments >= 1:
                            a[offset + k] = moved_a[k]
                        if n_moments >= 2:
                            b[offset + k] = moved_b[k]
        if staying == 0 and not watch:
            return
        # The rows that stop (every running row when the loop watches each step).
        step = np.int64(loop[STEP])
        for r in range(rows):
            verdict = verdicts[r]
            if verdict != _FINISHED and (watch or verdict != RUNNING):
                i = np.uint64(first) + r
                fun[i] = values[r]
                squares = 0.0
                for j in range(dim):
                    g = gradients[r * dim + j]
                    grad[i * dim + j] = g
                    squares += g * g
                norm_out[i] = math.sqrt(squares)
                if verdict != RUNNING:
                    status[i] = verdict
                    nit[i] = step

    return settle


@per_owner
def _fused(call, weights: tuple, d: int, rule: Callable, n_moments: int):
    entry = _entry(call, weights, inline=d > VECTOR_D)
    settle = _settle(rule, n_moments, d)
    block = max(8, BLOCK_ENTRIES // d)  # rows per block
    entries = block * d
    span_rows = SPAN * block
    entries_a = entries if n_moments >= 1 else 1
    entries_b = entries if n_moments >= 2 else 1

    @numba.njit(inline="always", **JIT_OPTIONS)
    def fused(flat, per_row, vectors, scaled, start, stop, args):
        x, status = flat[0], per_row[3]
        steps, loop, coefficients = vectors
        buf = numba.carray(_stack_buffer(d), d)
        values = numba.carray(_stack_buffer(block), block)
        gradients = numba.carray(_stack_buffer(entries), entries)
        verdicts = numba.carray(_stack_buffer(block), block)
        moved_x = numba.carray(_stack_buffer(entries), entries)
        moved_a = numba.carray(_stack_buffer(entries_a), entries_a)
        moved_b = numba.carray(_stack_buffer(entries_b), entries_b)
        # Spans of SPAN blocks whose rows have all stopped are skipped (one
        # vectorised count per span); the rows of the other spans are evaluated,
        # finished or not (a finished row sits at a point it was evaluated at
        # already, and is neither moved nor recorded again).
        for span in range(start, stop, span_rows):
            span_end = min(span + span_rows, stop)
            running = 0
            for i in range(span, span_end):
                running += status[i] == RUNNING
            if running == 0:
                continue
            for first in range(span, span_end, block):
                last = min(first + block, span_end)
                # f and the gradient at every row of the block: unsigned indices
                # and a stack buffer, as in the gradient kernel, so LLVM vectorises.
                for i in range(np.uint64(first), np.uint64(last)):
                    base, r = i * np.uint64(d), i - np.uint64(first)
                    for j in range(d):
                        buf[j] = x[base + np.uint64(j)]
                    values[r] = call(buf, args)
                    for j in range(d):
                        gradients[r * np.uint64(d) + np.uint64(j)] = entry(buf, j, steps[j], scaled, args)
                settle(first, last, values, gradients, verdicts, moved_x, moved_a, moved_b, flat, per_row, loop, coefficients)

    return fused


@lru_cache(maxsize=64)
def _settle_rows(rule: Callable, n_moments: int):
    settle = _settle(rule, n_moments, 0)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def settle_rows(flat, per_row, vectors, scaled, start, stop, args):
        fun, grad = per_row[0], flat[1]
        d = grad.size // fun.size
        rows = stop - start
        verdicts, moved_x = np.empty(rows), np.empty(rows * d)
        moved_a = np.empty(rows * d if n_moments >= 1 else 0)
        moved_b = np.empty(rows * d if n_moments >= 2 else 0)
        # f and the gradient are in fun and grad already.
        settle(start, stop, fun[start:stop], grad[start * d:stop * d], verdicts, moved_x, moved_a, moved_b,
               flat, per_row, vectors[1], vectors[2])

    return settle_rows


def fused_step(call, weights, rule, n_moments, leading: tuple, args: tuple, args_type, threads: int) -> None:
    """f, gradient, verdict and update of every running row, in one launch."""
    n, d = leading[1][0].size, leading[2][0].size
    kernel = _fused(call, weights, d, rule, n_moments)
    _launch(kernel, leading, _LEADING_TYPES, n, (2 * len(weights) * d + 1) * n * d, threads, args, args_type)


def settle_step(rule, n_moments, leading: tuple, threads: int) -> None:
    """Verdict and update of every running row whose f and gradient are in the buffers."""
    n = leading[1][0].size
    d = leading[0][0].size // max(n, 1)
    _launch(_settle_rows(rule, n_moments), leading, _LEADING_TYPES, n, 8 * n * d, threads, (), _NO_ARGS_TYPE)
