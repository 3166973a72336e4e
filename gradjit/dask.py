"""Lazy gradients as Dask arrays, for grids and batches larger than one machine.

Install with ``pip install "gradjit[dask]"`` (dask, distributed, zarr).

Each block is computed by gradjit's Numba kernels from its own slice of the
axes (or rows of the points): nothing the size of the grid is ever built, and
any Dask scheduler runs it. With the threaded scheduler several blocks are
computed at once in one process (gradjit's threading layer makes concurrent
kernel launches safe); with ``distributed`` the function is shipped to the
worker processes (it must be importable there or picklable by cloudpickle, as
any Dask task) and compiled once per worker. Store a result out of core with
``.to_zarr(path)`` and read it back lazily with ``dask.array.from_zarr(path)``.

Each block runs on ``threads=1`` by default: Dask's workers already use the
cores, and a block's kernel asking for every core on top would oversubscribe.

Examples
--------
>>> import numpy as np, gradjit.dask
>>> def bowl(x):
...     return x[0] * x[0] + x[1] * x[1]
>>> axis = np.linspace(-1, 1, 1000)
>>> lazy = gradjit.dask.grid_gradient(bowl, (axis, axis), chunks=250)
>>> lazy.shape, lazy.chunksize
((2, 1000, 1000), (2, 250, 250))
>>> round(float(lazy[0, 0, -1].compute()), 6)  # d/dx0 at (1, -1)
2.0
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _objective, _run
from . import _validation as check
from ._spec import resolve
from .errors import DTypeError, OptionError, ShapeError

try:
    import dask.array as da
except ImportError:  # pragma: no cover - exercised in an environment without dask
    raise ImportError(
        "gradjit.dask needs Dask: pip install \"gradjit[dask]\" (installs dask[array], distributed and zarr)."
    ) from None

__all__ = ["gradient", "grid_gradient"]


def grid_gradient(
    f: Callable[..., float],
    axes: Any,
    *,
    chunks: Any = "auto",
    args: tuple = (),
    h: float | np.ndarray | None = None,
    order: int = 2,
    indexing: str = "xy",
    threads: int = 1,
    dtype: Any = np.float64,
    method: str = "central",
    bounds: Any = None,
    x_scale: Any = None,
) -> da.Array:
    """The gradient on the grid of ``axes`` as a lazy Dask array of shape ``(d, *grid_shape)``.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``, compilable by Numba (as for :func:`gradjit.gradient`).
    axes : sequence of d 1-D arrays
        The grid's coordinates, as for :func:`gradjit.grid_gradient`.
    chunks : int, tuple or "auto", optional
        Block shape of the grid dimensions, in Dask's conventions (one int for
        every dimension, a tuple per dimension, or ``"auto"`` for blocks of
        Dask's default size). The component axis ``d`` is never split.
    args, h, order, indexing, method, bounds, x_scale
        As in :func:`gradjit.grid_gradient` (``x_scale="auto"`` reads the scale
        from the whole grid's axes, so every block takes the same steps).
    threads : int, optional
        Numba threads per block (default 1: Dask parallelises over blocks).
    dtype : {np.float64, np.float32}, optional
        Storage of the result.

    Returns
    -------
    dask.array.Array
        Block ``(:, i, j, ...)`` is ``gradjit.grid_gradient`` on the sub-grid of
        those axis slices; computing the whole array equals the in-memory result.
    """
    check.objective(f)
    axes = check.axes(axes)
    indexing = check.indexing(indexing)
    storage = check.result_dtype(dtype)
    d = len(axes)
    # Every option is checked now, not when a block runs; the blocks reuse the spec.
    corners = check.grid_corners(axes)
    spec = resolve(d, kind="grid", method=method, order=order, h=h, bounds=bounds, points=corners, backend="numba",
                   threads=threads, args=args, x_scale=x_scale)
    grid_axes = check.grid_axes(d, indexing)  # grid_axes[g]: the axis along grid dimension g
    grid_shape = tuple(axes[a].size for a in grid_axes)
    try:
        block_chunks = da.core.normalize_chunks(chunks, grid_shape, dtype=storage)
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        raise OptionError(f"chunks {chunks!r} does not fit the grid of shape {grid_shape}: {exc}") from None
    if any(size < 1 for sizes, n in zip(block_chunks, grid_shape) for size in sizes if n):
        raise OptionError(f"chunks must be positive block sizes; got {chunks!r}.")
    # f's errors now, not when a block runs
    _objective.compiled_call(f, spec.args, returns=spec.returns, points=check.first_grid_point(axes))
    lazy_axes = [da.from_array(axes[a], chunks=(block_chunks[g],)) for g, a in enumerate(grid_axes)]
    indices = "".join(chr(ord("a") + g) for g in range(d))
    options = {"method": method, "order": order, "h": h, "bounds": bounds, "indexing": indexing, "threads": threads,
               "dtype": storage}

    def block(*axis_blocks: np.ndarray) -> np.ndarray:
        in_axis_order = [None] * d
        for g, a in enumerate(grid_axes):
            in_axis_order[a] = np.ascontiguousarray(axis_blocks[g], dtype=np.float64)
        return _run.grid(f, tuple(in_axis_order), indexing, spec, dtype=storage)

    inputs = []
    for g, lazy_axis in enumerate(lazy_axes):
        inputs += [lazy_axis, indices[g]]
    with warnings.catch_warnings():
        # An outer product of the axes has many more blocks than its inputs: that is the point.
        warnings.simplefilter("ignore", da.PerformanceWarning)
        return da.blockwise(
            block, "z" + indices, *inputs,
            new_axes={"z": d}, dtype=storage, concatenate=True,
            name=f"gradjit-grid-gradient-{da.core.tokenize(f, axes, args, options, block_chunks)}",
            meta=np.empty((0,) * (d + 1), dtype=storage),
        )


def gradient(
    f: Callable[..., float],
    x: Any,
    *,
    args: tuple = (),
    h: float | np.ndarray | None = None,
    order: int = 2,
    threads: int = 1,
    method: str = "central",
    bounds: Any = None,
    x_scale: Any = None,
) -> da.Array:
    """The gradient at every row of a Dask array of points ``(N, d)``, lazily.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``, compilable by Numba.
    x : dask.array.Array or array_like, shape (N, d)
        The points, chunked along N (a split of the d columns is merged first).
    args, h, order, method
        As in :func:`gradjit.gradient`.
    x_scale : None, float or array of shape (d,), optional
        As in :func:`gradjit.gradient`, but not ``"auto"``: every block must take
        the same steps, and reading the scale from the points would compute them
        now (give it, e.g. ``float(abs(x).max().compute())``).
    bounds : (lower, upper), optional
        As in :func:`gradjit.gradient`; each block checks that its points lie inside.
    threads : int, optional
        Numba threads per block (default 1: Dask parallelises over blocks).

    Returns
    -------
    dask.array.Array, shape (N, d), float64, chunked like ``x`` along N.
    """
    check.objective(f)
    points = x if isinstance(x, da.Array) else da.from_array(np.asarray(x))
    if points.ndim != 2:
        raise ShapeError(f"x must be a Dask array of points of shape (N, d); got shape {points.shape}.")
    if points.dtype.kind not in "biuf":
        raise DTypeError(f"x must hold real numbers (bool, int or float); got dtype {points.dtype}.")
    d = points.shape[1]
    # Every option is checked now, not when a block runs; the blocks reuse the spec (and check their bounds).
    if isinstance(x_scale, str) and x_scale == "auto":
        raise OptionError("gradjit.dask.gradient takes x_scale as numbers, not 'auto': every block must take the same "
                          "steps; give the scale, e.g. float(abs(x).max().compute()).")
    spec = resolve(d, method=method, order=order, h=h, bounds=bounds, backend="numba", threads=threads, args=args,
                   x_scale=x_scale)
    _objective.compiled_call(f, spec.args, returns=spec.returns)
    if points.numblocks[1] != 1:
        points = points.rechunk({1: -1})

    def block(rows: np.ndarray) -> np.ndarray:
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        if spec.bounded:
            check.bounds((spec.lower, spec.upper), rows)
        return _run.differentiate(f, rows, spec, rows.shape)

    return points.map_blocks(block, dtype=np.float64, meta=np.empty((0, 0), dtype=np.float64))
