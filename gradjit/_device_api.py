"""Derivatives of CUDA device arrays that stay on the device (``backend="cuda"``).

The public functions send here when ``x`` or ``out`` is a device array
(:func:`gradjit._cuda.is_device_array`: a ``numba.cuda`` array, a CuPy array,
a PyTorch tensor on the GPU). The options are resolved as for host arrays
(:func:`gradjit._spec.resolve`); the points are read on the device, and the
result is a ``numba.cuda`` device array (``out`` itself when given), which
CuPy and PyTorch take without a copy (``cupy.asarray``, ``torch.as_tensor``).
Only two options read the points on the host, ``bounds`` (every point must
lie inside) and ``x_scale="auto"``; with them the points are copied back once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _cuda
from ._spec import Spec, resolve
from .errors import DTypeError, OptionError, ShapeError

__all__ = ["derivative", "gradient", "grid", "hessian", "jacobian", "on_device"]


def on_device(*values: Any) -> bool:
    """Whether any of ``values`` is a CUDA device array."""
    return any(_cuda.is_device_array(v) for v in values if v is not None)


def _require_cuda(backend: Any) -> None:
    if backend != "cuda":
        raise OptionError(f"x or out is a CUDA device array, which backend={backend!r} cannot read: pass backend='cuda', "
                          "or copy the array to the host first (numba: .copy_to_host(), CuPy: .get()).")


def _device(value: Any, name: str) -> Any:
    """``value`` as a C-contiguous float64 ``numba.cuda`` device array, or a clear error."""
    if not _cuda.is_device_array(value):
        raise DTypeError(f"{name} must be a CUDA device array like x; got {type(value).__name__}. Pass host (NumPy) arrays "
                         "for both, or device arrays for both.")
    array = _cuda.as_device_array(value)
    if array.dtype != np.float64:
        raise DTypeError(f"{name} on the device must be float64; got {array.dtype} (convert it on the device, e.g. "
                         "cupy: x.astype(cupy.float64)).")
    if not array.is_c_contiguous():
        raise ShapeError(f"{name} on the device must be C-contiguous (copy it on the device first, e.g. "
                         "cupy.ascontiguousarray(x)).")
    return array


def _points(x: Any) -> tuple[Any, tuple[int, ...], int]:
    """The device points ``(..., d)`` flat (N * d), their batch shape, and d."""
    array = _device(x, "x")
    if array.ndim == 0:
        raise ShapeError("x must be an array of shape (d,), (N, d) or (..., d); got a scalar.")
    shape = tuple(array.shape)
    return array.reshape(array.size), shape[:-1], int(shape[-1])


def _host_points(flat: Any, d: int, options: dict) -> np.ndarray | None:
    """The points on the host where an option reads them (bounds, x_scale="auto"), else None."""
    if options.get("bounds") is not None or isinstance(options.get("x_scale"), str):
        return flat.copy_to_host().reshape(-1, d)
    return None


def _output(out: Any, shape: tuple[int, ...], x: Any) -> Any:
    """``out`` checked against ``shape`` (and not overlapping ``x``), or None for a new array."""
    if out is None:
        return None
    array = _device(out, "out")
    if tuple(array.shape) != tuple(shape):
        raise ShapeError(f"out must have shape {shape}; got {tuple(array.shape)}.")
    if _overlap(array, x):
        raise ShapeError("out shares memory with x, which the kernels read while writing out; pass a separate array.")
    return array


def _overlap(a: Any, b: Any) -> bool:
    if _cuda.simulated():
        return bool(np.shares_memory(a._ary, b._ary))  # the simulator's arrays wrap NumPy arrays
    start_a, start_b = a.__cuda_array_interface__["data"][0], b.__cuda_array_interface__["data"][0]
    return start_a < start_b + b.nbytes and start_b < start_a + a.nbytes


def _computed(spec: Spec, shape: tuple[int, ...], compute: Callable, full_output: bool, out: Any = None) -> Any:
    """``compute(flat result, flat error estimates or None)`` into new device arrays of
    ``shape`` (the result into ``out`` when given): the result, with the estimates for
    ``full_output``."""
    cuda = _cuda.module()
    target = cuda.device_array(shape) if out is None else out
    errors = cuda.device_array(shape) if spec.method.error_estimates else None
    compute(target.reshape(target.size), None if errors is None else errors.reshape(errors.size))
    return (target, errors) if full_output else target


def gradient(f: Callable, x: Any, *, out: Any, full_output: bool, **options: Any) -> Any:
    """:func:`gradjit.gradient` of device points: a device array ``(..., d)``."""
    _require_cuda(options.get("backend"))
    flat, batch_shape, d = _points(x)
    spec = resolve(d, points=_host_points(flat, d, options), full_output=full_output, **options)
    shape = (*batch_shape, d)
    return _computed(spec, shape, lambda target, errors: spec.backend.gradient_on_device(f, flat, spec, target, errors),
                     full_output, _output(out, shape, flat))


def derivative(f: Callable, x: Any, *, full_output: bool, **options: Any) -> Any:
    """:func:`gradjit.derivative` elementwise over a device array: a device array of its
    shape (0-d for a 0-d array)."""
    _require_cuda(options.get("backend"))
    array = _device(x, "x")
    flat = array.reshape(array.size)
    spec = resolve(1, points=_host_points(flat, 1, options), full_output=full_output, scalar_input=True, **options)
    return _computed(spec, tuple(array.shape),
                     lambda target, errors: spec.backend.gradient_on_device(f, flat, spec, target, errors), full_output)


def hessian(f: Callable, x: Any, *, full_output: bool, **options: Any) -> Any:
    """:func:`gradjit.hessian` of device points: a device array ``(..., d, d)``."""
    _require_cuda(options.get("backend"))
    flat, batch_shape, d = _points(x)
    spec = resolve(d, kind="hessian", points=_host_points(flat, d, options), full_output=full_output, **options)
    return _computed(spec, (*batch_shape, d, d),
                     lambda target, errors: spec.backend.hessian_on_device(f, flat, spec, target, errors), full_output)


def jacobian(F: Callable, x: Any, *, full_output: bool, **options: Any) -> Any:
    """:func:`gradjit.jacobian` of device points: a device array ``(..., m, d)``."""
    _require_cuda(options.get("backend"))
    flat, batch_shape, d = _points(x)
    spec = resolve(d, kind="jacobian", points=_host_points(flat, d, options), full_output=full_output, **options)
    first = flat[:d].copy_to_host().reshape(1, d) if flat.size else np.zeros((0, d))
    m = spec.backend.jacobian_length(F, first, spec)
    return _computed(spec, (*batch_shape, m, d),
                     lambda target, errors: spec.backend.jacobian_on_device(F, flat, spec, m, target, errors), full_output)


#: Grid points per launch on the device (a launch's thread count stays far below 2**31).
GRID_POINTS_PER_LAUNCH = 1 << 28


def grid(f: Callable, axes: tuple[np.ndarray, ...], spec: Spec, out: Any, *, indexing: str, result_shape: tuple[int, ...]) -> Any:
    """:func:`gradjit.grid_gradient` into the device array ``out`` of ``result_shape``:
    the points are made from the axes on the device; no host copy of the result."""
    _require_cuda(spec.backend.NAME)
    target = _device(out, "out")
    if tuple(target.shape) != tuple(result_shape):
        raise ShapeError(f"out must have shape {result_shape}; got {tuple(target.shape)}.")
    d = len(axes)
    n_points = math.prod(result_shape[1:])
    columns = target.reshape(d, n_points)
    for start in range(0, n_points, GRID_POINTS_PER_LAUNCH):
        stop = min(start + GRID_POINTS_PER_LAUNCH, n_points)
        spec.backend.grid_on_device(f, axes, spec, columns[:, start:stop], start, indexing=indexing)
    return out
