"""Functions as users write them: NumPy ufuncs and math functions passed as f,
plain Python helpers that f calls, and default arguments."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import gradjit
from gradjit.errors import CompileError

T = np.linspace(-1.5, 1.5, 13)


@pytest.mark.parametrize(("f", "exact"), [(np.cos, lambda t: -np.sin(t)), (np.exp, np.exp), (math.sin, np.cos),
                                          (math.atan, lambda t: 1.0 / (1.0 + t * t))])
def test_ufuncs_and_math_functions_are_accepted(f, exact):
    found = gradjit.derivative(f, T, method="richardson")
    np.testing.assert_allclose(found, exact(T), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(gradjit.derivative(f, T), gradjit.derivative(f, T, backend="numpy"))


def test_a_ufunc_of_two_inputs_takes_the_second_from_args():
    found = gradjit.derivative(np.arctan2, T, args=(2.0,), method="richardson")
    np.testing.assert_allclose(found, 2.0 / (T * T + 4.0), rtol=0, atol=1e-12)


def square(t):
    return t * t


def bowl(x):
    return square(x[0]) + 3.0 * square(x[1])


def calls_bowl(x, a):
    return a * bowl(x) + np.sum(x)  # a helper of a helper, and a NumPy function Numba knows


def exact_calls_bowl(x, a):
    return np.array([2.0 * a * x[0] + 1.0, 6.0 * a * x[1] + 1.0])


def test_plain_python_helpers_are_compiled_for_f():
    x = np.array([0.5, -1.5])
    for jit in ("fast-start", "inline"):
        found = gradjit.gradient(calls_bowl, x, args=(2.0,), jit=jit)
        np.testing.assert_allclose(found, exact_calls_bowl(x, 2.0), rtol=1e-8)
    np.testing.assert_array_equal(gradjit.gradient(calls_bowl, x, args=(2.0,)),
                                  gradjit.gradient(calls_bowl, x, args=(2.0,), backend="numpy"))
    # The user's module is left as it was: the helpers are compiled in copies.
    assert isinstance(globals()["bowl"], types.FunctionType)
    assert isinstance(globals()["square"], types.FunctionType)


def test_helpers_in_closures():
    def make(k):
        def scale(t):
            return k * t

        def f(x):
            return scale(x[0] * x[1])

        return f

    np.testing.assert_allclose(gradjit.gradient(make(3.0), [2.0, 5.0]), [15.0, 6.0], rtol=1e-8)


def not_compilable(t):
    return object() or t


def calls_not_compilable(x):
    return not_compilable(x[0])


def test_a_helper_numba_cannot_compile_is_named():
    with pytest.raises(CompileError, match="f calls not_compilable, which Numba cannot compile"):
        gradjit.gradient(calls_not_compilable, [1.0, 2.0])


def test_recursive_helpers_run_again_in_a_new_process(tmp_path):
    # Numba's cached code cannot link a recursive call: gradjit keeps such an f out of its disk
    # cache. The second process would crash if it loaded the first one's kernels.
    script = textwrap.dedent("""
        import gradjit
        def factorial(n):
            return 1.0 if n <= 1 else n * factorial(n - 1)
        def f(x):
            return factorial(4) * x[0] * x[1]
        print(gradjit.gradient(f, [1.0, 2.0]).round(6).tolist())
    """)
    path = tmp_path / "recursive.py"
    path.write_text(script)
    env = {**os.environ, "GRADJIT_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):
        run = subprocess.run([sys.executable, str(path)], check=False, capture_output=True, text=True, env=env, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.stdout.strip() == "[48.0, 24.0]"


def with_defaults(x, a, b=2.0, c=-1.0):
    return a * x[0] * x[0] + b * x[1] + c * x[0] * x[1]


@pytest.mark.parametrize("jit", ["fast-start", "inline"])
def test_default_arguments_are_honoured(jit):
    x = np.array([1.0, 3.0])
    np.testing.assert_array_equal(gradjit.gradient(with_defaults, x, args=(4.0,), jit=jit),
                                  gradjit.gradient(with_defaults, x, args=(4.0, 2.0, -1.0), jit=jit))
    np.testing.assert_array_equal(gradjit.gradient(with_defaults, x, args=(4.0, 5.0), jit=jit),
                                  gradjit.gradient(with_defaults, x, args=(4.0, 5.0, -1.0), jit=jit))
    np.testing.assert_array_equal(gradjit.hessian(with_defaults, x, args=(4.0,)),
                                  gradjit.hessian(with_defaults, x, args=(4.0,), backend="numpy"))


def test_a_missing_argument_without_default_is_explained():
    with pytest.raises(gradjit.errors.ObjectiveError, match="args="):
        gradjit.gradient(with_defaults, [1.0, 2.0])
