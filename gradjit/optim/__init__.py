"""Optimizers and learning-rate schedules.

Optimizers are small immutable objects with a pure ``init``/``step`` pair::

    opt = gradjit.optim.Adam(lr=0.001)
    state = opt.init(x)
    x, state = opt.step(x, grad, state)          # or opt.step(x, grad, state, lr)

They work unchanged on one point ``(d,)`` and on a stack of points ``(N, d)``
(many starts at once), and never modify their inputs. Schedules map a step
number to a learning rate.
"""

from .loop import DIVERGENCE_FACTOR, OptimizeResult, minimize
from .optimizers import (
    OPTIMIZERS,
    AdaGrad,
    Adam,
    GradientDescent,
    Momentum,
    Nesterov,
    Optimizer,
    OptimizerState,
    RMSprop,
    get,
)
from .schedules import Schedule, constant, cosine_decay, exponential_decay, inverse_time_decay, step_decay

__all__ = [
    "DIVERGENCE_FACTOR",
    "OPTIMIZERS",
    "AdaGrad",
    "Adam",
    "GradientDescent",
    "Momentum",
    "Nesterov",
    "OptimizeResult",
    "Optimizer",
    "OptimizerState",
    "RMSprop",
    "Schedule",
    "constant",
    "cosine_decay",
    "exponential_decay",
    "get",
    "inverse_time_decay",
    "minimize",
    "step_decay",
]
