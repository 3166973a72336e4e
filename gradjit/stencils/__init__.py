"""Finite-difference stencils, step rules and methods, shared by every backend.

The package has one module per concern:

:mod:`~gradjit.stencils.weights`
    Stencil weights per order (solved exactly in rationals) and the automatic
    step rules.
:mod:`~gradjit.stencils.formulas`
    The difference formulas: one derivative entry at one point, written once
    and run by the NumPy reference and compiled into every kernel.
:mod:`~gradjit.stencils.second`
    The Hessian's entries: central orders 2 to 8, next to a bound, Richardson,
    one-sided and complex-step.
:mod:`~gradjit.stencils.higher`
    Higher derivatives along one coordinate, ``n`` = 2 to 10: central and Richardson.
:mod:`~gradjit.stencils.richardson`
    Richardson extrapolation over a geometric sequence of steps.
:mod:`~gradjit.stencils.bounds`
    Stencils that never leave a box ``[lower, upper]``.
:mod:`~gradjit.stencils.methods`
    The table of methods (``method=``): orders, steps, cost, options.

What users need is exported here.

Examples
--------
>>> from gradjit import stencils
>>> stencils.central_weights(4)
(0.6666666666666666, -0.08333333333333333)
>>> stencils.one_sided_weights(2)
(-1.5, 2.0, -0.5)
>>> sorted(stencils.METHODS)
['backward', 'central', 'complex', 'forward', 'richardson']
"""

from .methods import METHODS, Method
from .richardson import RICHARDSON_LEVELS, RICHARDSON_RATIO, RICHARDSON_STEPS
from .weights import (
    COMPLEX_STEP,
    HESSIAN_STEP,
    ONE_SIDED_ORDERS,
    ORDERS,
    central_weights,
    default_step,
    hessian_step,
    one_sided_second_weights,
    one_sided_step,
    one_sided_weights,
    second_weights,
)

__all__ = [
    "COMPLEX_STEP",
    "HESSIAN_STEP",
    "METHODS",
    "ONE_SIDED_ORDERS",
    "ORDERS",
    "RICHARDSON_LEVELS",
    "RICHARDSON_RATIO",
    "RICHARDSON_STEPS",
    "Method",
    "central_weights",
    "default_step",
    "hessian_step",
    "one_sided_second_weights",
    "one_sided_step",
    "one_sided_weights",
    "second_weights",
]
