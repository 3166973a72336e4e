"""Gradient-descent optimizers as pure ``init``/``step`` pairs.

Each optimizer is a frozen dataclass holding its hyper-parameters (with the
usual defaults, validated on construction). ``init(x)`` returns its state, a
named tuple of arrays shaped like ``x`` (plus a step count where the method
needs one); ``step(x, grad, state, lr=None)`` returns the new point and the new
state and modifies nothing it is given. Shapes ``(d,)`` and ``(N, d)`` work
alike, since every operation is elementwise: N starts are N independent runs.

The update rules are those of "Deep Learning from Scratch", chapter 6, except
Adam, which follows Kingma and Ba (2015) with bias-corrected moments.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from ..errors import OptionError
from . import _checks


class Optimizer(ABC):
    """The interface: ``state = opt.init(x)``; ``x, state = opt.step(x, grad, state, lr)``."""

    lr: float

    @abstractmethod
    def init(self, x: np.ndarray) -> tuple:
        """The initial state for points ``x``."""

    @abstractmethod
    def step(self, x: np.ndarray, grad: np.ndarray, state: tuple, lr: float | None = None) -> tuple[np.ndarray, tuple]:
        """One update of ``x`` with gradient ``grad``; ``lr`` defaults to ``self.lr``."""

    def _lr(self, lr: float | None) -> float:
        return self.lr if lr is None else lr


class NoState(NamedTuple):
    """Plain gradient descent keeps no state."""


class VelocityState(NamedTuple):
    velocity: np.ndarray


class SquaresState(NamedTuple):
    """Accumulated (AdaGrad) or averaged (RMSprop) squared gradients."""

    squares: np.ndarray


class AdamState(NamedTuple):
    mean: np.ndarray
    squares: np.ndarray
    count: int


@dataclass(frozen=True)
class GradientDescent(Optimizer):
    """``x <- x - lr * grad``.

    Parameters
    ----------
    lr : float
        Learning rate.
    """

    lr: float = 0.01

    def __post_init__(self):
        _checks.positive("lr", self.lr)

    def init(self, x):
        return NoState()

    def step(self, x, grad, state, lr=None):
        return x - self._lr(lr) * grad, state


@dataclass(frozen=True)
class Momentum(Optimizer):
    """Heavy-ball momentum: ``v <- momentum * v - lr * grad``; ``x <- x + v``.

    With ``nesterov=True`` the look-ahead form ``x <- x + momentum**2 * v -
    (1 + momentum) * lr * grad`` (the book's Nesterov). With ``momentum=0`` both
    reduce to plain gradient descent.

    Parameters
    ----------
    lr : float
        Learning rate.
    momentum : float
        In [0, 1).
    nesterov : bool
        Use Nesterov's accelerated gradient.
    """

    lr: float = 0.01
    momentum: float = 0.9
    nesterov: bool = False

    def __post_init__(self):
        _checks.positive("lr", self.lr)
        _checks.fraction("momentum", self.momentum)

    def init(self, x):
        return VelocityState(np.zeros_like(x, dtype=np.float64))

    def step(self, x, grad, state, lr=None):
        lr = self._lr(lr)
        velocity = self.momentum * state.velocity - lr * grad
        if self.nesterov:
            return x + self.momentum * self.momentum * velocity - (1.0 + self.momentum) * lr * grad, VelocityState(velocity)
        return x + velocity, VelocityState(velocity)


@dataclass(frozen=True)
class Nesterov(Momentum):
    """:class:`Momentum` with ``nesterov=True``."""

    nesterov: bool = True


@dataclass(frozen=True)
class AdaGrad(Optimizer):
    """``h <- h + grad**2``; ``x <- x - lr * grad / (sqrt(h) + eps)``.

    Parameters
    ----------
    lr : float
        Learning rate.
    eps : float
        Added to the denominator.
    """

    lr: float = 0.01
    eps: float = 1e-7

    def __post_init__(self):
        _checks.positive("lr", self.lr)
        _checks.positive("eps", self.eps)

    def init(self, x):
        return SquaresState(np.zeros_like(x, dtype=np.float64))

    def step(self, x, grad, state, lr=None):
        squares = state.squares + grad * grad
        return x - self._lr(lr) * grad / (np.sqrt(squares) + self.eps), SquaresState(squares)


@dataclass(frozen=True)
class RMSprop(Optimizer):
    """``h <- decay * h + (1 - decay) * grad**2``; ``x <- x - lr * grad / (sqrt(h) + eps)``.

    Parameters
    ----------
    lr : float
        Learning rate.
    decay : float
        In [0, 1): how much of the running average is kept per step.
    eps : float
        Added to the denominator.
    """

    lr: float = 0.01
    decay: float = 0.99
    eps: float = 1e-7

    def __post_init__(self):
        _checks.positive("lr", self.lr)
        _checks.fraction("decay", self.decay)
        _checks.positive("eps", self.eps)

    def init(self, x):
        return SquaresState(np.zeros_like(x, dtype=np.float64))

    def step(self, x, grad, state, lr=None):
        squares = self.decay * state.squares + (1.0 - self.decay) * grad * grad
        return x - self._lr(lr) * grad / (np.sqrt(squares) + self.eps), SquaresState(squares)


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam with bias-corrected moments (Kingma and Ba, 2015).

    ``m <- b1 m + (1 - b1) g``; ``v <- b2 v + (1 - b2) g**2``;
    ``x <- x - lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1**t)``
    and ``v_hat = v / (1 - b2**t)`` at step ``t = 1, 2, ...``.

    Parameters
    ----------
    lr : float
        Learning rate.
    b1, b2 : float
        Decay of the first and second moments, in [0, 1).
    eps : float
        Added to the denominator.
    """

    lr: float = 0.001
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        _checks.positive("lr", self.lr)
        _checks.fraction("b1", self.b1)
        _checks.fraction("b2", self.b2)
        _checks.positive("eps", self.eps)

    def init(self, x):
        zeros = np.zeros_like(x, dtype=np.float64)
        return AdamState(zeros, zeros.copy(), 0)

    def step(self, x, grad, state, lr=None):
        count = state.count + 1
        mean = self.b1 * state.mean + (1.0 - self.b1) * grad
        squares = self.b2 * state.squares + (1.0 - self.b2) * grad * grad
        mean_hat = mean / (1.0 - self.b1**count)
        squares_hat = squares / (1.0 - self.b2**count)
        return x - self._lr(lr) * mean_hat / (np.sqrt(squares_hat) + self.eps), AdamState(mean, squares, count)


#: The optimizers by the names ``minimize(method=...)`` accepts.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GradientDescent,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def get(method: str | Optimizer, lr: float | None = None) -> Optimizer:
    """An optimizer from a name in :data:`OPTIMIZERS` or an optimizer object.

    ``lr``, when given, replaces the optimizer's learning rate.
    """
    if isinstance(method, Optimizer):
        optimizer = method
    elif isinstance(method, str) and method in OPTIMIZERS:
        optimizer = OPTIMIZERS[method]()
    else:
        raise OptionError(
            f"method must be one of {tuple(OPTIMIZERS)} or a gradjit.optim.Optimizer; got {method!r}."
        )
    if lr is not None:
        optimizer = replace(optimizer, lr=lr)
    return optimizer
