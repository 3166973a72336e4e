"""gradjit.nb: the entry points a user's @numba.njit code calls.

The promise is the same bits as the Python API for the same f, point and options,
so every parity test here is exact equality. Each (method, order) compiles a user
loop of its own (about a second), so the cases are the distinct code paths: the
central stencil on the stack buffer and on the heap (d > 64), the one-sided and
complex formulas, Richardson (with f at the centre), absolute steps, extra args.
"""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np
import pytest
from numba.core.errors import NumbaPerformanceWarning, TypingError

import gradjit
from gradjit import nb
from gradjit.errors import ShapeError, StepError


@numba.njit
def scaled_bowl(x, a):
    return a * x[0] * x[0] + 3.0 * x[0] * x[1] + np.sin(x[1])


@numba.njit
def smooth(x):
    return x[0] * x[0] * x[1] + np.exp(0.5 * x[1]) - x[0]


@numba.njit
def wide(x):
    total = 0.0
    for j in range(x.size):
        total += (j + 1.0) * x[j] * x[j] + np.sin(x[j])
    return total


@numba.njit
def wave(t, k):
    return np.sin(k * t) * t


def _gradients(method, order):
    # One user loop per (method, order): the constants are compiled into it.
    @numba.njit
    def loop(points, a):
        out = np.empty_like(points)
        for i in range(points.shape[0]):
            nb.gradient(scaled_bowl, points[i], out[i], args=(a,), method=method, order=order)
        return out

    return loop


POINTS = np.random.default_rng(7).uniform(-2.0, 2.0, (64, 2))


# Each case compiles a loop of its own (about 2 s), so one per formula: central order 2 is
# compared in the parallel loop's test, backward (with h) beside the complex step, Richardson
# in the derivative's test.
@pytest.mark.parametrize(("method", "order"), [("central", 6), ("forward", 3)])
def test_gradient_equals_the_python_api_bit_for_bit(method, order):
    found = _gradients(method, order)(POINTS, 2.5)
    expected = gradjit.gradient(scaled_bowl, POINTS, args=(2.5,), method=method, order=order)
    np.testing.assert_array_equal(found, expected)


def test_complex_step_and_absolute_steps_equal_the_python_api():
    @numba.njit
    def loop(points, h):
        complex_step, absolute, one_sided = np.empty_like(points), np.empty_like(points), np.empty_like(points)
        for i in range(points.shape[0]):
            nb.gradient(smooth, points[i], complex_step[i], method="complex")
            nb.gradient(smooth, points[i], absolute[i], h=h)
            nb.gradient(smooth, points[i], one_sided[i], method="backward", order=2, h=-h)
        return complex_step, absolute, one_sided

    complex_step, absolute, one_sided = loop(POINTS, 1e-4)
    np.testing.assert_array_equal(complex_step, gradjit.gradient(smooth, POINTS, method="complex"))
    np.testing.assert_array_equal(absolute, gradjit.gradient(smooth, POINTS, h=1e-4))
    np.testing.assert_array_equal(one_sided, gradjit.gradient(smooth, POINTS, method="backward", order=2, h=-1e-4))


@numba.njit
def _one_point(x):
    out = np.empty(x.size)
    nb.gradient(wide, x, out, order=4)
    return out


@pytest.mark.parametrize("d", [3, 65, 200])
def test_any_dimension_on_the_stack_or_the_heap(d):
    x = np.linspace(-1.0, 2.0, d)
    before = x.copy()
    np.testing.assert_array_equal(_one_point(x), gradjit.gradient(wide, x, order=4))
    np.testing.assert_array_equal(x, before)  # the point is copied, never perturbed in place


def test_hessian_equals_the_python_api():
    @numba.njit
    def loop(points):
        central = np.empty((points.shape[0], 2, 2))
        one_sided = np.empty_like(central)
        for i in range(points.shape[0]):
            nb.hessian(smooth, points[i], central[i], order=4)
            nb.hessian(smooth, points[i], one_sided[i], method="forward", order=2)
        return central, one_sided

    central, one_sided = loop(POINTS[:16])
    np.testing.assert_array_equal(central, gradjit.hessian(smooth, POINTS[:16], order=4))
    np.testing.assert_array_equal(one_sided, gradjit.hessian(smooth, POINTS[:16], method="forward", order=2))


