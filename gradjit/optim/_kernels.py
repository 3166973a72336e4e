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
the slicing. Their inputs are one :class:`Descent` (see :func:`inputs`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import numba
import numpy as np
from numba import types
from numba.cpython.unsafe.tuple import tuple_setitem
from numba.extending import register_jitable

from .. import _cache, _tiers
from .._config import INTERNAL_JIT_OPTIONS, JIT_OPTIONS
from .._memo import per_owner
from .._objective import copy_of
from ..backends._compiled import VECTOR_D, stack_buffer, stencil_entry
from ..backends._launch import compile_for, inputs_type, launch

#: Row status codes (scipy's for the finished ones: 0 means success).
RUNNING, CONVERGED, MAX_ITER, DIVERGED, CALLBACK = -1, 0, 1, 2, 3

#: Gradient entries per block of the fused kernel (f and the gradient for a
#: block of rows into a stack buffer, then their verdicts and moves).
BLOCK_ENTRIES = 1024

#: Blocks per span: a span whose rows have all stopped is skipped.
SPAN = 16

_NO_ARGS_TYPE = types.Tuple(())


class Buffers(NamedTuple):
    """The state of a run that the kernels read and update in place (all C-contiguous)."""

    x: np.ndarray  # (N, d) the current points
    grad: np.ndarray  # (N, d) the gradient at the last evaluated points
    moments: np.ndarray  # (n_moments, N, d) the optimizer's moments
    fun: np.ndarray  # (N,) f at the last evaluated points
    f0: np.ndarray  # (N,) f at the starts
    norm: np.ndarray  # (N,) the gradient norms
    status: np.ndarray  # (N,) int8, RUNNING or a final status
    nit: np.ndarray  # (N,) int64 steps taken


class Descent(NamedTuple):
    """The inputs of the descent kernels: the run's buffers, flat, and this step's settings."""

    x: np.ndarray  # (N * d,)
    grad: np.ndarray  # (N * d,)
    moments: np.ndarray  # (n_moments, N * d)
    fun: np.ndarray  # (N,)
    f0: np.ndarray  # (N,)
    norm: np.ndarray  # (N,)
    status: np.ndarray  # (N,) int8
    nit: np.ndarray  # (N,) int64
    steps: np.ndarray  # (d,) the gradient's steps
    typical: np.ndarray  # (d,) the step rule's typical magnitudes (actual_step)
    coefficients: np.ndarray  # (1,) the optimizer's coefficients, a record with its coefficients_type's fields
    gtol: float  # a row converges when its gradient norm is at most gtol
    factor: float  # it diverges when f exceeds f0 by factor * max(1, |f0|)
    step: int  # this step's number (0 first)
    last_step: int  # max_iter
    watch: bool  # every running row's f, gradient and norm are wanted at every step


@lru_cache(maxsize=64)
def _descent_type(coefficients_type: type):
    """The Numba type of the kernels' inputs for an optimizer's coefficients."""
    record = np.zeros(1, dtype=coefficients_dtype(coefficients_type))
    return inputs_type(Descent(np.zeros(0), np.zeros(0), np.zeros((0, 0)), np.zeros(0), np.zeros(0), np.zeros(0),
                               np.zeros(0, dtype=np.int8), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), record,
                               0.0, 0.0, 0, 0, True))


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
        moments=np.zeros((n_moments, n, d)),
        fun=np.empty(n),
        f0=np.empty(n),
        norm=np.empty(n),
        status=np.full(n, RUNNING, dtype=np.int8),
        nit=np.zeros(n, dtype=np.int64),
    )


def inputs(buffers: Buffers, *, steps: np.ndarray, typical: np.ndarray, coefficients: tuple, gtol: float, factor: float, step: int,
           last_step: int, watch: bool) -> Descent:
    """The kernels' inputs for one step."""
    n_moments = buffers.moments.shape[0]
    record = np.array([tuple(coefficients)], dtype=coefficients_dtype(type(coefficients)))
    return Descent(buffers.x.reshape(-1), buffers.grad.reshape(-1), buffers.moments.reshape(n_moments, buffers.x.size), buffers.fun,
                   buffers.f0, buffers.norm, buffers.status, buffers.nit, steps, typical, record, gtol, factor, step, last_step,
                   watch)


@register_jitable
def verdict_of(value, squares, finite, start, factor, gtol_squared, is_last):
    """A running row's verdict from f (``value``), its gradient's squared norm, whether
    both are finite, and f at the start: diverged (a non-finite f or gradient, or f
    beyond ``start + factor * max(1, |start|)``), converged (norm <= gtol), out of
    iterations, or running. Shared by the CPU step and the CUDA backend's."""
    if not finite or value > start + factor * max(1.0, abs(start)):
        return DIVERGED
    if squares <= gtol_squared:
        return CONVERGED
    return MAX_ITER if is_last else RUNNING


