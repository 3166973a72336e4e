"""Every validation primitive of gradjit, for every entry point and backend.

Each function checks one argument, says in words what was expected and what was
given, and returns the normalised value (float64 arrays are copies or read-only
views: the caller's data is never written to). One exception class per kind of
mistake (:mod:`gradjit.errors`): :class:`OptionError` for an option's value,
:class:`ShapeError` for shapes, :class:`StepError` for steps,
:class:`OrderError` for orders, :class:`DTypeError` for dtypes and
:class:`ObjectiveError` for f itself. The options of a differentiation are
combined into one spec by :func:`gradjit._spec.resolve`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import lru_cache
from numbers import Integral, Real
from typing import Any

import numpy as np

from .errors import DTypeError, ObjectiveError, OptionError, OrderError, ShapeError, StepError
from .stencils.methods import METHODS, Method
from .stencils.weights import MAX_DERIVATIVE

#: The most axes of a grid: its gradient (d, n_0, ..., n_{d-1}) must fit NumPy's 64 dimensions.
MAX_GRID_AXES = 63
INDEXINGS = ("xy", "ij")


def as_float_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a float64 array (a copy unless it already is one)."""
    try:
        arr = np.asarray(value)
    except ValueError as exc:  # ragged nested sequences
        raise ShapeError(f"{name} must be a rectangular array of numbers (every row of the same length); {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise DTypeError(
            f"{name} must hold real numbers (bool, int or float); got dtype {arr.dtype}. "
            "gradjit differentiates real-valued functions of real inputs."
        )
    return np.asarray(arr, dtype=np.float64, order="C")


def points(x: Any) -> tuple[np.ndarray, tuple[int, ...]]:
    """Points ``x`` of shape ``(..., d)`` as a C-contiguous float64 ``(N, d)`` array.

    Returns the 2-D array and the batch shape ``x.shape[:-1]``.
    """
    arr = as_float_array(x, "x")
    if arr.ndim == 0:
        raise ShapeError(
            "x must be an array of shape (d,), (N, d) or (..., d); got a scalar. "
            "For a function of one variable use gradjit.derivative, or pass [x]."
        )
    batch_shape = arr.shape[:-1]
    return arr.reshape(math.prod(batch_shape), arr.shape[-1]), batch_shape


def order(value: Any, method: Method) -> int:
    """The stencil order: one of ``method.orders`` (methods with none to choose take 2 only)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) not in method.orders:
        if len(method.orders) == 1:
            raise OrderError(f"method={method.name!r} has no order to choose; leave order={method.orders[0]}.")
        raise OrderError(f"order must be one of {method.orders} ({method.name} stencils); got {value!r}.")
    return int(value)


def _one_of(value: Any, choices: Sequence[str]) -> bool:
    """``value in choices`` for a str only (an array would compare elementwise)."""
    return isinstance(value, str) and value in choices


def one_of(name: str, value: Any, choices: Sequence[str]) -> str:
    """A string option that must be one of ``choices``."""
    if not _one_of(value, choices):
        raise OptionError(f"{name} must be one of {tuple(choices)}; got {value!r}.")
    return value


def method(value: Any, allowed: Sequence[str] | None = None, what: str = "", name: str = "method") -> Method:
    """The row of :data:`~gradjit.stencils.METHODS` named ``value``; ``allowed`` narrows the
    choice for an entry point (``what`` names it in the message, ``name`` the option)."""
    allowed = tuple(METHODS) if allowed is None else tuple(allowed)
    if not _one_of(value, allowed):
        where = f" for {what}" if what else ""
        raise OptionError(f"{name} must be one of {allowed}{where}; got {value!r}.")
    return METHODS[value]


def steps(h: Any, d: int, relative: float) -> tuple[np.ndarray, bool]:
    """The step per coordinate and whether it scales with ``max(typical_j, |x_j|)``.

    ``None`` gives the automatic ``relative`` step; a number or an array of
    shape ``(d,)`` gives absolute steps, of either sign (a one-sided method
    steps toward the sign; the symmetric stencils ignore it).
    """
    if h is None:
        return _relative_steps(d, relative), True
    arr = _per_coordinate(h, d, "h", f"h must be a nonzero float, an array of shape ({d},) or None; got {h!r}.", "step")
    if not np.all(np.isfinite(arr) & (arr != 0)):
        raise StepError(f"every step h must be finite and nonzero; got {h!r}.")
    return np.array(arr, dtype=np.float64, order="C"), False


def derivative_order(n: Any, row: Method, bounds: Any) -> int:
    """``n``, the derivative :func:`gradjit.derivative` computes: an integer 1 to
    :data:`~gradjit.stencils.weights.MAX_DERIVATIVE`; above 1 with the central stencils or
    Richardson, and without bounds."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_DERIVATIVE:
        raise OrderError(f"n, the derivative, must be an integer from 1 to {MAX_DERIVATIVE}; got {n!r}.")
    if n > 1 and row.formula not in ("central", "richardson"):
        raise OptionError(f"n={n} takes method='central' or 'richardson'; got method={row.name!r}.")
    if n > 1 and bounds is not None:
        raise OptionError(f"bounds= applies to first derivatives; n={n} evaluates f on both sides of x.")
    return int(n)


