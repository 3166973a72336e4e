"""Calling a compiled objective through its address: the fast-start tier.

The inlined kernels (tier 2) are compiled anew for every objective, because
they contain it; that is 0.3-1 s of compilation before a new function's first
result. The fast-start kernels (tier 1) contain no objective: they receive f's
machine-code address as a :class:`NativeFunction` argument and call it
through :func:`native_call`. They are compiled once per argument types and
cached on disk; a new objective then costs only its own compilation.

:func:`native_call` calls f with Numba's own calling convention, so it gets
f's exception status back: an exception in f becomes ``ok = False`` instead of
being lost (a C callback, ``numba.cfunc``, would print it and return garbage).
:func:`native_adapter` turns that status into an exception of the kernel, which
the launch's guard catches; :class:`NativeFailure` tells the caller to re-run
on the inlined tier, where f's own exception surfaces with its message.
"""

from __future__ import annotations

from typing import Any

import numba
from numba import types
from numba.core import cgutils
from numba.extending import NativeValue, intrinsic, models, register_model, typeof_impl, unbox

from ._config import INTERNAL_JIT_OPTIONS

__all__ = ["NativeFailure", "NativeFunction", "NativeFunctionType", "native_adapter", "native_call"]


class NativeFailure(Exception):
    """f raised inside a fast-start kernel; re-run on the inlined tier to raise it."""


class NativeFunctionType(types.Type):
    """The Numba type of a :class:`NativeFunction`: its result and argument types."""

    def __init__(self, restype: types.Type, argtypes: tuple) -> None:
        self.restype, self.argtypes = restype, tuple(argtypes)
        super().__init__(name=f"NativeFunction({restype}, ({', '.join(map(str, self.argtypes))}))")


@register_model(NativeFunctionType)
class _NativeFunctionModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):  # an address
        super().__init__(dmm, fe_type, dmm.lookup(types.intp).get_value_type())


class NativeFunction:
    """The address of a compiled function and its Numba signature.

    ``owner`` keeps the compiled code alive while this object lives.
    """

    __slots__ = ("address", "numba_type", "owner")

    def __init__(self, address: int, restype: types.Type, argtypes: tuple, owner: Any) -> None:
        self.address = address
        self.numba_type = NativeFunctionType(restype, argtypes)
        self.owner = owner


@typeof_impl.register(NativeFunction)
def _typeof_native_function(value, context):
    return value.numba_type


@unbox(NativeFunctionType)
def _unbox_native_function(typ, obj, c):
    address = c.pyapi.object_getattr_string(obj, "address")
    value = c.pyapi.number_as_ssize_t(address)
    c.pyapi.decref(address)
    return NativeValue(value)


@intrinsic
def native_call(typingctx, fn, x, args):
    """``(ok, f(x, *args))``: f called through its address. With a scalar first
    parameter (``derivative``), f receives ``x[0]``. When f raised, ``ok`` is
    False and the value is zero (never a dangling reference)."""
    if not isinstance(fn, NativeFunctionType) or not isinstance(args, types.BaseTuple):
        return None
    scalar_input = not isinstance(fn.argtypes[0], types.Array)
    signature = types.Tuple((types.boolean, fn.restype))(fn, x, args)

    def codegen(context, builder, sig, llargs):
        address, point, extra = llargs
        if scalar_input:
            point = builder.load(context.make_array(sig.args[1])(context, builder, point).data)
        callee_args = [point] + [builder.extract_value(extra, i) for i in range(len(sig.args[2]))]
        # Parameters left to their defaults (types.Omitted) take a placeholder, as Numba passes them.
        callee_args += [context.get_dummy_value() for t in fn.argtypes[len(callee_args):] if isinstance(t, types.Omitted)]
        function_type = context.call_conv.get_function_type(fn.restype, fn.argtypes)
        callee = builder.inttoptr(address, function_type.as_pointer())
        status, value = context.call_conv.call_function(builder, callee, fn.restype, fn.argtypes, callee_args)
        value = builder.select(status.is_ok, value, cgutils.get_null_value(value.type))
        return context.make_tuple(builder, sig.return_type, [status.is_ok, value])

    return signature, codegen


@numba.njit(**INTERNAL_JIT_OPTIONS)
def native_adapter(x, args):  # pragma: no cover - compiled
    """``call(x, args)`` of the fast-start kernels: ``args`` is ``(f, *f's args)``."""
    ok, value = native_call(args[0], x, args[1:])
    if not ok:
        raise NativeFailure()
    return value
