"""Launching a compiled kernel over a range of work, serially or on every thread.

A kernel is ``kernel(inputs, start, stop, args)``: it does the work items
``start..stop`` of its ``inputs`` (a NamedTuple of arrays and scalars, one
class per kernel family: the fields are named, so a wrong slot is an
attribute error, not wrong numbers) and f's extra ``args``.

:func:`launch` runs it serially for small work, else through ``_drive``:
``prange`` over one contiguous slice per thread. The kernel is passed to the
driver as a first-class function, so the driver does not depend on the
objective: it is compiled once per kernel signature and cached on disk, and a
new objective only compiles its own small kernels. (Numba's parallel regions
cannot take nested tuples, so the inputs hold arrays and scalars only.)

Every output entry is computed by the same instructions whatever the slicing,
so results are bitwise identical for any thread count.
"""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext
from typing import Any

import numba
import numpy as np
from numba import prange, types

from .. import _cache, _contention
from .._blas import one_blas_thread
from .._config import JIT_OPTIONS, PARALLEL_JIT_OPTIONS, SERIAL_WORK_THRESHOLD, launch_lock, usable_threads
from .._memo import memo_of, owner_of, per_owner
from ..errors import GradjitError

__all__ = ["compile_for", "inputs_type", "launch"]


def inputs_type(example: tuple) -> types.Type:
    """The Numba type of a kernel's inputs, from an example of them (what the
    dispatcher infers for the real ones, so both paths use one compiled kernel)."""
    return numba.typeof(example)


@per_owner
def _guarded(kernel):
    """``kernel`` wrapped to return False instead of raising.

    An exception raised by f in a worker thread does not reach Python from a
    parallel region (only the main thread's does), so each slice runs guarded;
    :func:`launch` re-runs a failed slice in the calling thread, where the
    exception surfaces with its message.
    """

    @numba.njit(**JIT_OPTIONS)
    def guarded(inputs, start, stop, args):  # the kernel is inlined here (inline="always")
        try:
            kernel(inputs, start, stop, args)
        except Exception:  # noqa: BLE001 - re-raised by launch
            return False
        return True

    return guarded


