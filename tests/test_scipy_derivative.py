"""gradjit.classic.derivative: scipy.misc.derivative's signature and arithmetic, compiled.

The oracle (tests/classic_reference.py) is SciPy's algorithm written out; SciPy
removed the function in 1.12, so it cannot be imported. Functions here use only
+, - and * where bits are compared: Numba and CPython then evaluate them
identically (Numba computes x ** 3 by multiplication where CPython calls pow).
"""

from __future__ import annotations

import math
import threading
import warnings

import numpy as np
import pytest

from gradjit.classic import FallbackWarning, derivative
from gradjit.errors import OrderError

from .classic_reference import SCIPY_TABLE, scipy_misc_derivative


def cubic(x):
    return x * x * x + x * x


def scaled_cubic(x, a, b):
    return a * x * x * x - b * x


class _Coefficient:
    value = 2.0


X0 = np.linspace(-2.0, 3.0, 23)


@pytest.mark.parametrize(("n", "order"), sorted(SCIPY_TABLE))
def test_tabulated_stencils_equal_scipy_bit_for_bit(n, order):
    found = derivative(cubic, X0, dx=1e-3, n=n, order=order)
    expected = np.array([scipy_misc_derivative(cubic, x, dx=1e-3, n=n, order=order) for x in X0])
    np.testing.assert_array_equal(found, expected)


@pytest.mark.parametrize(("n", "order"), [(1, 11), (3, 5), (4, 7)])
def test_other_stencils_equal_scipy_to_the_rounding_of_its_weights(n, order):
    found = derivative(scaled_cubic, X0, dx=1e-2, n=n, order=order, args=(2.0, 0.5))
    expected = np.array([scipy_misc_derivative(scaled_cubic, x, dx=1e-2, n=n, order=order, args=(2.0, 0.5)) for x in X0])
    np.testing.assert_allclose(found, expected, rtol=1e-9, atol=1e-9)
    exact = {1: 6.0 * X0 * X0 - 0.5, 3: np.full_like(X0, 12.0), 4: np.zeros_like(X0)}[n]
    np.testing.assert_allclose(found, exact, rtol=1e-5, atol=1e-4)


def test_defaults_scalars_and_broadcast_spacing():
    assert derivative(cubic, 1.0) == scipy_misc_derivative(cubic, 1.0)  # dx = 1, order 3, n = 1
    assert isinstance(derivative(cubic, 1.0), np.float64)
    spacing = np.array([[1e-2], [1e-3]])
    found = derivative(cubic, X0[:5], dx=spacing)
    assert found.shape == (2, 5)
    for row, dx in enumerate(spacing[:, 0]):
        np.testing.assert_array_equal(found[row], [scipy_misc_derivative(cubic, x, dx=dx) for x in X0[:5]])


def test_library_and_uncompilable_functions():
    np.testing.assert_allclose(derivative(np.sin, X0, dx=1e-4, order=5), np.cos(X0), rtol=0, atol=1e-11)
    assert abs(derivative(math.exp, 0.0, dx=1e-4, order=5) - 1.0) < 1e-11

    def reads_a_dict(x):
        return _Coefficient().value * x * x  # an instance of a Python class: not compiled by Numba

    # Numba records warnings with catch_warnings while it compiles, which is not thread-safe:
    # a kernel still compiling in the background could restore the filters under this test.
    for thread in threading.enumerate():
        if thread.name == "gradjit-inline-compile":
            thread.join()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = derivative(reads_a_dict, X0, dx=1e-3)
    assert any(issubclass(w.category, FallbackWarning) for w in caught)
    np.testing.assert_array_equal(found, [scipy_misc_derivative(reads_a_dict, x, dx=1e-3) for x in X0])


def test_scipy_errors_with_scipy_words():
    with pytest.raises(OrderError, match="must be odd"):
        derivative(cubic, 1.0, order=4)
    with pytest.raises(ValueError, match=r"at least the derivative order 'n' \+ 1"):
        derivative(cubic, 1.0, n=3, order=3)
    with pytest.raises(OrderError, match="positive integer"):
        derivative(cubic, 1.0, n=0)
