"""The update rule of each optimizer, written once for NumPy and for Numba.

A rule is a plain function ``rule(x, g, moments, c) -> (x, moments)``: the new
point from the point ``x``, its gradient ``g`` and the optimizer's moments (a
tuple of any length: velocity, accumulated squares, ...), with ``c`` the
step's coefficients, read by name: the NamedTuple of each rule's class below
in NumPy, a record with the same fields in the compiled kernels.

Every operation is elementwise, so the same function runs on whole arrays in
:meth:`Optimizer.step <gradjit.optim.Optimizer.step>` and on one float at a
time inside the compiled descent kernels (:mod:`gradjit.optim._kernels`): the
mathematics lives here only. A new method with a third moment (AMSGrad's
running maximum, say) is a new rule with a three-tuple: the kernels' inputs
do not change.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import types
from numba.extending import overload


def sqrt(x):
    """``np.sqrt``, elementwise on NumPy's arrays; one float at a time in compiled code."""
    return np.sqrt(x)


@overload(sqrt)
def _sqrt_compiled(x):
    # The CUDA target has no NumPy ufuncs; math.sqrt is the same correctly rounded root.
    if isinstance(x, types.Float):
        return lambda x: math.sqrt(x)
    return None


class GradientDescentCoefficients(NamedTuple):
    lr: float


def gradient_descent(x, g, moments, c):
    """``x - lr g``; no moments."""
    return x - c.lr * g, moments


class MomentumCoefficients(NamedTuple):
    lr: float
    momentum: float
    nesterov: float  # 1.0 for Nesterov's look-ahead, else 0.0


def momentum(x, g, moments, c):
    """Heavy ball, or Nesterov's look-ahead; moments ``(v,)``.

    ``v <- momentum v - lr g``; ``x <- x + v``, or with Nesterov
    ``x <- x + momentum**2 v - (1 + momentum) lr g``.
    """
    velocity = c.momentum * moments[0] - c.lr * g
    if c.nesterov != 0.0:
        return x + c.momentum * c.momentum * velocity - (1.0 + c.momentum) * c.lr * g, (velocity,)
    return x + velocity, (velocity,)


class AdaGradCoefficients(NamedTuple):
    lr: float
    eps: float


def adagrad(x, g, moments, c):
    """``h <- h + g**2``; ``x <- x - lr g / (sqrt(h) + eps)``; moments ``(h,)``."""
    squares = moments[0] + g * g
    return x - c.lr * g / (sqrt(squares) + c.eps), (squares,)


class RMSpropCoefficients(NamedTuple):
    lr: float
    decay: float
    eps: float


def rmsprop(x, g, moments, c):
    """``h <- decay h + (1 - decay) g**2``; ``x <- x - lr g / (sqrt(h) + eps)``; moments ``(h,)``."""
    squares = c.decay * moments[0] + (1.0 - c.decay) * g * g
    return x - c.lr * g / (sqrt(squares) + c.eps), (squares,)


class AdamCoefficients(NamedTuple):
    lr: float
    b1: float
    b2: float
    eps: float
    bias1: float  # 1 - b1**t
    bias2: float  # 1 - b2**t


def adam(x, g, moments, c):
    """Adam with bias correction; moments ``(m, v)``.

    ``m <- b1 m + (1 - b1) g``; ``v <- b2 v + (1 - b2) g**2``;
    ``x <- x - lr (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)``.
    """
    mean = c.b1 * moments[0] + (1.0 - c.b1) * g
    squares = c.b2 * moments[1] + (1.0 - c.b2) * g * g
    return x - c.lr * (mean / c.bias1) / (sqrt(squares / c.bias2) + c.eps), (mean, squares)
