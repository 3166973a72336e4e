"""Where the first call on a new function spends its time: Numba's compile events.

    python benchmarks/compile_profile.py

Compiles one new objective for a point, a batch (parallel), a grid and
``minimize`` (one start; many starts with Adam), and
prints the inclusive compile time of each compiled function (nested compiles
are inside their caller's time), from numba.core.event.
"""

from __future__ import annotations

import time

import numpy as np
from numba.core import event

import gradjit


def profile(label: str, call) -> None:
    def f(x):  # a new function object: nothing is cached for it
        return x[0] * x[0] - 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1]

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


def main() -> None:
    gradjit.gradient(lambda x: x[0] * x[1], np.ones((200_000, 2)))  # Numba's once-per-process start
    profile("point", lambda f: gradjit.gradient(f, [0.5, 0.25]))
    profile("batch (parallel)", lambda f: gradjit.gradient(f, np.ones((200_000, 2))))
    profile("grid (parallel)", lambda f: gradjit.grid_gradient(f, (np.linspace(0, 1, 500), np.linspace(0, 1, 500))))
    gradjit.minimize(lambda x: x[0] * x[1], [1.0, 1.0], max_iter=2)  # the loop's own first use
    profile("minimize, one start", lambda f: gradjit.minimize(f, [1.0, 1.0], max_iter=2))
    profile("minimize, many starts (parallel), adam", lambda f: gradjit.minimize(f, np.ones((200_000, 2)), method="adam", max_iter=2))


if __name__ == "__main__":
    main()
