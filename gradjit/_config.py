"""Numba settings: the only module that decides compiler and threading flags.

Threading layer
    Numba's default ``workqueue`` layer aborts the whole process when two
    Python threads launch parallel kernels at the same time. gradjit asks for
    Numba's ``"threadsafe"`` choice (TBB, else OpenMP) unless the user already
    chose a layer with ``NUMBA_THREADING_LAYER``. If only ``workqueue`` can be
    loaded, gradjit serialises its own parallel launches with a lock (see
    :func:`launch_lock`), so concurrent calls stay correct, just not concurrent.

Compiler flags
    ``error_model="numpy"``: a division by zero gives inf/NaN as in NumPy
    instead of raising (objectives may legitimately return NaN or inf, and the
    Python error model's checks stop LLVM from vectorising the point loop).
    ``fastmath`` stays off: reassociation would change results with the thread
    count and across backends, and the no-NaN/no-inf flags would be wrong.

On-disk cache
    The library's own kernels are closures over the user's function, which
    Numba cannot cache to disk (numba issue 6251); ``GRADJIT_CACHE=1`` is
    therefore reserved and currently has no effect beyond a warning.
"""

from __future__ import annotations

import os
import threading
import warnings
from contextlib import contextmanager, nullcontext

import numba

__all__ = ["JIT_OPTIONS", "PARALLEL_JIT_OPTIONS", "SERIAL_WORK_THRESHOLD", "launch_lock", "threading_layer"]

#: Options of every serial kernel and of the wrappers around user functions.
JIT_OPTIONS: dict = {"error_model": "numpy", "fastmath": False, "nogil": True}

#: Options of every parallel driver.
PARALLEL_JIT_OPTIONS: dict = {**JIT_OPTIONS, "parallel": True}

#: Below this many function evaluations a call runs serially: launching the
#: thread pool costs a few microseconds, more than the work itself.
SERIAL_WORK_THRESHOLD = 20_000

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "threadsafe"

if os.environ.get("GRADJIT_CACHE"):
    warnings.warn(
        "GRADJIT_CACHE is set, but gradjit's kernels close over your function and "
        "Numba cannot cache such kernels on disk; compilation happens once per process.",
        stacklevel=2,
    )

_workqueue_lock = threading.Lock()


def threading_layer() -> str:
    """The Numba threading layer in use (launches a tiny kernel if none is yet)."""
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        _warm_up()
        return numba.threading_layer()


@numba.njit(parallel=True, cache=False)
def _tiny_parallel(n):  # pragma: no cover - executed compiled
    total = 0
    for i in numba.prange(n):
        total += i
    return total


def _warm_up() -> None:
    try:
        _tiny_parallel(2)
    except ValueError as exc:  # "No threading layer could be loaded"
        if "threading layer" not in str(exc):
            raise
        numba.config.THREADING_LAYER = "default"
        _tiny_parallel(2)


def launch_lock():
    """A context manager to hold while launching a parallel kernel.

    A no-op for the thread-safe layers; a process-wide lock for ``workqueue``.
    """
    return _workqueue_lock if threading_layer() == "workqueue" else nullcontext()
