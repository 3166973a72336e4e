"""backend="cuda": parity with the CPU backends, accuracy, device arrays, chunking, bad input.

Without a GPU these run on Numba's CUDA simulator (tests/conftest.py sets
NUMBA_ENABLE_CUDASIM=1), which executes the kernels' Python on the CPU: small
inputs only. There the kernels run the very formulas the NumPy reference runs, so
the results are compared bit for bit; on a GPU, to the documented tolerance
(:func:`assert_matches_cpu`). ``test_every_kernel_compiles_for_a_gpu`` compiles
every kernel family to PTX for a real GPU, which the simulator cannot check.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import naive
import numpy as np
import pytest
from test_oracle import assert_matches as assert_oracle
from test_oracle import f_scale

import gradjit
from gradjit import _cuda
from gradjit._spec import resolve
from gradjit.errors import CompileError, DTypeError, OptionError, ShapeError
from gradjit.optim import Adam, GradientDescent, Nesterov
from gradjit.problems import PROBLEMS
from gradjit.stencils import METHODS

pytestmark = pytest.mark.skipif(_cuda.missing() is not None, reason=f"backend='cuda' cannot run: {_cuda.missing()}")

if _cuda.missing() is None:
    from numba import cuda

    from gradjit.backends import cuda as cuda_backend


#: tests/cuda_ptx.py's exit status when NVVM is not installed.
NO_NVVM = 3


def assert_matches_cpu(found, expected, *, scale: float = 1.0) -> None:
    """The README's tolerance: the same bits on the simulator; on a GPU, within
    ``1e-9 * scale`` (FMA contraction and libdevice's math change f's last bits, and a
    difference quotient divides them by a step of about 1e-5)."""
    found, expected = np.asarray(found), np.asarray(expected)
    if _cuda.simulated():
        np.testing.assert_array_equal(found, expected)
    else:
        np.testing.assert_allclose(found, expected, rtol=1e-9, atol=1e-9 * scale)


def f_with_args(x, a):
    return x[0] * x[0] * a + math.sin(x[1]) * x[0] + math.exp(0.3 * x[2])


def polynomial(x):
    return x[0] * x[0] * x[1] + 3.0 * x[1] * x[2] * x[2] - x[0]


def vector(x):
    return x[0] * x[1], math.sin(x[0]) + x[1] * x[1], math.exp(0.5 * x[1])


def vector_numpy(x):
    return np.array(vector(x))


@pytest.fixture(scope="module")
def points():
    return np.random.default_rng(18).uniform(-1.5, 1.5, size=(5, 3))


# ------------------------------------------------------------------ gradients


GRADIENT_METHODS = [("central", 2), ("central", 4), ("central", 6), ("central", 8), ("forward", 1), ("forward", 3),
                    ("backward", 2), ("backward", 4), ("richardson", 2)]


@pytest.mark.parametrize(("method", "order"), GRADIENT_METHODS)
def test_gradient_matches_the_numpy_reference(method, order, points):
    x_before = points.copy()
    found = gradjit.gradient(f_with_args, points, args=(2.5,), method=method, order=order, backend="cuda")
    expected = gradjit.gradient(f_with_args, points, args=(2.5,), method=method, order=order, backend="numpy")
    assert_matches_cpu(found, expected, scale=10.0)
    np.testing.assert_array_equal(points, x_before)  # the caller's array is never written


def test_complex_step_and_bounds_and_absolute_steps(points):
    for options in ({"method": "complex"}, {"bounds": (-1.6, 1.6), "order": 4}, {"h": 1e-4}, {"x_scale": 10.0}):
        found = gradjit.gradient(polynomial, points, backend="cuda", **options)
        assert_matches_cpu(found, gradjit.gradient(polynomial, points, backend="numpy", **options), scale=10.0)


def test_richardson_error_estimates(points):
    found, errors = gradjit.gradient(f_with_args, points, args=(2.5,), method="richardson", full_output=True, backend="cuda")
    expected, expected_errors = gradjit.gradient(f_with_args, points, args=(2.5,), method="richardson", full_output=True,
                                                 backend="numpy")
    assert_matches_cpu(found, expected, scale=10.0)
    assert_matches_cpu(errors, expected_errors, scale=1e-3)


@pytest.mark.parametrize("name", ["rosenbrock", "ackley", "rastrigin", "styblinski_tang"])
def test_accuracy_against_analytic_gradients(name):
    """Independent of the reference: order 4's error is O(h^4) + rounding/h, 1e-8 relative here."""
    problem = PROBLEMS[name]
    x = problem.sample(6, 4, seed=3)
    found = gradjit.gradient(problem.f, x, order=4, backend="cuda")
    exact = problem.gradient(x)
    assert np.max(np.abs(found - exact) / np.maximum(1.0, np.abs(exact))) < 1e-8


