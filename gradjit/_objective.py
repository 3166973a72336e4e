"""Turning the user's function into something the kernels can call, safely.

* :func:`jitted` compiles the user's function with ``numba.njit`` (a Numba
  dispatcher given by the user is re-jitted from its Python source with its own
  options, so a dispatcher with an explicit signature works too).
* Numba freezes the values a function reads from closures and globals at its
  first compile. :func:`jitted` follows the scalars (a changed captured number
  gives a fresh compile, never a stale result) and warns once about captured
  arrays, whose changes it cannot see cheaply (:class:`FrozenArrayWarning`).
* :func:`check_call` evaluates f once in Python at the caller's first point per
  (function, d, argument types): compiled code does not check indices, so an f
  that reads or writes ``x[k]`` with ``k >= d`` would return garbage or crash;
  here it raises :class:`~gradjit.errors.ShapeError` instead.
* :func:`compiled_call` compiles f for the argument types of this call and
  raises :class:`~gradjit.errors.CompileError` or
  :class:`~gradjit.errors.ObjectiveError` with advice that fits the mistake; a
  failure is remembered by code object, so a lambda made anew on every call is
  not compiled again and again.
* :func:`bind` makes the tiny adapter ``call(x, args)`` through which every
  kernel evaluates the objective. The extra arguments are unpacked by explicit
  position (``f(x, args[0], args[1])``), not with ``*args``: Numba's star-call
  stops LLVM from inlining and vectorising ``f`` in the point loop.

Nothing here keeps a user's function alive: every memo lives on the function
itself (:mod:`gradjit._memo`); the failure memo holds code objects and types only.
"""

from __future__ import annotations

import inspect
import re
import threading
import types as pytypes
import warnings
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

import numba
import numpy as np
from numba import types
from numba.core.dispatcher import Dispatcher
from numba.core.errors import NumbaError

from . import _cache
from ._blas import calls_blas
from ._config import CHECKED_JIT_OPTIONS, INTERNAL_JIT_OPTIONS, JIT_OPTIONS
from ._memo import adopt, memo_of, owner_of, per_owner
from ._native import NativeFunction
from .errors import CompileError, ComplexValued, FrozenArrayWarning, JitDisabled, ObjectiveError, ShapeError

__all__ = ["Compiled", "argument_types", "bind", "check_call", "checked_signature", "compiled_call", "copy_of", "evaluate_python", "inline_call", "jitted", "name_of",
           "native", "native_function", "python_function"]

_VECTOR = types.float64[::1]
#: Above this many elements in x and the array arguments together, the one-time
#: index check compiles a bounds-checked twin of f instead of running f in Python.
PYTHON_CHECK_ELEMENTS = 100_000
#: Captured-value versions of one function kept compiled at once.
_VERSIONS_KEPT = 4


_CACHE_SUFFIX = re.compile(r"__[0-9a-f]{16}$")


def name_of(f: Callable) -> str:
    py = getattr(f, "py_func", f)
    name = getattr(py, "__qualname__", None) or getattr(py, "__name__", None) or repr(f)
    return _CACHE_SUFFIX.sub("", name)  # a compiled copy's name carries its cache key (gradjit._cache.enable)


def python_function(f: Callable) -> Callable:
    """The plain Python function behind ``f`` (a Numba dispatcher's ``py_func``)."""
    return f.py_func if isinstance(f, Dispatcher) else f


# ----------------------------------------------------------- captured values

_SCALARS = (int, float, complex, bool, str, bytes, np.number, np.bool_)


def _global_names(code: pytypes.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, pytypes.CodeType):
            names |= _global_names(const)
    return names


_names_of_code: dict = {}


def _sorted_global_names(code: pytypes.CodeType) -> tuple[str, ...]:
    """The names ``code`` (and code nested in it) may read as globals, sorted; memoised
    by code object (bounded; the code object, not the function, is kept)."""
    found = _names_of_code.get(code)
    if found is None:
        if len(_names_of_code) >= 4096:
            _names_of_code.clear()
        found = _names_of_code[code] = tuple(sorted(_global_names(code)))
    return found


