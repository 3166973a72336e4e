"""The seeds' gradient descent on x0² + x1² from (-3, 4), with four learning rates.

lr = 0.1 for 20 and 100 steps converges; lr = 10 diverges (gradjit stops and
says so); lr = 1e-10 hardly moves. Prints each result's status and writes the
paths as a PNG:

    python examples/04_learning_rates.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import gradjit


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    runs = {
        "lr 0.1, 20 steps": gradjit.minimize(function_2, [-3.0, 4.0], lr=0.1, max_iter=20),
        "lr 0.1, 100 steps": gradjit.minimize(function_2, [-3.0, 4.0], lr=0.1, max_iter=100),
        "lr 10": gradjit.minimize(function_2, [-3.0, 4.0], lr=10.0, max_iter=100),
        "lr 1e-10": gradjit.minimize(function_2, [-3.0, 4.0], lr=1e-10, max_iter=100),
    }
    fig, axes = plt.subplots(1, len(runs), figsize=(4 * len(runs), 4))
    for ax, (label, result) in zip(axes, runs.items()):
        print(f"{label:18s} nit={result.nit:3d}  x={np.array2string(result.x, precision=4):28s} {result.message}")
        path = result.history["x"]
        ax.plot([-5, 5], [0, 0], "--b")
        ax.plot([0, 0], [-5, 5], "--b")
        ax.plot(path[:, 0], path[:, 1], "o-", ms=3)
        ax.set(xlim=(-3.5, 3.5), ylim=(-4.5, 4.5), title=label, xlabel="x0", ylabel="x1")
    fig.tight_layout()
    fig.savefig(out / "learning_rates.png", dpi=70)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("figures"))
    main(parser.parse_args().out)