def test_derivative_and_higher_derivatives():
    t = np.linspace(-1.0, 2.0, 7)
    assert_matches_cpu(gradjit.derivative(np.cos, t, backend="cuda"), gradjit.derivative(np.cos, t, backend="numpy"))
    for n, order in [(2, 2), (3, 4)]:
        found = gradjit.derivative(math.exp, t, n=n, order=order, backend="cuda")
        assert_matches_cpu(found, gradjit.derivative(math.exp, t, n=n, order=order, backend="numpy"), scale=1e3)
        np.testing.assert_allclose(found, np.exp(t), rtol=1e-4)
    assert float(gradjit.derivative(lambda s: s ** 3, 2.0, backend="cuda")) == pytest.approx(12.0, rel=1e-9)


# ------------------------------------------------- the independent oracle


def rational(x):
    """Analytic in every coordinate with arithmetic only (the complex step on the device)."""
    return x[0] * x[1] * x[2] + x[0] * x[0] * x[0] / (2.0 + x[1] * x[1]) + 0.5 * x[2] * x[2] * x[0]


def rational_vector(x):
    return x[0] * x[1], x[2] * x[2] * x[2] - x[0] / (3.0 + x[1] * x[1])


@pytest.mark.parametrize(("method", "order"), [(name, order) for name, m in METHODS.items() for order in m.orders])
def test_every_method_matches_its_textbook_twin(method, order, points):
    """tests/naive.py shares no formula with gradjit: a mistake in a shared formula fails here."""
    spec = resolve(3, method=method, order=order)
    got = gradjit.gradient(rational, points, method=method, order=order, backend="cuda")
    expected = naive.GRADIENTS[method](rational, points, spec.steps, spec.typical, order)
    h = spec.steps.min() if METHODS[method].formula in ("central", "one-sided") else 1.0
    assert_oracle(got, expected, f_scale(rational, points), h)


def test_hessian_and_jacobian_match_their_textbook_twins(points):
    spec = resolve(3, kind="hessian")
    np.testing.assert_allclose(gradjit.hessian(rational, points, backend="cuda"),
                               naive.hessian(rational, points, spec.steps, spec.typical), rtol=1e-7,
                               atol=256 * np.finfo(float).eps * f_scale(rational, points) / spec.steps.min() ** 2)
    spec = resolve(3, order=4)
    expected = naive.jacobian(lambda x: np.array(rational_vector(x)), points, naive.central, spec.steps, spec.typical, 4)
    assert_oracle(gradjit.jacobian(rational_vector, points, order=4, backend="cuda"), expected, 30.0, spec.steps.min())


# ---------------------------------------------------------- Hessians, Jacobians


@pytest.mark.parametrize("method", ["central", "richardson", "forward", "backward", "complex"])
def test_hessian_matches_the_numpy_reference(method, points):
    found = gradjit.hessian(polynomial, points, method=method, backend="cuda")
    assert found.shape == (5, 3, 3)
    assert_matches_cpu(found, gradjit.hessian(polynomial, points, method=method, backend="numpy"), scale=1e3)


def test_hessian_of_one_point_and_its_analytic_value():
    H = gradjit.hessian(polynomial, np.array([1.0, 2.0, -1.0]), order=4, backend="cuda")
    exact = np.array([[4.0, 2.0, 0.0], [2.0, 0.0, -6.0], [0.0, -6.0, 12.0]])
    np.testing.assert_allclose(H, exact, atol=1e-6)


