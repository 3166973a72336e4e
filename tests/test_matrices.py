"""gradjit.hessian and gradjit.jacobian: analytic values, symmetry, parity with the
NumPy reference, batch shapes, accuracy on the test-function suite, bad input."""

import numpy as np
import pytest

import gradjit
from gradjit import errors
from gradjit.problems import hessian_relative_errors


def cubic(x):
    return x[0] ** 2 * x[1] + 3.0 * x[1] ** 2 + np.sin(x[0] * x[2])


def cubic_hessian(x):
    a, b, c = x
    s = np.sin(a * c)
    return np.array([
        [2 * b - c * c * s, 2 * a, np.cos(a * c) - a * c * s],
        [2 * a, 6.0, 0.0],
        [np.cos(a * c) - a * c * s, 0.0, -a * a * s],
    ])


def F(x):
    return np.array([x[0] * x[1], x[0] + x[1] ** 2, np.sin(x[0]) * x[2], np.exp(x[2])])


def F_jacobian(x):
    a, b, c = x
    return np.array([[b, a, 0.0], [1.0, 2 * b, 0.0], [np.cos(a) * c, 0.0, np.sin(a)], [0.0, 0.0, np.exp(c)]])


POINTS = np.random.default_rng(0).uniform(-1.5, 1.5, (50, 3))


def test_hessian_matches_the_analytic_one_and_is_exactly_symmetric():
    H = gradjit.hessian(cubic, POINTS)
    assert H.shape == (50, 3, 3)
    np.testing.assert_array_equal(H, np.swapaxes(H, 1, 2))
    exact = np.array([cubic_hessian(p) for p in POINTS])
    np.testing.assert_allclose(H, exact, atol=2e-6)  # second differences: ~sqrt(eps) times the scale of f


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 5, 3)])
def test_hessian_batch_shapes_and_parity_with_the_reference(shape):
    x = np.random.default_rng(1).normal(size=shape)
    fast = gradjit.hessian(cubic, x)
    reference = gradjit.hessian(cubic, x, backend="numpy")
    assert fast.shape == (*shape[:-1], 3, 3)
    np.testing.assert_allclose(fast, reference, rtol=1e-12, atol=1e-12)


def test_hessian_of_one_point_with_many_variables_runs_in_parallel_and_is_exact_for_a_quadratic():
    from gradjit._config import SERIAL_WORK_THRESHOLD

    d = 80
    assert 4 * (d * (d + 1) // 2) * d >= SERIAL_WORK_THRESHOLD  # enough work for the parallel path
    A = np.random.default_rng(2).normal(size=(d, d))
    A = A + A.T

    def quadratic(x, A):
        return 0.5 * (x @ (A @ x))

    x = np.random.default_rng(3).normal(size=d)
    one = gradjit.hessian(quadratic, x, args=(A,), threads=1)
    many = gradjit.hessian(quadratic, x, args=(A,))
    np.testing.assert_array_equal(one, many)  # bitwise, whatever the slicing
    np.testing.assert_allclose(many, A, atol=1e-5 * np.abs(A).max())


def test_hessian_median_error_on_the_suite_is_below_1e_6():
    assert np.median(hessian_relative_errors(n=30)) <= 1e-6


def test_jacobian_matches_the_analytic_one_for_each_order():
    exact = np.array([F_jacobian(p) for p in POINTS])
    for order, tolerance in [(2, 1e-8), (4, 1e-10), (8, 1e-11)]:
        J = gradjit.jacobian(F, POINTS, order=order)
        assert J.shape == (50, 4, 3)
        np.testing.assert_allclose(J, exact, atol=tolerance * np.maximum(1.0, np.abs(exact)).max())


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 2, 3)])
def test_jacobian_shapes_and_parity_with_the_reference(shape):
    x = np.random.default_rng(4).normal(size=shape)
    fast = gradjit.jacobian(F, x, order=4)
    assert fast.shape == (*shape[:-1], 4, 3)
    np.testing.assert_allclose(fast, gradjit.jacobian(F, x, order=4, backend="numpy"), rtol=1e-12, atol=1e-12)


