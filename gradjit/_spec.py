"""One resolved spec: every option of a differentiation, validated once.

Each public entry point calls :func:`resolve` once with its options and passes
the frozen :class:`Spec` down to the backend; :func:`gradjit.minimize`,
:func:`gradjit.critical_points.find`, the Dask blocks and the classic
functions resolve once and reuse the spec at every step or block, instead of
calling the public functions (and their checks) again.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import numba
import numpy as np

from . import _validation as check
from .backends import Backend, get
from .errors import OptionError
from .stencils.methods import METHODS, Method
from .stencils.richardson import RICHARDSON_GRADIENT_BASE, RICHARDSON_STEPS
from .stencils.weights import (
    central_weights,
    default_step,
    hessian_step,
    nth_step,
    nth_weights,
    one_sided_hessian_step,
    one_sided_weights,
)

__all__ = ["Spec", "resolve"]


class Spec(NamedTuple):
    """How to differentiate: the validated options every backend reads (immutable; its
    arrays are shared between calls and never written).

    Attributes
    ----------
    method : Method
        The row of :data:`gradjit.stencils.METHODS`.
    order : int
        The stencil's order.
    weights : tuple of float
        The stencil's weights (``method.weights(order)``; none for the
        complex step and Richardson).
    one_sided : tuple of float
        The one-sided weights of the same order, used next to a bound by
        bounded central stencils.
    steps : ndarray, shape (d,)
        The step per coordinate: relative (times ``max(typical_j, |x_j|)``) or,
        where ``typical_j < 0``, absolute (:func:`~gradjit.stencils.weights.actual_step`).
    typical : ndarray, shape (d,)
        The typical magnitude of each coordinate (``x_scale=``, 1 by default);
        -1 for absolute steps (``h=`` given).
    lower, upper : ndarray, shape (d,)
        The box f may be evaluated in (``-inf``, ``inf`` when unbounded).
    bounded : bool
        Whether ``bounds`` were given.
    backend : Backend
    threads : int
    args : tuple
        Extra arguments of f.
    vectorized : bool
        The NumPy reference calls f with the whole batch.
    scalar_input : bool
        f takes a float, not an array (:func:`gradjit.derivative`).
    jit : str
        Which compiled kernels run the call (:mod:`gradjit._tiers`):
        ``"auto"``, ``"fast-start"`` or ``"inline"``.
    n : int
        The derivative (:func:`gradjit.derivative`'s ``n``, 1 elsewhere); for
        ``n > 1`` the weights are :func:`~gradjit.stencils.weights.nth_weights`
        (of order 2 for Richardson, which extrapolates them).
    workers : int, callable or None
        The NumPy reference's evaluations spread over a thread pool of this
        size, or over this map-like callable (:mod:`gradjit.backends._workers`).
    terms : Sparsity or None
        f is given as its terms ``F(x) -> (m,)``, ``f = Σ_r F_r``, with this
        pattern (:mod:`gradjit.structured`): the gradient is ``J_F^T 1`` by its
        column groups, and f's value the sum.
    """

    method: Method
    order: int
    weights: tuple[float, ...]
    one_sided: tuple[float, ...]
    steps: np.ndarray
    typical: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    bounded: bool
    backend: Backend
    threads: int
    args: tuple
    vectorized: bool = False
    scalar_input: bool = False
    jit: str = "auto"
    n: int = 1
    terms: Any = None
    workers: Any = None

    @property
    def evaluations(self) -> int:
        """The most evaluations of f per entry (the kernels' cost estimate)."""
        if self.n > 1:
            return len(self.weights) * (RICHARDSON_STEPS if self.formula == "richardson" else 1)
        if self.bounded and self.method.formula == "central":
            return max(len(self.one_sided), 2 * len(self.weights))
        return self.method.evaluations(self.order)

    @property
    def scaled(self) -> bool:
        """Whether the steps are relative (the automatic rule), not absolute."""
        return not (self.typical.size and self.typical[0] < 0)

    @property
    def hessian_evaluations(self) -> int:
        """The most evaluations of f per Hessian entry (:mod:`gradjit.stencils.second`)."""
        if self.formula == "richardson":
            return 4 * RICHARDSON_STEPS
        if self.formula == "complex":
            return 2 * len(central_weights(self.order))
        if self.bounded or self.formula == "one-sided":
            return (self.order + 1) ** 2  # the product of two one-sided stencils
        return 2 * self.order

    @property
    def formula(self) -> str:
        """The formula the backends run (:attr:`Method.formula`)."""
        return self.method.formula

    @property
    def direction(self) -> float:
        """The side of a one-sided formula: -1 (backward) or +1."""
        return self.method.direction

    @property
    def returns(self) -> str:
        """What f returns, for :func:`gradjit._objective.compiled_call`: ``"real"`` or ``"complex"``."""
        return "complex" if self.method.complex_input else "real"


#: The methods each kind of derivative offers.
_ALLOWED = {
    "gradient": tuple(METHODS),
    "grid": tuple(METHODS),
    "hessian": ("central", "richardson", "forward", "backward", "complex"),
    "jacobian": tuple(name for name, m in METHODS.items() if m.vector),
    "terms": ("central", "forward", "backward", "complex"),  # grouped columns (gradjit.structured)
    "terms hessian": ("central",),
    "values": ("central",),
}


#: How messages name each kind that narrows the methods.
_WHAT = {"hessian": "hessian", "jacobian": "jacobian", "terms": "terms=True or sparsity=",
         "terms hessian": "hessian with terms=True"}


def resolve(
    d: int,
    *,
    kind: str = "gradient",
    method: Any = "central",
    order: Any = 2,
    h: Any = None,
    bounds: Any = None,
    points: np.ndarray | None = None,
    backend: Any = "numba",
    threads: Any = None,
    args: Any = (),
    vectorized: bool = False,
    full_output: bool = False,
    scalar_input: bool = False,
    jit: Any = None,
    names: dict[str, str] | None = None,
    x_scale: Any = None,
    n: Any = 1,
    workers: Any = None,
) -> Spec:
    """Validate the options of one differentiation in ``d`` variables and freeze them.

    ``kind`` is ``"gradient"``, ``"grid"``, ``"hessian"``, ``"jacobian"``,
    ``"values"``, ``"terms"`` (grouped columns: a sparse Jacobian or the gradient of
    a sum of terms) or ``"terms hessian"`` (what the caller computes: it narrows the methods). ``points``,
    an ``(N, d)`` array, must lie inside ``bounds`` when those are given (a
    grid passes its two corners, :func:`gradjit._validation.grid_corners`).
    ``names`` renames options in messages (``minimize`` calls ``method``
    ``difference`` and ``bounds`` ``box``). ``x_scale`` (:func:`gradjit._validation.x_scale`)
    is the typical magnitude of each coordinate; ``"auto"`` reads it from ``points``.
    ``n`` is the derivative (:func:`gradjit.derivative`). ``workers`` spreads the NumPy
    backend's evaluations (:func:`gradjit._validation.workers`).
    """
    names = {"method": "method", "bounds": "bounds", **(names or {})}
    row = check.method(method, _ALLOWED[kind], _WHAT.get(kind, ""), name=names["method"])
    stencil_order = check.order(order, row)
    chosen = get(backend)
    arguments = check.arguments(args)
    n_threads = check.threads(threads, numba.config.NUMBA_NUM_THREADS)
    tier = check.jit(jit)
    pool = check.workers(workers, chosen.NAME, vectorized, kind)
    if full_output and not row.error_estimates:
        makers = " or ".join(f"method={n!r}" for n, m in METHODS.items() if m.error_estimates)
        raise OptionError(f"full_output=True returns error estimates, which method={row.name!r} does not make; use {makers}.")
    if bounds is not None and not row.bounded:
        raise OptionError(f"{names['bounds']}= applies to the methods {tuple(n for n, m in METHODS.items() if m.bounded)}; "
                          f"{names['method']}={row.name!r} chooses its side itself (or has none).")
    if vectorized and (chosen.NAME != "numpy" or row.formula != "central" or bounds is not None):
        raise OptionError("vectorized=True applies to backend='numpy' with method='central' and no bounds.")
    lower, upper = check.bounds(bounds, np.empty((0, d)) if points is None else points, name=names["bounds"])
    derivative = check.derivative_order(n, row, bounds)
    relative = row.relative_step(stencil_order)
    if kind in ("hessian", "terms hessian") and row.formula == "central":
        relative = hessian_step(stencil_order)
    elif kind == "hessian" and row.formula == "one-sided":
        relative = one_sided_hessian_step(stencil_order)
    elif kind == "hessian" and row.formula == "complex":
        relative = default_step(stencil_order)  # the real difference of complex-step partials
    elif derivative > 1 and row.formula == "central":
        relative = nth_step(derivative, stencil_order)
    elif derivative == 1 and kind in ("gradient", "grid") and row.formula == "richardson":
        relative = RICHARDSON_GRADIENT_BASE  # the sliding first-derivative sequence (richardson_entry)
    steps, scaled = check.steps(h, d, relative)
    if not scaled and x_scale is not None:
        raise OptionError("x_scale= sets the scale of the automatic steps; with h= the steps are absolute: give one or the other.")
    typical = check.x_scale(x_scale, d, points) if scaled else _absolute(d)
    if row.formula != "one-sided" and not scaled:
        steps = np.abs(steps)  # the symmetric stencils ignore the sign of h
    one_sided = one_sided_weights(stencil_order)  # of the same order: the side a bounded central stencil turns to
    weights = row.weights(stencil_order) if derivative == 1 else nth_weights(derivative, stencil_order)
    return Spec(row, stencil_order, weights, one_sided, steps, typical, lower, upper, bounds is not None,
                chosen, n_threads, arguments, bool(vectorized), bool(scalar_input), tier, derivative, workers=pool)


@lru_cache(maxsize=256)
def _absolute(d: int) -> np.ndarray:
    # typical = -1: the steps are absolute (made once per d; the kernels only read it).
    return np.full(d, -1.0)
