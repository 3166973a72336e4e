"""Optimizers and schedules: closed forms, hand-computed first steps, identities, convergence."""

import math

import numpy as np
import pytest

from gradjit import errors, optim
from gradjit.problems import PROBLEMS

X0 = np.array([1.0, -2.0])


def quadratic_gradient(x):
    return 2.0 * x  # f = sum(x**2)


def run(optimizer, x0, gradient, steps, lr=None):
    x, state = np.array(x0, dtype=float), optimizer.init(np.asarray(x0, dtype=float))
    for _ in range(steps):
        x, state = optimizer.step(x, gradient(x), state, lr)
    return x


def test_plain_descent_on_a_quadratic_follows_the_closed_form():
    for lr in (0.1, 0.25, 0.4):
        for k in (1, 5, 20):
            np.testing.assert_allclose(run(optim.GradientDescent(lr), X0, quadratic_gradient, k), (1 - 2 * lr) ** k * X0, rtol=1e-12)


# First two steps by hand, from x0 = (1, -2) on f = sum(x**2) (grad = 2x), lr = 0.1.
def _hand_momentum(nesterov):
    mu, lr, x, v = 0.9, 0.1, X0.copy(), np.zeros(2)
    out = []
    for _ in range(2):
        g = 2 * x
        v = mu * v - lr * g
        x = x + (mu * mu * v - (1 + mu) * lr * g if nesterov else v)
        out.append(x)
    return out


def _hand_adagrad():
    lr, eps, x, h = 0.1, 1e-7, X0.copy(), np.zeros(2)
    out = []
    for _ in range(2):
        g = 2 * x
        h = h + g * g
        x = x - lr * g / (np.sqrt(h) + eps)
        out.append(x)
    return out


def _hand_rmsprop():
    lr, rho, eps, x, h = 0.1, 0.99, 1e-7, X0.copy(), np.zeros(2)
    out = []
    for _ in range(2):
        g = 2 * x
        h = rho * h + (1 - rho) * g * g
        x = x - lr * g / (np.sqrt(h) + eps)
        out.append(x)
    return out


def _hand_adam():
    lr, b1, b2, eps, x = 0.1, 0.9, 0.999, 1e-8, X0.copy()
    m, v, out = np.zeros(2), np.zeros(2), []
    for t in (1, 2):
        g = 2 * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        out.append(x)
    return out


FIRST_STEPS = {
    "gd": [X0 * 0.8, X0 * 0.64],
    "momentum": _hand_momentum(False),
    "nesterov": _hand_momentum(True),
    "adagrad": _hand_adagrad(),
    "rmsprop": _hand_rmsprop(),
    "adam": _hand_adam(),
}


@pytest.mark.parametrize("name", optim.OPTIMIZERS)
def test_first_steps_match_hand_computed_values(name):
    optimizer = optim.get(name, lr=0.1)
    for k, expected in enumerate(FIRST_STEPS[name], start=1):
        np.testing.assert_allclose(run(optimizer, X0, quadratic_gradient, k), expected, rtol=1e-13)


def test_adam_first_step_moves_each_coordinate_by_about_lr():
    # With bias correction the first Adam step is lr * sign(g) (up to eps).
    x = run(optim.Adam(lr=0.05), X0, quadratic_gradient, 1)
    np.testing.assert_allclose(x - X0, -0.05 * np.sign(X0), rtol=1e-6)


def test_nesterov_and_momentum_without_momentum_are_plain_descent():
    expected = run(optim.GradientDescent(0.1), X0, quadratic_gradient, 7)
    for optimizer in (optim.Momentum(0.1, momentum=0.0), optim.Nesterov(0.1, momentum=0.0)):
        np.testing.assert_allclose(run(optimizer, X0, quadratic_gradient, 7), expected, rtol=1e-14)


def test_adam_without_first_moment_is_bias_corrected_rmsprop():
    rho, lr, eps = 0.9, 0.05, 1e-8
    x, h = X0.copy(), np.zeros(2)
    for t in range(1, 6):
        g = 2 * x
        h = rho * h + (1 - rho) * g * g
        x = x - lr * g / (np.sqrt(h / (1 - rho**t)) + eps)
    np.testing.assert_allclose(run(optim.Adam(lr, b1=0.0, b2=rho, eps=eps), X0, quadratic_gradient, 5), x, rtol=1e-13)


@pytest.mark.parametrize("name", optim.OPTIMIZERS)
def test_a_stack_of_points_is_many_independent_runs(name):
    optimizer = optim.get(name, lr=0.05)
    starts = np.array([[1.0, -2.0], [0.5, 3.0], [-4.0, 0.25]])
    together = run(optimizer, starts, quadratic_gradient, 6)
    for i, start in enumerate(starts):
        np.testing.assert_array_equal(together[i], run(optimizer, start, quadratic_gradient, 6))