@pytest.mark.parametrize("method", ["central", "forward", "richardson"])
def test_jacobian_of_a_tuple_valued_F(method, points):
    found = gradjit.jacobian(vector, points, method=method, backend="cuda")
    assert found.shape == (5, 3, 3)
    assert_matches_cpu(found, gradjit.jacobian(vector_numpy, points, method=method, backend="numpy"), scale=10.0)


def test_jacobian_by_the_complex_step(points):
    def analytic(x):  # math.sin takes no complex numbers; products and sums do
        return x[0] * x[1], x[2] * x[2] - x[0]

    found = gradjit.jacobian(analytic, points, method="complex", backend="cuda")
    expected = gradjit.jacobian(lambda x: np.array(analytic(x)), points, method="complex", backend="numpy")
    assert_matches_cpu(found, expected, scale=10.0)


# ------------------------------------------------------------------------ grids


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("method", ["central", "richardson", "forward"])
def test_grid_matches_the_numpy_reference(indexing, method):
    axes = [np.linspace(-1.0, 1.0, 5), np.linspace(0.0, 2.0, 3), np.linspace(-0.5, 0.5, 2)]
    found = gradjit.grid_gradient(polynomial, axes, indexing=indexing, method=method, backend="cuda")
    assert found.shape == (3, 3, 5, 2) if indexing == "xy" else (3, 5, 3, 2)
    assert_matches_cpu(found, gradjit.grid_gradient(polynomial, axes, indexing=indexing, method=method, backend="numpy"),
                       scale=10.0)


def test_two_dimensional_grid_into_a_device_array():
    axes = [np.linspace(-2.0, 2.0, 7), np.linspace(-1.0, 1.0, 4)]
    out = cuda.device_array((2, 4, 7))
    returned = gradjit.grid_gradient(PROBLEMS["saddle"].f, axes, backend="cuda", out=out)
    assert returned is out
    assert_matches_cpu(out.copy_to_host(), gradjit.grid_gradient(PROBLEMS["saddle"].f, axes, backend="numpy"))


def test_grid_in_several_launches_on_the_device(monkeypatch):
    monkeypatch.setattr(gradjit._device_api, "GRID_POINTS_PER_LAUNCH", 5)
    axes = [np.linspace(-2.0, 2.0, 7), np.linspace(-1.0, 1.0, 4)]
    out = cuda.device_array((2, 4, 7))
    gradjit.grid_gradient(polynomial_2d, axes, backend="cuda", out=out)
    assert_matches_cpu(out.copy_to_host(), gradjit.grid_gradient(polynomial_2d, axes, backend="numpy"))


def polynomial_2d(x):
    return x[0] * x[0] * x[1] - 2.0 * x[1]


# ------------------------------------------------ the same bits however it runs


def test_results_do_not_depend_on_the_launch_configuration(monkeypatch, points):
    results = []
    for threads in (1, 7, 32, 128):
        monkeypatch.setattr(cuda_backend, "THREADS_PER_BLOCK", threads)
        results.append((gradjit.gradient(f_with_args, points, args=(2.5,), order=4, backend="cuda"),
                        gradjit.hessian(polynomial, points, backend="cuda")))
    for gradient, hessian in results[1:]:
        np.testing.assert_array_equal(gradient, results[0][0])
        np.testing.assert_array_equal(hessian, results[0][1])


def test_host_arrays_are_chunked_to_fit_the_device(monkeypatch, points):
    whole = (gradjit.gradient(f_with_args, points, args=(2.5,), backend="cuda"),
             gradjit.hessian(polynomial, points, method="richardson", backend="cuda"),
             gradjit.jacobian(vector, points, backend="cuda"),
             gradjit.grid_gradient(polynomial_2d, [np.linspace(0, 1, 9), np.linspace(0, 1, 5)], backend="cuda"))
    monkeypatch.setattr(cuda_backend, "CHUNK_BYTES", 64)  # a row or two at a time
    chunks = []
    monkeypatch.setattr(cuda_backend, "_chunked", _recording(cuda_backend._chunked, chunks))
    chunked = (gradjit.gradient(f_with_args, points, args=(2.5,), backend="cuda"),
               gradjit.hessian(polynomial, points, method="richardson", backend="cuda"),
               gradjit.jacobian(vector, points, backend="cuda"),
               gradjit.grid_gradient(polynomial_2d, [np.linspace(0, 1, 9), np.linspace(0, 1, 5)], backend="cuda"))
    assert len(chunks) > 4 * 2  # every call took several chunks
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_array_equal(a, b)


