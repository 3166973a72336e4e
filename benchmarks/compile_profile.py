"""The first call on a new function: the table of the issue's targets, then where
the time goes.

    python benchmarks/compile_profile.py [--rounds 7] [--no-jax]

1. The first call of each entry point on a genuinely new f, per compilation
   tier (``jit="auto"``, ``"fast-start"``, ``"inline"``), beside JAX's first
   ``jit(vmap(...))`` call, after the library's own start-up
   (:mod:`gradjit.bench.first_call`).
2. Two fresh processes on one new module-level f: import time and first call
   (the second process loads f from the disk cache).
3. Compile events: one new objective for a point, a batch (parallel), a grid
   and ``minimize``, with the inclusive compile time of each compiled function
   (nested compiles are inside their caller's time), from numba.core.event,
   on the inlined tier (``jit="inline"``) and on the fast-start tier.
4. A loop of small calls while another function's inlined kernels compile in a
   background thread (what ``jit="auto"`` does once the work repays them).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from numba.core import event

import gradjit
from gradjit.bench import first_call


def profile(label: str, call) -> None:
    namespace: dict = {"__name__": __name__}  # new code each time: nothing is cached for it, in memory or on disk
    exec(f"def f(x):\n    return x[0] * x[0] - 2.0 * x[0] * x[1] + {time.time()!r} * x[1] * x[1]\n", namespace)  # noqa: S102
    f = namespace["f"]

    with event.install_recorder("numba:compile") as recorder:
        start = time.perf_counter()
        call(f)
        total = time.perf_counter() - start
    print(f"{label}: first call {1e3 * total:.0f} ms")
    stack = []  # compile events nest: a callee compiles inside its caller
    for timestamp, e in recorder.buffer:
        name = e.data["dispatcher"].py_func.__name__
        if e.is_start:
            stack.append(timestamp)
        else:
            depth = len(stack) - 1
            print(f"    {'  ' * depth}{name:14s} {1e3 * (timestamp - stack.pop()):7.0f} ms (inclusive)")


def events(jit: str) -> None:
    print(f"\n## Compile events, jit={jit!r}")
    gradjit.gradient(lambda x: x[0] * x[1], np.ones((200_000, 2)), jit=jit)  # Numba's once-per-process start
    profile("point", lambda f: gradjit.gradient(f, [0.5, 0.25], jit=jit))
    profile("batch (parallel)", lambda f: gradjit.gradient(f, np.ones((200_000, 2)), jit=jit))
    profile("grid (parallel)", lambda f: gradjit.grid_gradient(f, (np.linspace(0, 1, 500), np.linspace(0, 1, 500)), jit=jit))
    gradjit.minimize(lambda x: x[0] * x[1], [1.0, 1.0], max_iter=2, jit=jit)  # the loop's own first use
    profile("minimize, one start", lambda f: gradjit.minimize(f, [1.0, 1.0], max_iter=2, jit=jit))
    profile("minimize, many starts (parallel), adam",
            lambda f: gradjit.minimize(f, np.ones((200_000, 2)), method="adam", max_iter=2, jit=jit))


def background_switch() -> None:
    """A loop of 1000-point gradients on one f (fast start) while the inlined kernels of
    another new f compile in a background thread, as ``jit="auto"`` does."""
    import statistics
    import threading

    from gradjit.bench.first_call import _SOURCE, _new

    rng = np.random.default_rng()
    points = np.random.default_rng(1).uniform(-1, 1, size=(1000, 2))
    f = _new(_SOURCE, rng)

    def loop(n: int) -> list[float]:
        times = []
        for _ in range(n):
            start = time.perf_counter()
            gradjit.gradient(f, points, jit="fast-start")
            times.append(1e6 * (time.perf_counter() - start))
        return times

    loop(20)
    quiet = loop(300)
    other, done = _new(_SOURCE, rng), threading.Event()
    worker = threading.Thread(target=lambda: (gradjit.gradient(other, points, jit="inline"), done.set()))
    start = time.perf_counter()
    worker.start()
    during = []
    while not done.is_set():
        during += loop(10)
    worker.join()
    print(f"\n## A loop of small calls beside a compilation in the background ({1e3 * (time.perf_counter() - start):.0f} ms)")
    print(f"per call alone: median {statistics.median(quiet):.0f} us, p90 {np.percentile(quiet, 90):.0f} us")
    print(f"per call beside it: {len(during)} calls, median {statistics.median(during):.0f} us, "
          f"p90 {np.percentile(during, 90):.0f} us, worst {max(during):.0f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-jax", action="store_true")
    options = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, gradjit {gradjit.__version__}\n")
    print(first_call.table(first_call.measure(options.rounds, jax=not options.no_jax)))
    print("\n| fresh process on a module-level f | import gradjit, ms | Numba's own start, ms | first gradient "
          "(1000 points), ms | then first Richardson gradient with bounds, ms |\n|---|---|---|---|---|")
    for label, (imported, numba_start, first, richardson) in zip(
            ("first (compiles f, fills the cache)", "second (loads from the cache)"), first_call.second_process()):
        print(f"| {label} | {1e3 * imported:.0f} | {1e3 * numba_start:.0f} | {1e3 * first:.0f} | {1e3 * richardson:.0f} |")
    background_switch()
    events("inline")
    events("fast-start")


if __name__ == "__main__":
    main()