def x_scale(value: Any, d: int, points: np.ndarray | None) -> np.ndarray:
    """The typical magnitude of each coordinate (``x_scale=``), for the automatic steps
    ``relative * max(typical_j, |x_j|)``: 1 for ``None``; a positive number or an array of
    shape ``(d,)`` as given; ``"auto"``: the largest finite ``|x_j|`` over ``points`` (N, d),
    or where a coordinate is 0 at every point the largest ``|x|`` of any coordinate
    (1 if every coordinate is 0 or there are no points)."""
    if value is None:
        return _typical_ones(d)
    if isinstance(value, str):
        if value != "auto":
            raise StepError(f"x_scale must be None, 'auto', a positive float or an array of shape ({d},); got {value!r}.")
        magnitudes = np.zeros(d) if points is None or points.size == 0 else np.abs(np.where(np.isfinite(points), points, 0.0))
        per_coordinate = magnitudes.max(axis=0) if magnitudes.ndim == 2 else magnitudes
        largest = float(per_coordinate.max()) if per_coordinate.size else 0.0
        fallback = largest if largest > 0.0 else 1.0
        return np.ascontiguousarray(np.where(per_coordinate > 0.0, per_coordinate, fallback), dtype=np.float64)
    arr = _per_coordinate(value, d, "x_scale",
                          f"x_scale must be None, 'auto', a positive float or an array of shape ({d},); got {value!r}.",
                          "scale")
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise StepError(f"every x_scale must be finite and > 0; got {value!r}.")
    return np.array(arr, dtype=np.float64, order="C")


def _per_coordinate(value: Any, d: int, name: str, refusal: str, each: str) -> np.ndarray:
    """``value`` as ``d`` floats, one per coordinate (a number is repeated); ``refusal`` is
    the message for what is not a number or an array of numbers."""
    if isinstance(value, bool):
        raise StepError(refusal)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise StepError(refusal) from None
    if arr.ndim == 0:
        return np.full(d, float(arr))
    if arr.shape != (d,):
        raise StepError(f"{name} must be a float or an array of shape ({d},) (one {each} per coordinate); got shape {arr.shape}.")
    return arr


@lru_cache(maxsize=256)
def _typical_ones(d: int) -> np.ndarray:
    # The default typical magnitude, shared like _unbounded's arrays (the kernels only read it).
    return np.ones(d)


@lru_cache(maxsize=256)
def _unbounded(d: int) -> tuple[np.ndarray, np.ndarray]:
    # Made once per d: every call without bounds shares them, and nothing writes to them.
    return np.full(d, -np.inf), np.full(d, np.inf)


