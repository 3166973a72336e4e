"""Thread-count invariance, concurrent calls, special values, exceptions, no mutation."""

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pytest

import gradjit
from gradjit import _config
from gradjit.problems import PROBLEMS

rosenbrock = PROBLEMS["rosenbrock"].f
himmelblau = PROBLEMS["himmelblau"].f


def test_threading_layer_is_safe_for_concurrent_launches():
    assert _config.threading_layer() in ("omp", "tbb")


@pytest.mark.parametrize(
    "f, x",
    [
        (himmelblau, PROBLEMS["himmelblau"].sample(40_000, seed=1)),  # per-d stack kernel
        (rosenbrock, PROBLEMS["rosenbrock"].sample(3, 4000, seed=2)),  # flattened (point, coordinate) kernel
    ],
    ids=["many-points", "few-points-many-coordinates"],
)
def test_same_bits_whatever_the_number_of_threads(f, x):
    results = [gradjit.gradient(f, x, threads=t) for t in range(1, numba.config.NUMBA_NUM_THREADS + 1)]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_grid_same_bits_whatever_the_number_of_threads():
    axes = (np.linspace(-3, 3, 211), np.linspace(-2, 2, 199))
    one = gradjit.grid_gradient(himmelblau, axes, threads=1)
    np.testing.assert_array_equal(one, gradjit.grid_gradient(himmelblau, axes))


def test_thread_count_is_restored_after_a_call():
    before = numba.get_num_threads()
    gradjit.gradient(himmelblau, PROBLEMS["himmelblau"].sample(40_000), threads=1)
    assert numba.get_num_threads() == before


def test_eight_python_threads_at_once_get_correct_results():
    problem = PROBLEMS["himmelblau"]
    batches = [problem.sample(30_000, seed=s) for s in range(8)]
    expected = [gradjit.gradient(problem.f, X) for X in batches]
    axes = (np.linspace(-4, 4, 300), np.linspace(-4, 4, 200))
    grid_expected = gradjit.grid_gradient(problem.f, axes)

    def work(i):
        for _ in range(5):
            if i % 2:
                np.testing.assert_array_equal(gradjit.gradient(problem.f, batches[i]), expected[i])
            else:
                np.testing.assert_array_equal(gradjit.grid_gradient(problem.f, axes), grid_expected)
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(8)))


def test_nan_and_inf_stay_in_the_affected_entries():
    def separable(x):
        return x[0] * x[0] + 3.0 * x[1] + np.sin(x[2])

    X = np.tile([1.0, 2.0, 0.5], (50_000, 1))
    X[7, 1] = np.nan
    X[9, 0] = np.inf
    got = gradjit.gradient(separable, X)
    bad = ~np.isfinite(got).all(axis=1)
    assert set(np.flatnonzero(bad)) == {7, 9}  # other rows untouched
    np.testing.assert_allclose(np.delete(got, [7, 9], axis=0), np.tile([2.0, 3.0, np.cos(0.5)], (49_998, 1)), rtol=1e-8)


def test_non_finite_values_of_f_only_affect_their_coordinates():
    def pole(x):
        return 1.0 / x[0] + x[1] * x[1]

    got = gradjit.gradient(pole, [[0.0, 1.0], [2.0, 3.0]])
    assert not np.isfinite(got[0]).all()
    np.testing.assert_allclose(got[1], [-0.25, 6.0], rtol=1e-8)


def raises_above_one(x):
    if x[0] > 1.0:
        raise ValueError("x0 must stay below 1")
    return x[0] * x[0] + x[1]


