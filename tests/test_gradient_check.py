"""gradjit.check_gradient: the Taylor-remainder test of a hand-written gradient."""

from __future__ import annotations

import numpy as np
import pytest

import gradjit
from gradjit import problems
from gradjit.errors import ShapeError

CASES = [(name, d) for name, p in problems.PROBLEMS.items() for d in ([2] if p.dims else [2, 5])]


def _exact(problem):
    return lambda x: problem.gradient(x[None])[0]


@pytest.mark.parametrize(("name", "d"), CASES)
def test_no_false_failures_and_one_percent_errors_caught(name, d):
    problem = problems.get(name)
    X = problem.sample(400, d, seed=3)
    correct = gradjit.check_gradient(problem.f, _exact(problem), X)
    assert correct.all_consistent, correct.summary()
    assert np.all(correct.order > 1.5)

    wrong_coordinate = d - 1

    def one_percent_off(x):
        g = problem.gradient(x[None])[0]
        g[wrong_coordinate] *= 1.01
        return g

    wrong = gradjit.check_gradient(problem.f, one_percent_off, X)
    assert np.mean(~wrong.consistent) >= 0.99
    assert np.mean(wrong.worst_coordinate == wrong_coordinate) >= 0.99
    # Where it is missed, the error itself is tiny: 1% of a small derivative.
    missed = wrong.consistent
    assert np.all(np.abs(0.01 * problem.gradient(X[missed])[:, wrong_coordinate]) < 1e-2)


def test_one_point_gives_scalars_and_a_summary():
    def f(x):
        return x[0] ** 2 * x[1]

    def wrong(x):
        return np.array([2 * x[0] * x[1], 1.1 * x[0] ** 2])

    result = gradjit.check_gradient(f, wrong, [1.0, 2.0])
    assert not result.consistent
    assert np.ndim(result.order) == 0 and abs(result.order - 1.0) < 0.2
    assert result.worst_coordinate == 1
    assert abs(result.discrepancy - 0.1) < 1e-9
    text = str(result)
    assert "0 of 1 point(s) consistent" in text and "worst coordinate 1" in text


def test_affine_functions_and_functions_undefined_nearby():
    # On the NumPy backend: the verdicts are the same, without compiling three small functions.
    def affine(x, a):
        return a[0] * x[0] + a[1] * x[1] + 3.0

    a = np.array([2.0, -1.0])
    result = gradjit.check_gradient(affine, lambda x, a: a.copy(), np.zeros((4, 2)), args=(a,), backend="numpy")
    assert result.all_consistent and np.all(np.isinf(result.order))
    wrong = gradjit.check_gradient(affine, lambda x, a: a + [0.0, 1e-3], np.zeros((4, 2)), args=(a,), backend="numpy")
    assert not wrong.consistent.any()

    def log_barrier(x):
        return np.log(x[0]) + x[1]

    # Steps up to half the scale cross x0 = 0 from x0 = 0.1: f is NaN there, and the verdict is honest.
    result = gradjit.check_gradient(log_barrier, lambda x: np.array([1 / x[0], 1.0]), [0.1, 1.0], backend="numpy")
    assert bool(result.consistent) and result.order > 1.5


def test_the_numpy_backend_and_batch_shapes():
    problem = problems.get("himmelblau")
    X = problem.sample(12, seed=1).reshape(3, 4, 2)
    result = gradjit.check_gradient(problem.f, _exact(problem), X, backend="numpy")
    assert result.consistent.shape == (3, 4) and result.all_consistent


def test_bad_input():
    with pytest.raises(ShapeError, match="shape"):
        gradjit.check_gradient(lambda x: x[0], lambda x: np.zeros(3), [1.0, 2.0])
    with pytest.raises(ShapeError, match="directions"):
        gradjit.check_gradient(lambda x: x[0], lambda x: np.zeros(2), [1.0, 2.0], directions=0)
    with pytest.raises(TypeError, match="grad must be a callable"):
        gradjit.check_gradient(lambda x: x[0], None, [1.0, 2.0])
