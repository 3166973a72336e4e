"""gradjit.minimize: stopping rules, history, many starts, minibatches, schedules, jac."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

import gradjit
from gradjit import errors, optim
from gradjit.optim.loop import _Minibatches
from gradjit.problems import PROBLEMS


def bowl(x):
    return x[0] * x[0] + x[1] * x[1]


def test_plain_descent_follows_the_closed_form_and_records_its_path():
    result = gradjit.minimize(bowl, [-3.0, 4.0], lr=0.1, max_iter=20, gtol=0.0)
    k = np.arange(21)[:, None]
    np.testing.assert_allclose(result.history["x"], (0.8**k) * np.array([-3.0, 4.0]), rtol=1e-8, atol=1e-12)
    assert result.nit == 20 and result.status == 1 and not result.success
    assert result.history["lr"].tolist() == [0.1] * 21
    np.testing.assert_allclose(result.history["fun"], [bowl(x) for x in result.history["x"]], rtol=1e-12)


def test_convergence_is_reported_with_scipy_conventions():
    result = gradjit.minimize(bowl, [-3.0, 4.0], lr=0.1)
    assert result.success and result.status == 0 and "gtol" in result.message
    assert np.linalg.norm(result.grad) <= 1e-6
    assert result.nfev == (result.nit + 1) * (2 * 2 + 1)
    assert isinstance(result, dict) and result["x"] is result.x
    assert "success: True" in repr(result)


def test_a_learning_rate_too_large_diverges_and_keeps_a_finite_iterate():
    result = gradjit.minimize(bowl, [-3.0, 4.0], lr=10.0, max_iter=100)
    assert result.status == 2 and not result.success and "diverged" in result.message
    assert np.isfinite(result.x).all()


def test_a_learning_rate_too_small_hardly_moves():
    result = gradjit.minimize(bowl, [-3.0, 4.0], lr=1e-10, max_iter=100)
    assert result.status == 1
    np.testing.assert_allclose(result.x, [-3.0, 4.0], rtol=1e-7)


def test_a_vanishing_step_never_counts_as_convergence():
    # With h = 1e-4, x + h == x at 1e14: the classic loop sees a zero gradient and "converges".
    result = gradjit.minimize(bowl, [1e14, 1e14], lr=0.1, h=1e-4, max_iter=10)
    assert result.status == 2 and not result.success


def test_a_callback_can_stop_the_run():
    seen = []

    def stop_after_three(state):
        seen.append(state.nit)
        return state.nit >= 3

    result = gradjit.minimize(bowl, [-3.0, 4.0], lr=0.01, callback=stop_after_three)
    assert result.status == 3 and result.nit == 3 and seen == [0, 1, 2, 3]


def test_a_schedule_sets_the_learning_rate_of_each_step():
    schedule = optim.step_decay(0.2, factor=0.5, every=2)
    result = gradjit.minimize(bowl, [1.0, 1.0], schedule=schedule, max_iter=5, gtol=0.0)
    assert result.history["lr"].tolist() == [schedule(s) for s in range(6)]
    expected = np.array([1.0, 1.0])
    for s in range(5):
        expected = expected - schedule(s) * 2 * expected
    np.testing.assert_allclose(result.x, expected, rtol=1e-8)


@pytest.mark.parametrize("method", list(optim.OPTIMIZERS))
def test_many_starts_equal_each_start_run_alone(method):
    himmelblau = PROBLEMS["himmelblau"].f
    starts = PROBLEMS["himmelblau"].sample(6, seed=3)
    together = gradjit.minimize(himmelblau, starts, method=method, lr=0.01, max_iter=300, record=False)
    for i, start in enumerate(starts):
        alone = gradjit.minimize(himmelblau, start, method=method, lr=0.01, max_iter=300, record=False)
        np.testing.assert_array_equal(together.x[i], alone.x)
        assert together.nit[i] == alone.nit and together.status[i] == alone.status


def test_finished_rows_stop_moving_and_stop_being_evaluated():
    calls = []

    def counting_bowl(x):
        calls.append(x.copy())
        return x[0] * x[0] + x[1] * x[1]

    starts = np.array([[0.0, 0.0], [3.0, -4.0]])  # the first is already at the minimum
    result = gradjit.minimize(counting_bowl, starts, lr=0.1, backend="numpy")
    assert result.nit[0] == 0 and result.nit[1] > 10
    np.testing.assert_array_equal(result.x[0], [0.0, 0.0])
    # row 0: one gradient (4 calls) and one value; row 1: the same at every iterate
    assert len(calls) == 5 * 1 + 5 * (result.nit[1] + 1)


def _mixed_starts(n=5000, seed=1):
    # Starts that converge (near a minimum), run out of steps (far away) or
    # diverge (a learning rate too large for the steep outer region).
    return np.random.default_rng(seed).uniform(-6.0, 6.0, (n, 2))


# Learning rates at which some starts converge within 100 steps and others do not
# (plain descent at 0.02 also diverges from the steep outer region).
MIXED_LR = {"gd": 0.02, "momentum": 0.005, "nesterov": 0.002, "adagrad": 0.5, "rmsprop": 0.1, "adam": 0.2}


def _fields(result):
    return {key: result[key] for key in ("x", "fun", "grad", "nit", "status")}


@pytest.mark.parametrize("method", list(optim.OPTIMIZERS))
def test_the_fused_kernel_and_the_separate_passes_agree(method, monkeypatch):
    from gradjit.backends import numba_cpu

    himmelblau = PROBLEMS["himmelblau"].f
    options = {"method": method, "lr": MIXED_LR[method], "max_iter": 100, "gtol": 1e-2, "record": False}
    fused = gradjit.minimize(himmelblau, _mixed_starts(), **options)
    assert 0 in fused.status and len(set(fused.status.tolist())) >= 2  # rows stop at different steps
    monkeypatch.setattr(numba_cpu, "uses_row_kernel", lambda *shape: False)
    separate = gradjit.minimize(himmelblau, _mixed_starts(), **options)
    for key, value in _fields(fused).items():
        np.testing.assert_array_equal(value, separate[key], err_msg=key)


def sphere(x):
    total = 0.0
    for value in x:
        total += value * value
    return total


@pytest.mark.parametrize("d", [1, 3, 10, 70])  # vectorised entry, IR-inlined entry, heap rows (d > STACK_D)
def test_descent_on_a_sphere_follows_the_closed_form_in_any_dimension(d):
    starts = np.random.default_rng(d).normal(size=(5, d))
    result = gradjit.minimize(sphere, starts, lr=0.1, max_iter=7, gtol=0.0, record=False)
    np.testing.assert_allclose(result.x, 0.8**7 * starts, rtol=1e-7, atol=1e-12)
    assert (result.nit == 7).all() and (result.status == 1).all()


def test_watching_the_run_does_not_change_it():
    himmelblau = PROBLEMS["himmelblau"].f
    options = {"method": "gd", "lr": MIXED_LR["gd"], "max_iter": 100, "gtol": 1e-2}
    quiet = gradjit.minimize(himmelblau, _mixed_starts(), record=False, **options)
    watched = gradjit.minimize(himmelblau, _mixed_starts(), record=True, callback=lambda state: False, **options)
    for key, value in _fields(quiet).items():
        np.testing.assert_array_equal(value, watched[key], err_msg=key)
    # The history's last entry of a row is where it stopped.
    last = watched.history["x"][watched.nit, np.arange(watched.nit.size)]
    np.testing.assert_array_equal(last, watched.x)


def test_many_starts_map_the_four_minima_of_himmelblau():
    axis = np.linspace(-5, 5, 30)
    starts = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    result = gradjit.minimize(PROBLEMS["himmelblau"].f, starts, method="adam", lr=0.05, max_iter=3000, record=False)
    assert result.success.mean() > 0.99
    minima = np.unique(np.round(result.x[result.success], 2), axis=0)
    assert len(minima) == 4


def test_minibatches_are_epochs_without_replacement_and_reproducible():
    X, y = np.arange(10.0)[:, None], np.arange(10.0)
    batches = _Minibatches((X, y), 3, seed=7)
    epoch = np.concatenate([batches.next()[1] for _ in range(3)])
    assert len(set(epoch)) == 9  # no repeats inside an epoch
    again = _Minibatches((X, y), 3, seed=7)
    np.testing.assert_array_equal(np.concatenate([again.next()[1] for _ in range(3)]), epoch)


def squared_error(w, X, y):
    total = 0.0
    for i in range(y.size):
        r = w[0] * X[i, 0] + w[1] * X[i, 1] - y[i]
        total += r * r
    return total / y.size


def test_minibatch_regression_reaches_least_squares():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2))
    y = X @ np.array([2.0, -1.0]) + 0.01 * rng.normal(size=500)
    run = lambda seed: gradjit.minimize(squared_error, [0.0, 0.0], data=(X, y), batch_size=50, seed=seed,
                                        method="adam", lr=0.05, max_iter=600, gtol=0.0, record=False)
    first, second = run(1), run(1)
    np.testing.assert_array_equal(first.x, second.x)
    np.testing.assert_allclose(first.x, np.linalg.lstsq(X, y, rcond=None)[0], atol=0.02)
    assert not np.array_equal(run(2).x, first.x)


def test_jac_drives_scipy_bfgs_to_the_analytic_minimum():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rosen = PROBLEMS["rosenbrock"]
    numerical = scipy_optimize.minimize(rosen.f, [-1.2, 1.0], jac=gradjit.jac(rosen.f, order=4), method="BFGS")
    analytic = scipy_optimize.minimize(rosen.f, [-1.2, 1.0], jac=lambda x: rosen.gradient(x[None])[0], method="BFGS")
    assert numerical.success and analytic.success
    np.testing.assert_allclose(numerical.x, analytic.x, atol=1e-5)
    np.testing.assert_allclose(numerical.x, [1.0, 1.0], atol=1e-5)


def test_progress_bar_shows_the_steps(capsys):
    result = gradjit.minimize(bowl, [1.0, 1.0], lr=0.1, progress=True)
    assert result.success
    shown = capsys.readouterr().err
    assert "step" in shown and "grad_norm" in shown


BAD = [
    (lambda: gradjit.minimize(bowl, [1.0, 1.0], method="newton"), errors.OptionError, "method must be one of"),
    (lambda: gradjit.minimize(bowl, [1.0, 1.0], lr=-1.0), errors.OptionError, "lr must be a finite number > 0"),
    (lambda: gradjit.minimize(bowl, [1.0, 1.0], max_iter=0), errors.OptionError, "max_iter must be an integer >= 1"),
    (lambda: gradjit.minimize(bowl, [1.0, 1.0], gtol=-1.0), errors.OptionError, "gtol must be"),
    (lambda: gradjit.minimize(bowl, [1.0, 1.0], schedule=0.1), errors.OptionError, "schedule must be None or a callable"),
    (lambda: gradjit.minimize(bowl, 1.0), errors.ShapeError, r"x0 must have shape \(d,\) or \(N, d\)"),
    (lambda: gradjit.minimize(bowl, np.ones((2, 2, 2))), errors.ShapeError, "x0 must have shape"),
    (lambda: gradjit.minimize(bowl, [1.0, 1.0], batch_size=4), errors.OptionError, "give data"),
    (lambda: gradjit.minimize(squared_error, [1.0, 1.0], data=(np.ones((4, 2)), np.ones(3))), errors.ShapeError, "same"),
    (lambda: gradjit.minimize(squared_error, [1.0, 1.0], data=(np.ones((4, 2)), np.ones(4)), batch_size=5),
     errors.OptionError, "at most the number of samples"),
    (lambda: gradjit.jac(bowl, vectorized=True), errors.OptionError, "jac takes the gradient options"),
]


@pytest.mark.parametrize("call, exception, message", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_arguments(call, exception, message):
    with pytest.raises(exception, match=message):
        call()


def test_the_start_is_not_modified_and_record_false_has_no_history():
    start = np.array([[1.0, 2.0], [3.0, 4.0]])
    result = gradjit.minimize(bowl, start, lr=0.1, record=False)
    np.testing.assert_array_equal(start, [[1.0, 2.0], [3.0, 4.0]])
    assert "history" not in result and result.success.all()


def _raises_outside_the_box(x):
    if x[0] < 0.0 or x[0] > 2.0 or x[1] < -1.0 or x[1] > 1.0:
        raise ValueError("evaluated outside the box")
    return (x[0] - 3.0) * (x[0] - 3.0) + x[1] * x[1]


def test_the_box_keeps_every_evaluation_and_iterate_inside():
    # The unconstrained minimum (3, 0) lies outside: projected descent stops on the edge.
    result = gradjit.minimize(_raises_outside_the_box, [1.0, 0.5], lr=0.1, max_iter=200, box=([0.0, -1.0], [2.0, 1.0]))
    np.testing.assert_allclose(result.x, [2.0, 0.0], atol=1e-6)
    history = result.history["x"]
    assert (history[:, 0] >= 0.0).all() and (history[:, 0] <= 2.0).all()


@pytest.mark.parametrize("difference", ["richardson", "forward", "complex"])
def test_other_difference_methods_follow_the_central_path(difference):
    def bowl(x):
        return (x[0] - 1.0) * (x[0] - 1.0) + 3.0 * x[1] * x[1] + x[0] * x[1]

    starts = np.array([[2.0, 1.0], [-1.0, 0.5], [0.5, -2.0]])
    central = gradjit.minimize(bowl, starts, lr=0.05, max_iter=60, gtol=0.0)
    other = gradjit.minimize(bowl, starts, lr=0.05, max_iter=60, gtol=0.0, difference=difference)
    np.testing.assert_allclose(other.x, central.x, rtol=1e-5, atol=1e-6)


def _amsgrad(x, g, moments, c):
    mean = c.b1 * moments[0] + (1.0 - c.b1) * g
    squares = c.b2 * moments[1] + (1.0 - c.b2) * g * g
    largest = np.maximum(moments[2], squares)
    return x - c.lr * (mean / c.bias1) / (np.sqrt(largest / c.bias2) + c.eps), (mean, squares, largest)


@dataclass(frozen=True)
class AMSGrad(optim.Optimizer):
    """Adam with the running maximum of the second moment: a third moment."""

    lr: float = 0.01
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    n_moments: ClassVar[int] = 3
    rule: ClassVar[Callable] = staticmethod(_amsgrad)
    coefficients_type: ClassVar[type] = optim.rules.AdamCoefficients

    def coefficients(self, lr, count):
        return optim.rules.AdamCoefficients(lr, self.b1, self.b2, self.eps, 1.0 - self.b1**count, 1.0 - self.b2**count)


def _amsgrad_counting(x, g, moments, c):
    # AMSGrad with a fourth moment that counts the steps: more than three moments are
    # gathered by the kernels' generic path.
    mean = c.b1 * moments[0] + (1.0 - c.b1) * g
    squares = c.b2 * moments[1] + (1.0 - c.b2) * g * g
    largest = np.maximum(moments[2], squares)
    new_x = x - c.lr * (mean / c.bias1) / (np.sqrt(largest / c.bias2) + c.eps)
    return new_x, (mean, squares, largest, moments[3] + 1.0)


@dataclass(frozen=True)
class CountingAMSGrad(AMSGrad):
    n_moments: ClassVar[int] = 4
    rule: ClassVar[Callable] = staticmethod(_amsgrad_counting)


@pytest.mark.parametrize("optimizer", [AMSGrad, CountingAMSGrad], ids=["three moments", "four moments"])
def test_optimizers_with_more_moments_run_in_the_compiled_loop(optimizer):
    # More moments are a new rule and a longer tuple: the kernels' inputs do not change.
    himmelblau = PROBLEMS["himmelblau"].f
    starts = PROBLEMS["himmelblau"].sample(40, seed=2)
    compiled = gradjit.minimize(himmelblau, starts, method=optimizer(lr=0.05), max_iter=50, gtol=0.0, record=False)
    x, state, opt = starts.copy(), optimizer(lr=0.05).init(starts), optimizer(lr=0.05)
    for _ in range(50):
        x, state = opt.step(x, gradjit.gradient(himmelblau, x), state)
    np.testing.assert_allclose(compiled.x, x, rtol=1e-12, atol=1e-12)
    assert len(state.moments) == optimizer.n_moments
