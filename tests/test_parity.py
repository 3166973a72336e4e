"""The Numba kernels against the NumPy reference: same points, same stencil, same step.

Both backends evaluate f at the same points and combine the values in the same
order; the tolerance only allows f's own rounding to differ between compiled and
interpreted code (LLVM may fuse multiply-adds), which the quotient amplifies to
about eps * |f| / h.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gradjit
from gradjit.problems import PROBLEMS

PARITY_RTOL = 1e-12
EPS = np.finfo(np.float64).eps


def assert_parity(f, x, args=(), **options):
    fast = gradjit.gradient(f, x, args=args, **options)
    reference = gradjit.gradient(f, x, args=args, backend="numpy", **options)
    rows = np.asarray(x, dtype=np.float64).reshape(-1, np.shape(x)[-1])
    f_scale = max([abs(f(row, *args)) for row in rows[:200]], default=1.0)
    h = options.get("h")
    h_min = np.min(h) if h is not None else gradjit.stencils.default_step(options.get("order", 2))
    np.testing.assert_allclose(fast, reference, rtol=PARITY_RTOL, atol=64 * EPS * max(f_scale, 1.0) / h_min)
    return fast


@given(
    name=st.sampled_from(sorted(PROBLEMS)),
    order=st.sampled_from([2, 4, 6, 8]),
    n=st.integers(0, 40),
    d=st.sampled_from([2, 3, 5]),
    seed=st.integers(0, 2**16),
    step=st.sampled_from([None, "scalar", "vector"]),
)
def test_numba_matches_reference(name, order, n, d, seed, step):
    problem = PROBLEMS[name]
    X = problem.sample(n, d, seed=seed)
    d = X.shape[1]
    h = {None: None, "scalar": 1e-3, "vector": np.linspace(1e-4, 1e-3, d)}[step]
    got = assert_parity(problem.f, X, order=order, h=h)
    assert got.shape == X.shape


@pytest.mark.parametrize("layout", ["list", "int", "float32", "fortran", "strided", "3d"])
def test_layouts_give_the_reference_result(layout, rng):
    f = PROBLEMS["rosenbrock"].f
    base = rng.integers(-3, 4, size=(6, 4)).astype(np.float64)
    x = {
        "list": base.tolist(),
        "int": base.astype(np.int64),
        "float32": base.astype(np.float32),
        "fortran": np.asfortranarray(base),
        "strided": np.repeat(base, 2, axis=1)[:, ::2],
        "3d": base.reshape(2, 3, 4),
    }[layout]
    got = assert_parity(f, x)
    assert got.shape == np.shape(x) and got.dtype == np.float64
    np.testing.assert_allclose(got.reshape(base.shape), PROBLEMS["rosenbrock"].gradient(base), rtol=1e-7, atol=1e-6)


@pytest.mark.parametrize(
    "n, d",
    [(60_000, 2), (30_000, 6), (1_000, 70), (1, 3), (1, 200)],
    ids=["stack-rows-vectorised", "stack-rows-inlined", "heap-rows", "one-point-items", "one-point-many-items"],
)
def test_every_kernel_family_matches_the_reference(n, d):
    problem = PROBLEMS["styblinski_tang"]
    X = problem.sample(n, d, seed=n + d)
    check = slice(0, 300)  # the reference is slow: compare a slice, evaluated in the same call layout
    fast = gradjit.gradient(problem.f, X)
    reference = gradjit.gradient(problem.f, X[check], backend="numpy")
    np.testing.assert_array_equal(fast[check], reference)
    np.testing.assert_allclose(fast, problem.gradient(X), rtol=1e-7, atol=1e-6)


def test_large_batch_runs_the_parallel_path_and_matches(rng):
    X = PROBLEMS["himmelblau"].sample(30_000, seed=3)
    assert_parity(PROBLEMS["himmelblau"].f, X, order=4)


def test_one_point_with_many_coordinates_matches(rng):
    # A single point with many coordinates: the flattened (point, coordinate) kernel.
    x = rng.uniform(-2, 2, size=1000)  # 2 * 2 * 1000**2 >= the serial threshold: the items kernel
    got = assert_parity(PROBLEMS["rosenbrock"].f, x, order=4)
    # |f| ~ 1e6 here, so rounding limits the accuracy to ~ eps |f| / h ~ 1e-7.
    np.testing.assert_allclose(got, PROBLEMS["rosenbrock"].gradient(x[None])[0], rtol=1e-6, atol=1e-5)


def test_vectorized_reference_matches_the_kernels():
    problem = PROBLEMS["beale"]
    X = problem.sample(200, seed=5)
    fast = gradjit.gradient(problem.f, X, order=4)
    vectorised = gradjit.gradient(problem.batched, X, order=4, backend="numpy", vectorized=True)
    np.testing.assert_allclose(fast, vectorised, rtol=1e-9, atol=1e-7)


def test_extra_arguments_are_passed_through(rng):
    def weighted(x, w, offset):
        total = offset
        for i in range(x.size):
            total += w[i] * x[i] * x[i]
        return total

    w = rng.uniform(1, 2, size=3)
    X = rng.normal(size=(7, 3))
    got = assert_parity(weighted, X, args=(w, 1.5))
    np.testing.assert_allclose(got, 2 * w * X, rtol=1e-8)


def test_derivative_matches_reference_and_keeps_the_shape():
    def cube(t):
        return t * t * t

    x = np.linspace(-3, 3, 12).reshape(3, 4)
    fast = gradjit.derivative(cube, x, order=6)
    np.testing.assert_allclose(fast, gradjit.derivative(cube, x, order=6, backend="numpy"), rtol=1e-13)
    np.testing.assert_allclose(fast, 3 * x**2, rtol=1e-9, atol=1e-9)
    scalar = gradjit.derivative(cube, 2.0)
    assert np.ndim(scalar) == 0 and scalar == pytest.approx(12.0, rel=1e-9)


def test_numba_dispatchers_are_accepted_as_they_are():
    import numba

    @numba.njit
    def jitted(x):
        return x[0] * x[1]

    np.testing.assert_allclose(gradjit.gradient(jitted, [2.0, 3.0]), [3.0, 2.0], rtol=1e-9)


def scaled_distance(x, centre, scale):
    total = 0.0
    for i in range(x.size):
        r = x[i] - centre[i]
        total += scale * r * r
    return total


@pytest.mark.parametrize("n", [5, 80_000], ids=["serial", "parallel"])
def test_extra_arguments_reach_every_path(n, rng):
    centre = np.array([0.5, -1.0, 2.0])
    X = rng.normal(size=(n, 3))
    np.testing.assert_allclose(gradjit.gradient(scaled_distance, X, args=(centre, 3.0)), 6.0 * (X - centre), rtol=1e-7, atol=1e-7)
    axes = (np.linspace(-1, 1, 50), np.linspace(0, 2, 40), np.linspace(1, 3, 30 if n > 5 else 2))
    G = gradjit.grid_gradient(scaled_distance, axes, args=(centre, 3.0), indexing="ij")
    mesh = np.meshgrid(*axes, indexing="ij")
    for j in range(3):
        np.testing.assert_allclose(G[j], 6.0 * (mesh[j] - centre[j]), rtol=1e-7, atol=1e-7)