def _is_scalar_value(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_is_scalar_value(v) for v in value)
    return isinstance(value, _SCALARS)


def captured_values(py: Callable) -> tuple[tuple, tuple[str, ...]]:
    """What Numba would freeze into the compiled ``py``: ``(scalars, arrays)``.

    ``scalars`` is a hashable fingerprint of the numbers (and tuples of numbers)
    read from closure cells and globals; ``arrays`` names the arrays read so.
    """
    code = getattr(py, "__code__", None)
    if code is None:
        return (), ()
    scalars, arrays = [], []
    found = []
    for name, cell in zip(code.co_freevars, getattr(py, "__closure__", None) or ()):
        try:
            found.append((name, cell.cell_contents))
        except ValueError:  # an empty cell (a name assigned later)
            pass
    namespace = getattr(py, "__globals__", {})
    found += [(name, namespace[name]) for name in _sorted_global_names(code) if name in namespace]
    for name, value in found:
        if isinstance(value, np.ndarray):
            arrays.append(name)
        elif _is_scalar_value(value):
            # repr: exact for floats and equal for NaN (NaN != NaN would recompile every call).
            scalars.append((name, type(value).__name__, repr(value)))
    return tuple(scalars), tuple(arrays)


# ----------------------------------------------------------------- compiling


def jitted(f: Callable) -> Dispatcher:
    """A Numba dispatcher for ``f`` that Python can call, compiled with the values f
    captures now; one per version of the captured numbers, memoised on ``f``."""
    return _dispatcher(f, callable_from_python=True)


def native(f: Callable) -> Dispatcher:
    """``f`` compiled for the kernels only (no Python or C entry points: about half
    the compile time of :func:`jitted`), and cached on disk under the fingerprint
    of its code and everything it reads (:mod:`gradjit._cache`)."""
    return _dispatcher(f, callable_from_python=False)


def _dispatcher(f: Callable, *, callable_from_python: bool) -> Dispatcher:
    if numba.config.DISABLE_JIT:
        raise JitDisabled(name_of(f))
    py = python_function(f)
    if not isinstance(py, pytypes.FunctionType) and _numba_knows(py):
        py = _library_wrapper(py)  # np.cos, math.exp: called through a function of their own
    if not isinstance(py, pytypes.FunctionType):
        raise CompileError(name_of(f), f"{type(f).__name__} objects cannot be compiled: Numba compiles Python functions "
                           "(def or lambda), @numba.njit functions, NumPy ufuncs and the math module's functions",
                           advice="Wrap it in a function, e.g. def f(x): return obj(x), if obj is itself compilable; "
                                  "else pass backend='numpy'.")
    scalars, arrays = captured_values(py)
    versions = memo_of(f).setdefault("_versions" if callable_from_python else "_native_versions", OrderedDict())
    dispatcher = versions.get(scalars)
    if dispatcher is None:
        options = {**f.targetoptions} if isinstance(f, Dispatcher) else dict(JIT_OPTIONS)
        options.pop("nopython", None)
        if not callable_from_python:
            options.update(no_cpython_wrapper=True, no_cfunc_wrapper=True)
        helpers = _Helpers()
        copy = _with_compiled_helpers(py, options, helpers)
        try:
            dispatcher = numba.njit(**options)(copy)
        except (NumbaError, TypeError) as exc:
            raise CompileError(name_of(f), str(exc)) from None
        if not callable_from_python and not helpers.recursive:
            # (Numba's cached code cannot link a call of a recursive function back to itself.)
            _cache.enable(dispatcher, name_of(f), _cache.fingerprint(copy, sorted(options.items())))
        adopt(dispatcher, f)
        with _lock:
            dispatcher = versions.setdefault(scalars, dispatcher)
            while len(versions) > _VERSIONS_KEPT:
                versions.popitem(last=False)
        if arrays and not memo_of(f).get("_warned"):
            memo_of(f)["_warned"] = True
            shown = ", ".join(arrays)
            warnings.warn(
                f"{name_of(f)} reads the array(s) {shown} from a closure or a global. Numba copies such arrays into the "
                f"compiled code when f is first compiled, so gradjit will not see later changes to them (the NumPy backend "
                f"would). Pass them as arguments instead: def f(x, {shown}) and gradjit.gradient(f, x, args=({shown},)).",
                FrozenArrayWarning,
                stacklevel=5,
            )
    return dispatcher


