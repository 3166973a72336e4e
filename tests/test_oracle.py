"""Every backend against the textbook formulas of ``tests/naive.py``.

The oracle shares no formula with gradjit (``gradjit.stencils`` is what both of
gradjit's backends run), so a mistake in a shared formula fails here: a 0.1%
error injected into any of them is far beyond these tolerances. Both sides
evaluate f at the same points; the tolerance only allows for the rounding of
f's values, amplified by the quotient (about eps * |f| / h), and for the
order in which the two sides add them up.
"""

import naive
import numpy as np
import pytest

import gradjit
from gradjit._spec import resolve
from gradjit.problems import PROBLEMS
from gradjit.stencils import METHODS
from gradjit.stencils import richardson as richardson_parameters

EPS = np.finfo(np.float64).eps
#: Relative agreement beyond the rounding allowance: a 0.1% error is 1e6 times this.
ORACLE_RTOL = 1e-9


def assert_matches(got, expected, f_scale, h_min, rtol=ORACLE_RTOL, rounding=256):
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rounding * EPS * max(f_scale, 1.0) / h_min)


def f_scale(f, X, args=()):
    return max(abs(f(x, *args)) for x in X)


def analytic(x):
    """Analytic in every coordinate (the complex step needs it)."""
    return np.exp(0.3 * x[0]) * np.sin(x[1]) + x[0] * x[1] * x[2] + np.cos(x[2]) / (2.0 + x[0] * x[0])


def vector(x):
    return np.array([x[0] * x[1], np.sin(x[0]) + x[2] ** 3, np.exp(0.5 * x[1]) * x[2]])


def complex_vector(x):
    return np.array([x[0] * x[1], np.sin(x[0]) + x[2] * x[2] * x[2], np.exp(0.5 * x[1]) * x[2]])


POINTS = np.random.default_rng(7).uniform(-1.5, 1.5, size=(6, 3))


@pytest.mark.parametrize("method, order", [(name, order) for name, m in METHODS.items() for order in m.orders])
def test_every_method_matches_its_textbook_twin(backend, method, order):
    assert method in naive.GRADIENTS, f"tests/naive.py has no oracle for method {method!r}"
    spec = resolve(3, method=method, order=order)
    got = gradjit.gradient(analytic, POINTS, method=method, order=order, backend=backend)
    expected = naive.GRADIENTS[method](analytic, POINTS, spec.steps, spec.typical, order)
    # Rounding of f is amplified by 1/h where values are subtracted (not by the complex step).
    h = spec.steps.min() if METHODS[method].formula in ("central", "one-sided") else 1.0
    assert_matches(got, expected, f_scale(analytic, POINTS), h)


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "styblinski_tang", "ackley"])
@pytest.mark.parametrize("order", [2, 4, 6, 8])
def test_central_gradient(backend, name, order):
    problem = PROBLEMS[name]
    X = problem.sample(5, 3, seed=order)
    spec = resolve(X.shape[1], order=order)
    got = gradjit.gradient(problem.f, X, order=order, backend=backend)
    assert_matches(got, naive.central(problem.f, X, spec.steps, spec.typical, order), f_scale(problem.f, X), spec.steps.min())


@pytest.mark.parametrize("method", ["forward", "backward"])
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_one_sided_gradient(backend, method, order):
    spec = resolve(3, method=method, order=order)
    got = gradjit.gradient(analytic, POINTS, method=method, order=order, backend=backend)
    expected = naive.one_sided(analytic, POINTS, spec.steps, spec.typical, order, -1.0 if method == "backward" else 1.0)
    assert_matches(got, expected, f_scale(analytic, POINTS), spec.steps.min())


def test_complex_step_gradient(backend):
    spec = resolve(3, method="complex")
    got = gradjit.gradient(analytic, POINTS, method="complex", backend=backend)
    np.testing.assert_allclose(got, naive.complex_step(analytic, POINTS, spec.steps, spec.typical), rtol=1e-13, atol=1e-15)


