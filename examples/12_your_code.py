"""gradjit where your code already is.

1. Your own compiled loop: a Newton iteration, written with ``@numba.njit``,
   that asks ``gradjit.nb`` for the gradient and Hessian at every step.
2. Checking a hand-written gradient with no step to choose
   (``gradjit.check_gradient``), and finding the wrong coordinate.
3. A slow objective written in Python (a stand-in for a simulator: it sleeps),
   its gradient spread over a thread pool with ``workers=``.
4. Functions as you write them: a NumPy ufunc, a plain Python helper, a default
   argument; and ``scipy.misc.derivative``'s signature in ``gradjit.classic``.

    python examples/12_your_code.py [--sleep 0.002]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

import gradjit
from gradjit import nb
from gradjit.classic import derivative as misc_derivative


@numba.njit
def energy(x, stiffness):
    """A smooth bowl with a twist: its minimum is at x = (1, 1, ..., 1)."""
    total = 0.0
    for j in range(x.size):
        total += stiffness * (x[j] - 1.0) ** 2 + 0.1 * (x[j] - 1.0) ** 4
    for j in range(x.size - 1):
        total += 0.5 * (x[j] - x[j + 1]) ** 2
    return total


@numba.njit
def newton(x, stiffness, steps):
    """Newton steps, compiled; the derivatives come from gradjit.nb."""
    d = x.size
    g, H = np.empty(d), np.empty((d, d))
    for _ in range(steps):
        nb.gradient(energy, x, g, args=(stiffness,), order=4)
        nb.hessian(energy, x, H, args=(stiffness,))
        x = x - np.linalg.solve(H, g)
    nb.gradient(energy, x, g, args=(stiffness,), order=4)
    return x, np.sqrt(np.sum(g * g))


def bumpy(x):
    return x[0] ** 2 * x[1] + np.sin(x[0] * x[1])


def bumpy_gradient(x):
    c = np.cos(x[0] * x[1])
    return np.array([2 * x[0] * x[1] + x[1] * c, x[0] ** 2 + x[0] * c])


def bumpy_gradient_with_a_typo(x):
    c = np.cos(x[0] * x[1])
    return np.array([2 * x[0] * x[1] + x[1] * c, x[0] ** 2 + 1.01 * x[0] * c])


def main(sleep: float = 0.002) -> dict:
    outcome = {}

    x, norm = newton(np.zeros(6), 2.0, 8)
    print(f"1. Newton in compiled code, 8 steps: x = {np.round(x, 6)}, |grad| = {norm:.1e}")
    outcome["newton_error"] = float(np.max(np.abs(x - 1.0)))

    X = np.random.default_rng(0).uniform(-2.0, 2.0, (1000, 2))
    right = gradjit.check_gradient(bumpy, bumpy_gradient, X)
    wrong = gradjit.check_gradient(bumpy, bumpy_gradient_with_a_typo, X)
    print(f"2. {right.summary().splitlines()[0]}")
    print("   with a 1% typo in coordinate 1:", wrong.summary(shown=2).replace("\n", "\n   "))
    outcome["false_failures"] = int(np.sum(~right.consistent))
    outcome["caught"] = float(np.mean(~wrong.consistent))
    outcome["worst_coordinate"] = int(np.bincount(wrong.worst_coordinate).argmax())

    def simulator(x):  # Python that waits: a solver, a subprocess, I/O
        time.sleep(sleep)
        return float(np.sum(np.cos(x) * x))

    point = np.linspace(0.0, 1.0, 12)
    start = time.perf_counter()
    serial = gradjit.gradient(simulator, point, backend="numpy")
    serial_time = time.perf_counter() - start
    start = time.perf_counter()
    spread = gradjit.gradient(simulator, point, backend="numpy", workers=6)
    spread_time = time.perf_counter() - start
    print(f"3. 24 evaluations of a {1e3 * sleep:g} ms simulator: {serial_time:.3f} s alone, {spread_time:.3f} s on 6 threads "
          f"(the same bits: {np.array_equal(serial, spread)})")
    outcome["workers_same"] = bool(np.array_equal(serial, spread))

    def squash(t):  # a plain Python helper: gradjit compiles it for f
        return t / (1.0 + abs(t))

    def model(x, a, b=0.5):  # b keeps its default when args gives only a
        return squash(a * x[0]) + b * x[1] ** 2

    print(f"4. d cos/dx at 0.5: {gradjit.derivative(np.cos, 0.5):.12f} (-sin 0.5 = {-np.sin(0.5):.12f})")
    print(f"   gradient of model(x, 2.0) at (0.3, 1.0): {gradjit.gradient(model, [0.3, 1.0], args=(2.0,))}")
    print(f"   scipy.misc.derivative(np.exp, 1.0, dx=1e-3, n=2, order=5) = "
          f"{float(misc_derivative(np.exp, 1.0, dx=1e-3, n=2, order=5)):.9f} (e = {np.e:.9f})")
    return outcome


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sleep", type=float, default=0.002, help="seconds each simulator call waits")
    main(parser.parse_args().sleep)
