"""workers=: the NumPy reference's evaluations spread over threads or processes,
with the same bits as without workers."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import gradjit
from gradjit.errors import OptionError


def python_only(x, a):
    # A dict of strings per call: Python work that Numba would not compile as written.
    table = {"a": a, "b": np.sin(x[0])}
    return table["a"] * float(np.dot(x, x)) + table["b"] * x[-1] ** 3


def vector_field(x):
    return np.array([x[0] * x[1], np.sin(x[-1]), np.sum(x) ** 2])


def fails_above_one(x):
    if x[0] > 1.0:
        raise RuntimeError("the simulator failed above x0 = 1")
    return x[0] ** 2


ONE = np.linspace(-1.0, 1.5, 9)
BATCH = np.random.default_rng(3).uniform(-1.0, 1.0, (12, 4))


@pytest.mark.parametrize("x", [ONE, BATCH], ids=["one point: coordinates split", "batch: points split"])
@pytest.mark.parametrize(("method", "order"), [("central", 4), ("forward", 2), ("richardson", 2), ("complex", 2)])
def test_gradient_is_the_same_bits_on_threads(x, method, order):
    options = {"args": (2.0,), "backend": "numpy", "method": method, "order": order}
    if method == "complex":
        f, options["args"] = (lambda y: y[0] * y[1] + np.sin(y[-1])), ()
    else:
        f = python_only
    if method == "richardson":
        options["full_output"] = True
    alone, spread = gradjit.gradient(f, x, **options), gradjit.gradient(f, x, workers=3, **options)
    if method != "richardson":
        alone, spread = (alone,), (spread,)
    for a, b in zip(alone, spread, strict=True):  # with Richardson: the gradient and its error estimates
        np.testing.assert_array_equal(a, b)


def test_hessian_jacobian_derivative_and_minimize_on_threads():
    for x in (ONE[:5], BATCH[:3]):
        for method in ("central", "richardson"):
            np.testing.assert_array_equal(gradjit.hessian(python_only, x, args=(0.5,), backend="numpy", method=method, workers=4),
                                          gradjit.hessian(python_only, x, args=(0.5,), backend="numpy", method=method))
        np.testing.assert_array_equal(gradjit.jacobian(vector_field, x, backend="numpy", workers=4),
                                      gradjit.jacobian(vector_field, x, backend="numpy"))
    t = np.linspace(0.1, 2.0, 7)
    np.testing.assert_array_equal(gradjit.derivative(np.log, t, backend="numpy", n=2, workers=2),
                                  gradjit.derivative(np.log, t, backend="numpy", n=2))
    a = gradjit.minimize(python_only, ONE, args=(1.0,), backend="numpy", lr=0.05, max_iter=15)
    b = gradjit.minimize(python_only, ONE, args=(1.0,), backend="numpy", lr=0.05, max_iter=15, workers=2)
    np.testing.assert_array_equal(a.x, b.x)


def test_a_process_pool_map_and_exceptions_reach_the_caller():
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        np.testing.assert_array_equal(gradjit.gradient(python_only, ONE, args=(2.0,), backend="numpy", workers=pool.map),
                                      gradjit.gradient(python_only, ONE, args=(2.0,), backend="numpy"))
        with pytest.raises(RuntimeError, match="simulator failed"):
            gradjit.gradient(fails_above_one, [1.5, 2.0], backend="numpy", workers=pool.map)
    with pytest.raises(RuntimeError, match="simulator failed"):
        gradjit.gradient(fails_above_one, [[0.5, 2.0], [1.5, 0.0]], backend="numpy", workers=2)


def test_bad_workers():
    with pytest.raises(OptionError, match="backend='numpy'"):
        gradjit.gradient(python_only, ONE, args=(1.0,), workers=2)
    for bad in (0, -1, "threads", 2.5, True):
        with pytest.raises(OptionError, match="workers must be"):
            gradjit.gradient(python_only, ONE, args=(1.0,), backend="numpy", workers=bad)
    with pytest.raises(OptionError, match="vectorized"):
        gradjit.gradient(lambda X: np.sum(X, axis=1), BATCH, backend="numpy", vectorized=True, workers=2)
