"""The update rule of each optimizer, written once for NumPy and for Numba.

A rule is a plain function ``rule(x, g, a, b, c) -> (x, a, b)``: the new point
from the point ``x``, its gradient ``g`` and the optimizer's two moment slots
``a`` and ``b`` (velocity, accumulated squares, ...; a slot the method does not
use is passed through unchanged), with ``c`` the step's coefficients from
:meth:`Optimizer.coefficients <gradjit.optim.Optimizer.coefficients>`.

Every operation is elementwise, so the same function runs on whole arrays in
:meth:`Optimizer.step <gradjit.optim.Optimizer.step>` and on one float at a
time inside the compiled descent kernels (:mod:`gradjit.optim._kernels`): the
mathematics lives here only. ``c`` is the tuple of coefficients in
``Optimizer.step`` and a float64 array in the kernels.
"""

from __future__ import annotations

import numpy as np


def gradient_descent(x, g, a, b, c):
    """``x - lr g``; ``c = (lr,)``."""
    return x - c[0] * g, a, b


def momentum(x, g, a, b, c):
    """Heavy ball, or Nesterov's look-ahead when ``c[2]`` is 1; ``c = (lr, momentum, nesterov)``.

    ``v <- momentum v - lr g``; ``x <- x + v``, or with Nesterov
    ``x <- x + momentum**2 v - (1 + momentum) lr g``.
    """
    lr, mu = c[0], c[1]
    velocity = mu * a - lr * g
    if c[2] != 0.0:
        return x + mu * mu * velocity - (1.0 + mu) * lr * g, velocity, b
    return x + velocity, velocity, b


def adagrad(x, g, a, b, c):
    """``h <- h + g**2``; ``x <- x - lr g / (sqrt(h) + eps)``; ``c = (lr, eps)``."""
    squares = a + g * g
    return x - c[0] * g / (np.sqrt(squares) + c[1]), squares, b


def rmsprop(x, g, a, b, c):
    """``h <- decay h + (1 - decay) g**2``; ``x <- x - lr g / (sqrt(h) + eps)``; ``c = (lr, decay, eps)``."""
    squares = c[1] * a + (1.0 - c[1]) * g * g
    return x - c[0] * g / (np.sqrt(squares) + c[2]), squares, b


def adam(x, g, a, b, c):
    """Adam with bias correction; ``c = (lr, b1, b2, eps, 1 - b1**t, 1 - b2**t)``.

    ``m <- b1 m + (1 - b1) g``; ``v <- b2 v + (1 - b2) g**2``;
    ``x <- x - lr (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)``.
    """
    mean = c[1] * a + (1.0 - c[1]) * g
    squares = c[2] * b + (1.0 - c[2]) * g * g
    return x - c[0] * (mean / c[4]) / (np.sqrt(squares / c[5]) + c[3]), mean, squares
