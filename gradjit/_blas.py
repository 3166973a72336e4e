"""One BLAS thread while gradjit's own threads evaluate an f that calls BLAS.

An objective that calls ``np.dot`` (or another BLAS or LAPACK routine) inside a
parallel kernel runs BLAS's own thread pool inside every one of gradjit's
threads, and the cores are oversubscribed: a 784-50-10 network loss ran slower
than the classic Python loop that way. While a parallel kernel runs an f that
calls BLAS, the BLAS libraries that threadpoolctl finds are set to one thread,
and restored afterwards. Whether f calls BLAS is read once from its compiled
code (Numba reaches BLAS through its ``numba_xx*`` and ``numba_ez_*`` helpers),
so calls of other functions pay nothing.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["calls_blas", "one_blas_thread"]

_BLAS_HELPERS = re.compile(r"\bnumba_(?:xx|ez_)\w+")
_lock = threading.Lock()
_libraries: list = []
_modules_seen = -1
_active = 0
_saved: list[int] = []


def calls_blas(llvm_ir: str) -> bool:
    """Whether compiled code (its LLVM IR, callees included) calls Numba's BLAS or LAPACK helpers."""
    return _BLAS_HELPERS.search(llvm_ir) is not None


def _blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded now (rescanned when
    new modules were imported: Numba loads SciPy's BLAS on first use)."""
    global _libraries, _modules_seen
    if len(sys.modules) != _modules_seen:
        from threadpoolctl import ThreadpoolController

        _libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        _modules_seen = len(sys.modules)
    return _libraries


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit every loaded BLAS to one thread inside the block (re-entrant across threads:
    the first to enter saves the settings, the last to leave restores them)."""
    global _active, _saved
    with _lock:
        if _active == 0:
            libraries = _blas_libraries()
            _saved = [lib.num_threads for lib in libraries]
            for lib, n in zip(libraries, _saved):
                if n != 1:
                    lib.set_num_threads(1)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                for lib, n in zip(_libraries, _saved):
                    if n != 1:
                        lib.set_num_threads(n)
