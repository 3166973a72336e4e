"""Complex-valued objectives, ``f: R^d -> C``: the gradient is the gradient of the real
part plus ``i`` times that of the imaginary part.

Both come from one evaluation of f per stencil point, as the Jacobian of the pair
``(Re f, Im f)`` (:func:`pair`) by the same method, steps and bounds: every method but
the complex step (which needs a real f) works, on both backends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from . import _chunks
from ._memo import per_owner
from ._objective import jitted, name_of
from ._spec import Spec
from .errors import ComplexValued, OptionError

__all__ = ["differentiate", "pair", "part"]


@per_owner
def pair(f: Callable, n_args: int, scalar_input: bool, compiled: bool) -> Callable:
    """``F(x, *args) = [Re f(x, *args), Im f(x, *args)]`` (``f(x[0], ...)`` with
    ``scalar_input``), an ``@njit`` function when ``compiled``."""
    first = "x[0]" if scalar_input else "x"
    params = "".join(f", a{i}" for i in range(n_args))
    namespace: dict[str, Any] = {"f": jitted(f) if compiled else f, "np": np}
    source = (f"def real_and_imaginary(x{params}):\n"
              f"    value = f({first}{params})\n"
              f"    return np.array([value.real, value.imag])\n")
    exec(source, namespace)  # noqa: S102 - fixed template
    function = namespace["real_and_imaginary"]
    function.__qualname__ = f"{name_of(f)}.real_and_imaginary"
    return numba.njit(function) if compiled else function


@per_owner
def part(f: Callable, n_args: int, which: str, compiled: bool) -> Callable:
    """``f(x, *args).real`` (``which="real"``) or ``.imag``, with f's own signature."""
    params = "".join(f", a{i}" for i in range(n_args))
    namespace: dict[str, Any] = {"f": jitted(f) if compiled else f}
    exec(f"def {which}_part(x{params}):\n    return f(x{params}).{which}\n", namespace)  # noqa: S102 - fixed template
    function = namespace[f"{which}_part"]
    function.__qualname__ = f"{name_of(f)}.{which}_part"
    return numba.njit(function) if compiled else function


def differentiate(f: Callable, points: np.ndarray, spec: Spec, shape: tuple[int, ...], *, out: Any, full_output: bool,
                  dtype: Any) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The complex gradient of a complex-valued ``f`` at the rows of ``points`` (N, d),
    shaped ``shape``: complex128 (complex64 for ``dtype=np.float32``). With ``full_output``
    the error estimates bound the modulus of each entry's error (the sum of the two parts')."""
    if spec.method.complex_input:
        raise ComplexValued.refused_by_complex_step(name_of(f))
    if out is not None:
        raise OptionError(f"{name_of(f)} returns complex numbers, so its gradient is complex; out= takes real arrays: "
                          "leave it out.")
    n, d = points.shape
    compiled = spec.backend.NAME != "numpy"
    parts = _chunks.new_output((n, 2, d))
    errors = _chunks.new_output((n, 2, d)) if spec.method.error_estimates else None
    if spec.n == 1:  # one evaluation of f serves both parts
        spec.backend.jacobian(pair(f, len(spec.args), spec.scalar_input, compiled), points, spec, parts, errors=errors)
    else:  # the n-th derivative of each part (the Jacobian path differentiates once)
        for index, which in enumerate(("real", "imag")):
            value = np.empty((n, d))
            estimate = None if errors is None else np.empty((n, d))
            spec.backend.gradient(part(f, len(spec.args), which, compiled), points, spec, value, errors=estimate)
            parts[:, index] = value
            if estimate is not None:
                errors[:, index] = estimate
    single = dtype is not None and np.dtype(dtype) == np.float32
    result = (parts[:, 0] + 1j * parts[:, 1]).reshape(shape).astype(np.complex64 if single else np.complex128, copy=False)
    if not full_output:
        return result
    return result, None if errors is None else (errors[:, 0] + errors[:, 1]).reshape(shape).astype(
        np.float32 if single else np.float64, copy=False)