def test_derivative_equals_the_python_api():
    @numba.njit
    def loop(ts, k):
        out = np.empty((ts.size, 3))
        for i in range(ts.size):
            out[i, 0] = nb.derivative(wave, ts[i], args=(k,))
            out[i, 1] = nb.derivative(wave, ts[i], args=(k,), n=2, order=4)
            out[i, 2] = nb.derivative(wave, ts[i], args=(k,), method="richardson")
        return out

    ts = np.linspace(-3.0, 3.0, 41)
    found = loop(ts, 1.5)
    np.testing.assert_array_equal(found[:, 0], gradjit.derivative(wave, ts, args=(1.5,)))
    np.testing.assert_array_equal(found[:, 1], gradjit.derivative(wave, ts, args=(1.5,), n=2, order=4))
    np.testing.assert_array_equal(found[:, 2], gradjit.derivative(wave, ts, args=(1.5,), method="richardson"))
    exact = np.cos(1.5 * ts) * 1.5 * ts + np.sin(1.5 * ts)
    np.testing.assert_allclose(found[:, 2], exact, rtol=0, atol=1e-11)


def test_inside_a_parallel_loop():
    # Numba parallelises the caller's prange loop (it would warn, and run serially, if the
    # entry points put a raise inside it).
    @numba.njit(parallel=True)
    def loop(points):
        out = np.empty_like(points)
        for i in numba.prange(points.shape[0]):
            nb.gradient(smooth, points[i], out[i])
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaPerformanceWarning)
        found = loop(POINTS)
    np.testing.assert_array_equal(found, gradjit.gradient(smooth, POINTS))


def test_called_from_python_runs_the_python_api():
    out = np.empty(2)
    nb.gradient(smooth, POINTS[0], out, method="forward", order=2)
    np.testing.assert_array_equal(out, gradjit.gradient(smooth, POINTS[0], method="forward", order=2))
    assert nb.derivative(wave, 0.3, args=(2.0,)) == gradjit.derivative(wave, 0.3, args=(2.0,))
    H = np.empty((2, 2))
    nb.hessian(smooth, POINTS[0], H)
    np.testing.assert_array_equal(H, gradjit.hessian(smooth, POINTS[0]))


@numba.njit
def _into(x, out):
    nb.gradient(smooth, x, out)


@numba.njit
def _with_step(x, out, h):
    nb.gradient(smooth, x, out, h=h)


def test_errors_that_depend_on_values_are_raised_when_the_call_runs():
    with pytest.raises(ShapeError, match="length of x"):
        _into(np.ones(2), np.empty(3))
    for h in (0.0, math.inf, math.nan):
        with pytest.raises(StepError, match="finite and nonzero"):
            _with_step(np.ones(2), np.empty(2), h)


def test_mistakes_in_constants_and_types_are_reported_while_compiling():
    @numba.njit
    def bad_order(x, out):
        nb.gradient(smooth, x, out, order=3)

    with pytest.raises(TypingError, match="order"):
        bad_order(np.ones(2), np.empty(2))

    @numba.njit
    def variable_method(x, out, method):
        nb.gradient(smooth, x, out, method=method)

    with pytest.raises(TypingError, match="method must be a constant"):
        variable_method(np.ones(2), np.empty(2), "forward")

    @numba.njit
    def matrix_point(x, out):
        nb.gradient(smooth, x, out)

    with pytest.raises(TypingError, match="1-D array"):
        matrix_point(np.ones((2, 2)), np.empty(2))

    @numba.njit
    def returns_array(x):
        return x * 2.0

    @numba.njit
    def vector_f(x, out):
        nb.gradient(returns_array, x, out)

    with pytest.raises(TypingError, match="real scalar"):
        vector_f(np.ones(2), np.empty(2))