@pytest.mark.parametrize("name", optim.OPTIMIZERS)
def test_inputs_are_not_modified(name):
    optimizer = optim.get(name)
    x, g = X0.copy(), np.array([0.5, -0.5])
    state = optimizer.init(x)
    before = [np.array(a, copy=True) for a in state]
    optimizer.step(x, g, state)
    np.testing.assert_array_equal(x, X0)
    np.testing.assert_array_equal(g, [0.5, -0.5])
    for a, b in zip(state, before):
        np.testing.assert_array_equal(a, b)


# (optimizer, steps) that reach Rosenbrock's minimum (1, 1) from (-1.2, 1) with the exact gradient.
ROSENBROCK_RUNS = {
    "gd": (optim.GradientDescent(lr=1e-3), 60_000),
    "momentum": (optim.Momentum(lr=2e-4, momentum=0.9), 30_000),
    "nesterov": (optim.Nesterov(lr=2e-4, momentum=0.9), 30_000),
    "adagrad": (optim.AdaGrad(lr=0.5), 30_000),
    "rmsprop": (optim.RMSprop(lr=1e-3, decay=0.99), 20_000),
    "adam": (optim.Adam(lr=0.02), 10_000),
}


@pytest.mark.parametrize("name", optim.OPTIMIZERS)
def test_every_optimizer_reaches_the_minimum_of_rosenbrock(name):
    optimizer, steps = ROSENBROCK_RUNS[name]
    gradient = PROBLEMS["rosenbrock"].gradient
    x = run(optimizer, [-1.2, 1.0], lambda x: gradient(x[None])[0], steps)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=2e-2)


def test_schedules_have_their_documented_values():
    assert [optim.step_decay(0.1, 0.5, 10)(s) for s in (0, 9, 10, 25)] == [0.1, 0.1, 0.05, 0.025]
    assert optim.exponential_decay(1.0, rate=0.5, every=2)(4) == pytest.approx(0.25)
    assert optim.inverse_time_decay(1.0, k=0.5)(2) == pytest.approx(0.5)
    cosine = optim.cosine_decay(1.0, steps=10, final=0.1)
    assert cosine(0) == pytest.approx(1.0) and cosine(5) == pytest.approx(0.55) and cosine(10) == cosine(99) == pytest.approx(0.1)
    assert optim.constant(0.3)(1234) == 0.3
    assert repr(optim.cosine_decay(1.0, steps=10)) == "cosine_decay(1.0, steps=10, final=0.0)"
    assert math.isclose(optim.step_decay(0.1, factor=1.0)(10_000), 0.1)


BAD = [
    (lambda: optim.GradientDescent(lr=0), "lr must be a finite number > 0"),
    (lambda: optim.GradientDescent(lr=float("nan")), "lr must be"),
    (lambda: optim.Momentum(momentum=1.0), r"momentum must be in \[0, 1\)"),
    (lambda: optim.RMSprop(decay=-0.1), r"decay must be in \[0, 1\)"),
    (lambda: optim.Adam(b2=1.5), r"b2 must be in \[0, 1\)"),
    (lambda: optim.AdaGrad(eps=0), "eps must be a finite number > 0"),
    (lambda: optim.Nesterov(momentum=-0.5), r"momentum must be in \[0, 1\)"),
    (lambda: optim.Adam(b1=1.0), r"b1 must be in \[0, 1\)"),
    (lambda: optim.Adam(eps=-1e-8), "eps must be a finite number > 0"),
    (lambda: optim.RMSprop(eps=0.0), "eps must be a finite number > 0"),
    (lambda: optim.Adam(lr=-1.0), "lr must be a finite number > 0"),
    (lambda: optim.get("sgd-with-magic"), "method must be one of"),
    (lambda: optim.step_decay(0.1, factor=1.5), r"factor must be in \[0, 1\]"),
    (lambda: optim.step_decay(0.1, every=0), "every must be an integer >= 1"),
    (lambda: optim.exponential_decay(0.1, rate=0), "rate must be a finite number > 0"),
    (lambda: optim.inverse_time_decay(0.1, k=-1), "k must be a finite number >= 0"),
    (lambda: optim.cosine_decay(0.1, steps=0), "steps must be an integer >= 1"),
    (lambda: optim.cosine_decay(0.1, steps=5, final=0.2), "final must not exceed lr"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_hyper_parameters_are_rejected(call, message):
    with pytest.raises(errors.OptionError, match=message):
        call()


def test_get_accepts_objects_and_overrides_lr():
    adam = optim.Adam(lr=0.5, b1=0.8)
    assert optim.get(adam) is adam
    assert optim.get(adam, lr=0.1) == optim.Adam(lr=0.1, b1=0.8)
    assert optim.get("nesterov").nesterov is True
