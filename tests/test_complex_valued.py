"""Complex-valued objectives, f: R^d -> C (issue 15): the gradient is that of the real part
plus i times that of the imaginary part, for every real-input method, on both backends."""

import numpy as np
import pytest

import gradjit
from gradjit import errors


def wave(x):
    return np.exp(1j * x[0]) * x[1] + 1j * x[0] * x[1]


def wave_gradient(X):
    x0, x1 = X[:, 0], X[:, 1]
    return np.stack([1j * np.exp(1j * x0) * x1 + 1j * x1, np.exp(1j * x0) + 1j * x0], axis=1)


def chirp(t):
    return np.exp(2j * t * t)


X = np.random.default_rng(0).normal(size=(20, 2))


@pytest.mark.parametrize("options, tolerance", [({}, 1e-9), ({"order": 8}, 1e-12), ({"method": "richardson"}, 1e-13),
                                                ({"method": "backward", "order": 4}, 1e-10)],
                         ids=["central", "order 8", "richardson", "backward"])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_the_gradient_of_a_complex_valued_function(backend, options, tolerance):
    found = gradjit.gradient(wave, X, backend=backend, **options)
    assert found.dtype == np.complex128 and found.shape == X.shape
    np.testing.assert_allclose(found, wave_gradient(X), rtol=0, atol=tolerance)
    real = gradjit.gradient(lambda x: wave(x).real, X, backend="numpy", **options)
    np.testing.assert_allclose(found.real, real, rtol=1e-13, atol=1e-13)  # the real part's own gradient


def test_richardson_estimates_bound_the_modulus_of_the_error():
    found, estimate = gradjit.gradient(wave, X, method="richardson", full_output=True)
    assert estimate.dtype == np.float64
    assert np.all(np.abs(found - wave_gradient(X)) <= estimate)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_derivatives_of_a_complex_valued_function_of_one_variable(n):
    t = np.linspace(-1.0, 1.0, 7)
    exact = {1: 4j * t * chirp(t), 2: (4j - 16 * t * t) * chirp(t), 3: (-32 * t + 4j * t * (4j - 16 * t * t)) * chirp(t)}[n]
    for backend in ("numba", "numpy"):
        np.testing.assert_allclose(gradjit.derivative(chirp, t, n=n, order=6, backend=backend), exact, rtol=0, atol=1e-7)
        value, estimate = gradjit.derivative(chirp, t, n=n, method="richardson", full_output=True, backend=backend)
        assert np.all(np.abs(value - exact) <= estimate)


def test_float32_storage_gives_complex64():
    assert gradjit.gradient(wave, X, dtype=np.float32).dtype == np.complex64


BAD = [
    (lambda: gradjit.gradient(wave, X, method="complex"), errors.ObjectiveError, "needs a real f"),
    (lambda: gradjit.gradient(wave, X, method="complex", backend="numpy"), errors.ObjectiveError, "needs a real f"),
    (lambda: gradjit.gradient(wave, X, out=np.empty(X.shape)), errors.OptionError, "out= takes real arrays"),
    (lambda: gradjit.hessian(wave, X[0]), errors.ComplexValued, "gradjit.gradient and gradjit.derivative"),
    (lambda: gradjit.hessian(wave, X[0], backend="numpy"), errors.ComplexValued, "gradjit.gradient and gradjit.derivative"),
    (lambda: gradjit.minimize(wave, X[0], max_iter=2), errors.ObjectiveError, "complex"),
]


@pytest.mark.parametrize("call, exception, message", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_arguments(call, exception, message):
    with pytest.raises(exception, match=message):
        call()