def _recording(chunked, chunks):
    def recording(n, bytes_per_row):
        for piece in chunked(n, bytes_per_row):
            chunks.append(piece)
            yield piece
    return recording


# ------------------------------------------------------------------- device arrays


def test_device_arrays_stay_on_the_device(points):
    x = cuda.to_device(points)
    g = gradjit.gradient(f_with_args, x, args=(2.5,), backend="cuda")
    assert _cuda.is_device_array(g) and g.shape == (5, 3)
    assert_matches_cpu(g.copy_to_host(), gradjit.gradient(f_with_args, points, args=(2.5,), backend="numpy"), scale=10.0)
    out = cuda.device_array((5, 3))
    assert gradjit.gradient(f_with_args, x, args=(2.5,), backend="cuda", out=out) is out
    np.testing.assert_array_equal(out.copy_to_host(), g.copy_to_host())
    value, error = gradjit.gradient(f_with_args, x, args=(2.5,), backend="cuda", method="richardson", full_output=True)
    assert _cuda.is_device_array(value) and _cuda.is_device_array(error)
    H = gradjit.hessian(polynomial, x, backend="cuda")
    assert H.shape == (5, 3, 3)
    assert_matches_cpu(H.copy_to_host(), gradjit.hessian(polynomial, points, backend="numpy"), scale=1e3)
    J = gradjit.jacobian(vector, x, backend="cuda")
    assert J.shape == (5, 3, 3)
    one = gradjit.derivative(math.sin, cuda.to_device(np.array(0.5)), backend="cuda")
    assert one.shape == () and float(one.copy_to_host()) == pytest.approx(math.cos(0.5), rel=1e-9)
    t = cuda.to_device(np.linspace(0.0, 1.0, 4))
    assert_matches_cpu(gradjit.derivative(math.sin, t, backend="cuda").copy_to_host(),
                       gradjit.derivative(math.sin, np.linspace(0.0, 1.0, 4), backend="numpy"))
    np.testing.assert_array_equal(x.copy_to_host(), points)


def test_device_arrays_with_batch_shapes_and_array_arguments():
    weights = np.array([1.0, 0.5, 2.0])
    x = np.random.default_rng(1).normal(size=(2, 3, 3))
    g = gradjit.gradient(weighted, cuda.to_device(x), args=(cuda.to_device(weights),), backend="cuda")
    assert g.shape == (2, 3, 3)
    assert_matches_cpu(g.copy_to_host(), gradjit.gradient(weighted, x, args=(weights,), backend="numpy"), scale=10.0)
    # A NumPy array argument is copied to the device for a host call.
    assert_matches_cpu(gradjit.gradient(weighted, x, args=(weights,), backend="cuda"),
                       gradjit.gradient(weighted, x, args=(weights,), backend="numpy"), scale=10.0)


def weighted(x, w):
    total = 0.0
    for j in range(x.size):
        total += w[j] * x[j] ** 4
    return total


def test_bounds_with_device_points_are_checked_on_a_host_copy(points):
    with pytest.raises(OptionError, match="inside the bounds"):
        gradjit.gradient(polynomial, cuda.to_device(points), backend="cuda", bounds=(-1.0, 1.0))
    found = gradjit.gradient(polynomial, cuda.to_device(points), backend="cuda", bounds=(-2.0, 2.0))
    assert_matches_cpu(found.copy_to_host(), gradjit.gradient(polynomial, points, backend="numpy", bounds=(-2.0, 2.0)),
                       scale=10.0)