def test_the_points_are_not_modified():
    x = POINTS.copy()
    gradjit.hessian(cubic, x)
    gradjit.jacobian(F, x)
    np.testing.assert_array_equal(x, POINTS)


def ragged(x):
    if x[0] > 0.5:
        return np.array([x[0], x[1], 1.0])
    return np.array([x[0], x[1]])


BAD = [
    (lambda: gradjit.jacobian(cubic, [1.0, 2.0, 3.0]), errors.ObjectiveError, "must return a 1-D array"),
    (lambda: gradjit.jacobian(ragged, [[0.0, 1.0], [1.0, 2.0]]), errors.ObjectiveError, "same length m at every point"),
    (lambda: gradjit.jacobian(ragged, [[0.0, 1.0], [1.0, 2.0]], backend="numpy"), errors.ObjectiveError, "length 2 at every point"),
    (lambda: gradjit.jacobian(lambda x: np.ones((2, 2)), [1.0, 2.0]), errors.ObjectiveError, "1-D array"),
    (lambda: gradjit.jacobian(F, [1.0, 2.0, 3.0], order=3), errors.OrderError, "order"),
    (lambda: gradjit.hessian(cubic, [1.0, 2.0, 3.0], h=0.0), errors.StepError, "every step h must be finite and nonzero"),
    (lambda: gradjit.hessian(cubic, 1.0), errors.ShapeError, "scalar"),
    (lambda: gradjit.hessian(lambda x: np.ones(2), [1.0, 2.0]), errors.ObjectiveError, "real scalar"),
]


def test_a_hessian_too_large_for_memory_is_refused(monkeypatch):
    from gradjit import _chunks

    monkeypatch.setattr(_chunks, "available_memory", lambda: 10**6)
    with pytest.raises(errors.OutputTooLarge, match="needs"):
        gradjit.hessian(cubic, np.zeros((10**5, 3)))  # 10**5 * 3 * 3 * 8 bytes = 7.2 MB > 1 MB


@pytest.mark.parametrize("call, exception, message", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_arguments(call, exception, message):
    with pytest.raises(exception, match=message):
        call()


def G(x):
    return np.array([x[0] * x[1], np.sin(x[0]) * x[2], np.exp(x[2]), np.log(x[1])])


def G_jacobian(x):
    a, b, c = x
    return np.array([[b, a, 0.0], [np.cos(a) * c, 0.0, np.sin(a)], [0.0, 0.0, np.exp(c)], [0.0, 1.0 / b, 0.0]])


@pytest.mark.parametrize("bounds", [None, ([0.0, 1e-3, 0.0], [2.0, 2.0, 2.0])], ids=["free", "bounded"])
def test_richardson_jacobian_entries_and_their_estimates(bounds):
    # Each component has its own tableau and best candidate, with estimates that bound the
    # errors. With bounds, log(x1) is never evaluated at x1 < 1e-3: at x1 = 0.02 six central
    # steps fit, from 0.017 down, and give d log / dx1 within 2e-8.
    X = np.random.default_rng(5).uniform(0.1, 2.0, (40, 3))
    X[:5, 1] = 0.02
    exact = np.array([G_jacobian(x) for x in X])
    for backend in ("numba", "numpy"):
        J, estimate = gradjit.jacobian(G, X, method="richardson", full_output=True, bounds=bounds, backend=backend)
        np.testing.assert_allclose(J, exact, rtol=1e-11 if bounds is None else 1e-7, atol=1e-13)
        assert np.mean(np.abs(J - exact) <= estimate) >= 0.99
    np.testing.assert_allclose(gradjit.jacobian(G, X, method="richardson", bounds=bounds),
                               gradjit.jacobian(G, X, method="richardson", bounds=bounds, backend="numpy"), rtol=1e-14,
                               atol=1e-14)
    if bounds is not None:  # on the bound log varies on the scale of x: x_scale says so
        J = gradjit.jacobian(G, [1.0, 1e-3, 1.0], method="richardson", bounds=bounds, x_scale="auto")
        np.testing.assert_allclose(J[3, 1], 1e3, rtol=1e-12)
