"""Higher derivatives, ``gradjit.derivative(f, x, n=k)`` for k up to 10 (issue 15): the
exact weights, the error order, accuracy per n and method at tolerances that follow from
the step rule, Richardson's error estimates, parity with the NumPy reference, bad input."""

import math
from fractions import Fraction

import numpy as np
import pytest

import gradjit
from gradjit import errors
from gradjit.problems import derivative_cases, derivative_relative_errors
from gradjit.stencils.weights import _exact_nth_weights, nth_weights


def test_the_weights_are_the_textbook_ones_and_exact():
    assert nth_weights(2, 2) == (1.0, -2.0, 1.0)
    assert nth_weights(3, 2) == (-0.5, 1.0, 0.0, -1.0, 0.5)
    assert nth_weights(4, 2) == (1.0, -4.0, 6.0, -4.0, 1.0)
    assert nth_weights(2, 4) == (-1 / 12, 4 / 3, -5 / 2, 4 / 3, -1 / 12)
    for n in range(1, 11):
        for order in (2, 4, 6, 8):
            c = _exact_nth_weights(n, order)
            m = len(c) // 2
            moments = [sum(ck * Fraction(k) ** j for ck, k in zip(c, range(-m, m + 1))) for j in range(n + order + 1)]
            # n! for the n-th moment, 0 for every other up to degree n + order - 1 (and one more
            # by symmetry): the error is O(h**order).
            assert moments[:n + order] == [math.factorial(n) if j == n else 0 for j in range(n + order)]


def sine(t):
    return np.sin(t)


def log(t):
    return np.log(t)


@pytest.mark.parametrize("n", [2, 3, 5])
@pytest.mark.parametrize("order", [2, 4])
def test_the_error_falls_like_h_to_the_order(n, order):
    t = np.array([0.3, -0.7, 1.1])
    large, small = (np.abs(gradjit.derivative(sine, t, n=n, order=order, h=h) - np.sin(t + n * math.pi / 2))
                    for h in (0.2, 0.1))
    assert order - 0.3 <= np.median(np.log2(large / small)) <= order + 0.3


def _power_function(degree):
    def power(u):
        return u**degree

    return power


def test_polynomials_of_low_degree_come_out_exact():
    # Degree n + order - 1: no truncation error; with h = 1 what is left is the rounding of
    # f's values, up to (|t| + m)**degree, against the derivative's.
    t = np.array([-1.5, 0.25, 2.0])
    for n, order in [(3, 2), (5, 4), (7, 6)]:
        degree = n + order - 1
        power = _power_function(degree)
        exact = math.factorial(degree) / math.factorial(degree - n) * t ** (degree - n)
        np.testing.assert_allclose(gradjit.derivative(power, t, n=n, order=order, h=1.0), exact, rtol=1e-10)


#: Median and worst of |error| / max(1, |f^(n)|) over gradjit.problems.derivative_cases (100
#: points per function). Each derivative costs accuracy: the error of order p near its step
#: is about (A eps)**(p / (n + p)), A = Σ|c_k| ~ 2**n (gradjit.stencils.weights.nth_step).
TOLERANCES = {
    (2, "order 2"): (3e-8, 5e-7), (2, "order 8"): (4e-12, 7e-11), (2, "richardson"): (4e-13, 6e-12),
    (3, "order 4"): (6e-9, 1e-7), (3, "richardson"): (1e-11, 4e-10),
    (5, "order 8"): (5e-8, 5e-6), (5, "richardson"): (8e-9, 2e-6),
    (8, "richardson"): (6e-6, 3e-3),
    (10, "richardson"): (3e-4, 1.0),
}
OPTIONS = {"order 2": {"order": 2}, "order 4": {"order": 4}, "order 8": {"order": 8}, "richardson": {"method": "richardson"}}


@pytest.mark.parametrize("n, method", list(TOLERANCES), ids=[f"n={n}, {m}" for n, m in TOLERANCES])
def test_accuracy_per_derivative_and_method(n, method):
    median, worst = TOLERANCES[n, method]
    found = derivative_relative_errors(n, 100, **OPTIONS[method])
    assert np.median(found) <= median
    assert found.max() <= worst


@pytest.mark.parametrize("n", [2, 4, 7, 10])
def test_richardson_estimates_bound_the_error(n):
    held = total = 0
    for _, f, t, exact in derivative_cases(n, 100):
        value, estimate = gradjit.derivative(f, t, n=n, method="richardson", full_output=True)
        held += np.sum(np.abs(value - exact) <= estimate)
        total += t.size
    assert held / total >= 0.99


def test_richardson_shrinks_its_steps_out_of_a_domain():
    value, estimate = gradjit.derivative(log, 1e-3, n=3, method="richardson", full_output=True)
    assert abs(value - 2e9) <= estimate <= 1e-6 * 2e9


def reciprocal(t):
    return 1.0 / (1.0 + t * t)


@pytest.mark.parametrize("options", [{"order": 2}, {"order": 6}, {"method": "richardson"}], ids=["2", "6", "richardson"])
@pytest.mark.parametrize("n", [2, 3, 6])
def test_parity_with_the_reference(n, options):
    t = np.linspace(-2.0, 2.0, 9)
    fast = gradjit.derivative(reciprocal, t, n=n, **options)  # + * / only: the same bits in Python
    np.testing.assert_array_equal(fast, gradjit.derivative(reciprocal, t, n=n, backend="numpy", **options))


BAD = [
    (lambda: gradjit.derivative(sine, 1.0, n=0), errors.OrderError, "from 1 to 10"),
    (lambda: gradjit.derivative(sine, 1.0, n=11), errors.OrderError, "from 1 to 10"),
    (lambda: gradjit.derivative(sine, 1.0, n=2.0), errors.OrderError, "integer"),
    (lambda: gradjit.derivative(sine, 1.0, n=True), errors.OrderError, "integer"),
    (lambda: gradjit.derivative(sine, 1.0, n=2, method="forward"), errors.OptionError, "'central' or 'richardson'"),
    (lambda: gradjit.derivative(sine, 1.0, n=2, bounds=(0.0, 2.0)), errors.OptionError, "first derivatives"),
    (lambda: gradjit.derivative(sine, 1.0, n=2, order=3), errors.OrderError, "order"),
]


@pytest.mark.parametrize("call, exception, message", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_arguments(call, exception, message):
    with pytest.raises(exception, match=message):
        call()