@pytest.mark.parametrize("n", [1, 50_000], ids=["serial", "parallel"])
def test_exceptions_raised_by_f_reach_the_caller(n):
    X = np.zeros((n, 2))
    X[n // 2, 0] = 2.0
    with pytest.raises(ValueError, match="x0 must stay below 1"):
        gradjit.gradient(raises_above_one, X)
    with pytest.raises(ValueError, match="x0 must stay below 1"):
        gradjit.gradient(raises_above_one, X[n // 2 - 1 : n // 2 + 2] if n > 1 else X, backend="numpy")


@pytest.mark.parametrize("shape", [(0, 3), (0,), (4, 0, 2)])
def test_empty_input_gives_an_empty_result(shape):
    got = gradjit.gradient(rosenbrock, np.empty(shape))
    assert got.shape == shape
    assert gradjit.gradient(rosenbrock, np.empty(shape), backend="numpy").shape == shape


def test_inputs_are_never_mutated(backend):
    X = PROBLEMS["beale"].sample(30, seed=4)
    X.flags.writeable = False  # any write would raise
    weights = np.array([1.0, 2.0])
    before = weights.copy()

    def weighted(x, w):
        return w[0] * x[0] * x[0] + w[1] * x[1]

    gradjit.gradient(weighted, X, args=(weights,), backend=backend)
    gradjit.grid_gradient(weighted, (X[:, 0], X[:, 1]), args=(weights,), backend=backend)
    gradjit.derivative(lambda t: t * t, X[:, 0], backend=backend)
    np.testing.assert_array_equal(weights, before)


def test_out_aliasing_the_input_is_safe():
    X = PROBLEMS["himmelblau"].sample(100, seed=9)
    expected = PROBLEMS["himmelblau"].gradient(X)
    result = gradjit.gradient(himmelblau, X, out=X)
    assert result is X
    np.testing.assert_allclose(X, expected, rtol=1e-7, atol=1e-7)


def test_kernels_are_compiled_once_and_reused():
    from gradjit.backends import _launch, numba_cpu

    X = PROBLEMS["booth"].sample(50_000, seed=1)  # large enough for the parallel driver
    gradjit.gradient(PROBLEMS["booth"].f, X, jit="inline")
    memo = gradjit._memo.memo_of(PROBLEMS["booth"].f)  # every kernel compiled for f lives in f's memo
    before = set(memo), len(_launch._drivers)
    gradjit.gradient(PROBLEMS["booth"].f, X * 2, jit="inline")
    assert (set(memo), len(_launch._drivers)) == before
    compiled = gradjit._objective.compiled_call(PROBLEMS["booth"].f, ())
    kernel = numba_cpu._rows(gradjit._objective.inline_call(compiled), (0.5,), 2, "unit")
    assert len(_launch._guarded(kernel).signatures) == 1  # one compiled specialisation, not one per call
    assert not kernel.signatures  # the plain kernel is compiled only to re-raise an exception of f


@pytest.mark.parametrize("backend_name", ["numba", "numpy"])
def test_float32_storage_rounds_the_float64_result(backend_name):
    """dtype=float32 stores the float64 result rounded (the arithmetic stays float64),
    for the gradient, its error estimates, an out= array and the Jacobian."""
    X = np.random.default_rng(3).normal(size=(7, 3)).astype(np.float32)

    def f(x):
        return x[0] * x[0] * x[1] + np.sin(x[2])

    exact = gradjit.gradient(f, X, backend=backend_name)
    assert exact.dtype == np.float64
    stored = gradjit.gradient(f, X, backend=backend_name, dtype=np.float32)
    assert stored.dtype == np.float32 and np.array_equal(stored, exact.astype(np.float32))
    out = np.empty((7, 3), np.float32)
    assert gradjit.gradient(f, X, backend=backend_name, out=out) is out
    assert np.array_equal(out, stored)
    found, error = gradjit.gradient(f, X, backend=backend_name, method="richardson", full_output=True, dtype="float32")
    assert found.dtype == error.dtype == np.float32

    def F(x):
        return np.array([x[0] * x[1], np.cos(x[2])])

    jacobian = gradjit.jacobian(F, X, backend=backend_name)
    assert np.array_equal(gradjit.jacobian(F, X, backend=backend_name, dtype=np.float32), jacobian.astype(np.float32))