def test_bad_device_input_gets_a_clear_error(points):
    x = cuda.to_device(points)
    with pytest.raises(OptionError, match="backend='cuda'"):
        gradjit.gradient(polynomial, x)
    with pytest.raises(OptionError, match="backend='cuda'"):
        gradjit.hessian(polynomial, x, backend="numpy")
    with pytest.raises(DTypeError, match="float64"):
        gradjit.gradient(polynomial, cuda.to_device(points.astype(np.float32)), backend="cuda")
    with pytest.raises(ShapeError, match="C-contiguous"):
        gradjit.gradient(polynomial, cuda.to_device(np.asfortranarray(points)), backend="cuda")
    with pytest.raises(ShapeError, match="shape"):
        gradjit.gradient(polynomial, x, backend="cuda", out=cuda.device_array((3, 5)))
    with pytest.raises(ShapeError, match="shares memory"):
        gradjit.gradient(polynomial, x, backend="cuda", out=x)
    with pytest.raises(DTypeError, match="device array"):
        gradjit.gradient(polynomial, x, backend="cuda", out=np.empty((5, 3)))
    with pytest.raises(OptionError, match="host"):
        gradjit.gradient(polynomial, x, backend="cuda", dtype=np.float32)
    with pytest.raises(ShapeError, match="scalar"):
        gradjit.gradient(polynomial, cuda.to_device(np.float64(1.0).reshape(())), backend="cuda")


# ----------------------------------------------------------------- bad options


def test_options_the_device_does_not_take(points):
    with pytest.raises(OptionError, match="structured"):
        gradjit.gradient(vector, points, terms=True, backend="cuda")
    with pytest.raises(OptionError, match="whole Hessians"):
        gradjit.hessian(polynomial, points, sparsity=np.ones((3, 3), dtype=bool), backend="cuda")
    with pytest.raises(OptionError, match="workers"):
        gradjit.gradient(polynomial, points, workers=2, backend="cuda")
    with pytest.raises(OptionError, match="vectorized"):
        gradjit.gradient(polynomial, points, vectorized=True, backend="cuda")


def test_a_missing_package_or_gpu_is_named(monkeypatch):
    try:
        monkeypatch.setattr(_cuda, "_installed", lambda: False)
        _cuda.missing.cache_clear()
        assert "numba-cuda" in _cuda.missing() and "gradjit[cuda]" in _cuda.missing()
        monkeypatch.setattr(_cuda, "_installed", lambda: True)
        monkeypatch.setattr(_cuda, "simulated", lambda: False)
        monkeypatch.setattr(cuda, "is_available", lambda: False)
        _cuda.missing.cache_clear()
        assert _cuda.missing().startswith("no CUDA GPU")
        with pytest.raises(OptionError, match="backend 'cuda' cannot run here: no CUDA GPU"):
            gradjit.gradient(polynomial, [1.0, 2.0, 3.0], backend="cuda")
    finally:
        _cuda.missing.cache_clear()


def test_a_compile_failure_names_f_and_the_device_subset(monkeypatch):
    from numba.core.errors import TypingError

    class Refusing:
        def __getitem__(self, configuration):
            def launch(*arguments):
                raise TypingError("No implementation of function Function(<built-in function empty>)")
            return launch

    with pytest.raises(CompileError, match="allocate arrays") as raised:  # a TypeError
        cuda_backend._launch(Refusing(), 4, polynomial)
    assert "compile 'polynomial' for the GPU" in str(raised.value) and "Function(<built-in function empty>)" in str(raised.value)