_registries_loaded = False


def _numba_knows(value: Any) -> bool:
    """Whether Numba's compiled code can call ``value`` as a global (np.cos, math.exp,
    np.sum, a dispatcher; not a plain Python function)."""
    global _registries_loaded
    if isinstance(value, Dispatcher):
        return True
    context = numba.core.registry.cpu_target.typing_context
    if not _registries_loaded:
        with _lock:  # the typing of np.* is registered on the target's first refresh
            numba.core.registry.cpu_target.target_context.refresh()
            context.refresh()
            _registries_loaded = True
    try:
        context.resolve_value_type(value)
    except (ValueError, TypeError, NumbaError):
        return False
    return True


_library_wrappers: dict = {}


def _library_wrapper(callable_: Any) -> pytypes.FunctionType:
    """A Python function that calls a NumPy ufunc or a built-in function (``math.cos``)
    with the point and its extra arguments: what Numba compiles in their place."""
    found = _library_wrappers.get(callable_)
    if found is not None:
        return found
    if isinstance(callable_, np.ufunc):
        n_inputs = callable_.nin
    else:
        try:
            n_inputs = len(inspect.signature(callable_).parameters)
        except (TypeError, ValueError):
            n_inputs = 1
    name = getattr(callable_, "__name__", "function")
    parameters = ", ".join(["x"] + [f"a{i}" for i in range(1, n_inputs)])
    namespace: dict[str, Any] = {"library_callable": callable_}
    exec(f"def {name}({parameters}):\n    return library_callable({parameters})\n", namespace)  # noqa: S102 - fixed template
    wrapper = namespace[name]
    module = getattr(callable_, "__module__", None)
    wrapper.__qualname__ = name if module in (None, "builtins") else f"{'np' if module == 'numpy' else module}.{name}"
    _library_wrappers[callable_] = wrapper
    return wrapper


def _is_plain_helper(value: Any) -> bool:
    """A Python function of the user's that Numba would not know: NumPy's own functions
    (and the standard library's) are Numba's business, and asking Numba about them
    would load its typing registries (0.8 s) on every first call."""
    if not isinstance(value, pytypes.FunctionType) or _cache._is_library_function(value):
        return False
    return not _numba_knows(value)


class _Helpers:
    """The plain helpers met while compiling one f: each one's dispatcher (shared by every
    caller, and the end of a recursion), those being resolved, and whether one recursed."""

    def __init__(self) -> None:
        self.dispatchers: dict = {}
        self.resolving: set = set()
        self.recursive = False


def _with_compiled_helpers(py: pytypes.FunctionType, options: dict, helpers: _Helpers) -> pytypes.FunctionType:
    """:func:`copy_of` ``py`` in which every plain Python function it calls (read from
    its globals or closure cells) is an ``@numba.njit`` copy of itself with the same
    options, its own helpers compiled likewise. Numba itself would stop at "Untyped
    global name"."""
    names = [name for name in _sorted_global_names(py.__code__) if _is_plain_helper(py.__globals__.get(name))]
    cells = py.__closure__ or ()
    helper_cells = [i for i, cell in enumerate(cells) if _is_plain_helper(_cell_value(cell))]
    if not names and not helper_cells:
        return copy_of(py)
    namespace = dict(py.__globals__)  # what f reads, frozen here as Numba would freeze it when compiling
    closure = tuple(pytypes.CellType(cell.cell_contents) if i in helper_cells else cell for i, cell in enumerate(cells))
    copy = copy_of(py, namespace=namespace, closure=closure or None)
    for name in names:
        namespace[name] = _helper_dispatcher(py.__globals__[name], options, helpers)
    for i in helper_cells:
        closure[i].cell_contents = _helper_dispatcher(cells[i].cell_contents, options, helpers)
    return copy