#: ``verdicts`` entry of a row that had stopped before this step.
_FINISHED = -2


@lru_cache(maxsize=64)
def _compiled_rule(rule: Callable):
    """The optimizer's rule as a dispatcher, once per rule (it is compiled once per
    argument types, whatever the d of the settle passes that call it)."""
    # Compiled from a copy named by its content, like the kernels that call it (see
    # gradjit._cache.enable): a user's module-level rule may be redefined in a session.
    return _cache.enable(numba.njit(inline="never", **JIT_OPTIONS)(copy_of(rule)), "rule", _cache.fingerprint(rule))


@lru_cache(maxsize=64)
def _gather(n: int):
    """``gather(table, k)``: the tuple ``(table[0, k], ..., table[n - 1, k])``, for
    optimizers with more than three moments (fewer are read inline in ``settle``,
    which compiles faster)."""
    template = (0.0,) * n

    @numba.njit(**JIT_OPTIONS)
    def gather(table, k):
        found = template
        for s in range(n):
            found = tuple_setitem(found, s, table[s, k])
        return found

    return _cache.enable(gather, "_gather", _cache.fingerprint("_gather", n))  # a name of its own per n


@lru_cache(maxsize=64)
def coefficients_dtype(coefficients_type: type) -> np.dtype:
    """The structured dtype of an optimizer's coefficients: one float64 field per name,
    so that the compiled rule reads them by name from a record as NumPy's reads them
    from the NamedTuple."""
    return np.dtype([(name, np.float64) for name in coefficients_type._fields])


