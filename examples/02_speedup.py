"""How much faster than NumPy? The seed's gradient field, then larger grids and batches.

Times, in this run on this machine, the classic per-point NumPy loop of the seeds,
the vectorised NumPy reference (``backend="numpy", vectorized=True``: the
strongest pure-NumPy competitor) and gradjit's kernels, after a warm-up call
that compiles them (the compile time is printed separately). About 15 seconds:

    python examples/02_speedup.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gradjit
from gradjit.problems import rosenbrock


def sphere(x):
    return x[0] * x[0] + x[1] * x[1]


def sphere_batched(X):
    return X[:, 0] * X[:, 0] + X[:, 1] * X[:, 1]


def rosenbrock_batched(X):
    return np.sum(100.0 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1.0 - X[:, :-1]) ** 2, axis=1)


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def row(name: str, classic, vectorised, fast) -> None:
    start = time.perf_counter()
    fast()
    first = time.perf_counter() - start
    t_fast = best_of(fast)
    t_vec = best_of(vectorised, 3)
    t_classic = best_of(classic, 1) if classic else float("nan")
    print(f"{name:34s} {1e3 * t_classic:11.1f} {1e3 * t_vec:11.2f} {1e3 * t_fast:9.3f} {t_vec / t_fast:9.0f}x {1e3 * first:11.0f}")


def main(quick: bool = False) -> None:
    print(f"gradjit {gradjit.__version__}, threading layer {gradjit._config.threading_layer()}")
    print(f"{'workload':34s} {'classic ms':>11s} {'numpy ms':>11s} {'gradjit ms':>9s} {'vs numpy':>10s} {'1st call ms':>11s}")
    for n in (18, 100) if quick else (18, 1000, 2000):
        axis = np.linspace(-2, 2, n)
        X = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
        classic = (lambda X=X: gradjit.gradient(sphere, X, h=1e-4, backend="numpy")) if n <= 200 else None
        row(
            f"x0²+x1², {n}x{n} grid",
            classic,
            lambda X=X: gradjit.gradient(sphere_batched, X, backend="numpy", vectorized=True),
            lambda axis=axis: gradjit.grid_gradient(sphere, (axis, axis)),
        )
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(500 if quick else 10_000, 10))
    row(
        "rosenbrock d=10, 10^4 points",
        lambda: gradjit.gradient(rosenbrock, X[:200], backend="numpy"),
        lambda: gradjit.gradient(rosenbrock_batched, X, backend="numpy", vectorized=True),
        lambda: gradjit.gradient(rosenbrock, X),
    )
    print("(classic: the per-point loop; for rosenbrock timed on 200 of the points)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke test)")
    main(parser.parse_args().quick)