def _cell_value(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _helper_dispatcher(helper: pytypes.FunctionType, options: dict, helpers: _Helpers) -> Dispatcher:
    found = helpers.dispatchers.get(helper)
    if found is not None:
        helpers.recursive |= helper in helpers.resolving  # it calls itself, directly or not
        return found
    helpers.resolving.add(helper)
    options = {key: value for key, value in options.items() if key not in ("no_cpython_wrapper", "no_cfunc_wrapper")}
    namespace: dict = {}
    cells = tuple(_fresh_cell(cell) for cell in helper.__closure__ or ())
    copy = copy_of(helper, namespace=namespace, closure=cells or None)
    # Registered before its own helpers are resolved, so that a helper that calls itself finds
    # itself; Numba compiles it on first use, after its namespace and cells are filled below.
    found = helpers.dispatchers[helper] = numba.njit(**options)(copy)
    resolved = _with_compiled_helpers(helper, options, helpers)
    namespace.update(resolved.__globals__)
    for mine, theirs in zip(cells, resolved.__closure__ or ()):
        value = _cell_value(theirs)
        if value is not None:
            mine.cell_contents = value
    helpers.resolving.discard(helper)
    return found


def _fresh_cell(cell: Any) -> Any:
    value = _cell_value(cell)
    return pytypes.CellType() if value is None else pytypes.CellType(value)


def copy_of(py: pytypes.FunctionType, *, namespace: dict | None = None,
            closure: tuple | None = None) -> pytypes.FunctionType:
    """A new function object with ``py``'s code, globals, defaults and closure cells.

    Numba keeps what a dispatcher compiled (which refers to its Python function)
    in a global registry while the dispatcher lives, and the dispatcher lives in
    the memo on the user's function: compiling ``py`` itself would make that
    function reachable from the registry forever (see :mod:`gradjit._memo`).
    """
    copy = pytypes.FunctionType(py.__code__, py.__globals__ if namespace is None else namespace, py.__name__,
                                py.__defaults__, py.__closure__ if closure is None else closure)
    copy.__kwdefaults__ = py.__kwdefaults__
    copy.__qualname__ = py.__qualname__
    copy.__module__ = py.__module__
    return copy


def argument_types(args: tuple) -> tuple:
    types_ = []
    for i, arg in enumerate(args):
        try:
            types_.append(numba.typeof(arg))
        except (ValueError, TypeError, NumbaError) as exc:
            raise CompileError("args", f"args[{i}] of type {type(arg).__name__} cannot be passed to compiled code: {exc}",
                               advice="Pass NumPy arrays, numbers or tuples of them in args=, or use backend='numpy'.") from None
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


@per_owner
def _checked_real(f: Dispatcher, arg_types: tuple, scalar_input: bool) -> tuple:
    signature = _with_defaults(f, (types.float64 if scalar_input else _VECTOR, *arg_types))
    returned = _compiled_return_type(f, signature)
    if isinstance(returned, types.Complex):
        raise ComplexValued.of(name_of(f), str(returned))
    if not isinstance(returned, (types.Float, types.Integer, types.Boolean)):
        raise ObjectiveError(
            f"{name_of(f)} must return a real scalar (a float); Numba infers it returns {returned}. "
            "Reduce the result, e.g. return np.sum(...)."
        )
    return signature


@per_owner
def _checked_vector(f: Dispatcher, arg_types: tuple, scalar_input: bool) -> tuple:
    signature = _with_defaults(f, (_VECTOR, *arg_types))
    returned = _compiled_return_type(f, signature)
    if not (isinstance(returned, types.Array) and returned.ndim == 1 and isinstance(returned.dtype, (types.Float, types.Integer))):
        tuple_advice = (" A tuple of floats (what backend='cuda' needs) runs on backend='numpy' and 'cuda'; for 'numba' "
                        "return np.array((...))." if isinstance(returned, types.BaseTuple) else "")
        raise ObjectiveError(f"{name_of(f)} must return a 1-D array of real numbers (the m components of F); Numba infers "
                             f"{returned}.{tuple_advice}")
    return signature


@per_owner
def _checked_complex(f: Dispatcher, arg_types: tuple, scalar_input: bool) -> tuple:
    """f compiled for a complex128 point (number with ``scalar_input``) must return a
    complex scalar (what the complex-step derivative needs: f analytic in its inputs)."""
    point = "number" if scalar_input else "array"
    hint = (f"method='complex' calls f with a complex128 {point}: use functions that accept complex numbers "
            "(np.sin, np.exp, products like x * x), not math.*, abs or comparisons")
    signature = _with_defaults(f, (types.complex128 if scalar_input else types.complex128[::1], *arg_types))
    returned = _compiled_return_type(f, signature, hint)
    if not isinstance(returned, types.Complex):
        raise ObjectiveError(
            f"{name_of(f)} returns {returned} for complex input; method='complex' needs a complex result "
            "(f must be analytic in x: no abs, real parts or comparisons)."
        )
    try:  # f must be real for real input: the complex step reads the imaginary part as the derivative
        for_real = _compiled_return_type(f, _with_defaults(f, (types.float64 if scalar_input else _VECTOR, *arg_types)))
    except CompileError:
        for_real = None  # compiles for complex input only: nothing to tell
    if isinstance(for_real, types.Complex):
        raise ComplexValued.refused_by_complex_step(name_of(f))
    return signature


@per_owner
def _checked_complex_vector(f: Dispatcher, arg_types: tuple, scalar_input: bool) -> tuple:
    """F compiled for a complex128 point must return a 1-D complex array (the complex
    step of a vector function)."""
    hint = ("method='complex' calls F with a complex128 array: use functions that accept complex numbers "
            "(np.sin, np.exp, products like x * x), not math.*, abs or comparisons")
    signature = _with_defaults(f, (types.complex128[::1], *arg_types))
    returned = _compiled_return_type(f, signature, hint)
    if not (isinstance(returned, types.Array) and returned.ndim == 1 and isinstance(returned.dtype, types.Complex)):
        raise ObjectiveError(f"{name_of(f)} must return a 1-D complex array for complex input with method='complex' "
                             f"(F analytic in x); Numba infers {returned}.")
    return signature


def _with_defaults(f: Dispatcher, signature: tuple) -> tuple:
    """``signature`` (the point's type, then those of args) followed by Numba's
    ``Omitted`` for every later parameter of f that has a default value: f(x, a, b=1)
    with args=(a,) is compiled and called as f(x, a) with b = 1."""
    defaults = f.py_func.__defaults__ or ()
    code = f.py_func.__code__
    n_positional = code.co_argcount
    missing = n_positional - len(signature)
    if missing <= 0 or missing > len(defaults):
        return signature
    return (*signature, *(types.Omitted(value) for value in defaults[len(defaults) - missing:]))


_CHECKS = {"real": _checked_real, "vector": _checked_vector, "complex": _checked_complex,
           "complex vector": _checked_complex_vector}


def checked_signature(f: Dispatcher, arg_types: tuple, scalar_input: bool, returns: str) -> tuple:
    """f compiled for a point and ``arg_types``, its result checked as :func:`compiled_call`
    checks it (``returns``: ``"real"``, ``"complex"``, ...); the signature, or a
    :class:`CompileError` or :class:`ObjectiveError` that says what is wrong."""
    return _CHECKS[returns](f, arg_types, scalar_input)


@per_owner
def bind(f: Dispatcher, n_args: int, scalar_input: bool) -> Dispatcher:
    """``call(x, args)`` that evaluates ``f(x, args[0], ..., args[n_args-1])``.

    With ``scalar_input`` the adapter passes ``x[0]`` (for ``derivative``).
    """
    first = "x[0]" if scalar_input else "x"
    unpacked = "".join(f", args[{i}]" for i in range(n_args))
    namespace: dict[str, Any] = {"f": f}
    exec(f"def call(x, args):\n    return f({first}{unpacked})\n", namespace)  # noqa: S102 - fixed template
    return numba.njit(**INTERNAL_JIT_OPTIONS)(namespace["call"])


# Compile failures by (code object, captured types, argument types, kind): the
# classic drop-in's `lambda W: net.loss(x, t)` is a new function object on every
# call, and compiling it only to fail again costs 10 ms a call.
_failures: OrderedDict = OrderedDict()
_lock = threading.Lock()
_FAILURES_KEPT = 1024


def _failure_key(f: Callable, arg_types: tuple, scalar_input: bool, returns: str) -> tuple | None:
    py = python_function(f)
    code = getattr(py, "__code__", None)
    if code is None:
        return None
    cells = []
    for cell in getattr(py, "__closure__", None) or ():
        try:
            cells.append(_cell_key(cell.cell_contents))
        except ValueError:
            cells.append(None)
    return code, tuple(cells), arg_types, scalar_input, returns


def _cell_key(value: Any) -> Any:
    """What of a captured value decides whether f compiles: its type, and for a
    captured function its code (closures made by one factory share their code)."""
    function = python_function(value)
    code = getattr(function, "__code__", None)
    return (type(value), code) if isinstance(code, pytypes.CodeType) else type(value)


class Compiled(NamedTuple):
    """The user's function compiled and checked for one call's argument types."""

    native: Dispatcher  # f for the kernels (:func:`native`), compiled for ``signature``
    signature: tuple  # the Numba types of f's parameters: the point, then args
    args_type: types.Tuple  # the Numba type of the args tuple
    scalar_input: bool  # f takes a number, not an array (derivative)
    families: dict  # per kernel family, the state of its compilation tiers (gradjit._tiers)

    @property
    def n_args(self) -> int:
        """How many of f's parameters after the point come from args (the rest take their defaults)."""
        return sum(not isinstance(t, types.Omitted) for t in self.signature[1:])


def compiled_call(f: Callable, args: tuple, *, scalar_input: bool = False, returns: str = "real",
                  points: np.ndarray | None = None) -> Compiled:
    """f compiled and checked for these ``args`` (:class:`Compiled`); the kernels call
    it through :func:`bind` (inlined) or :func:`native_function` (fast start).

    ``returns``: ``"real"`` (f returns a float), ``"complex"`` (f is compiled for a
    complex128 point and must return a complex number: the complex step) or
    ``"vector"`` (F returns a 1-D real array: the Jacobian) or ``"complex vector"``
    (F of a complex128 point returns a 1-D complex array). ``scalar_input``: f
    takes a float, not an array (``derivative``). ``points``: the caller's points
    ``(N, d)``; :func:`check_call` evaluates f once at the first.
    """
    point = points[0] if points is not None and points.shape[0] else None
    arg_types = argument_types(args)
    # The fast path: everything below was done for this f, these argument types,
    # this d and these captured numbers (the last can change between calls).
    memo = memo_of(f).setdefault("_compiled_calls", {})
    fast_key = ("compiled_call", arg_types, scalar_input, returns, None if point is None else point.size,
                captured_values(python_function(f))[0] if not numba.config.DISABLE_JIT else None)
    found = memo.get(fast_key)
    if found is not None:
        return found
    key = _failure_key(f, arg_types, scalar_input, returns)
    known = _failures.get(key) if key is not None else None
    if known is not None:
        raise CompileError(*known)
    try:
        compiled = native(f)
        signature = _CHECKS[returns](compiled, arg_types, scalar_input)
    except CompileError as exc:
        if not isinstance(exc, JitDisabled):
            _check_arity(f, len(args))
            advice = _failed_helper(exc.numba_message)
            if advice is None and point is not None:
                advice = _diagnose(f, point, args, scalar_input)
            if advice is not None:
                exc = CompileError(exc.function_name, exc.numba_message, advice)
            if key is not None:
                with _lock:
                    _failures[key] = (exc.function_name, exc.numba_message, exc.advice)
                    while len(_failures) > _FAILURES_KEPT:
                        _failures.popitem(last=False)
        raise exc from None
    if point is not None:
        check_call(compiled, point, args, arg_types=arg_types, scalar_input=scalar_input)
    _note_blas(compiled, signature)
    if len(memo) >= 64:  # many versions of the captured numbers: start afresh
        memo.clear()
    found = memo[fast_key] = Compiled(compiled, signature, _tuple_type(arg_types), scalar_input, {})
    return found


def inline_call(compiled: Compiled) -> Dispatcher:
    """The adapter ``call(x, args)`` through which the inlined kernels evaluate f."""
    return bind(compiled.native, compiled.n_args, compiled.scalar_input)


@per_owner
def _native_function(native_f: Dispatcher, signature: tuple) -> NativeFunction:
    compiled = native_f.overloads[signature]
    address = compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)
    return NativeFunction(address, compiled.signature.return_type, signature, compiled)


