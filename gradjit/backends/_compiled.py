"""Building blocks of the compiled kernels, shared by the Numba backend, the
compiled descent steps (:mod:`gradjit.optim._kernels`) and the benchmark floors."""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import INTERNAL_JIT_OPTIONS, JIT_OPTIONS
from .._memo import per_owner
from ..stencils.bounds import bounded_entry, bounded_richardson_entry
from ..stencils.formulas import central_entry, complex_step_entry, one_sided_entry
from ..stencils.higher import nth_entry, richardson_nth_entry
from ..stencils.second import (
    bounded_hessian_entry,
    bounded_richardson_second_entry,
    complex_hessian_entry,
    hessian_weights,
    one_sided_hessian_entry,
    second_entry,
)
from ..stencils.weights import actual_step

#: The targets the entry factories compile for: Numba's CPU (``njit``) and the
#: CUDA backend's device functions (:mod:`gradjit.backends.cuda`).
TARGETS = ("cpu", "cuda")

__all__ = ["STACK_D", "TARGETS", "VECTOR_D", "compiled_actual_step", "coordinate_entry", "hessian_entry", "load_point", "stack_buffer",
           "stencil_entry", "step_rule"]

#: Largest d with a stack buffer and code specialised per d for batches.
STACK_D = 64

#: Up to this d the stencil entry stays a separate function that LLVM inlines
#: and vectorises across points (objectives of a few variables are typically
#: written with explicit indices, x[0] * x[0] + ...). Above it the entry is
#: inlined at Numba's IR level, which optimises a loop inside f better.
VECTOR_D = 4

compiled_actual_step = numba.njit(inline="always", **JIT_OPTIONS)(actual_step)
# The hot path calls the central formula through a plain dispatcher: through its
# register_jitable overload a new function's first call compiled 0.18 s longer.
_central_entry = numba.njit(inline="always", **INTERNAL_JIT_OPTIONS)(central_entry)


@intrinsic
def stack_buffer(typingctx, length):
    """A pointer to ``length`` float64s on the calling function's stack."""
    if not isinstance(length, types.IntegerLiteral):
        return None
    size = length.literal_value

    def codegen(context, builder, signature, args):
        # alloca_once places the alloca in the entry block: one buffer per call.
        return cgutils.alloca_once(builder, context.get_value_type(types.float64), size=size)

    return types.CPointer(types.float64)(length), codegen


@numba.njit(inline="always", **JIT_OPTIONS)
def load_point(x_flat, buf, i):
    """Copy point ``i`` of the flat (N, d) array into ``buf`` (length d)."""
    d = buf.size
    for c in range(d):
        buf[c] = x_flat[i * d + c]


def step_rule(spec) -> str:
    """Which step rule the hot kernels compile in: ``"unit"`` (relative steps, every typical
    magnitude 1: the default), ``"absolute"`` (``h`` given) or ``"typical"`` (``x_scale``:
    read per coordinate). The first two are constants in the code: reading the typical
    magnitude per entry made Rosenbrock (d = 10) 1.45x slower."""
    if not spec.scaled:
        return "absolute"
    return "unit" if bool(np.all(spec.typical == 1.0)) else "typical"


def _device_function(target: str, cpu_options: dict):
    """The decorator that compiles an entry for ``target``, and the central formula and
    step rule it calls there (on the CPU their ``njit`` twins, which compile faster)."""
    if target == "cpu":
        return numba.njit(**cpu_options), _central_entry, compiled_actual_step
    if target != "cuda":
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}.")
    from .. import _cuda

    # The register_jitable formulas compile for the device as they are (and run as
    # Python on the CUDA simulator).
    return _cuda.module().jit(device=True), central_entry, actual_step


@per_owner
def stencil_entry(call, weights: tuple[float, ...], inline: bool, rule: str = "typical", target: str = "cpu"):
    """``entry(buf, j, step, typical, args)``: one central entry of f (``call``) at the
    point in ``buf``, with the step rule applied to ``step`` (:func:`actual_step`);
    ``rule`` (:func:`step_rule`) fixes ``typical`` in the code where it can. ``target``:
    ``"cpu"`` or ``"cuda"`` (a device function, ``call`` one too)."""
    # inline=True merges the entry into the kernel at Numba's IR level, which lets
    # LLVM optimise a loop inside f together with the kernel (1.4x faster for
    # Rosenbrock, d = 10) but stops it vectorising across points (see VECTOR_D).
    compile_, central, step_of = _device_function(target, {"inline": "always" if inline else "never", **INTERNAL_JIT_OPTIONS})
    if rule == "unit":
        @compile_
        def entry(buf, j, step, typical, args):
            return central(call, args, buf, j, step_of(buf[j], step, 1.0), weights)
    elif rule == "absolute":
        @compile_
        def entry(buf, j, step, typical, args):
            return central(call, args, buf, j, step_of(buf[j], step, -1.0), weights)
    else:
        @compile_
        def entry(buf, j, step, typical, args):
            return central(call, args, buf, j, step_of(buf[j], step, typical), weights)

    return entry