def richardson_oracle(f, X, steps, typical):
    return naive.richardson(f, X, steps, typical, ratio=richardson_parameters.RICHARDSON_RATIO,
                            count=richardson_parameters.RICHARDSON_STEPS, levels=richardson_parameters.RICHARDSON_LEVELS,
                            rounding=richardson_parameters.RICHARDSON_ROUNDING,
                            slide=richardson_parameters.RICHARDSON_MAX_SLIDE)


@pytest.mark.parametrize("name", ["analytic", "rosenbrock", "ackley"])
def test_richardson_gradient_and_error_estimates(backend, name):
    f = analytic if name == "analytic" else PROBLEMS[name].f
    X = POINTS[:4]
    spec = resolve(3, method="richardson")
    got, errors = gradjit.gradient(f, X, method="richardson", full_output=True, backend=backend)
    expected, expected_errors = richardson_oracle(f, X, spec.steps, spec.typical)
    # The same candidate wins on both sides: the results agree to rounding.
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    # The estimates add differences of nearly equal tableau entries, which round differently.
    np.testing.assert_allclose(errors, expected_errors, rtol=1e-2, atol=1e-13 * np.abs(expected).max())


@pytest.mark.parametrize("order", [2, 4, 8])
def test_bounded_central_gradient(backend, order):
    lower, upper = np.array([-1.0, 0.0, -2.0]), np.array([1.0, 1e-3, 2.0])
    X = np.array([[-1.0, 0.0, 0.5], [0.999999, 5e-4, -2.0], [0.2, 1e-3, 1.9999999], [0.0, 2e-4, 0.0]])
    spec = resolve(3, order=order, bounds=(lower, upper), points=X)
    got = gradjit.gradient(analytic, X, order=order, bounds=(lower, upper), backend=backend)
    expected = naive.bounded_central(analytic, X, spec.steps, spec.typical, order, lower, upper)
    assert_matches(got, expected, f_scale(analytic, X), 1e-6, rtol=1e-7)


def test_hessian(backend):
    X = POINTS[:4]
    spec = resolve(3, kind="hessian")
    got = gradjit.hessian(analytic, X, backend=backend)
    h = spec.steps.min()
    np.testing.assert_allclose(got, naive.hessian(analytic, X, spec.steps, spec.typical), rtol=1e-7,
                               atol=256 * EPS * f_scale(analytic, X) / h**2)


@pytest.mark.parametrize("order", [2, 4])
def test_jacobian(backend, order):
    spec = resolve(3, order=order)
    got = gradjit.jacobian(vector, POINTS, order=order, backend=backend)
    expected = naive.jacobian(vector, POINTS, naive.central, spec.steps, spec.typical, order)
    assert_matches(got, expected, 30.0, spec.steps.min())


def test_bounded_jacobian(backend):
    lower, upper = np.array([-1.0, 0.0, -2.0]), np.array([1.0, 1e-3, 2.0])
    X = np.array([[-1.0, 0.0, 0.5], [0.999999, 5e-4, -2.0], [0.2, 1e-3, 1.9999999], [0.0, 2e-4, 0.0]])
    spec = resolve(3, order=4, bounds=(lower, upper), points=X)
    got = gradjit.jacobian(vector, X, order=4, bounds=(lower, upper), backend=backend)
    expected = naive.jacobian(vector, X, naive.bounded_central, spec.steps, spec.typical, 4, lower, upper)
    assert_matches(got, expected, 30.0, 1e-6, rtol=1e-7)


def test_bounded_richardson(backend):
    lower, upper = np.array([-1.0, 0.0, -2.0]), np.array([1.0, 1e-3, 2.0])
    X = np.array([[-1.0, 0.0, 0.5], [0.999999, 5e-4, -2.0], [0.2, 1e-3, 1.9999999], [0.0, 2e-4, 0.0], [0.5, 1e-4, 1.0]])
    spec = resolve(3, method="richardson", bounds=(lower, upper), points=X)
    got, errors = gradjit.gradient(analytic, X, method="richardson", bounds=(lower, upper), full_output=True, backend=backend)
    expected, expected_errors = naive.bounded_richardson(
        analytic, X, spec.steps, spec.typical, lower, upper, ratio=richardson_parameters.RICHARDSON_RATIO,
        count=richardson_parameters.RICHARDSON_STEPS, levels=richardson_parameters.RICHARDSON_LEVELS,
        rounding=richardson_parameters.RICHARDSON_ROUNDING, min_steps=richardson_parameters.RICHARDSON_MIN_STEPS,
        slide=richardson_parameters.RICHARDSON_MAX_SLIDE)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_allclose(errors, expected_errors, rtol=1e-2, atol=1e-13 * np.abs(expected).max())