@lru_cache(maxsize=256)
def _relative_steps(d: int, relative: float) -> np.ndarray:
    # Made once per (d, step), shared like _unbounded's arrays (the kernels only read steps).
    return np.full(d, relative)


def bounds(value: Any, points: np.ndarray, name: str = "bounds") -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)``, each a number or an array of shape ``(d,)``, as two (d,)
    arrays; ``None`` is unbounded. Every point must lie inside."""
    d = points.shape[1]
    if value is None:
        return _unbounded(d)
    try:
        lower, upper = (np.broadcast_to(np.asarray(v, dtype=np.float64), (d,)).copy() for v in value)
    except (TypeError, ValueError):
        raise OptionError(f"{name} must be a pair (lower, upper) of numbers or arrays of shape ({d},); got {value!r}.") from None
    if np.isnan(lower).any() or np.isnan(upper).any() or not np.all(lower < upper):
        raise OptionError(f"{name} must have lower < upper in every coordinate; got {value!r}.")
    outside = (points < lower) | (points > upper)
    if outside.any():
        i, j = np.argwhere(outside)[0]
        raise OptionError(f"every point must lie inside the {name}; x[{i}, {j}] = {points[i, j]} is outside [{lower[j]}, {upper[j]}].")
    return lower, upper


def workers(value: Any, backend: str, vectorized: bool, kind: str) -> Any:
    """``workers=``: None, a positive int (a thread pool of that size) or a map-like
    callable ``map(function, iterable)``, for the NumPy backend evaluating f point by point."""
    if value is None:
        return None
    if isinstance(value, bool) or not (callable(value) or (isinstance(value, (int, np.integer)) and value >= 1)):
        raise OptionError(f"workers must be None, a positive int (a thread pool of that size) or a map-like callable "
                          f"such as multiprocessing.Pool(4).map; got {value!r}.")
    if backend != "numpy":
        raise OptionError("workers= spreads the evaluations of backend='numpy' (for f that Numba cannot compile); the "
                          "'numba' backend runs compiled f on all cores already (threads=).")
    if vectorized or kind in ("terms", "terms hessian"):
        raise OptionError("workers= applies to f evaluated point by point: not with vectorized=True, terms= or sparsity=.")
    return value if callable(value) else int(value)


def threads(value: Any, maximum: int) -> int:
    """``None`` means all ``maximum`` threads."""
    if value is None:
        return maximum
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= maximum:
        raise OptionError(f"threads must be None or an integer from 1 to {maximum} (this machine's limit); got {value!r}.")
    return int(value)


JIT_MODES = ("auto", "fast-start", "inline")


def jit(value: Any) -> str:
    """``None`` means the default: ``GRADJIT_JIT`` if set, else ``"auto"``."""
    from_environment = value is None
    if from_environment:
        value = os.environ.get("GRADJIT_JIT", "").strip().lower() or "auto"
    if value not in JIT_MODES:
        where = f"GRADJIT_JIT={value!r}" if from_environment else f"jit={value!r}"
        raise OptionError(f"{where} is not a compilation mode; use one of {JIT_MODES}: 'fast-start' compiles only f "
                          "(tens of milliseconds), 'inline' compiles kernels with f inlined (fastest per point, 0.3-1 s to "
                          "compile), 'auto' starts fast and switches to inline when the work repays it.")
    return value


def arguments(args: Any) -> tuple:
    if isinstance(args, list):
        args = tuple(args)
    if not isinstance(args, tuple):
        raise OptionError(f"args must be a tuple of extra arguments for f; got {type(args).__name__}. For one argument write args=(a,).")
    return args


def objective(f: Any) -> None:
    if not callable(f):
        raise ObjectiveError(f"f must be a callable f(x, *args) -> float; got {type(f).__name__}.")


def output(out: Any, shape: tuple[int, ...], dtypes: tuple[np.dtype, ...] = (np.dtype(np.float64),)) -> np.ndarray | None:
    """A user-supplied ``out`` array, checked against the result's shape and the
    storage types the caller accepts."""
    if out is None:
        return None
    names = " or ".join(str(dtype) for dtype in dtypes)  # for the messages (formatting a dtype costs microseconds)
    if not isinstance(out, np.ndarray):
        raise OptionError(f"out must be a NumPy array of shape {shape} and dtype {names}; got {type(out).__name__}.")
    if out.shape != shape:
        raise ShapeError(f"out must have shape {shape}; got {out.shape}.")
    if out.dtype not in dtypes:
        raise OptionError(f"out must have dtype {names}; got {out.dtype}.")
    if not out.flags.writeable:
        raise OptionError("out must be writeable; got a read-only array.")
    return out


#: Storage types of a grid's gradient (the arithmetic is float64 either way).
RESULT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def result_dtype(value: Any) -> np.dtype:
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or value is None or dtype not in RESULT_DTYPES:  # np.dtype(None) is float64
        raise OptionError(f"dtype must be np.float64 or np.float32 (the storage of the result; the arithmetic is float64); got {value!r}.")
    return dtype


def storage(dtype: Any, out: np.ndarray | None) -> np.dtype:
    """The result's storage type: ``dtype`` (:func:`result_dtype`), else ``out``'s,
    else float64; a ``dtype`` that contradicts ``out`` is refused."""
    if dtype is None:
        return out.dtype if out is not None else np.dtype(np.float64)
    found = result_dtype(dtype)
    if out is not None and out.dtype != found:
        raise OptionError(f"dtype={found} contradicts out, which has dtype {out.dtype}; pass one of them.")
    return found


def grid_output(out: Any, shape: tuple[int, ...]) -> Any:
    """``out`` for a grid: a writable NumPy array (a ``np.memmap`` too) of float64 or
    float32, or any array-like with ``shape`` and slice assignment (zarr, h5py)."""
    if out is None:
        return None
    if not hasattr(out, "shape") or not hasattr(out, "__setitem__"):
        raise OptionError(f"out must be an array (or array-like with .shape and slice assignment) of shape {shape}; got {type(out).__name__}.")
    if tuple(out.shape) != shape:
        raise ShapeError(f"out must have shape {shape}; got {tuple(out.shape)}.")
    if isinstance(out, np.ndarray):
        if out.dtype not in RESULT_DTYPES:
            raise OptionError(f"out must have dtype float64 or float32; got {out.dtype}.")
        if not out.flags.writeable:
            raise OptionError("out must be writeable; got a read-only array.")
    return out


def indexing(value: Any) -> str:
    if not _one_of(value, INDEXINGS):
        raise OptionError(f"indexing must be 'xy' or 'ij' (as in numpy.meshgrid); got {value!r}.")
    return value


def grid_corners(axes: tuple[np.ndarray, ...]) -> np.ndarray:
    """The lowest and the highest corner of the grid, ``(2, d)``: every grid point lies
    inside a box exactly when these two do (``(0, d)`` for an empty grid)."""
    if not all(a.size for a in axes):
        return np.empty((0, len(axes)))
    return np.array([[a.min() for a in axes], [a.max() for a in axes]])


def grid_axes(d: int, indexing: str) -> tuple[int, ...]:
    """The axis along each dimension of the grid (and of the result after its
    component axis): as ``numpy.meshgrid``, ``'xy'`` swaps the first two."""
    return (1, 0, *range(2, d)) if indexing == "xy" and d >= 2 else tuple(range(d))


def first_grid_point(axes: tuple[np.ndarray, ...]) -> np.ndarray:
    """The grid's first point as a batch of one, ``(1, d)`` (``(0, d)`` for an empty grid)."""
    if all(a.size for a in axes):
        return np.array([[a[0] for a in axes]])
    return np.empty((0, len(axes)))


