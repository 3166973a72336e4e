"""Numba settings: the only module that decides compiler and threading flags.

Threading layer
    Numba's ``workqueue`` layer aborts the whole process when two Python
    threads launch parallel kernels at the same time, and TBB was slower on
    small grids, so gradjit asks for GNU OpenMP, then TBB, then workqueue
    (``THREADING_LAYER_PRIORITY``), unless the user chose a layer with
    ``NUMBA_THREADING_LAYER`` (or an order with ``NUMBA_THREADING_LAYER_PRIORITY``;
    OpenMP's own ``OMP_*`` and ``GOMP_*`` settings are left as the user set
    them). With ``workqueue`` gradjit serialises its own parallel launches with
    a lock (see :func:`launch_lock`). GNU OpenMP cannot start threads in a
    child forked after the parent used it: there gradjit runs on one thread
    (:func:`usable_threads`). On a busy machine short calls drop to one thread
    for a while (:mod:`gradjit._contention`).

Compiler flags
    ``error_model="numpy"``: a division by zero gives inf/NaN as in NumPy
    instead of raising (objectives may legitimately return NaN or inf, and the
    Python error model's checks stop LLVM from vectorising the point loop).
    ``fastmath`` stays off: reassociation would change results with the thread
    count and across backends, and the no-NaN/no-inf flags would be wrong.

On-disk cache
    Numba's own ``cache=True`` cannot cache kernels that close over the user's
    function (numba issue 6251) and keys by source file. gradjit keeps every
    compiled kernel, driver and objective in its own cache instead, keyed by a
    fingerprint of what it computes (:mod:`gradjit._cache`); set
    ``GRADJIT_DISABLE_CACHE=1`` to turn it off.
"""

from __future__ import annotations

import os
import threading
from contextlib import nullcontext

import numba

from .errors import OptionError

__all__ = [
    "CACHED_JIT_OPTIONS",
    "CACHE_GENERIC_KERNELS",
    "CHECKED_JIT_OPTIONS",
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

#: Options of the bounds-checked twin of f that is evaluated once per function,
#: d and argument types (see gradjit._objective.check_call).
CHECKED_JIT_OPTIONS: dict = {**JIT_OPTIONS, "boundscheck": True}

#: Options of every parallel driver.
PARALLEL_JIT_OPTIONS: dict = {**JIT_OPTIONS, "parallel": True}

#: Below this much work (evaluations of f times d) a call runs serially:
#: launching the thread pool costs a few microseconds, more than the work itself.
SERIAL_WORK_THRESHOLD = 500_000

if "NUMBA_THREADING_LAYER" not in os.environ:
    # GNU OpenMP first: TBB was 25-55% slower on quiet small grids here, and
    # workqueue slower than one thread (benchmarks/busy_machine.py). workqueue,
    # the last resort, is not thread-safe: launch_lock() serialises it.
    numba.config.THREADING_LAYER = "default"
    if "NUMBA_THREADING_LAYER_PRIORITY" not in os.environ:
        numba.config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]



def environment_flag(name: str) -> bool:
    """An on/off environment variable as users write it: ``1``, ``true``, ``yes``,
    ``on`` are on; unset, empty, ``0``, ``false``, ``no``, ``off`` are off."""
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise OptionError(f"{name}={os.environ[name]!r} is not understood: use 1 (on) or 0 (off).")


#: Whether compiled kernels are cached on disk (:mod:`gradjit._cache`).
CACHE_GENERIC_KERNELS: bool = not environment_flag("GRADJIT_DISABLE_CACHE")

#: Options of gradjit's own module-level helpers that depend on no user function
#: (the colouring of :mod:`gradjit.sparsity`): Numba's own disk cache keeps them.
CACHED_JIT_OPTIONS: dict = {**JIT_OPTIONS, "cache": CACHE_GENERIC_KERNELS}

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


#: True in a child forked after the parent loaded GNU OpenMP, which cannot
#: start threads in a forked child (it kills the process): gradjit's kernels
#: then run on one thread there (see :func:`usable_threads`).
_forked_after_openmp = False


def _after_fork_in_child() -> None:
    global _forked_after_openmp, _layer
    try:
        layer = numba.threading_layer()
    except ValueError:  # the parent ran no parallel kernel: the child may start its own threads
        return
    if layer == "omp":
        _forked_after_openmp = True
        _layer = layer


os.register_at_fork(after_in_child=_after_fork_in_child)


def usable_threads(requested: int) -> int:
    """The threads a launch may use: ``requested``, or 1 in a child forked after
    the parent used GNU OpenMP (multiprocessing's default start method on Linux)."""
    return 1 if _forked_after_openmp else requested


def launch_lock():
    """A context manager to hold while launching a parallel kernel.

    A no-op for the thread-safe layers; a process-wide lock for ``workqueue``.
    """
    return _workqueue_lock if threading_layer() == "workqueue" else nullcontext()
