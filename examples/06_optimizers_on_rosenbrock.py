"""Adam, RMSprop, momentum and plain descent on Rosenbrock from (-1.2, 1).

Prints, side by side, the iterations each needed to bring the gradient norm
below 1e-4 (or the cap) and the final distance to the minimum (1, 1):

    python examples/06_optimizers_on_rosenbrock.py
"""

from __future__ import annotations

import numpy as np

import gradjit
from gradjit import optim
from gradjit.problems import rosenbrock

OPTIMIZERS = {
    "gradient descent": optim.GradientDescent(lr=1e-3),
    "momentum": optim.Momentum(lr=2e-4, momentum=0.9),
    "rmsprop": optim.RMSprop(lr=1e-3),
    "adam": optim.Adam(lr=0.02),
}


def main(max_iter: int = 40_000) -> dict[str, float]:
    errors = {}
    print(f"{'optimizer':18s} {'iterations':>10s} {'|x - (1, 1)|':>14s}  status")
    for name, optimizer in OPTIMIZERS.items():
        result = gradjit.minimize(rosenbrock, [-1.2, 1.0], method=optimizer, max_iter=max_iter, gtol=1e-4, record=False)
        errors[name] = float(np.linalg.norm(result.x - 1.0))
        print(f"{name:18s} {result.nit:10d} {errors[name]:14.2e}  {result.message}")
    return errors


if __name__ == "__main__":
    main()
