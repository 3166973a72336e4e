"""Large grids: into a file on disk, in single precision, and lazily with Dask into zarr.

A grid's gradient is as large as d times the grid. gradjit evaluates it in
slabs, so the memory beyond the output is one slab at most; the output itself
can live on disk (a np.memmap), be stored in float32, or be a lazy Dask array
that is written block by block into a zarr store and read back lazily:

    python examples/10_large_grids.py [--side 4000] [--out DIR]

(``pip install "gradjit[dask]"`` for the Dask part; ``benchmarks/large_grids.py``
measures the peak memory of each path in a process of its own.)
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

import gradjit


def wave(x):
    return math.sin(3.0 * x[0]) * math.cos(2.0 * x[1]) + math.exp(-0.1 * (x[0] * x[0] + x[1] * x[1]))


def main(side: int = 4000, out: Path | None = None) -> dict:
    """Run the example into ``out`` (kept), or into a temporary directory removed at the end."""
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        return _run(side, Path(out))
    with tempfile.TemporaryDirectory(prefix="gradjit-large-") as directory:
        return _run(side, Path(directory))


def _run(side: int, directory: Path) -> dict:
    axis = np.linspace(-5.0, 5.0, side)
    shape = (2, side, side)
    print(f"grid {side} x {side}: the float64 gradient is {2 * side * side * 8 / 1e9:.2f} GB")

    # 1. Into a .npy file on disk (np.memmap): written slab by slab.
    on_disk = np.lib.format.open_memmap(directory / "gradient.npy", mode="w+", dtype=np.float64, shape=shape)
    start = time.perf_counter()
    gradjit.grid_gradient(wave, (axis, axis), out=on_disk, progress=True)
    on_disk.flush()
    print(f"memmap: {time.perf_counter() - start:.2f} s into {directory / 'gradient.npy'}")

    # 2. Stored in float32: half the bytes, double-precision arithmetic.
    single = gradjit.grid_gradient(wave, (axis, axis), dtype=np.float32)
    worst = float(np.abs(single - on_disk).max() / np.abs(on_disk).max())
    print(f"float32: {single.nbytes / 1e9:.2f} GB, largest difference {worst:.1e} of the largest entry")

    # 3. Lazily with Dask, block by block into zarr, and back.
    try:
        import dask.array as da

        from gradjit import dask as gradjit_dask
    except ImportError as exc:
        print(f"skipping Dask: {exc}")
        return {"float32_difference": worst}
    lazy = gradjit_dask.grid_gradient(wave, (axis, axis), chunks=1024)
    start = time.perf_counter()
    lazy.to_zarr(str(directory / "gradient.zarr"), overwrite=True)
    back = da.from_zarr(str(directory / "gradient.zarr"))
    same = bool(np.array_equal(back[:, ::97, ::89].compute(), on_disk[:, ::97, ::89]))
    print(f"dask -> zarr: {time.perf_counter() - start:.2f} s in {lazy.npartitions} blocks; read back lazily, "
          f"equal to the memmap: {same}")
    return {"float32_difference": worst, "zarr_equal": same}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=4000)
    parser.add_argument("--out", type=Path, default=None)
    options = parser.parse_args()
    main(options.side, options.out)
