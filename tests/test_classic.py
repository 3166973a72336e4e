"""gradjit.classic against the seeds' NumPy code (tests/classic_reference.py)."""

import warnings

import classic_reference as seed
import numpy as np
import pytest

from gradjit import classic
from gradjit.classic import FallbackWarning

# The classic quotient divides by the nominal h = 1e-4; gradjit by the step
# actually taken, (x + h) - x, which differs by up to ulp(x) / h ~ 2e-11 relative.
CLASSIC_RTOL = 1e-10


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def cube(x):
    return x**3


def test_numerical_diff_reproduces_the_seeds():
    assert seed.numerical_diff(cube, 10) == 300.00000000939053  # the seed's printed value
    assert classic.numerical_diff(cube, 10) == pytest.approx(300.00000000939053, rel=CLASSIC_RTOL)
    # ... and it is the closer of the two to the exact central difference, 300 + h^2:
    assert abs(classic.numerical_diff(cube, 10) - 300.00000001) < abs(seed.numerical_diff(cube, 10) - 300.00000001)
    for x in (5, 10):
        assert classic.numerical_diff(function_1, x) == pytest.approx(seed.numerical_diff(function_1, x), rel=CLASSIC_RTOL)


def test_numerical_diff_of_an_array_is_elementwise():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(classic.numerical_diff(cube, x), seed.numerical_diff(cube, x), rtol=CLASSIC_RTOL)


@pytest.mark.parametrize("point", [[3.0, 4.0], [0.0, 2.0], [3.0, 0.0]])
def test_numerical_gradient_reproduces_the_seeds(point):
    expected = seed.numerical_gradient(function_2, np.array(point))
    np.testing.assert_allclose(classic.numerical_gradient(function_2, np.array(point)), expected, rtol=CLASSIC_RTOL, atol=1e-12)


def test_the_seeds_gradient_field_with_their_own_function():
    # seed 001: the quiver of -grad over a meshgrid, with function_2 branching on x.ndim.
    x0 = np.arange(-2, 2.5, 0.25)
    x1 = np.arange(-2, 2.5, 0.25)
    X, Y = np.meshgrid(x0, x1)
    points = np.array([X.flatten(), Y.flatten()]).T
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)  # it compiles: no fallback
        got = classic.numerical_gradient(seed.function_2, points).T
    expected = seed.numerical_gradient(seed.function_2, points.copy()).T
    np.testing.assert_allclose(got, expected, rtol=CLASSIC_RTOL, atol=1e-10)


def test_integer_input_gives_the_right_answer_where_the_classic_code_does_not():
    X = np.array([3, 4])
    assert not np.allclose(seed.numerical_gradient(function_2, X.copy()), [6, 8])  # truncated garbage
    got = classic.numerical_gradient(function_2, X)
    np.testing.assert_allclose(got, [6.0, 8.0], rtol=1e-9)
    assert got.dtype == np.float64


def test_inputs_are_not_mutated():
    X = np.array([[3.0, 4.0], [1.0, -2.0]])
    before = X.copy()
    classic.numerical_gradient(function_2, X)
    classic.numerical_diff(cube, X)
    np.testing.assert_array_equal(X, before)


def test_gradient_descent_reproduces_the_seed_figure():
    init_seed, init_ours = np.array([-3.0, 4.0]), np.array([-3.0, 4.0])
    x_seed, history_seed = seed.gradient_descent(function_2, init_seed, lr=0.1, step_num=20)
    x, history = classic.gradient_descent(function_2, init_ours, lr=0.1, step_num=20)
    assert history.shape == (20, 2)
    np.testing.assert_allclose(history, history_seed, rtol=CLASSIC_RTOL, atol=1e-12)
    np.testing.assert_allclose(x, x_seed, rtol=CLASSIC_RTOL, atol=1e-12)
    assert x is init_ours  # updated in place, as the classic code does


def test_gradient_descent_on_integers_and_lists_works_on_a_copy():
    start = np.array([-3, 4])
    x, _ = classic.gradient_descent(function_2, start, lr=0.1, step_num=100)
    np.testing.assert_allclose(x, [0.0, 0.0], atol=1e-8)
    np.testing.assert_array_equal(start, [-3, 4])
    x, _ = classic.gradient_descent(function_2, [-3.0, 4.0], lr=0.1, step_num=100)
    np.testing.assert_allclose(x, [0.0, 0.0], atol=1e-8)


def test_a_learning_rate_too_large_diverges_visibly():
    # The classic code runs on into garbage (it freezes once x + h == x and reports
    # a finite point); gradjit stops at the divergence and says so.
    x_seed, _ = seed.gradient_descent(function_2, np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    assert np.isfinite(x_seed).all()
    with pytest.warns(RuntimeWarning, match="diverged after"):
        x, history = classic.gradient_descent(function_2, np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    assert np.isfinite(x).all() and len(history) < 100
    np.testing.assert_allclose(history[:3], seed.gradient_descent(function_2, np.array([-3.0, 4.0]), lr=10.0, step_num=3)[1], rtol=1e-6)


def test_gradient_descent_from_the_minimum_repeats_it_like_the_classic_code():
    x, history = classic.gradient_descent(function_2, np.array([0.0, 0.0]), lr=0.1, step_num=5)
    np.testing.assert_array_equal(history, np.zeros((5, 2)))
    np.testing.assert_array_equal(x, [0.0, 0.0])


class _Net:
    """The book's pattern: the loss reads its weights through `self`, not its argument."""

    def __init__(self):
        self.W = np.array([[0.5, -1.0], [2.0, 0.25]])

    def loss(self):
        return float(np.sum(self.W**2) + self.W[0, 1] * self.W[1, 0])


def test_uncompilable_functions_fall_back_with_one_warning():
    net = _Net()
    before = net.W.copy()

    def loss_W(W):
        return net.loss()

    with pytest.warns(FallbackWarning, match="falling back to the NumPy reference") as record:  # noqa: PT031
        grad = classic.numerical_gradient(loss_W, net.W)
        classic.numerical_gradient(loss_W, net.W)
    assert len([w for w in record if issubclass(w.category, FallbackWarning)]) == 1
    expected = 2 * before + np.array([[0.0, before[1, 0]], [before[0, 1], 0.0]])
    np.testing.assert_allclose(grad, expected, rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(net.W, before)  # perturbed in place, restored exactly


def test_fallback_for_numerical_diff():
    table = {"scale": 3.0}

    def scaled(x):
        return table["scale"] * x * x

    with pytest.warns(FallbackWarning):
        assert classic.numerical_diff(scaled, 2.0) == pytest.approx(12.0, rel=1e-8)
