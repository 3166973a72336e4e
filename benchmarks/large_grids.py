"""Large grids: memory and throughput of the chunked, out-of-core and Dask paths.

    python benchmarks/large_grids.py [--quick] [--out results.json]

Each measurement runs in a fresh process, so that its peak resident memory
(``ru_maxrss``) is its own:

* ``zarr``: a 2-D grid whose float64 gradient is 2 GB (11,180 x 11,180 points),
  computed by ``gradjit.dask.grid_gradient`` block by block into a zarr store
  on disk with Dask's threaded scheduler. Target: peak RSS under 500 MB.
* ``chunked`` against ``one pass``: ``gradjit.grid_gradient`` on a 16·10^6-point
  grid (4,000 x 4,000, 256 MB of output: four slabs) in its default slabs
  against one slab for the whole grid (``CHUNK_BYTES`` raised). Target: within
  10% of the one-pass throughput.
* ``dask`` against ``in memory``: the same grid through ``gradjit.dask``
  (threaded scheduler, one block per core and more) against
  ``gradjit.grid_gradient``. Target: within 25% of the in-memory throughput.

Two functions: Himmelblau (a few flops: a 4·10^6-point gradient takes about a
millisecond, so fixed costs show) and a wave with sin, cos and exp (tens of
milliseconds, where throughput is what counts).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPEATS = 7


def wave(x):
    return math.sin(3.0 * x[0]) * math.cos(2.0 * x[1]) + math.exp(-0.1 * (x[0] * x[0] + x[1] * x[1]))


def himmelblau(x):
    return (x[0] * x[0] + x[1] - 11.0) ** 2 + (x[0] + x[1] * x[1] - 7.0) ** 2


FUNCTIONS = {"himmelblau": himmelblau, "wave": wave}


def _best(run, repeats: int = REPEATS) -> float:
    run()  # compile, warm the pages
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def child_zarr(side: int, chunk: int, store: str) -> dict:
    import dask

    import gradjit.dask

    axis = np.linspace(-5.0, 5.0, side)
    lazy = gradjit.dask.grid_gradient(wave, (axis, axis), chunks=chunk)
    start = time.perf_counter()
    with dask.config.set(scheduler="threads"):
        lazy.to_zarr(store, overwrite=True)
    seconds = time.perf_counter() - start
    import dask.array as da

    back = da.from_zarr(store)
    probe = back[:, side // 3, side // 2].compute()  # one point read back lazily
    exact = gradjit.gradient(wave, [axis[side // 2], axis[side // 3]])
    return {"gradient_gb": 2 * side * side * 8 / 1e9, "seconds": seconds, "chunk": chunk,
            "max_error_of_probe": float(np.abs(probe - exact).max()),
            "store_gb": sum(p.stat().st_size for p in Path(store).rglob("*") if p.is_file()) / 1e9}


def child_chunks(side: int, function: str) -> dict:
    import gradjit
    from gradjit import _chunks

    f = FUNCTIONS[function]
    axis = np.linspace(-5.0, 5.0, side)
    out = np.empty((2, side, side))
    chunked = _best(lambda: gradjit.grid_gradient(f, (axis, axis), out=out))
    default_bytes, _chunks.CHUNK_BYTES = _chunks.CHUNK_BYTES, 2**62
    one_pass = _best(lambda: gradjit.grid_gradient(f, (axis, axis), out=out))
    _chunks.CHUNK_BYTES = default_bytes
    fresh = _best(lambda: gradjit.grid_gradient(f, (axis, axis)))
    return {"chunked_s": chunked, "one_pass_s": one_pass, "fresh_output_s": fresh, "slabs": math.ceil(side / _chunks.rows_per_chunk((2, side, side)))}


def child_dask(side: int, function: str, blocks: int) -> dict:
    import dask

    import gradjit
    import gradjit.dask

    f = FUNCTIONS[function]
    axis = np.linspace(-5.0, 5.0, side)
    in_memory = _best(lambda: gradjit.grid_gradient(f, (axis, axis)))
    lazy = gradjit.dask.grid_gradient(f, (axis, axis), chunks=(math.ceil(side / blocks), side))
    with dask.config.set(scheduler="threads"):
        lazy_s = _best(lambda: lazy.compute())
    return {"in_memory_s": in_memory, "dask_s": lazy_s, "blocks": blocks}


def _run_child(*arguments: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *arguments], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 0.2 GB zarr grid instead of 2 GB")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        kind, *rest = options.child
        if kind == "zarr":
            result = child_zarr(int(rest[0]), int(rest[1]), rest[2])
        elif kind == "chunks":
            result = child_chunks(int(rest[0]), rest[1])
        else:
            result = child_dask(int(rest[0]), rest[1], int(rest[2]))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    results: dict = {}
    side = 3536 if options.quick else 11180  # 2 * side**2 * 8 bytes: 0.2 GB or 2.0 GB
    directory = tempfile.mkdtemp(prefix="gradjit-zarr-")
    try:
        results["zarr"] = zarr = _run_child("zarr", str(side), "1024", str(Path(directory) / "grad.zarr"))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"zarr: {zarr['gradient_gb']:.1f} GB gradient ({side} x {side}, blocks of 1024 x 1024) written in "
          f"{zarr['seconds']:.1f} s ({zarr['store_gb']:.2f} GB on disk); peak RSS {zarr['peak_rss_mb']:.0f} MB "
          f"(target < 500 MB); a point read back differs by {zarr['max_error_of_probe']:.1e}")
    for function in FUNCTIONS:
        chunks = results[f"chunks/{function}"] = _run_child("chunks", "4000", function)
        print(f"{function}, 4000 x 4000 into out=: {1e3 * chunks['chunked_s']:.2f} ms in {chunks['slabs']} slabs, "
              f"{1e3 * chunks['one_pass_s']:.2f} ms in one: throughput ratio {chunks['one_pass_s'] / chunks['chunked_s']:.2f} "
              f"(target >= 0.9); fresh output {1e3 * chunks['fresh_output_s']:.2f} ms")
        for blocks in (2, 8):
            lazy = results[f"dask/{function}/{blocks}"] = _run_child("dask", "2000", function, str(blocks))
            print(f"{function}, 2000 x 2000, Dask threaded, {blocks} blocks: {1e3 * lazy['dask_s']:.2f} ms against "
                  f"{1e3 * lazy['in_memory_s']:.2f} ms in memory: throughput ratio {lazy['in_memory_s'] / lazy['dask_s']:.2f} "
                  f"(target >= 0.8)")
    if options.out:
        options.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
