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

import math
import os
from collections.abc import Callable

import numpy as np

from . import _progress
from .errors import GridInterrupted, OutputTooLarge

#: Output bytes per slab (float64): large enough that a slab's launch costs
#: nothing next to its work, small enough to bound the buffer.
CHUNK_BYTES = 64 * 2**20


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), or None if unknown."""
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
    available = available_memory()
    if available is None or needed <= available:
        return
    ways = [
        "pass out= an array on disk, e.g. np.lib.format.open_memmap(path, mode='w+', dtype=np.float64, shape=...) or a zarr array",
        "gradjit.dask.grid_gradient(...) for a lazy result to store with .to_zarr() (pip install 'gradjit[dask]')",
    ]
    if dtype.itemsize == 8:
        ways.insert(1, f"dtype=np.float32 stores it in {_gb(needed // 2)}")
    raise OutputTooLarge(
        f"the gradient of shape {shape} needs {_gb(needed)} as {dtype}, but {_gb(available)} of memory are available. "
        "Ways out: " + "; ".join(ways) + ".",
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

    ``compute(r0, r1, components)`` writes the gradient of grid rows ``r0:r1``
    into ``components``: d flat C-contiguous float64 arrays of
    ``(r1 - r0) * n1 * ...`` entries each. With ``direct`` they are views of
    ``out``; else of a reused buffer then copied into ``out``.
    """
    shape = tuple(out.shape)
    d, n_rows = shape[0], shape[1]
    step = rows_per_chunk(shape)
    starts = range(0, n_rows, step)
    buffer = None if direct else np.empty((d, min(step, n_rows), *shape[2:]))
    bar = _progress.bar(len(starts), "chunk", redraw_every_update=True) if progress else None
    done = 0
    try:
        for r0 in starts:
            r1 = min(r0 + step, n_rows)
            target = out if direct else buffer
            width = r1 - r0
            span = slice(r0, r1) if direct else slice(0, width)
            components = tuple(target[j, span].reshape(-1) for j in range(d))
            compute(r0, r1, components)
            if not direct:
                out[:, r0:r1] = buffer[:, :width]
            done = r1
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        raise GridInterrupted(done, out) from None
    finally:
        if bar is not None:
            bar.close()