def axes(value: Any) -> tuple[np.ndarray, ...]:
    """Grid axes: a non-empty sequence of 1-D coordinate arrays."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        raise ShapeError("axes must be a sequence of d 1-D coordinate arrays, e.g. (x0, x1); got one 1-D array. For one axis write (x0,).")
    if not isinstance(value, (Sequence, np.ndarray)) or len(value) == 0:
        raise ShapeError(f"axes must be a non-empty sequence of 1-D coordinate arrays; got {type(value).__name__}.")
    if len(value) > MAX_GRID_AXES:
        raise ShapeError(f"a grid has at most {MAX_GRID_AXES} axes (its gradient has one more dimension, and NumPy arrays "
                         f"at most {MAX_GRID_AXES + 1}); got {len(value)}. For many variables, use gradient on points.")
    result = []
    for i, axis in enumerate(value):
        arr = as_float_array(axis, f"axes[{i}]")
        if arr.ndim != 1:
            raise ShapeError(f"axes[{i}] must be a 1-D array of coordinates; got shape {arr.shape}.")
        result.append(arr)
    return tuple(result)


# Numbers and callables: hyper-parameters of the optimizers, schedules, plots and searches.


def _real(value: Any) -> bool:
    """A real number (Python or NumPy, not a bool)."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def finite(name: str, value: Any) -> float:
    """A finite real number."""
    if not _real(value) or not math.isfinite(value):
        raise OptionError(f"{name} must be a finite number; got {value!r}.")
    return float(value)