@per_owner
def coordinate_entry(call, *, method: str, bounded: bool, weights: tuple, one_sided: tuple, direction: float, n: int = 1,
                     target: str = "cpu"):
    """``entry(buf, j, step, typical, lower, upper, center, table, args) -> (value, error)``:
    one gradient (or ``n``-th derivative) entry of f (``call``) along ``j`` at the point in
    ``buf`` by the formula ``method``: ``"central"`` with bounds (:func:`bounded_entry`),
    ``"one-sided"`` (:func:`one_sided_entry`, ``direction`` -1 for backward), ``"complex"``
    (:func:`complex_step_entry`, ``buf`` complex) or ``"richardson"``
    (:func:`bounded_richardson_entry`, with its error estimate; ``error`` is 0 otherwise);
    for ``n > 1``, :func:`nth_entry` or :func:`richardson_nth_entry`. ``center`` is
    f at ``buf`` where the formula reads it (Richardson, even ``n``), ``table`` Richardson's
    scratch (:data:`~gradjit.stencils.richardson.RICHARDSON_TABLE_SIZE`). Shared by the
    Numba backend's item kernels, :mod:`gradjit.nb` and (``target="cuda"``) the CUDA backend."""
    compile_, _, step_of = _device_function(target, {"inline": "always", **JIT_OPTIONS})

    @compile_
    def entry(buf, j, step, typical, lower, upper, center, table, args):
        if n > 1:
            s = step_of(buf[j], step, typical)
            if method == "richardson":
                return richardson_nth_entry(call, args, buf, j, s, n, weights, center, table)
            return nth_entry(call, args, buf, j, s, n, weights, center), 0.0
        if method == "complex":
            return complex_step_entry(call, args, buf, j, step, typical), 0.0
        if method == "richardson":
            s = step_of(buf[j], step, typical)
            return bounded_richardson_entry(call, args, buf, j, s, lower, upper, center, table)
        if bounded:
            s = step_of(buf[j], step, typical)
            return bounded_entry(call, args, buf, j, s, lower, upper, weights, one_sided), 0.0
        h = step_of(buf[j], direction * step, typical)
        return one_sided_entry(call, args, buf, j, h, weights), 0.0

    return entry


@per_owner
def hessian_entry(call, *, method: str, bounded: bool, order: int, direction: float, target: str = "cpu"):
    """``entry(buf, j, k, steps, typical, lower, upper, center, table, args) -> (value, error)``:
    Hessian entry ``(j, k)`` of f (``call``) at the point in ``buf`` (``steps``, ``typical``,
    ``lower``, ``upper``: arrays over the coordinates) by the central stencil of ``order``
    (:func:`second_entry`, :func:`bounded_hessian_entry` with bounds), Richardson (with its
    error estimate; 0 otherwise), one-sided stencils (``method`` "one-sided", ``direction``
    -1 backward) or complex-step partials (:func:`complex_hessian_entry`, ``buf`` complex).
    ``center`` is f at ``buf`` (unused by the complex step). Shared by the Numba backend's
    Hessian kernel, :mod:`gradjit.nb` and (``target="cuda"``) the CUDA backend."""
    central, second, one_sided, one_sided_second = hessian_weights(order)
    compile_, _, step_of = _device_function(target, {"inline": "always", **JIT_OPTIONS})

    @compile_
    def entry(buf, j, k, steps, typical, lower, upper, center, table, args):
        if method == "complex":
            hk = step_of(buf[k].real, steps[k], typical[k])
            return complex_hessian_entry(call, args, buf, j, k, hk, central), 0.0
        if method == "one-sided":
            hj = step_of(buf[j], direction * steps[j], typical[j])
            hk = step_of(buf[k], direction * steps[k], typical[k])
            return one_sided_hessian_entry(call, args, buf, j, k, hj, hk, central, one_sided, one_sided_second, center), 0.0
        hj = step_of(buf[j], steps[j], typical[j])
        hk = step_of(buf[k], steps[k], typical[k])
        if method == "richardson":  # the box is unbounded without bounds: every step fits
            return bounded_richardson_second_entry(call, args, buf, j, k, hj, hk, lower, upper, center, table)
        if bounded:
            return bounded_hessian_entry(call, args, buf, j, k, hj, hk, lower, upper, second, central, one_sided,
                                         one_sided_second, center), 0.0
        return second_entry(call, args, buf, j, k, hj, hk, second, center), 0.0

    return entry
