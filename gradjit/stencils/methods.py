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
    geometric steps ``RICHARDSON_RATIO**i * max(1, |x_j|) / 1.1`` (or ``h``
    times ``max(1, |x_j|)``), extrapolated up to
    :data:`~gradjit.stencils.RICHARDSON_LEVELS` times; of every level from 2 up
    and every window of steps, the candidate with the smallest error estimate
    wins. It stops once no smaller step can change the result (usually within
    the planned steps) and, for first derivatives, slides on to smaller steps
    while the best estimate is still above rounding (up to
    ``RICHARDSON_MAX_SLIDE`` more): a function of x in small units is resolved
    without ``x_scale``. Errors near 1e-15, and an error estimate per entry
    (``full_output=True``). Leading steps where the quotient is NaN or infinite
    (f undefined that far from x) are skipped: the steps start at the first
    finite one. The Jacobian's extrapolation slides too (from ``max(1, |x_j|)``);
    the Hessian's and higher derivatives' keep the planned steps.
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
from .weights import COMPLEX_STEP, ONE_SIDED_ORDERS, ORDERS, central_weights, default_step, one_sided_step, one_sided_weights

__all__ = ["METHODS", "Method"]


class Method(NamedTuple):
    """What a difference method needs and offers."""

    #: The name ``method=`` takes.
    name: str
    #: The formula the backends run: ``"central"`` (:func:`~gradjit.stencils.formulas.central_entry`
    #: with this method's weights), ``"one-sided"``, ``"complex"`` or ``"richardson"``.
    formula: str
    #: The orders ``order=`` may take; ``(2,)`` for methods with none to choose.
    orders: tuple[int, ...]
    #: The stencil's weights at an order (``()`` for formulas without weights).
    weights: Callable[[int], tuple[float, ...]]
    #: The automatic relative step at an order (the step is this times ``max(1, |x_j|)``).
    relative_step: Callable[[int], float]
    #: Evaluations of f per entry at an order (the kernels' cost estimate; for Richardson the
    #: planned steps: skipped steps where f is NaN and the slide to f's scale can add more).
    evaluations: Callable[[int], int]
    #: +1 or -1: the side of a one-sided formula.
    direction: float = 1.0
    #: Accepts ``bounds=`` (f never evaluated outside a box).
    bounded: bool = False
    #: Makes an error estimate per entry (``full_output=True``).
    error_estimates: bool = False
    #: Calls f with complex input.
    complex_input: bool = False
    #: Available for vector functions (:func:`gradjit.jacobian`).
    vector: bool = True


def _fixed(value: float) -> Callable[[int], float]:
    return lambda order: value


def _no_weights(order: int) -> tuple[float, ...]:
    return ()


METHODS: dict[str, Method] = {
    "central": Method("central", "central", ORDERS, central_weights, default_step, lambda order: order, bounded=True),
    "richardson": Method("richardson", "richardson", (2,), _no_weights, _fixed(RICHARDSON_BASE),
                         lambda order: 2 * RICHARDSON_STEPS, bounded=True, error_estimates=True),
    "forward": Method("forward", "one-sided", ONE_SIDED_ORDERS, one_sided_weights, one_sided_step, lambda order: order + 1),
    "backward": Method("backward", "one-sided", ONE_SIDED_ORDERS, one_sided_weights, one_sided_step, lambda order: order + 1,
                       direction=-1.0),
    "complex": Method("complex", "complex", (2,), _no_weights, _fixed(COMPLEX_STEP), lambda order: 1, complex_input=True),
}
