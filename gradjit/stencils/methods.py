"""The difference methods: what each one needs and offers, in one table.

Every entry point reads this table (through :func:`gradjit._spec.resolve`), so
a method's allowed orders, its automatic step, its cost and the options it
accepts are stated once. Adding a method is a row here, its formula in
:mod:`gradjit.stencils.formulas`, and one kernel per backend.

``"central"``
    The central stencils of :func:`~gradjit.stencils.central_weights`, orders
    2, 4, 6, 8: ``order`` evaluations of f per entry, truncation error
    ``O(h**order)``. The default.
``"richardson"``
    The order-2 central difference at :data:`~gradjit.stencils.RICHARDSON_STEPS`
    geometric steps ``RICHARDSON_RATIO**i * max(1, |x_j|)`` (or ``h`` times
    that), extrapolated up to :data:`~gradjit.stencils.RICHARDSON_LEVELS`
    times; of every level from 2 up and every window of steps, the candidate
    with the smallest error estimate wins. At most ``2 * RICHARDSON_STEPS``
    evaluations per entry (it stops once no smaller step can change the
    result), errors near 1e-15, and an error estimate per entry
    (``full_output=True``).
``"forward"``, ``"backward"``
    One-sided stencils of orders 1 to 6 (:func:`~gradjit.stencils.one_sided_weights`)
    evaluating f only at ``x + k h e_j`` (or ``x - k h e_j``), ``k = 0..order``:
    for f defined on one side of ``x`` only.
``"complex"``
    The complex-step derivative ``Im f(x + i h e_j) / h`` with
    ``h = COMPLEX_STEP * max(1, |x_j|)``: exact to rounding for f analytic in
    its inputs (f is called with a complex128 array and returns a complex number).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .richardson import RICHARDSON_BASE, RICHARDSON_STEPS
from .weights import COMPLEX_STEP, ONE_SIDED_ORDERS, ORDERS, default_step, one_sided_step

__all__ = ["METHODS", "Method"]


class Method(NamedTuple):
    """What a difference method needs and offers."""

    #: The name ``method=`` takes.
    name: str
    #: The orders ``order=`` may take; ``(2,)`` for methods with none to choose.
    orders: tuple[int, ...]
    #: The automatic relative step at an order (the step is this times ``max(1, |x_j|)``).
    relative_step: Callable[[int], float]
    #: The most evaluations of f per entry at an order (the kernels' cost estimate).
    evaluations: Callable[[int], int]
    #: Accepts ``bounds=`` (f never evaluated outside a box).
    bounded: bool
    #: Makes an error estimate per entry (``full_output=True``).
    error_estimates: bool
    #: Calls f with complex input.
    complex_input: bool
    #: Available for vector functions (:func:`gradjit.jacobian`).
    vector: bool


def _fixed(value: float) -> Callable[[int], float]:
    return lambda order: value


METHODS: dict[str, Method] = {
    "central": Method("central", ORDERS, default_step, lambda order: order, bounded=True, error_estimates=False,
                      complex_input=False, vector=True),
    "richardson": Method("richardson", (2,), _fixed(RICHARDSON_BASE), lambda order: 2 * RICHARDSON_STEPS, bounded=True,
                         error_estimates=True, complex_input=False, vector=False),
    "forward": Method("forward", ONE_SIDED_ORDERS, one_sided_step, lambda order: order + 1, bounded=False,
                      error_estimates=False, complex_input=False, vector=True),
    "backward": Method("backward", ONE_SIDED_ORDERS, one_sided_step, lambda order: order + 1, bounded=False,
                       error_estimates=False, complex_input=False, vector=True),
    "complex": Method("complex", (2,), _fixed(COMPLEX_STEP), lambda order: 1, bounded=False, error_estimates=False,
                      complex_input=True, vector=True),
}
