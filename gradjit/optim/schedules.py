"""Learning-rate schedules: callables from the step number (0, 1, 2, ...) to a learning rate.

Each factory validates its arguments and returns a :class:`Schedule`, which
prints as the call that made it::

    >>> from gradjit.optim import step_decay
    >>> schedule = step_decay(0.1, factor=0.5, every=10)
    >>> schedule
    step_decay(0.1, factor=0.5, every=10)
    >>> [schedule(s) for s in (0, 9, 10, 25)]
    [0.1, 0.1, 0.05, 0.025]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .. import _validation as check
from ..errors import OptionError


@dataclass(frozen=True)
class Schedule:
    """A named learning-rate schedule: ``schedule(step) -> lr``."""

    description: str
    rule: Callable[[int], float]

    def __call__(self, step: int) -> float:
        return float(self.rule(step))

    def __repr__(self) -> str:
        return self.description


def constant(lr: float) -> Schedule:
    """``lr`` at every step.

    Parameters
    ----------
    lr : float
        The learning rate, > 0.

    Returns
    -------
    Schedule
        ``schedule(step) -> lr`` for steps 0, 1, ...
    """
    lr = check.positive("lr", lr)
    return Schedule(f"constant({lr!r})", lambda step: lr)


def step_decay(lr: float, factor: float = 0.5, every: int = 100) -> Schedule:
    """``lr * factor ** (step // every)``: multiply by ``factor`` every ``every`` steps.

    Parameters
    ----------
    lr : float
        The first learning rate, > 0.
    factor : float, optional
        In (0, 1].
    every : int, optional
        Steps between two multiplications.

    Returns
    -------
    Schedule
        ``schedule(step) -> lr`` for steps 0, 1, ...
    """
    lr = check.positive("lr", lr)
    factor = check.positive("factor", factor)
    check.fraction("factor", factor, upper_inclusive=True)
    every = check.count("every", every)
    return Schedule(f"step_decay({lr!r}, factor={factor!r}, every={every!r})", lambda step: lr * factor ** (step // every))


def exponential_decay(lr: float, rate: float = 0.96, every: int = 100) -> Schedule:
    """``lr * rate ** (step / every)``: a smooth decay by ``rate`` per ``every`` steps.

    Parameters
    ----------
    lr : float
        The first learning rate, > 0.
    rate : float, optional
        In (0, 1]: the factor per ``every`` steps.
    every : int, optional
        Steps per factor ``rate``.

    Returns
    -------
    Schedule
        ``schedule(step) -> lr`` for steps 0, 1, ...
    """
    lr = check.positive("lr", lr)
    rate = check.positive("rate", rate)
    check.fraction("rate", rate, upper_inclusive=True)
    every = check.count("every", every)
    return Schedule(f"exponential_decay({lr!r}, rate={rate!r}, every={every!r})", lambda step: lr * rate ** (step / every))


def inverse_time_decay(lr: float, k: float = 0.01) -> Schedule:
    """``lr / (1 + k * step)``.

    Parameters
    ----------
    lr : float
        The first learning rate, > 0.
    k : float, optional
        The decay per step, >= 0.

    Returns
    -------
    Schedule
        ``schedule(step) -> lr`` for steps 0, 1, ...
    """
    lr = check.positive("lr", lr)
    k = check.non_negative("k", k)
    return Schedule(f"inverse_time_decay({lr!r}, k={k!r})", lambda step: lr / (1.0 + k * step))


def cosine_decay(lr: float, steps: int, final: float = 0.0) -> Schedule:
    """From ``lr`` down to ``final`` along half a cosine over ``steps`` steps, then ``final``.

    Parameters
    ----------
    lr : float
        The first learning rate, > 0.
    steps : int
        The length of the decay.
    final : float, optional
        The last learning rate, from 0 to ``lr``.

    Returns
    -------
    Schedule
        ``schedule(step) -> lr`` for steps 0, 1, ...
    """
    lr = check.positive("lr", lr)
    steps = check.count("steps", steps)
    final = check.non_negative("final", final)
    if final > lr:
        raise OptionError(f"final must not exceed lr; got final={final!r} > lr={lr!r}.")

    def rule(step: int) -> float:
        progress = min(step, steps) / steps
        return final + (lr - final) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return Schedule(f"cosine_decay({lr!r}, steps={steps!r}, final={final!r})", rule)
