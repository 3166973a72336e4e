"""Many starts at once: Himmelblau's function from a 200 x 200 grid of starts.

All 40,000 starts run in lockstep (one batched gradient call per step, each
start stopping on its own); the script reports how many starts reached each of
the four minima:

    python examples/07_himmelblau_basins.py [--side 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gradjit
from gradjit.problems import himmelblau

MINIMA = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]])


def main(side: int = 200) -> np.ndarray:
    axis = np.linspace(-5, 5, side)
    starts = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    start = time.perf_counter()
    result = gradjit.minimize(himmelblau, starts, method="adam", lr=0.05, max_iter=3000, record=False)
    seconds = time.perf_counter() - start
    nearest = np.argmin(np.linalg.norm(result.x[:, None, :] - MINIMA[None], axis=2), axis=1)
    counts = np.bincount(nearest[result.success], minlength=4)
    print(f"{len(starts)} starts, {seconds:.1f} s, {int(result.success.sum())} converged (most iterations: {result.nit.max()})")
    for minimum, count in zip(MINIMA, counts):
        print(f"  minimum ({minimum[0]:+.3f}, {minimum[1]:+.3f}): {count} starts")
    return counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=200)
    main(parser.parse_args().side)
