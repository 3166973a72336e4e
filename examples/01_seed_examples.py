"""The seeds' examples ("Deep Learning from Scratch", chapter 4) redone with gradjit.

Each block prints the classic value next to gradjit's, and the script writes the
seeds' figures (the tangent of x^3 at 10, the gradient field of x0^2 + x1^2, the
descent path from (-3, 4) and the saddle x^2 - y^2) as PNG files with
gradjit.plot. Runs headless in a few seconds:

    python examples/01_seed_examples.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import gradjit
from gradjit import gallery
from gradjit.classic import gradient_descent, numerical_diff, numerical_gradient


def cube(x):
    return x**3


def line(x):
    return 2 * x


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)

    # 1. The derivative of x^3 at 10 (the seed prints 300.00000000939053).
    print("d/dx x^3 at 10:", numerical_diff(cube, 10), "| order 8:", gradjit.derivative(cube, 10.0, order=8))
    # 2. The slope of y = 2x at 3 (the seed, with h = 1e-5, prints 2.0000000000131024).
    print("d/dx 2x at 3:  ", gradjit.derivative(line, 3.0, h=1e-5))
    # 3. The gradient of x0^2 + x1^2 at three points.
    for point in ([3.0, 4.0], [0.0, 2.0], [3.0, 0.0]):
        print(f"grad at {point}:", numerical_gradient(function_2, np.array(point)))

    # 4. The gradient field: -grad points to the minimum at the origin (no meshgrid is built).
    U, V = gradjit.grid_gradient(function_2, (np.arange(-2, 2.5, 0.25), np.arange(-2, 2.5, 0.25)))
    print("-grad at (-2, -2):", -U[0, 0], -V[0, 0])

    # 5. Gradient descent from (-3, 4) with lr = 0.1 for 20 steps.
    x, history = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, step_num=20)
    print("descent ends at", x, "after", len(history), "steps")

    # The seeds' figures, drawn by gradjit.plot (recipes in gradjit/gallery.py).
    for recipe in (gallery.tangent_of_cube, gallery.gradient_field_of_the_seed, gallery.descent_of_the_seed,
                   gallery.saddle_surface):
        print("wrote", recipe(out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("figures"))
    main(parser.parse_args().out)