def native_function(compiled: Compiled) -> NativeFunction:
    """f's compiled code by its address, for the fast-start kernels (:mod:`gradjit._native`)."""
    return _native_function(compiled.native, compiled.signature)


def _note_blas(compiled: Dispatcher, signature: tuple) -> None:
    """Record on f's owner whether its code compiled for ``signature`` calls BLAS (see
    :mod:`gradjit._blas`); once one version does, the owner's kernels limit BLAS's threads."""
    memo = memo_of(owner_of(compiled))
    if memo.get("calls_blas"):
        return
    library = compiled.overloads[signature].library
    if getattr(library, "_disable_inspection", False):  # loaded from the disk cache: no IR left to read
        memo["calls_blas"] = _cache.note(compiled, "blas", signature) != "0"  # unknown: assume it does
        return
    memo["calls_blas"] = calls_blas(library.get_llvm_str())
    _cache.note(compiled, "blas", signature, "1" if memo["calls_blas"] else "0")


@lru_cache(maxsize=1024)
def _tuple_type(arg_types: tuple) -> types.Tuple:
    return types.Tuple(arg_types)


def _check_arity(f: Callable, n_args: int) -> None:
    """f must accept ``f(x, *args)``: say so in words rather than with Numba's "Signature mismatch"."""
    py = python_function(f)
    try:
        signature = inspect.signature(py)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*range(1 + n_args))
    except TypeError as exc:
        raise ObjectiveError(
            f"{name_of(f)}{signature} cannot be called as f(x, *args) with the {n_args} extra argument(s) of args= ({exc}). "
            "Pass f's extra parameters with args=(...), in order."
        ) from None