def _drive(kernel, inputs, n_work, n_chunks, failed, args):  # pragma: no cover - compiled
    # One contiguous slice of the work per chunk; the kernel is a first-class
    # function argument, so this driver is compiled once per argument types (and
    # cached on disk), not once per objective.
    for c in prange(n_chunks):
        if not kernel(inputs, c * n_work // n_chunks, (c + 1) * n_work // n_chunks, args):
            failed[c] = True


_drivers: dict = {}
_drivers_lock = threading.Lock()


def _parallel_driver(kernel_signature):
    """The parallel driver for kernels of this signature, compiled on first use."""
    with _drivers_lock:
        driver = _drivers.get(kernel_signature)
        if driver is None:
            kernel_type = types.FunctionType(kernel_signature)
            inputs, args = kernel_signature.args[0], kernel_signature.args[3]
            signature = types.void(kernel_type, inputs, types.int64, types.int64, types.boolean[::1], args)
            # gradjit's disk cache, not Numba's: its entries are named by their key and
            # checked against the signature on load, so processes compiling drivers of
            # different signatures at once cannot swap each other's code.
            driver = numba.njit(**PARALLEL_JIT_OPTIONS)(_drive)
            _cache.enable(driver, "_drive", _cache.fingerprint(_drive))
            driver.compile(signature)
            _drivers[kernel_signature] = driver
        return driver


def _launcher(kernel, inputs_numba_type, args_type):
    """:func:`_guarded_and_driver`, memoised on the kernel (whose inputs' type never
    changes) and the type of ``args``: hashing Numba types on every call costs microseconds."""
    memo = memo_of(owner_of(kernel))
    key = ("_launcher", kernel, args_type)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _guarded_and_driver(kernel, (inputs_numba_type, types.int64, types.int64, args_type))
    return found


def _serial(kernel, inputs_numba_type, args_type):
    """The guarded kernel's compiled entry point for these types, memoised like
    :func:`_launcher`: calling it skips the dispatcher's type inference of the
    inputs, which for a NamedTuple of arrays costs several microseconds a call."""
    memo = memo_of(owner_of(kernel))
    key = ("_serial", kernel, args_type)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _compiled_guarded(kernel, (inputs_numba_type, types.int64, types.int64, args_type)).entry_point
    return found


def _compiled_guarded(kernel, argument_types: tuple):
    guarded = _guarded(kernel)
    guarded.compile(argument_types)
    return guarded.overloads[argument_types]


def _guarded_and_driver(kernel, argument_types: tuple):
    """The guarded kernel as a first-class function value, and its driver.

    The compiled kernel is wrapped by its address (``CompileResultWAP``): passing
    the dispatcher itself would make Numba look its compiled version up again on
    every call, which costs more than a small problem's whole evaluation.
    """
    compiled = _compiled_guarded(kernel, argument_types)
    driver = _parallel_driver(compiled.signature)
    # The compiled entry point of the driver's only signature: calling it skips
    # the dispatcher's type inference of the arguments.
    entry_point = driver.overloads[driver.signatures[0]].entry_point
    return types.CompileResultWAP(compiled), entry_point


def launch(kernel, inputs: tuple, inputs_numba_type: types.Type, n_work: int, *, cost: int, threads: int, args: tuple,
           args_type: Any, owner: Any = None) -> None:
    """Run ``kernel(inputs, start, stop, args)`` over ``0..n_work``: serially for
    small work, else on ``threads`` threads, one contiguous slice each.

    Both paths run the guarded kernel (one compilation); only when f raised is
    the plain kernel compiled and re-run on the failed slice, to raise f's
    exception with its message. ``cost`` estimates the work as evaluations of f
    times d (an evaluation of a typical f reads all d coordinates).
    ``inputs_numba_type`` and ``args_type`` are the Numba types of ``inputs`` and
    ``args`` (cheaper to pass than to infer on every call). ``owner``: the compiled
    objective, whose memo keeps the measured rate and whether f calls BLAS (default:
    the kernel's owner; a fast-start kernel is shared by every objective)."""
    threads = usable_threads(threads)
    memo = memo_of(owner_of(kernel if owner is None else owner))
    rate_key = ("seconds per cost", kernel)
    if threads == 1 or cost < SERIAL_WORK_THRESHOLD or _contention.contended(_estimate(memo.get(rate_key), cost)):
        cpu_start = time.thread_time()
        if not _serial(kernel, inputs_numba_type, args_type)(inputs, 0, n_work, args):
            _reraise(kernel, inputs, [(0, n_work)], args)
        memo[rate_key] = (time.thread_time() - cpu_start) / max(cost, 1)
        return
    failed = np.zeros(threads, dtype=np.bool_)
    guarded, driver = _launcher(kernel, inputs_numba_type, args_type)
    previous = numba.get_num_threads()
    blas = one_blas_thread() if memo.get("calls_blas") else nullcontext()
    with launch_lock(), blas:
        if threads != previous:
            numba.set_num_threads(threads)
        try:
            start, cpu_start = time.perf_counter(), time.thread_time()
            driver(guarded, inputs, n_work, threads, failed, args)
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
        _reraise(kernel, inputs, slices, args)


def compile_for(kernel, inputs_numba_type: types.Type, args_type: Any) -> None:
    """Compile what :func:`launch` runs ``kernel`` with (the guarded kernel, its
    parallel driver) without running it: for a compilation in the background."""
    _serial(kernel, inputs_numba_type, args_type)
    _launcher(kernel, inputs_numba_type, args_type)


def _estimate(seconds_per_cost: float | None, cost: int) -> float | None:
    return None if seconds_per_cost is None else seconds_per_cost * cost


def _reraise(kernel, inputs: tuple, slices: list[tuple[int, int]], args: tuple) -> None:
    """Re-run the failed slices with the plain kernel, in this thread, so f's exception surfaces."""
    for start, stop in slices:
        kernel(inputs, start, stop, args)
    raise GradjitError("f raised an exception in compiled code that did not recur when re-evaluated.")
