"""The first call on a new function (Numba compiles its kernels), timed apart from steady state."""

import numpy as np
import pytest

import gradjit

POINT = np.array([0.3, -0.2])
BATCH = np.random.default_rng(0).uniform(-1, 1, size=(200_000, 2))
AXES = (np.linspace(-1, 1, 500), np.linspace(-1, 1, 500))


def new_function():
    # A new Python function object each round: nothing is cached for it.
    def f(x):
        return x[0] * x[0] - 2.0 * x[0] * x[1] + x[1] * x[1]

    return (f,), {}


@pytest.mark.parametrize("layout", ["point", "batch", "grid"])
def test_first_call_on_a_new_function(benchmark, layout):
    call = {
        "point": lambda f: gradjit.gradient(f, POINT),
        "batch": lambda f: gradjit.gradient(f, BATCH),
        "grid": lambda f: gradjit.grid_gradient(f, AXES),
    }[layout]
    benchmark.group = "first call (compile)"
    benchmark.pedantic(call, setup=new_function, rounds=3, warmup_rounds=0)


def test_repeat_call_compiles_nothing(benchmark):
    def f(x):
        return x[0] * x[0] + x[1]

    gradjit.gradient(f, POINT)
    benchmark.group = "first call (compile)"
    benchmark(gradjit.gradient, f, POINT)