_CALLEE = re.compile(r"resolving callee type: type\(CPUDispatcher\(<function ([\w.<>]+) at")


def _failed_helper(message: str) -> str | None:
    """Advice naming the function f calls that Numba could not compile, if its message names one."""
    found = _CALLEE.findall(message)
    if not found:
        return None
    name = _CACHE_SUFFIX.sub("", found[-1])
    return (f"f calls {name}, which Numba cannot compile (plain Python functions that f calls are compiled for it, "
            f"with their own helpers): make {name} compilable, or pass backend='numpy'.")


def _diagnose(f: Callable, point: np.ndarray, args: tuple, scalar_input: bool) -> str | None:
    """Advice for a compile failure, from one evaluation of f in Python at the caller's point."""
    x = float(point[0]) if scalar_input else point.copy()
    try:
        value = python_function(f)(x, *args)
    except IndexError as exc:
        if "too many indices" in str(exc):
            return ("f looks written for a whole batch X of shape (N, d) (it indexes x with two indices): gradjit calls f "
                    "at one point, a 1-D array x of length d. Write f for one point (x[0], x[1], ...), or pass "
                    "backend='numpy', vectorized=True to call f with the whole batch.")
        return None
    except Exception:  # noqa: BLE001 - f does not run in Python either: nothing to add
        return None
    if np.ndim(value) != 0:
        return (f"f returns an array of shape {np.shape(value)} at one point; it must return one number. If f is "
                "written for a batch, pass backend='numpy', vectorized=True.")
    return None


