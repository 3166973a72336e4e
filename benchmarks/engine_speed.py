"""Speed of the engine against the vectorised NumPy reference and the machine's floors.

Every figure is measured in this run, on this machine. Run:

    python benchmarks/engine_speed.py [--repeats 15] [--quick]

It prints one table: median times (ms) for the NumPy reference, gradjit with all
threads and with one, the compute and bandwidth floors, and the ratios.
"""

from __future__ import annotations

import argparse
import platform
import time

import numba
import numpy as np
from floors import bandwidth_floor, compute_floor

import gradjit
from gradjit import problems


def first_call_ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return 1e3 * (time.perf_counter() - start)


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up (compilation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def sphere_2d(x):
    return x[0] * x[0] + x[1] * x[1]


def sphere_2d_batched(X):
    return X[:, 0] * X[:, 0] + X[:, 1] * X[:, 1]


def sum_of_squares_and_sines(x):
    total = 0.0
    for i in range(x.size):
        total += x[i] * x[i] + np.sin(x[i])
    return total


def sum_of_squares_and_sines_batched(X):
    return np.sum(X * X + np.sin(X), axis=1)


def workloads(quick: bool):
    rosen = problems.get("rosenbrock")
    rng = np.random.default_rng(0)
    for n_side in [1000] if quick else [1000, 2000]:
        axis = np.linspace(-2, 2, n_side)
        X = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
        yield f"sphere grid {n_side}x{n_side}", {"f": sphere_2d, "batched": sphere_2d_batched, "points": X, "grid": (axis, axis)}
    yield "rosenbrock d=10, 10^4 points", {"f": rosen.f, "batched": rosen.batched, "points": rng.uniform(-2, 2, (10_000, 10))}
    yield "rosenbrock d=100, 10^3 points", {"f": rosen.f, "batched": rosen.batched, "points": rng.uniform(-2, 2, (1_000, 100))}
    d = 2_000 if quick else 10_000
    yield f"one point, d={d}", {
        "f": sum_of_squares_and_sines, "batched": sum_of_squares_and_sines_batched, "points": rng.uniform(-2, 2, (1, d))
    }


def measure(name: str, w: dict, repeats: int, threads: int) -> str:
    """One table row: every competitor and floor of one workload, in this run."""
    f, X, grid = w["f"], w["points"], w.get("grid")
    repeats = max(3, repeats // (3 if X.size > 10**6 else 1))
    numpy_ms = median_ms(lambda: gradjit.gradient(w["batched"], X, backend="numpy", vectorized=True), max(3, repeats // 3))
    out = np.empty((2, grid[1].size, grid[0].size) if grid else X.shape)

    def run(threads=None, out=None):
        if grid:
            return gradjit.grid_gradient(f, grid, threads=threads, out=out)
        return gradjit.gradient(f, X, threads=threads, out=out)

    first_ms = first_call_ms(run)
    ms = median_ms(run, repeats)
    ms_out = median_ms(lambda: run(out=out), repeats)
    ms_one = median_ms(lambda: run(threads=1), repeats)
    compute_ms = median_ms(compute_floor(f, X, 2, threads, grid_axes=grid), repeats)
    write_fresh_ms = median_ms(bandwidth_floor(out.shape, threads, fresh=True), repeats)
    write_ms = median_ms(bandwidth_floor(out.shape, threads, fresh=False), repeats)
    numba.set_num_threads(threads)
    return (
        f"| {name} | {numpy_ms:.3f} | {ms:.3f} | {ms_out:.3f} | {ms_one:.3f} | {compute_ms:.3f} | "
        f"{write_fresh_ms:.3f} / {write_ms:.3f} | {numpy_ms / ms:.0f} | "
        f"{max(compute_ms, write_fresh_ms) / ms:.2f} / {max(compute_ms, write_ms) / ms_out:.2f} | {ms_one / ms:.2f} | "
        f"{first_ms:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    threads = numba.config.NUMBA_NUM_THREADS
    print(
        f"# {platform.processor() or platform.machine()}, {threads} threads, numba {numba.__version__}, "
        f"numpy {np.__version__}, layer {gradjit._config.threading_layer()}"
    )
    header = (
        "workload", "numpy (ms)", "gradjit", "gradjit out=", "1 thread", "compute floor", "write floor fresh / reused",
        "speed-up vs numpy", "floor / gradjit (fresh / out=)", "parallel speed-up", "first call",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, workload in workloads(options.quick):
        print(measure(name, workload, options.repeats, threads), flush=True)


if __name__ == "__main__":
    main()
