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
from ..stencils.formulas import central_entry
from ..stencils.weights import actual_step

__all__ = ["STACK_D", "VECTOR_D", "compiled_actual_step", "load_point", "stack_buffer", "stencil_entry", "step_rule"]

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


@per_owner
def stencil_entry(call, weights: tuple[float, ...], inline: bool, rule: str = "typical"):
    """``entry(buf, j, step, typical, args)``: one central entry of f (``call``) at the
    point in ``buf``, with the step rule applied to ``step`` (:func:`actual_step`);
    ``rule`` (:func:`step_rule`) fixes ``typical`` in the code where it can."""
    # inline=True merges the entry into the kernel at Numba's IR level, which lets
    # LLVM optimise a loop inside f together with the kernel (1.4x faster for
    # Rosenbrock, d = 10) but stops it vectorising across points (see VECTOR_D).
    options = {"inline": "always" if inline else "never", **INTERNAL_JIT_OPTIONS}
    if rule == "unit":
        @numba.njit(**options)
        def entry(buf, j, step, typical, args):
            return _central_entry(call, args, buf, j, compiled_actual_step(buf[j], step, 1.0), weights)
    elif rule == "absolute":
        @numba.njit(**options)
        def entry(buf, j, step, typical, args):
            return _central_entry(call, args, buf, j, compiled_actual_step(buf[j], step, -1.0), weights)
    else:
        @numba.njit(**options)
        def entry(buf, j, step, typical, args):
            return _central_entry(call, args, buf, j, compiled_actual_step(buf[j], step, typical), weights)

    return entry
