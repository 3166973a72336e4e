"""Evaluating a grid chunk by chunk along its first dimension.

The result of :func:`gradjit.grid_gradient` has shape ``(d, n0, n1, ...)``. It
is computed in slabs of rows ``out[:, r0:r1]``, each from the sub-grid whose
first dimension is ``r0:r1`` (the kernels never build the grid, so a slab
costs nothing beyond its own output):

* into ``out`` directly when it is a C-contiguous float64 ndarray (each
  component of a slab is then one contiguous run);
* else through one reused float64 buffer of at most :data:`CHUNK_BYTES`, copied
  into ``out`` (float32 storage, a ``np.memmap`` of another layout, a zarr or
  h5py array).

Between slabs a progress bar moves and Ctrl-C is honoured
(:class:`~gradjit.errors.GridInterrupted`); before anything is allocated the
size of the result is checked against the memory available
(:class:`~gradjit.errors.OutputTooLarge`).
"""

from __future__ import annotations

import _signal
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from . import _progress
from .backends import GridBlock
from .errors import GridInterrupted, OutputTooLarge

#: Output bytes per slab (float64): large enough that a slab's launch costs
#: nothing next to its work, small enough to bound the buffer.
CHUNK_BYTES = 64 * 2**20

#: Seconds a reading of the memory available is reused: reading /proc/meminfo
#: costs tens of microseconds, as much as a small call's whole work.
MEMORY_READING_S = 0.5
_memory_reading: tuple[float, int | None] = (-1.0, None)


def available_memory() -> int | None:
    """Bytes a new allocation can take: the tightest of the limits that apply, or None if none is known.

    * the system's free memory (Linux ``MemAvailable``);
    * a cgroup memory limit (containers, CI runners): its limit minus its usage;
    * an address-space limit (``ulimit -v``): the limit minus this process's
      virtual size.
    """
    global _memory_reading
    read_at, found = _memory_reading
    now = time.monotonic()
    if now - read_at > MEMORY_READING_S:
        limits = [limit for limit in (_mem_available(), _cgroup_headroom(), _address_space_headroom()) if limit is not None]
        found = max(0, min(limits)) if limits else None
        _memory_reading = (now, found)
    return found


def _read_int(path: str) -> int | None:
    try:
        with open(path) as file:
            text = file.read().split()[0]
    except (OSError, IndexError):
        return None
    return int(text) if text.isdigit() else None  # "max": no limit


def _mem_available() -> int | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_headroom() -> int | None:
    for limit_path, usage_path in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # cgroup v2
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit = _read_int(limit_path)
        if limit is not None and limit < 2**60:  # v1 writes "no limit" as a huge number
            return limit - (_read_int(usage_path) or 0)
    return None


def _address_space_headroom() -> int | None:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY:
        return None
    size = _read_int("/proc/self/statm")  # pages of virtual memory
    return soft - (size or 0) * os.sysconf("SC_PAGE_SIZE")


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


_FLOAT64 = np.dtype(np.float64)


def new_output(shape: tuple[int, ...], dtype: np.dtype = _FLOAT64) -> np.ndarray:
    """``np.empty(shape, dtype)`` after :func:`check_fits`: a result too large for
    memory is refused with the ways out, not left to the allocator."""
    check_fits(shape, dtype)
    return np.empty(shape, dtype=dtype)


def check_fits(shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Raise :class:`OutputTooLarge` if an array of ``shape`` and ``dtype`` cannot fit in memory."""
    needed = math.prod(shape) * dtype.itemsize
    ways = [
        "pass out= an array on disk, e.g. np.lib.format.open_memmap(path, mode='w+', dtype=np.float64, shape=...) or a zarr array",
        "gradjit.dask.grid_gradient(...) for a lazy result to store with .to_zarr() (pip install 'gradjit[dask]')",
    ]
    if dtype.itemsize == 8:
        ways.insert(1, f"dtype=np.float32 stores it in {_gb(needed // 2)}")
    check_memory(needed, f"the gradient of shape {shape} needs {{needed}} as {dtype}", ways)


def check_memory(needed: int, what: str, ways: list[str]) -> None:
    """Raise :class:`OutputTooLarge` if ``needed`` bytes cannot fit in memory.

    ``what`` says what needs them, with ``{needed}`` where the size goes;
    ``ways`` are the ways out, in words.
    """
    available = available_memory()
    if available is None or needed <= available:
        return
    raise OutputTooLarge(
        what.format(needed=_gb(needed)) + f", but {_gb(available)} of memory are available. Ways out: " + "; ".join(ways) + ".",
        needed,
        available,
    )


def rows_per_chunk(shape: tuple[int, ...]) -> int:
    """Rows of the first grid dimension per slab: about CHUNK_BYTES of float64 output."""
    row_bytes = 8 * shape[0] * math.prod(shape[2:])
    return max(1, CHUNK_BYTES // max(row_bytes, 1))


def evaluate(
    compute: Callable[[int, int, tuple[np.ndarray, ...]], None],
    out,
    *,
    direct: bool,
    progress: bool = False,
) -> None:
    """Fill ``out`` (d, n0, ...) slab by slab.

    ``compute(r0, r1, block)`` writes the gradient of grid rows ``r0:r1`` into
    ``block``, a :class:`~gradjit.backends.GridBlock`: ``block.out`` is
    ``(d, P)`` C-contiguous float64 and the slab's ``(r1 - r0) * n1 * ...``
    points go to its columns from ``block.offset`` on. With ``direct`` it is
    ``out`` itself; else a reused buffer then copied into ``out``.

    Ctrl-C (with Python's default handler, in the main thread) is held while a
    slab is computed and written, then raised as :class:`GridInterrupted`: a
    finished slab is always written, and ``rows_done`` counts exactly the rows
    written.
    """
    shape = tuple(out.shape)
    d, n_rows = shape[0], shape[1]
    step = rows_per_chunk(shape)
    starts = range(0, n_rows, step)
    buffer = None if direct else np.empty((d, min(step, n_rows), *shape[2:]))
    bar = _progress.bar(len(starts), "chunk", redraw_every_update=True) if progress else None
    done = 0
    try:
        with _held_interrupts() as interrupted:
            for r0 in starts:
                r1 = min(r0 + step, n_rows)
                width = r1 - r0
                points_per_row = math.prod(shape[2:])
                if direct:
                    block = GridBlock(out.reshape(d, -1), r0 * points_per_row)
                else:
                    block = GridBlock(buffer.reshape(d, -1), 0)
                compute(r0, r1, block)
                if not direct:
                    out[:, r0:r1] = buffer[:, :width]
                done = r1
                if bar is not None:
                    bar.update(1)
                if interrupted() and done < n_rows:
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise GridInterrupted(done, out) from None
    finally:
        if bar is not None:
            bar.close()


@contextmanager
def _held_interrupts() -> Iterator[Callable[[], bool]]:
    """Hold SIGINT while the body runs; yields a function that says whether one came.

    Only with Python's default handler in the main thread (elsewhere signals are
    not this code's to hold, and a KeyboardInterrupt is caught as it comes).
    """
    # _signal: the signal module's functions without its enum conversions (20 us a call).
    if threading.current_thread() is not threading.main_thread() or _signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield lambda: False
        return
    received: list[int] = []
    _signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield lambda: bool(received)
    finally:
        _signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:  # it came after the last slab: the work is complete, the interrupt is not lost
        raise KeyboardInterrupt