@pytest.mark.parametrize("method", ["forward", "backward", "complex"])
def test_jacobian_other_methods(backend, method):
    spec = resolve(3, method=method, order=2)
    got = gradjit.jacobian(complex_vector, POINTS, method=method, backend=backend)
    for r in range(3):
        def component(x, r=r):
            return complex_vector(x)[r]

        if method == "complex":
            expected = naive.complex_step(component, POINTS, spec.steps, spec.typical)
            np.testing.assert_allclose(got[:, r], expected, rtol=1e-13, atol=1e-15)
        else:
            expected = naive.one_sided(component, POINTS, spec.steps, spec.typical, 2, -1.0 if method == "backward" else 1.0)
            assert_matches(got[:, r], expected, 30.0, spec.steps.min())


@pytest.mark.parametrize("method", ["central", "forward", "richardson"])
def test_grid_gradient(backend, method):
    axes = (np.linspace(-1, 1, 4), np.linspace(0.5, 1.5, 3), np.array([0.25, 0.75]))
    got = gradjit.grid_gradient(analytic, axes, method=method, backend=backend, indexing="ij")
    mesh = np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=-1)
    spec = resolve(3, method=method)
    if method == "richardson":
        expected = richardson_oracle(analytic, mesh, spec.steps, spec.typical)[0]
        np.testing.assert_allclose(got.reshape(3, -1).T, expected, rtol=1e-12, atol=1e-12)
        return
    if method == "forward":
        expected = naive.one_sided(analytic, mesh, spec.steps, spec.typical, 2, 1.0)
    else:
        expected = naive.central(analytic, mesh, spec.steps, spec.typical, 2)
    assert_matches(got.reshape(3, -1).T, expected, f_scale(analytic, mesh), spec.steps.min())


def sine(t):
    return np.sin(t)


def test_derivative(backend):
    t = np.linspace(-2, 2, 7)
    spec = resolve(1, order=4)
    got = gradjit.derivative(sine, t, order=4, backend=backend)

    def on_points(x):
        return np.sin(x[0])

    expected = naive.central(on_points, t.reshape(-1, 1), spec.steps, spec.typical, 4)[:, 0]
    assert_matches(got, expected, 1.0, spec.steps.min())


def test_values(backend, rng):
    X = rng.normal(size=(9, 3))
    got = gradjit.api.values(analytic, X, backend=backend)
    np.testing.assert_allclose(got, [analytic(x) for x in X], rtol=1e-14)


def test_the_oracle_is_right_on_its_own():
    """The oracle's weights are the textbook ones, and it differentiates a cubic exactly."""
    np.testing.assert_allclose(naive.central_weights(4), [2 / 3, -1 / 12], rtol=1e-14)
    np.testing.assert_allclose(naive.forward_weights(2), [-1.5, 2.0, -0.5], rtol=1e-14)
    X = np.array([[0.5, -1.0]])

    def cubic(x):
        return x[0] ** 3 + 2.0 * x[0] * x[1]

    got = naive.central(cubic, X, np.array([1e-2, 1e-2]), np.array([-1.0, -1.0]), 4)
    np.testing.assert_allclose(got, [[3 * 0.25 - 2.0, 1.0]], rtol=1e-10)


def test_the_richardson_twin_uses_gradjits_parameters():
    # The twin's stopping and guard parameters are keyword defaults: they must not drift
    # from gradjit's (a twin with another gate would still agree on most smooth points).
    import inspect

    defaults = {name: p.default for name, p in inspect.signature(naive._tableau_entry).parameters.items()}
    assert defaults["slide_above"] == richardson_parameters.RICHARDSON_SLIDE_ABOVE
    assert defaults["kink_steady"] == richardson_parameters.KINK_STEADY
    assert defaults["kink_rounding"] == richardson_parameters.KINK_ROUNDING
