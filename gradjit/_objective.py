"""Turning the user's function into something the kernels can call.

* :func:`jitted` wraps a plain Python function with ``numba.njit`` (once per
  function) and accepts an existing Numba dispatcher as it is.
* :func:`check` compiles it for the argument types of this call and raises
  :class:`~gradjit.errors.CompileError` or :class:`~gradjit.errors.ObjectiveError`
  with a clear message instead of a Numba traceback from deep inside a kernel.
* :func:`bind` makes the tiny adapter ``call(x, args)`` through which every
  kernel evaluates the objective. The extra arguments are unpacked by explicit
  position (``f(x, args[0], args[1])``), not with ``*args``: Numba's star-call
  stops LLVM from inlining and vectorising ``f`` in the point loop.
* :func:`compiled_call` does all three for one call of the public API.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numba
import numpy as np
from numba import types
from numba.core.dispatcher import Dispatcher
from numba.core.errors import NumbaError

from ._config import INTERNAL_JIT_OPTIONS, JIT_OPTIONS
from .errors import CompileError, ObjectiveError

__all__ = ["argument_types", "bind", "check", "check_complex", "check_vector", "compiled_call", "jitted", "name_of"]

_VECTOR = types.float64[::1]


def name_of(f: Callable) -> str:
    py = getattr(f, "py_func", f)
    return getattr(py, "__qualname__", None) or getattr(py, "__name__", None) or repr(f)


@lru_cache(maxsize=256)
def jitted(f: Callable) -> Dispatcher:
    """A Numba dispatcher for ``f`` (``f`` itself when it already is one)."""
    if isinstance(f, Dispatcher):
        return f
    try:
        return numba.njit(**JIT_OPTIONS)(f)
    except (NumbaError, TypeError) as exc:  # e.g. a builtin or a callable object
        raise CompileError(name_of(f), str(exc)) from None


def argument_types(args: tuple) -> tuple:
    types_ = []
    for i, arg in enumerate(args):
        try:
            types_.append(numba.typeof(arg))
        except (ValueError, TypeError, NumbaError) as exc:
            raise CompileError("args", f"args[{i}] of type {type(arg).__name__} cannot be passed to compiled code: {exc}") from None
    return tuple(types_)


def _compiled_return_type(f: Dispatcher, signature: tuple, hint: str = ""):
    """Compile ``f`` for ``signature`` and return the type Numba infers for its result;
    a failure becomes a :class:`CompileError` that names f (with ``hint`` first)."""
    prefix = f"{hint}. " if hint else ""
    try:
        f.compile(signature)
    except NumbaError as exc:
        raise CompileError(name_of(f), f"{prefix}{exc}") from None
    except Exception as exc:  # noqa: BLE001 - an error raised while typing user code
        raise CompileError(name_of(f), f"{prefix}{type(exc).__name__}: {exc}") from None
    return f.overloads[signature].signature.return_type


@lru_cache(maxsize=1024)
def check(f: Dispatcher, arg_types: tuple, scalar_input: bool) -> None:
    """Compile ``f`` for ``(x, *args)`` and make sure it returns a real scalar.

    ``scalar_input`` selects ``x: float64`` (derivative) instead of a 1-D array.
    """
    returned = _compiled_return_type(f, (types.float64 if scalar_input else _VECTOR, *arg_types))
    if not isinstance(returned, (types.Float, types.Integer, types.Boolean)):
        raise ObjectiveError(
            f"{name_of(f)} must return a real scalar (a float); Numba infers it returns {returned}. "
            "Reduce the result, e.g. return np.sum(...)."
        )


@lru_cache(maxsize=256)
def check_vector(f: Dispatcher, arg_types: tuple) -> None:
    """Compile a vector function ``F(x, *args)`` and make sure it returns a 1-D real array."""
    returned = _compiled_return_type(f, (_VECTOR, *arg_types))
    if not (isinstance(returned, types.Array) and returned.ndim == 1 and isinstance(returned.dtype, (types.Float, types.Integer))):
        raise ObjectiveError(f"{name_of(f)} must return a 1-D array of real numbers (the m components of F); Numba infers {returned}.")


@lru_cache(maxsize=256)
def check_complex(f: Dispatcher, arg_types: tuple, scalar_input: bool = False) -> None:
    """Compile ``f`` for a complex128 point (a complex128 number with
    ``scalar_input``) and make sure it returns a complex scalar (what the
    complex-step derivative needs: f analytic in its inputs)."""
    point = "number" if scalar_input else "array"
    hint = (f"method='complex' calls f with a complex128 {point}: use functions that accept complex numbers "
            "(np.sin, np.exp, products like x * x), not math.*, abs or comparisons")
    point_type = types.complex128 if scalar_input else types.complex128[::1]
    returned = _compiled_return_type(f, (point_type, *arg_types), hint)
    if not isinstance(returned, types.Complex):
        raise ObjectiveError(
            f"{name_of(f)} returns {returned} for complex input; method='complex' needs a complex result "
            "(f must be analytic in x: no abs, real parts or comparisons)."
        )


@lru_cache(maxsize=256)
def bind(f: Dispatcher, n_args: int, scalar_input: bool) -> Dispatcher:
    """``call(x, args)`` that evaluates ``f(x, args[0], ..., args[n_args-1])``.

    With ``scalar_input`` the adapter passes ``x[0]`` (for ``derivative``).
    """
    first = "x[0]" if scalar_input else "x"
    unpacked = "".join(f", args[{i}]" for i in range(n_args))
    namespace: dict[str, Any] = {"f": f}
    exec(f"def call(x, args):\n    return f({first}{unpacked})\n", namespace)  # noqa: S102 - fixed template
    return numba.njit(**INTERNAL_JIT_OPTIONS)(namespace["call"])


@lru_cache(maxsize=256)
def _tuple_type(arg_types: tuple) -> types.Tuple:
    return types.Tuple(arg_types)


def compiled_call(f: Callable, args: tuple, scalar_input: bool = False, returns: str = "real") -> tuple:
    """``(call, args_type)``: the compiled adapter ``call(x, args)`` for ``f`` (checked
    for these ``args``) and the Numba type of ``args``.

    ``returns``: ``"real"`` (f returns a float), ``"complex"`` (f is compiled for a
    complex128 point and must return a complex number: the complex step) or
    ``"vector"`` (F returns a 1-D real array: the Jacobian). ``scalar_input``: f
    takes a float, not an array (``derivative``).
    """
    compiled = jitted(f)
    arg_types = argument_types(args)
    if returns == "complex":
        check_complex(compiled, arg_types, scalar_input)
    elif returns == "vector":
        check_vector(compiled, arg_types)
    else:
        check(compiled, arg_types, scalar_input)
    return bind(compiled, len(args), scalar_input), _tuple_type(arg_types)


def evaluate_python(f: Callable, x: Any, args: tuple) -> float:
    """Evaluate ``f(x, *args)`` in Python and insist on a scalar result."""
    value = f(x, *args)
    if np.ndim(value) != 0:
        raise ObjectiveError(
            f"{name_of(f)} must return a scalar; it returned an array of shape {np.shape(value)}. "
            "Reduce the result, e.g. return np.sum(...)."
        )
    return value
