"""Gradient-descent optimizers as pure ``init``/``step`` pairs.

Each optimizer is a frozen dataclass holding its hyper-parameters (with the
usual defaults, validated on construction). ``init(x)`` returns its state (its
moment arrays shaped like ``x`` and a step count); ``step(x, grad, state,
lr=None)`` returns the new point and the new state and modifies nothing it is
given. Shapes ``(d,)`` and ``(N, d)`` work alike, since every operation is
elementwise: N starts are N independent runs. The update formulas themselves
are in :mod:`gradjit.optim.rules`, shared with the compiled loop.

The update rules are those of "Deep Learning from Scratch", chapter 6, except
Adam, which follows Kingma and Ba (2015) with bias-corrected moments.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar, NamedTuple

import numpy as np

from .. import _validation as check
from ..errors import OptionError
from . import rules


class OptimizerState(NamedTuple):
    """An optimizer's state: its moment arrays (shaped like ``x``) and the steps taken."""

    moments: tuple[np.ndarray, ...]
    count: int


class Optimizer(ABC):
    """The interface: ``state = opt.init(x)``; ``x, state = opt.step(x, grad, state, lr)``.

    A method is defined by three things, which is also how to write a new one
    (as a frozen dataclass with an ``lr`` field):

    ``n_moments``
        How many arrays shaped like ``x`` it keeps (any number).
    ``rule``
        Its elementwise update ``rule(x, g, moments, c) -> (x, moments)`` (see
        :mod:`gradjit.optim.rules`), a plain function that NumPy runs on arrays
        and Numba compiles into :func:`~gradjit.optim.minimize`'s kernels.
    ``coefficients(lr, count)``
        The coefficients ``c`` that ``rule`` reads by name at step ``count``
        (1, 2, ...): an instance of the NamedTuple class ``coefficients_type``.
    """

    lr: float
    n_moments: ClassVar[int]
    rule: ClassVar[Callable]
    coefficients_type: ClassVar[type]
    #: Hyper-parameters besides ``lr`` that must be > 0, and those in [0, 1).
    _positive: ClassVar[tuple[str, ...]] = ()
    _fractions: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        check.positive("lr", self.lr)
        for name in self._positive:
            check.positive(name, getattr(self, name))
        for name in self._fractions:
            check.fraction(name, getattr(self, name))

    @abstractmethod
    def coefficients(self, lr: float, count: int) -> tuple:
        """The coefficients ``c`` of ``rule`` for step ``count`` (1 for the first step)."""

    def init(self, x: np.ndarray) -> OptimizerState:
        """The initial state for points ``x``: zero moments, no steps taken."""
        x = np.asarray(x, dtype=np.float64)
        return OptimizerState(tuple(np.zeros_like(x) for _ in range(self.n_moments)), 0)

    def step(self, x: np.ndarray, grad: np.ndarray, state: OptimizerState, lr: float | None = None) -> tuple[np.ndarray, OptimizerState]:
        """One update of ``x`` with gradient ``grad``; ``lr`` defaults to ``self.lr``.

        Returns the new point and the new state; the arguments are not modified.
        """
        count = state.count + 1
        x_new, moments = self.rule(np.asarray(x, dtype=np.float64), np.asarray(grad, dtype=np.float64), tuple(state.moments),
                                   self.coefficients(self.lr if lr is None else lr, count))
        return x_new, OptimizerState(tuple(moments), count)


@dataclass(frozen=True)
class GradientDescent(Optimizer):
    """``x <- x - lr * grad``.

    Parameters
    ----------
    lr : float
        Learning rate.
    """

    lr: float = 0.01
    n_moments: ClassVar[int] = 0
    rule: ClassVar[Callable] = staticmethod(rules.gradient_descent)
    coefficients_type: ClassVar[type] = rules.GradientDescentCoefficients


    def coefficients(self, lr, count):
        return rules.GradientDescentCoefficients(lr)


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
    n_moments: ClassVar[int] = 1
    rule: ClassVar[Callable] = staticmethod(rules.momentum)
    coefficients_type: ClassVar[type] = rules.MomentumCoefficients

    _fractions: ClassVar[tuple[str, ...]] = ("momentum",)

    def coefficients(self, lr, count):
        return rules.MomentumCoefficients(lr, self.momentum, 1.0 if self.nesterov else 0.0)


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
    n_moments: ClassVar[int] = 1
    rule: ClassVar[Callable] = staticmethod(rules.adagrad)
    coefficients_type: ClassVar[type] = rules.AdaGradCoefficients

    _positive: ClassVar[tuple[str, ...]] = ("eps",)

    def coefficients(self, lr, count):
        return rules.AdaGradCoefficients(lr, self.eps)


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
    n_moments: ClassVar[int] = 1
    rule: ClassVar[Callable] = staticmethod(rules.rmsprop)
    coefficients_type: ClassVar[type] = rules.RMSpropCoefficients

    _positive: ClassVar[tuple[str, ...]] = ("eps",)
    _fractions: ClassVar[tuple[str, ...]] = ("decay",)

    def coefficients(self, lr, count):
        return rules.RMSpropCoefficients(lr, self.decay, self.eps)


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
    n_moments: ClassVar[int] = 2
    rule: ClassVar[Callable] = staticmethod(rules.adam)
    coefficients_type: ClassVar[type] = rules.AdamCoefficients

    _positive: ClassVar[tuple[str, ...]] = ("eps",)
    _fractions: ClassVar[tuple[str, ...]] = ("b1", "b2")

    def coefficients(self, lr, count):
        return rules.AdamCoefficients(lr, self.b1, self.b2, self.eps, 1.0 - self.b1**count, 1.0 - self.b2**count)


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

    Parameters
    ----------
    method : str or Optimizer
        A name in :data:`OPTIMIZERS` (with its default hyper-parameters) or an optimizer.
    lr : float, optional
        Replaces the optimizer's learning rate.

    Returns
    -------
    Optimizer
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