@lru_cache(maxsize=64)
def _settle(rule: Callable, coefficients_type: type, n_moments: int, d: int):
    """The verdict and the move of rows ``first..last``, whose f values and gradients
    are ``values[i - first]`` and ``gradients[(i - first) * d + j]`` (``d`` = 0:
    read d from the arrays). ``verdicts`` (a float per row), ``moved_x`` (d floats
    per row) and ``moved`` (``n_moments`` rows of d floats per row) are scratch space.

    The first pass over the rows has no data-dependent branch or conditional
    store, so LLVM vectorises it: each row's verdict, and its move into
    scratch. The moves are then copied back in one contiguous stream when every
    row of the slice moves (the common case), else row by row; the bookkeeping
    of rows that stop is a scalar pass skipped when none does.
    """
    rule = _compiled_rule(rule)
    gather = _gather(n_moments) if n_moments > 3 else None

    @numba.njit(inline="never", **INTERNAL_JIT_OPTIONS)
    def settle(first, last, values, gradients, verdicts, moved_x, moved, inputs):
        x, moments, status = inputs.x, inputs.moments, inputs.status
        c = inputs.coefficients[0]  # a record: the rule reads its fields by name
        dim = np.uint64(d if d > 0 else x.size // inputs.fun.size)
        rows = np.uint64(last - first)
        entries = rows * dim
        gtol_squared, factor = inputs.gtol * inputs.gtol, inputs.factor
        is_first, is_last = inputs.step == 0, inputs.step == inputs.last_step
        if is_first:
            for r in range(rows):
                inputs.f0[np.uint64(first) + r] = values[r]
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
            verdict = verdict_of(value, squares, finite, inputs.f0[i], factor, gtol_squared, is_last)
            finite = True
            for j in range(dim):
                k = row + j
                # The moments of entry k as a tuple (the branches not taken are pruned at compile time).
                if n_moments == 0:
                    entry_moments = ()
                elif n_moments == 1:
                    entry_moments = (moments[0, k],)
                elif n_moments == 2:
                    entry_moments = (moments[0, k], moments[1, k])
                elif n_moments == 3:
                    entry_moments = (moments[0, k], moments[1, k], moments[2, k])
                else:
                    entry_moments = gather(moments, k)
                new_x, new_moments = rule(x[k], gradients[source + j], entry_moments, c)
                moved_x[source + j] = new_x
                if n_moments > 0:
                    for s in range(n_moments):
                        moved[s, source + j] = new_moments[s]
                finite = finite and math.isfinite(new_x)
            verdict = DIVERGED if verdict == RUNNING and not finite else verdict  # keep the last finite iterate
            verdict = verdict if status[i] == RUNNING else _FINISHED
            verdicts[r] = verdict
            staying += verdict != RUNNING
        offset = np.uint64(first) * dim
        if staying == 0:
            for k in range(entries):
                x[offset + k] = moved_x[k]
            for s in range(n_moments):
                for k in range(entries):
                    moments[s, offset + k] = moved[s, k]
        else:
            for r in range(rows):
                if verdicts[r] == RUNNING:
                    for j in range(dim):
                        k = r * dim + j
                        x[offset + k] = moved_x[k]
                        for s in range(n_moments):
                            moments[s, offset + k] = moved[s, k]
        if staying == 0 and not inputs.watch:
            return
        # The rows that stop (every running row when the loop watches each step).
        for r in range(rows):
            verdict = verdicts[r]
            if verdict != _FINISHED and (inputs.watch or verdict != RUNNING):
                i = np.uint64(first) + r
                inputs.fun[i] = values[r]
                squares = 0.0
                for j in range(dim):
                    g = gradients[r * dim + j]
                    inputs.grad[i * dim + j] = g
                    squares += g * g
                inputs.norm[i] = math.sqrt(squares)
                if verdict != RUNNING:
                    status[i] = verdict
                    inputs.nit[i] = inputs.step

    # A name of its own per (rule, coefficients, moments, d): the fused kernels that
    # call it are cached, and a kernel must not reach another d's settle by name.
    return _cache.enable(settle, "_settle", _cache.fingerprint("_settle", rule, coefficients_type, n_moments, d))


@per_owner
def _fused(call, *, weights: tuple, d: int, rule: Callable, coefficients_type: type, n_moments: int, step_rule: str):
    entry = stencil_entry(call, weights, d > VECTOR_D, step_rule)
    settle = _settle(rule, coefficients_type, n_moments, d)
    block = max(8, BLOCK_ENTRIES // d)  # rows per block
    entries = block * d
    span_rows = SPAN * block
    moved_entries = max(entries * n_moments, 1)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def fused(inputs, start, stop, args):
        x, status, steps, typical = inputs.x, inputs.status, inputs.steps, inputs.typical
        buf = numba.carray(stack_buffer(d), d)
        values = numba.carray(stack_buffer(block), block)
        gradients = numba.carray(stack_buffer(entries), entries)
        verdicts = numba.carray(stack_buffer(block), block)
        moved_x = numba.carray(stack_buffer(entries), entries)
        moved = numba.carray(stack_buffer(moved_entries), (n_moments, entries))
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
                        gradients[r * np.uint64(d) + np.uint64(j)] = entry(buf, j, steps[j], typical[j], args)
                settle(first, last, values, gradients, verdicts, moved_x, moved, inputs)

    return fused


@lru_cache(maxsize=64)
def _settle_rows(rule: Callable, coefficients_type: type, n_moments: int):
    settle = _settle(rule, coefficients_type, n_moments, 0)

    @numba.njit(inline="always", **JIT_OPTIONS)
    def settle_rows(inputs, start, stop, args):
        fun, grad = inputs.fun, inputs.grad
        d = grad.size // fun.size
        rows = stop - start
        verdicts, moved_x = np.empty(rows), np.empty(rows * d)
        moved = np.empty((n_moments, rows * d))
        # f and the gradient are in fun and grad already.
        settle(start, stop, fun[start:stop], grad[start * d:stop * d], verdicts, moved_x, moved, inputs)

    return _cache.enable(settle_rows, "_settle_rows", _cache.fingerprint("_settle_rows", rule, coefficients_type, n_moments))


def fused_step(compiled, optimizer, descent: Descent, *, weights: tuple, args: tuple, threads: int, jit: str,
               step_rule: str) -> None:
    """f, gradient, verdict and update of every running row, in one launch, on the
    tier ``jit`` chooses (:mod:`gradjit._tiers`; one fast-start kernel per optimizer
    and d, cached on disk). Raises :class:`~gradjit._native.NativeFailure` when f
    raised on the fast-start tier (the step moved some rows: it is not re-run)."""
    n, d = descent.fun.size, descent.steps.size
    cost = (2 * len(weights) * d + 1) * n * d
    inputs_type = _descent_type(optimizer.coefficients_type)

    make = _tiers.kernel(_fused, weights=weights, d=d, rule=optimizer.rule, coefficients_type=optimizer.coefficients_type,
                         n_moments=optimizer.n_moments, step_rule=step_rule)

    def launch_with(kernel, choice) -> None:
        launch(kernel, descent, inputs_type, n, cost=cost, threads=threads, args=choice.args, args_type=choice.args_type,
               owner=compiled.native)

    def prepare(kernel, choice) -> None:
        compile_for(kernel, inputs_type, choice.args_type)

    _tiers.run(compiled, jit, cost, args, make, launch_with, prepare, repeatable=False)


def settle_step(optimizer, descent: Descent, threads: int) -> None:
    """Verdict and update of every running row whose f and gradient are in the buffers."""
    n = descent.fun.size
    d = descent.x.size // max(n, 1)
    kernel = _settle_rows(optimizer.rule, optimizer.coefficients_type, optimizer.n_moments)
    launch(kernel, descent, _descent_type(optimizer.coefficients_type), n, cost=8 * n * d, threads=threads, args=(),
           args_type=_NO_ARGS_TYPE)