@per_owner
def _checked_twin(f: Dispatcher) -> Dispatcher:
    return numba.njit(**CHECKED_JIT_OPTIONS)(f.py_func)


_OUT_OF_BOUNDS = re.compile(r"index (-?\d+) is out of bounds for axis 0 with size (\d+)")


def check_call(f: Dispatcher, point: np.ndarray, args: tuple, *, arg_types: tuple, scalar_input: bool) -> None:
    """Evaluate f once at ``point`` per (f, d, argument types), with indices checked.

    In Python (f's own source, NumPy's checks) when that is cheap, else in a
    bounds-checked compiled twin. An index error becomes a :class:`ShapeError`;
    any other exception is left for the real evaluation to raise.
    """
    d = 1 if scalar_input else point.size
    memo = memo_of(owner_of(f))
    key = ("_index_checked", f, d, arg_types, scalar_input)
    if memo.get(key):
        return
    # Checked in an earlier process for the same code (f's cache entry): running f in
    # Python again would compile the @njit helpers it calls, just for the check.
    about = (d, arg_types, scalar_input)
    if _cache.note(f, "checked", about) == "1":
        memo[key] = True
        return
    x = float(point[0]) if scalar_input else point.copy()
    size = d + sum(a.size for a in args if isinstance(a, np.ndarray))
    try:
        with np.errstate(all="ignore"):
            _evaluate_checked(f, x, args, size)
    except IndexError as exc:
        raise _index_error(f, d, str(exc)) from None
    except Exception:  # noqa: BLE001, S110 - f's own error: the real evaluation raises it
        pass
    memo[key] = True
    _cache.note(f, "checked", about, "1")


