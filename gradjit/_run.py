"""Running a resolved spec: allocation and the one call into the backend.

The public functions validate their options once into a
:class:`~gradjit._spec.Spec` and call these; so do the loops that differentiate
many times with the same options (:func:`gradjit.minimize`,
:func:`gradjit.critical_points.find`, the Dask blocks, the classic functions),
without validating again at every step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _chunks, _complex_valued, structured
from . import _validation as check
from ._spec import Spec
from .backends import GridBlock
from .errors import ComplexValued

__all__ = ["differentiate", "evaluate", "grid"]


def differentiate(f: Callable, points: np.ndarray, spec: Spec, shape: tuple[int, ...], *, out: Any = None,
                  full_output: bool = False, dtype: Any = None, check_pattern: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The gradient of ``f`` at the rows of ``points`` (N, d), shaped ``shape``; with
    ``full_output``, also the error estimates (methods that make them). ``dtype``:
    the storage of the result (float64 or float32, see :func:`_validation.storage`);
    the arithmetic is float64. With ``spec.terms``, f is a vector of terms
    (:func:`gradjit.structured.terms_gradient`, which ``check_pattern`` asks to verify)."""
    out = check.output(out, shape, check.RESULT_DTYPES)
    storage = check.storage(dtype, out)
    errors = np.empty(shape) if spec.method.error_estimates else None

    def compute(target: np.ndarray) -> None:
        if spec.terms is not None:
            structured.terms_gradient(f, points, spec, target.reshape(points.shape), check=check_pattern)
            return
        found = None if errors is None else errors.reshape(points.shape)
        spec.backend.gradient(f, points, spec, target.reshape(points.shape), errors=found)

    try:
        result = _into(out, shape, compute, points)
    except ComplexValued:  # f: R^d -> C
        return _complex_valued.differentiate(f, points, spec, shape, out=out, full_output=full_output, dtype=dtype)
    if out is None and storage != np.float64:
        result = result.astype(storage)
    if not full_output:
        return result
    return result, None if errors is None else errors.astype(storage, copy=False)


def evaluate(f: Callable, points: np.ndarray, spec: Spec) -> np.ndarray:
    """``f`` at every row of ``points`` (N, d), C-contiguous float64: an array of N values
    (``Σ_r F_r`` with ``spec.terms``)."""
    out = np.empty(points.shape[0])
    if spec.terms is not None:
        spec.backend.terms_values(f, points, spec, out)
    else:
        spec.backend.values(f, points, spec, out)
    return out


def grid(f: Callable, axes: tuple[np.ndarray, ...], indexing: str, spec: Spec, *, out: Any = None, dtype: Any = np.float64,
         progress: bool = False) -> Any:
    """The gradient on the grid of validated ``axes`` into ``out`` (new if None), slab by slab."""
    d = len(axes)
    along = check.grid_axes(d, indexing)  # along[g]: the axis that grid dimension g runs along
    grid_shape = tuple(axes[a].size for a in along)
    result_shape = (d, *grid_shape)
    out = check.grid_output(out, result_shape)
    if out is None:
        out = _chunks.new_output(result_shape, dtype)
    elif isinstance(out, np.ndarray) and any(np.shares_memory(out, a) for a in axes):
        axes = tuple(a.copy() for a in axes)  # the axes are read while out is written
    direct = isinstance(out, np.ndarray) and out.dtype == np.float64 and out.flags.c_contiguous
    first = along[0]  # the axis along the result's first grid dimension, which the slabs split

    def compute(r0: int, r1: int, block: GridBlock) -> None:
        sub_axes = axes[:first] + (axes[first][r0:r1],) + axes[first + 1:]
        spec.backend.grid(f, sub_axes, spec, block, indexing=indexing)

    _chunks.evaluate(compute, out, direct=direct, progress=progress)
    return out


def _into(out: np.ndarray | None, shape: tuple[int, ...], compute: Callable[[np.ndarray], None], *inputs: np.ndarray) -> np.ndarray:
    """Run ``compute`` into ``out`` directly when it is float64, C-contiguous and shares
    no memory with the inputs, else into a fresh array (copied into ``out`` if given)."""
    if (out is not None and out.dtype == np.float64 and out.flags.c_contiguous
            and not any(np.shares_memory(out, a) for a in inputs)):
        compute(out)
        return out
    result = np.empty(shape)
    compute(result)
    if out is not None:
        out[...] = result
        return out
    return result
