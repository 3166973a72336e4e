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
    Kernels that close over the user's function cannot be cached to disk by
    Numba (numba issue 6251), so they are compiled once per process. The
    library's own generic code (the parallel driver, which takes the kernel as
    a first-class function) is cached on disk by Numba (in ``__pycache__`` or
    ``NUMBA_CACHE_DIR``); set ``GRADJIT_DISABLE_CACHE=1`` to turn that off.
"""

from __future__ import annotations

import os
import threading
from contextlib import nullcontext

import numba

__all__ = [
    "CACHE_GENERIC_KERNELS",
    "DRIVER_JIT_OPTIONS",
    "INTERNAL_JIT_OPTIONS",
    "JIT_OPTIONS",
    "PARALLEL_JIT_OPTIONS",
    "SERIAL_WORK_THRESHOLD",
    "launch_lock",
    "threading_layer",
]

#: Options of every serial kernel and of the wrappers around user functions.
JIT_OPTIONS: dict = {"error_model": "numpy", "fastmath": False, "nogil": True}

#: Options of compiled helpers that only compiled code calls: skipping the
#: CPython and C wrappers saves a few tens of milliseconds of compilation each.
INTERNAL_JIT_OPTIONS: dict = {**JIT_OPTIONS, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}

#: Options of every parallel driver.
PARALLEL_JIT_OPTIONS: dict = {**JIT_OPTIONS, "parallel": True}

#: Below this much work (evaluations of f times d) a call runs serially:
#: launching the thread pool costs a few microseconds, more than the work itself.
SERIAL_WORK_THRESHOLD = 500_000

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "threadsafe"

#: Whether the generic (objective-independent) kernels are cached on disk.
CACHE_GENERIC_KERNELS: bool = not os.environ.get("GRADJIT_DISABLE_CACHE")

#: Options of the parallel driver, which does not depend on the objective.
DRIVER_JIT_OPTIONS: dict = {**PARALLEL_JIT_OPTIONS, "cache": CACHE_GENERIC_KERNELS}

_workqueue_lock = threading.Lock()
_layer: str | None = None


def threading_layer() -> str:
    """The Numba threading layer in use (launches a tiny kernel if none is yet)."""
    global _layer
    if _layer is None:
        try:
            _layer = numba.threading_layer()
        except ValueError:  # no parallel kernel has run yet
            _warm_up()
            _layer = numba.threading_layer()
    return _layer


@numba.njit(parallel=True, cache=CACHE_GENERIC_KERNELS)
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