def _evaluate_checked(f: Dispatcher, x: Any, args: tuple, size: int) -> None:
    """f at ``x`` with every index checked: in Python when cheap, else (or when f
    does not run in Python) in the bounds-checked compiled twin."""
    if size <= PYTHON_CHECK_ELEMENTS:
        try:
            f.py_func(x, *args)
            return
        except IndexError:
            raise
        except Exception:  # noqa: BLE001, S110 - not runnable in Python (or raised in Python only)
            pass
    _checked_twin(f)(x, *args)


def _index_error(f: Dispatcher, d: int, message: str) -> ShapeError:
    found = _OUT_OF_BOUNDS.search(message)
    if found and int(found.group(2)) == d:
        k = int(found.group(1))
        return ShapeError(
            f"{name_of(f)} reads or writes coordinate {k} of x, but x has d = {d} coordinate(s) (x[0] .. x[{d - 1}]). "
            "Compiled code does not check indices (it would return garbage or crash), so gradjit stops here: "
            "pass points with the number of coordinates f expects."
        )
    return ShapeError(
        f"{name_of(f)} indexes an array out of bounds at the first point (x has d = {d} coordinate(s)): {message}. "
        "Compiled code does not check indices (it would return garbage or crash), so gradjit stops here."
    )


def evaluate_python(f: Callable, x: Any, args: tuple) -> float:
    """Evaluate ``f(x, *args)`` in Python and insist on a real scalar result."""
    value = f(x, *args)
    if isinstance(value, (float, int, np.floating, np.integer, np.bool_)) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        return value[()]
    if np.ndim(value) != 0:
        raise ObjectiveError(
            f"{name_of(f)} must return a scalar; it returned an array of shape {np.shape(value)}. "
            "Reduce the result, e.g. return np.sum(...)."
        )
    if isinstance(value, (complex, np.complexfloating)) or (isinstance(value, np.ndarray) and value.dtype.kind == "c"):
        raise ComplexValued.of(name_of(f))
    raise ObjectiveError(f"{name_of(f)} must return a real number; it returned {type(value).__name__} {value!r}.")