def positive(name: str, value: Any) -> float:
    if not _real(value) or not math.isfinite(value) or value <= 0:
        raise OptionError(f"{name} must be a finite number > 0; got {value!r}.")
    return float(value)


def non_negative(name: str, value: Any) -> float:
    if not _real(value) or not math.isfinite(value) or value < 0:
        raise OptionError(f"{name} must be a finite number >= 0; got {value!r}.")
    return float(value)


def fraction(name: str, value: Any, *, upper_inclusive: bool = False) -> float:
    """A number in [0, 1) (or [0, 1] with ``upper_inclusive``)."""
    ok = _real(value) and 0 <= value and (value <= 1 if upper_inclusive else value < 1)
    if not ok:
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise OptionError(f"{name} must be in {interval}; got {value!r}.")
    return float(value)


def count(name: str, value: Any, minimum: int = 1) -> int:
    """An integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or value < minimum:
        raise OptionError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def seed(value: Any) -> int | None:
    if value is not None and (isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or value < 0):
        raise OptionError(f"seed must be None or an integer >= 0; got {value!r}.")
    return value


def callable_or_none(name: str, value: Any, signature: str) -> Any:
    if value is not None and not callable(value):
        raise OptionError(f"{name} must be None or a callable {signature}; got {type(value).__name__}.")
    return value


def limits(name: str, value: Any) -> tuple[float, float]:
    """A pair ``(low, high)`` of finite numbers with ``low < high``."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise OptionError(f"{name} must be a pair (low, high) of numbers; got {value!r}.") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise OptionError(f"{name} must be finite with low < high; got {value!r}.")
    return low, high


def box(value: Any, name: str = "bounds") -> np.ndarray:
    """A finite box given as a sequence of ``(low, high)`` pairs, one per variable: ``(d, 2)``."""
    try:
        found = np.array([tuple(map(float, pair)) for pair in value], dtype=np.float64)
    except (TypeError, ValueError):  # not pairs of numbers, or pairs of unequal lengths
        found = np.empty((0, 0))
    if found.ndim != 2 or found.shape[1] != 2 or found.shape[0] == 0 or not np.all(found[:, 0] < found[:, 1]):
        raise OptionError(f"{name} must be a sequence of (low, high) pairs with low < high; got {value!r}.")
    if not np.isfinite(found).all():
        raise OptionError(f"{name} must be finite: find starts on a grid spanning the box; got {value!r}.")
    return found
