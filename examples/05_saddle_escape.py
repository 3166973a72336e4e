"""Leaving the saddle of x² − y²: plain descent lingers, momentum and Adam leave faster.

Starting next to the saddle point (0, 0), at (1, 1e-6), each optimizer runs
until |y| > 1 (a callback stops it) and the script prints how many iterations
that took:

    python examples/05_saddle_escape.py
"""

from __future__ import annotations

import gradjit
from gradjit import optim


def saddle(x):
    return x[0] * x[0] - x[1] * x[1]


def escaped(state) -> bool:
    return abs(state.x[1]) > 1.0


def main() -> dict[str, int]:
    iterations = {}
    for name, optimizer in {
        "gradient descent": optim.GradientDescent(lr=0.01),
        "momentum": optim.Momentum(lr=0.01, momentum=0.9),
        "adam": optim.Adam(lr=0.01),
    }.items():
        result = gradjit.minimize(saddle, [1.0, 1e-6], method=optimizer, max_iter=5000, callback=escaped, record=False)
        iterations[name] = result.nit
        print(f"{name:18s} left the saddle after {result.nit:4d} iterations ({result.message})")
    return iterations


if __name__ == "__main__":
    main()