def test_gradjit_info_reports_the_device(capsys):
    from gradjit.cli import main

    assert main(["info"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("CUDA device"))
    assert ("simulator" in line) if _cuda.simulated() else ("compute capability" in line)


# ------------------------------------------------------------------ many starts


# No moments, one (with Nesterov's branch), two; AdaGrad's and RMSprop's rules share Adam's sqrt
# and are compiled for the device by tests/cuda_ptx.py.
@pytest.mark.parametrize("optimizer", [GradientDescent(0.05), Nesterov(0.02), Adam(0.05)], ids=lambda o: type(o).__name__)
def test_minimize_many_starts_on_the_device(optimizer):
    starts = np.random.default_rng(7).uniform(-1.5, 1.5, size=(6, 2))
    found = gradjit.minimize(PROBLEMS["booth"].f, starts, method=optimizer, max_iter=60, backend="cuda", record=False)
    expected = gradjit.minimize(PROBLEMS["booth"].f, starts, method=optimizer, max_iter=60, backend="numpy", record=False)
    assert_matches_cpu(found.x, expected.x, scale=10.0)
    np.testing.assert_array_equal(found.status, expected.status)
    np.testing.assert_array_equal(found.nit, expected.nit)
    assert_matches_cpu(found.fun, expected.fun, scale=100.0)
    assert_matches_cpu(found.grad, expected.grad, scale=100.0)


def test_minimize_on_the_device_records_stops_and_diverges():
    starts = np.array([[1.0, 2.0], [-3.0, 0.5], [0.9, 3.1]])
    options = {"method": "gd", "lr": 0.05, "max_iter": 40, "record": True}
    found = gradjit.minimize(PROBLEMS["booth"].f, starts, backend="cuda", **options)
    expected = gradjit.minimize(PROBLEMS["booth"].f, starts, backend="numpy", **options)
    for key in ("x", "fun", "grad_norm"):
        assert_matches_cpu(found.history[key], expected.history[key], scale=100.0)
    seen = []
    stopped = gradjit.minimize(PROBLEMS["booth"].f, starts, backend="cuda", method="gd", lr=0.05, max_iter=40,
                               callback=lambda result: seen.append(result.nit.copy()) or len(seen) == 5)
    assert np.all(stopped.status == 3) and len(seen) == 5
    assert_matches_cpu(stopped.x, expected.history["x"][4], scale=10.0)
    diverging = gradjit.minimize(PROBLEMS["booth"].f, starts, backend="cuda", method="gd", lr=2.0, max_iter=50)
    assert np.all(diverging.status == 2) and np.all(np.isfinite(diverging.x))
    single = gradjit.minimize(PROBLEMS["booth"].f, [0.0, 0.0], backend="cuda", method="gd", lr=0.1, max_iter=200)
    assert single.success and np.allclose(single.x, [1.0, 3.0], atol=1e-5)


def test_minimize_other_methods_on_the_device_take_the_gradient_path():
    starts = np.array([[1.0, 2.0], [-3.0, 0.5]])
    found = gradjit.minimize(PROBLEMS["booth"].f, starts, backend="cuda", difference="forward", lr=0.05, max_iter=30)
    expected = gradjit.minimize(PROBLEMS["booth"].f, starts, backend="numpy", difference="forward", lr=0.05, max_iter=30)
    assert_matches_cpu(found.x, expected.x, scale=10.0)


# ---------------------------------------------------------- compiled for a GPU


def test_every_kernel_compiles_for_a_gpu():
    """Every kernel family, f that allocates refused: compiled to PTX for compute capability
    9.0 by NVVM in a process of its own (the simulator never compiles)."""
    script = Path(__file__).with_name("cuda_ptx.py")
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600, check=False)
    if done.returncode == NO_NVVM:
        pytest.skip("NVVM is not installed (the test extra's nvidia-cuda-nvcc-cu12 brings it)")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "compiled 21 kernels" in done.stdout and "refused f that allocates" in done.stdout
    assert done.stdout.count("ok ") == 21


def test_the_cuda_benchmark_runs_end_to_end(tmp_path):
    """benchmarks/cuda.py at tiny sizes (what it does by itself on the simulator): every row
    and the many-start line, written as markdown."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("cuda_benchmark", Path(__file__).parents[1] / "benchmarks" / "cuda.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    out = tmp_path / "cuda.md"
    assert benchmark.main(["--tiny", "--repeat", "1", "--out", str(out)]) == 0
    text = out.read_text()
    for label in benchmark.SIZES:
        assert f"| {label}" in text
    assert "one minimize step" in text and "floor (write the output)" in text
