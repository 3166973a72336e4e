"""Stencil weights, polynomial exactness, the error order and the step rule."""

from fractions import Fraction

import numpy as np
import pytest

import gradjit
from gradjit import stencils
from gradjit._spec import resolve
from gradjit.backends import numpy_ref
from gradjit.stencils import richardson, weights

KNOWN_WEIGHTS = {
    2: [Fraction(1, 2)],
    4: [Fraction(2, 3), Fraction(-1, 12)],
    6: [Fraction(3, 4), Fraction(-3, 20), Fraction(1, 60)],
    8: [Fraction(4, 5), Fraction(-1, 5), Fraction(4, 105), Fraction(-1, 280)],
}


@pytest.mark.parametrize("order", stencils.ORDERS)
def test_weights_match_the_textbook_tables(order):
    assert stencils.central_weights(order) == tuple(float(w) for w in KNOWN_WEIGHTS[order])


@pytest.mark.parametrize("order", stencils.ORDERS)
def test_stencil_is_exact_on_polynomials_up_to_its_order(order):
    # Exact in exact arithmetic for degree <= order; with h = 1/4
    # (a power of two) and small integers the only error is rounding.
    x0, h = 0.75, 0.25
    for degree in range(order + 1):
        def poly(x, degree=degree):
            return x[0] ** degree

        got = gradjit.gradient(poly, [x0], h=h, order=order, backend="numpy")[0]
        assert got == pytest.approx(degree * x0 ** max(degree - 1, 0), rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("order", stencils.ORDERS)
def test_halving_h_shrinks_the_error_by_two_to_the_order(order):
    def f(x):
        return np.sin(x[0])

    hs = [0.2, 0.1]
    errors = [abs(gradjit.gradient(f, [0.7], h=h, order=order, backend="numpy")[0] - np.cos(0.7)) for h in hs]
    observed_order = np.log2(errors[0] / errors[1])
    assert observed_order == pytest.approx(order, abs=0.15)


def test_default_step_grows_with_the_order():
    steps = [stencils.default_step(p) for p in stencils.ORDERS]
    assert steps == sorted(steps)
    assert 1e-6 < steps[0] < 1e-5 and 1e-3 < steps[-1] < 1e-2


def test_actual_step_is_representable_and_scaled():
    x = np.array([0.0, 3.0, -250.0, 1e20])
    h = weights.actual_step(x, 1e-5, 1.0)
    assert np.all((x + h) - x == h)
    assert h[2] == pytest.approx(250e-5, rel=1e-10)
    assert weights.actual_step(1e20, 1e-4, -1.0) == 0.0  # vanishes: the quotient is NaN, not 0
    assert np.isnan(gradjit.gradient(lambda v: v[0] * 2.0, [1e20], h=1e-4, backend="numpy")[0])


def test_reference_loop_and_vectorised_reference_agree(rng):
    problem = gradjit.problems.get("rosenbrock")
    X = problem.sample(50, 4)
    spec = resolve(4, order=4, backend="numpy")
    steps = spec.steps
    a, b = np.empty_like(X), np.empty_like(X)
    numpy_ref.batch_gradient(problem.f, X, spec, a)
    numpy_ref.batch_gradient_vectorized(problem.batched, X, spec, b)
    # f and its batched twin round differently (loop vs pairwise sum); the quotient
    # amplifies that rounding by ~1/h.
    rounding = 64 * np.finfo(float).eps * np.abs(problem.batched(X)).max() / steps[0]
    np.testing.assert_allclose(a, b, rtol=0, atol=rounding)


def _extrapolate(values, levels, r):
    """The Richardson recursion written out plainly: level k removes the r**-k term."""
    table = np.asarray(values, dtype=float)
    for k in range(1, levels + 1):
        table = table[1:] + (table[1:] - table[:-1]) / (r**k - 1)
    return table


@pytest.mark.parametrize("one_sided", [False, True])
def test_richardson_factors_and_noise_gains_follow_from_the_recursion(one_sided):
    q = stencils.RICHARDSON_RATIO
    power = 1 if one_sided else 2  # one-sided errors have every power of h, central ones even powers
    r = q**-power
    factors = richardson._ONE_SIDED_FACTORS if one_sided else richardson._CENTRAL_FACTORS
    gains = richardson._ONE_SIDED_GAINS if one_sided else richardson._CENTRAL_GAINS
    for k in range(1, stencils.RICHARDSON_LEVELS + 1):
        assert factors[k] == pytest.approx(1 / (r**k - 1))
        # Level k is exact when D(h) = f' + a_1 h^p + ... + a_k h^(kp) (steps h_i = q**i).
        steps = q ** np.arange(k + 1)
        values = 1.0 + sum((m + 1.0) * steps ** (power * m) for m in range(1, k + 1))
        assert _extrapolate(values, k, r)[0] == pytest.approx(1.0, abs=1e-12)
        # The weights on D(h_(i-k)) .. D(h_i) and the rounding gain they give.
        weights = np.array([_extrapolate(np.eye(k + 1)[m], k, r)[0] for m in range(k + 1)])
        expected = np.sum(np.abs(weights) * q ** np.arange(k, -1, -1)) * (2 if one_sided else 1)
        assert gains[k] == pytest.approx(expected)


@pytest.mark.parametrize("gains", [richardson._CENTRAL_GAINS, richardson._ONE_SIDED_GAINS], ids=["central", "one-sided"])
def test_rounding_gains_grow_with_the_level(gains):
    # richardson_entry stops early on this: later candidates can only have larger rounding terms.
    assert np.all(np.diff(gains[2:]) > 0)


def _richardson_without_early_exit(f, x0, base):
    """Every step of the whole sequence (the planned ones and the slide), the whole tableau,
    every candidate: the plain form of richardson_entry (central)."""
    q, levels = stencils.RICHARDSON_RATIO, stencils.RICHARDSON_LEVELS
    n = stencils.RICHARDSON_STEPS + richardson.RICHARDSON_MAX_SLIDE
    rounding = richardson.RICHARDSON_ROUNDING * np.finfo(float).eps * abs(f(x0))
    table, scale, step = np.full((levels + 1, n), np.nan), np.empty(n), base
    for i in range(n):
        h = (x0 + step) - x0
        table[0, i] = (f(x0 + h) - f(x0 - h)) / ((x0 + h) - (x0 - h))  # the points' own distance
        scale[i] = 1.0 / abs(h)
        step *= q
    for k in range(1, levels + 1):
        for i in range(k, n):
            table[k, i] = table[k - 1, i] + (table[k - 1, i] - table[k - 1, i - 1]) * richardson._CENTRAL_FACTORS[k]
    best, best_error = np.nan, np.inf
    for k in range(2, levels + 1):
        for i in range(k + 2, n):
            error = (abs(table[k, i] - table[k, i - 1]) + abs(table[k, i] - table[k - 1, i])
                     + abs(table[k, i - 1] - table[k - 1, i - 1]) + rounding * richardson._CENTRAL_GAINS[k] * scale[i])
            if error < best_error:
                best, best_error = table[k, i], error
    return best, best_error


@pytest.mark.parametrize("f", [lambda t: t**4 - 3.0 * t, lambda t: np.sin(7.0 * t) + 50.0, np.exp], ids=["quartic", "wave", "exp"])
def test_richardson_early_exit_gives_the_same_result_as_the_whole_tableau(f):
    calls = []

    def counted(z, args):
        calls.append(z[0])
        return f(z[0])

    for x0 in np.linspace(-2.0, 2.0, 9):
        plain, plain_error = _richardson_without_early_exit(f, x0, max(1.0, abs(x0)))
        table = np.empty(richardson.RICHARDSON_TABLE_SIZE)
        x = np.array([x0])
        fast, fast_error = richardson.richardson_entry(counted, (), x, 0, max(1.0, abs(x0)), stencils.RICHARDSON_STEPS, 0,
                                                       f(x0), table)
        assert fast == plain and x[0] == x0
        # The same candidate's estimate (to the order of its terms' rounding), or more where newer ones disagree.
        assert fast_error >= plain_error * (1.0 - 1e-12)
    # The exit is exercised: fewer evaluations than the 2 per step of the planned sequence.
    assert len(calls) < 9 * 2 * stencils.RICHARDSON_STEPS


def identity(x):
    return x[0]


@pytest.mark.parametrize("options", [{}, {"method": "richardson"}], ids=["central", "richardson"])
def test_each_pair_is_divided_by_the_distance_of_the_points_f_saw(options):
    # Just inside a power of two in magnitude, on the side away from 0, x - h falls in a
    # coarser binade and rounds: dividing by 2h (not by the points' distance) made the
    # slope of the identity 1 +- 1e-8 at h = 1e-8 (issue 15: scipy's quotient was better).
    x = -np.array([7.9999999999, 0.99999999999, 3.99999999995, 1.99999999998, 15.9999999999])
    for backend in ("numba", "numpy"):
        found = gradjit.gradient(identity, x[:, None], h=1e-8, backend=backend, **options)
        assert np.all(found == 1.0)
