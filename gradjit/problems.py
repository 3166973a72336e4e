"""Standard test functions with analytic gradients, shared by tests, benchmarks and examples.

Each objective is written the way fast gradjit objectives should be written:
scalar indexing and loops (compiled and inlined by Numba, no temporaries),
with a NumPy ``batched`` twin mapping ``(N, d)`` to ``(N,)`` for the vectorised
reference and an analytic ``gradient`` mapping ``(N, d)`` to ``(N, d)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["PROBLEMS", "Problem", "get"]

TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class Problem:
    """An objective with its analytic gradient and a domain to sample.

    Attributes
    ----------
    name : str
    f : callable
        ``f(x) -> float`` for one point ``x`` of shape ``(d,)``.
    batched : callable
        ``batched(X) -> (N,)`` for ``X`` of shape ``(N, d)``.
    gradient : callable
        ``gradient(X) -> (N, d)``, exact.
    dims : int or None
        The fixed dimension, or None when any ``d >= 2`` works.
    low, high : float
        Bounds of the box to sample points from.
    """

    name: str
    f: Callable
    batched: Callable
    gradient: Callable
    dims: int | None
    low: float
    high: float

    def sample(self, n: int, d: int | None = None, seed: int = 0) -> np.ndarray:
        """``n`` random points in the box, from a seeded generator."""
        d = self.dims or d or 2
        return np.random.default_rng(seed).uniform(self.low, self.high, size=(n, d))


def sphere(x):
    total = 0.0
    for i in range(x.size):
        total += x[i] * x[i]
    return total


def rosenbrock(x):
    total = 0.0
    for i in range(x.size - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        total += 100.0 * a * a + b * b
    return total


def _rosenbrock_batched(X):
    return np.sum(100.0 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1.0 - X[:, :-1]) ** 2, axis=1)


def _rosenbrock_gradient(X):
    g = np.zeros_like(X)
    a = X[:, 1:] - X[:, :-1] ** 2
    g[:, :-1] += -400.0 * X[:, :-1] * a - 2.0 * (1.0 - X[:, :-1])
    g[:, 1:] += 200.0 * a
    return g


def beale(x):
    a = 1.5 - x[0] + x[0] * x[1]
    b = 2.25 - x[0] + x[0] * x[1] * x[1]
    c = 2.625 - x[0] + x[0] * x[1] * x[1] * x[1]
    return a * a + b * b + c * c


def _beale_batched(X):
    x, y = X[:, 0], X[:, 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _beale_gradient(X):
    x, y = X[:, 0], X[:, 1]
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    gx = 2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1)
    gy = 2 * a * x + 4 * b * x * y + 6 * c * x * y**2
    return np.stack([gx, gy], axis=1)


def booth(x):
    a = x[0] + 2.0 * x[1] - 7.0
    b = 2.0 * x[0] + x[1] - 5.0
    return a * a + b * b


def _booth_batched(X):
    return (X[:, 0] + 2 * X[:, 1] - 7) ** 2 + (2 * X[:, 0] + X[:, 1] - 5) ** 2


def _booth_gradient(X):
    a = X[:, 0] + 2 * X[:, 1] - 7
    b = 2 * X[:, 0] + X[:, 1] - 5
    return np.stack([2 * a + 4 * b, 4 * a + 2 * b], axis=1)


def himmelblau(x):
    a = x[0] * x[0] + x[1] - 11.0
    b = x[0] + x[1] * x[1] - 7.0
    return a * a + b * b


def _himmelblau_batched(X):
    return (X[:, 0] ** 2 + X[:, 1] - 11) ** 2 + (X[:, 0] + X[:, 1] ** 2 - 7) ** 2


def _himmelblau_gradient(X):
    a = X[:, 0] ** 2 + X[:, 1] - 11
    b = X[:, 0] + X[:, 1] ** 2 - 7
    return np.stack([4 * a * X[:, 0] + 2 * b, 2 * a + 4 * b * X[:, 1]], axis=1)


def styblinski_tang(x):
    total = 0.0
    for i in range(x.size):
        v = x[i]
        total += v * v * v * v - 16.0 * v * v + 5.0 * v
    return 0.5 * total


def rastrigin(x):
    total = 10.0 * x.size
    for i in range(x.size):
        total += x[i] * x[i] - 10.0 * math.cos(TWO_PI * x[i])
    return total


def ackley(x):
    d = x.size
    squares = 0.0
    cosines = 0.0
    for i in range(d):
        squares += x[i] * x[i]
        cosines += math.cos(TWO_PI * x[i])
    return -20.0 * math.exp(-0.2 * math.sqrt(squares / d)) - math.exp(cosines / d) + math.e + 20.0


def _ackley_batched(X):
    d = X.shape[1]
    r = np.sqrt(np.sum(X**2, axis=1) / d)
    return -20 * np.exp(-0.2 * r) - np.exp(np.sum(np.cos(TWO_PI * X), axis=1) / d) + math.e + 20


def _ackley_gradient(X):
    d = X.shape[1]
    r = np.sqrt(np.sum(X**2, axis=1, keepdims=True) / d)
    c = np.sum(np.cos(TWO_PI * X), axis=1, keepdims=True) / d
    return 4.0 * np.exp(-0.2 * r) * X / (d * r) + (TWO_PI / d) * np.exp(c) * np.sin(TWO_PI * X)


def saddle(x):
    return x[0] * x[0] - x[1] * x[1]


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in [
        Problem("sphere", sphere, lambda X: np.sum(X**2, axis=1), lambda X: 2.0 * X, None, -5.0, 5.0),
        Problem("rosenbrock", rosenbrock, _rosenbrock_batched, _rosenbrock_gradient, None, -2.0, 2.0),
        Problem("beale", beale, _beale_batched, _beale_gradient, 2, -4.5, 4.5),
        Problem("booth", booth, _booth_batched, _booth_gradient, 2, -10.0, 10.0),
        Problem("himmelblau", himmelblau, _himmelblau_batched, _himmelblau_gradient, 2, -5.0, 5.0),
        Problem(
            "styblinski_tang", styblinski_tang,
            lambda X: 0.5 * np.sum(X**4 - 16 * X**2 + 5 * X, axis=1),
            lambda X: 0.5 * (4 * X**3 - 32 * X + 5), None, -5.0, 5.0,
        ),
        Problem(
            "rastrigin", rastrigin,
            lambda X: 10.0 * X.shape[1] + np.sum(X**2 - 10 * np.cos(TWO_PI * X), axis=1),
            lambda X: 2 * X + 20 * math.pi * np.sin(TWO_PI * X), None, -5.12, 5.12,
        ),
        Problem("ackley", ackley, _ackley_batched, _ackley_gradient, None, -5.0, 5.0),
        Problem(
            "saddle", saddle, lambda X: X[:, 0] ** 2 - X[:, 1] ** 2,
            lambda X: np.stack([2 * X[:, 0], -2 * X[:, 1]], axis=1), 2, -5.0, 5.0,
        ),
    ]
}


def get(name: str) -> Problem:
    """The problem called ``name`` (see :data:`PROBLEMS`)."""
    return PROBLEMS[name]


def relative_errors(order: int, n: int = 400, seed: int = 11, method: str = "central") -> np.ndarray:
    """Relative errors ``|error| / max(1, |df/dx_j|)`` of ``gradjit.gradient`` with the
    automatic step, over every problem (d = 2, and d = 5 where allowed) at ``n``
    seeded random points: the accuracy figures of the README and the tests."""
    from .api import gradient

    errors = []
    for problem in PROBLEMS.values():
        for d in [2] if problem.dims else [2, 5]:
            X = problem.sample(n, d, seed=seed)
            exact = problem.gradient(X)
            approximate = gradient(problem.f, X, order=order, method=method)
            errors.append((np.abs(approximate - exact) / np.maximum(1.0, np.abs(exact))).ravel())
    return np.concatenate(errors)


def richardson_coverage(n: int = 400, seed: int = 11) -> float:
    """The fraction of entries, over the suite as in :func:`relative_errors`, whose
    Richardson error estimate bounds the true error."""
    from .api import gradient

    held = []
    for problem in PROBLEMS.values():
        for d in [2] if problem.dims else [2, 5]:
            X = problem.sample(n, d, seed=seed)
            estimate, error = gradient(problem.f, X, method="richardson", full_output=True)
            held.append((np.abs(estimate - problem.gradient(X)) <= error).ravel())
    return float(np.concatenate(held).mean())


def hessian_relative_errors(n: int = 200, seed: int = 5, **options) -> np.ndarray:
    """Relative errors ``|H - exact| / max(1, |exact|)`` of ``gradjit.hessian(f, X, **options)``
    over :func:`hessian_cases` at ``n`` seeded random points per case."""
    from .matrices import hessian

    errors = [(np.abs(hessian(f, X, **options) - exact) / np.maximum(1.0, np.abs(exact))).ravel()
              for _, f, _, X, exact in hessian_cases(n, seed)]
    return np.concatenate(errors)


def hessian_cases(n: int = 200, seed: int = 5) -> list[tuple[str, Callable, Callable, np.ndarray, np.ndarray]]:
    """``[(name, f, batched f, X, exact Hessians)]`` at ``n`` seeded random points each: every
    problem of :data:`PROBLEMS` (d = 2, and d = 5 where the function allows it), its
    Hessian the order-8 Jacobian of the analytic gradient (whose own error, about
    1e-13, is far below the targets), and three functions outside the suite with
    analytic Hessians (:func:`exp_cos`, :func:`inverse_quadratic`, :func:`log_sum_exp`, d = 3)."""
    from .matrices import jacobian

    cases = []
    for problem in PROBLEMS.values():
        for d in [2] if problem.dims else [2, 5]:
            X = problem.sample(n, d, seed=seed)
            exact = jacobian(lambda x, p=problem: p.gradient(x[None])[0], X, order=8, backend="numpy")
            cases.append((f"{problem.name}, d={d}", problem.f, problem.batched, X, exact))
    X = np.random.default_rng(seed).uniform(-2.0, 2.0, size=(n, 3))
    outside = (
        (exp_cos, lambda X: np.exp(0.25 * X[:, 0] * X[:, 1]) * np.cos(X[:, 1] - X[:, 2]) + X[:, 2] ** 4 / 12.0,
         _exp_cos_hessian),
        (inverse_quadratic, lambda X: 1.0 / (1.0 + np.sum(X**2, axis=1)), _inverse_quadratic_hessian),
        (log_sum_exp, lambda X: np.log(np.sum(np.exp(X), axis=1)), _log_sum_exp_hessian),
    )
    for f, batched, exact in outside:
        cases.append((f.__name__, f, batched, X, exact(X)))
    return cases


def exp_cos(x):
    """``exp(x0 x1 / 4) cos(x1 - x2) + x2**4 / 12``: every pair of variables coupled."""
    return math.exp(0.25 * x[0] * x[1]) * math.cos(x[1] - x[2]) + x[2] ** 4 / 12.0


def _exp_cos_hessian(X):
    x0, x1, x2 = X.T
    g, c, s = np.exp(0.25 * x0 * x1), np.cos(x1 - x2), np.sin(x1 - x2)
    H = np.empty((X.shape[0], 3, 3))
    H[:, 0, 0] = (x1 / 4) ** 2 * g * c
    H[:, 0, 1] = H[:, 1, 0] = g * c / 4 + (x0 * x1 / 16) * g * c - (x1 / 4) * g * s
    H[:, 0, 2] = H[:, 2, 0] = (x1 / 4) * g * s
    H[:, 1, 1] = (x0 / 4) ** 2 * g * c - (x0 / 2) * g * s - g * c
    H[:, 1, 2] = H[:, 2, 1] = (x0 / 4) * g * s + g * c
    H[:, 2, 2] = -g * c + x2**2
    return H


def inverse_quadratic(x):
    """``1 / (1 + |x|**2)``: a rational bump."""
    total = 1.0
    for j in range(x.shape[0]):
        total += x[j] * x[j]
    return 1.0 / total


def _inverse_quadratic_hessian(X):
    q = 1.0 + np.sum(X**2, axis=1)
    return -2.0 * np.eye(X.shape[1]) / q[:, None, None] ** 2 + 8.0 * X[:, :, None] * X[:, None, :] / q[:, None, None] ** 3


def log_sum_exp(x):
    """``log(sum_j exp(x_j))``, the softmax's potential."""
    total = 0.0
    for j in range(x.shape[0]):
        total += math.exp(x[j])
    return math.log(total)


def _log_sum_exp_hessian(X):
    p = np.exp(X) / np.sum(np.exp(X), axis=1, keepdims=True)
    return p[:, :, None] * np.eye(X.shape[1]) - p[:, :, None] * p[:, None, :]


# ------------------------------------------------------------------ kinks


def relu_network(x, W1, b1, w2):
    """``w2 . relu(W1 x + b1)``: piecewise linear, with a kink wherever a unit's input
    crosses 0 (the non-smooth functions of issue 15's kink suite)."""
    total = 0.0
    for k in range(W1.shape[0]):
        z = b1[k]
        for j in range(x.shape[0]):
            z += W1[k, j] * x[j]
        if z > 0.0:
            total += w2[k] * z
    return total


def abs_sum(x, a, c):
    """``sum_j c_j |x_j - a_j|`` over the first three coordinates, plus ``sin(x0 x1)``."""
    total = math.sin(x[0] * x[1])
    for j in range(3):
        total += c[j] * abs(x[j] - a[j])
    return total


def kink_cases(n: int = 4000, seed: int = 0, placed: bool = False) -> list[tuple[str, Callable, np.ndarray, tuple, np.ndarray]]:
    """``[(name, f, X, args, exact gradient)]``: a seeded ReLU network (d = 4, 16 units)
    and :func:`abs_sum` (d = 3) at ``n`` random normal points; with ``placed``, half of
    the points are moved to a distance ``10**U(-10, -1)`` from a kink (of one unit,
    or of every coordinate's ``|x_j - a_j|``), closer than Richardson's smallest steps."""
    rng = np.random.default_rng(seed)
    W1, b1, w2 = rng.normal(size=(16, 4)), rng.normal(size=16), rng.normal(size=16)
    X = rng.normal(size=(n, 4))
    if placed:
        for i in range(n // 2):
            k = rng.integers(16)
            distance = 10.0 ** rng.uniform(-10, -1) * rng.choice([-1.0, 1.0])
            X[i] -= (X[i] @ W1[k] + b1[k] - distance) * W1[k] / (W1[k] @ W1[k])
    relu_exact = ((X @ W1.T + b1) > 0) @ (w2[:, None] * W1)
    a, c = rng.normal(size=3), rng.uniform(0.5, 2.0, size=3)
    Y = rng.normal(size=(n, 3))
    if placed:
        Y[: n // 2] = a + 10.0 ** rng.uniform(-10, -1, size=(n // 2, 3)) * rng.choice([-1.0, 1.0], size=(n // 2, 3))
    abs_exact = np.sign(Y - a) * c
    abs_exact[:, 0] += np.cos(Y[:, 0] * Y[:, 1]) * Y[:, 1]
    abs_exact[:, 1] += np.cos(Y[:, 0] * Y[:, 1]) * Y[:, 0]
    return [("ReLU network", relu_network, X, (W1, b1, w2), relu_exact), ("abs sum", abs_sum, Y, (a, c), abs_exact)]


def kink_coverage(n: int = 4000, seed: int = 0, placed: bool = False, backend: str = "numba") -> dict[str, tuple[int, int, float]]:
    """Per case of :func:`kink_cases`: ``(entries off by more than 1e-6, of those the
    ones whose Richardson error estimate bounds the error, fraction of all entries
    whose estimate bounds the error)``."""
    from .api import gradient

    found = {}
    for name, f, X, args, exact in kink_cases(n, seed, placed):
        estimate, error = gradient(f, X, args=args, method="richardson", full_output=True, backend=backend)
        wrong = np.abs(estimate - exact)
        bad = wrong > 1e-6
        found[name] = (int(bad.sum()), int((error[bad] >= wrong[bad]).sum()), float((wrong <= error).mean()))
    return found


# ------------------------------------------------------------------ higher derivatives


def _exp(t):
    return math.exp(t)


def _sin(t):
    return math.sin(t)


def _gaussian(t):
    return math.exp(-t * t)


def _reciprocal(t):
    return 1.0 / (1.0 + t)


def _log(t):
    return math.log(t)


def _gaussian_derivative(n: int, t: np.ndarray) -> np.ndarray:
    # d^n/dt^n exp(-t^2) = (-1)^n H_n(t) exp(-t^2), H_n the physicists' Hermite polynomial.
    coefficients = np.zeros(n + 1)
    coefficients[n] = 1.0
    return (-1.0) ** n * np.polynomial.hermite.hermval(t, coefficients) * np.exp(-t * t)


def derivative_cases(n: int, points: int = 200, seed: int = 7) -> list[tuple[str, Callable, np.ndarray, np.ndarray]]:
    """``[(name, f, t, exact n-th derivative)]`` for :func:`gradjit.derivative` with ``n=``:
    exp, sin, a Gaussian (Hermite polynomials), ``1 / (1 + t)`` and log (poles and a
    domain edge within reach of large steps), at ``points`` seeded random points each."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(-2.0, 2.0, points)
    positive = rng.uniform(1.0, 3.0, points)
    factorial = math.factorial(n)
    return [
        ("exp", _exp, t, np.exp(t)),
        ("sin", _sin, t, np.sin(t + n * math.pi / 2)),
        ("gaussian", _gaussian, t, _gaussian_derivative(n, t)),
        ("1/(1+t)", _reciprocal, positive, (-1.0) ** n * factorial / (1.0 + positive) ** (n + 1)),
        ("log", _log, positive, (-1.0) ** (n - 1) * math.factorial(n - 1) / positive**n),
    ]


def derivative_relative_errors(n: int, points: int = 200, seed: int = 7, **options) -> np.ndarray:
    """``|error| / max(1, |f^(n)|)`` of ``gradjit.derivative(f, t, n=n, **options)`` over
    :func:`derivative_cases`."""
    from .api import derivative

    errors = [np.abs(derivative(f, t, n=n, **options) - exact) / np.maximum(1.0, np.abs(exact))
              for _, f, t, exact in derivative_cases(n, points, seed)]
    return np.concatenate(errors)


# Structured problems: objectives given as their terms, sparse vector functions --------------
#
# ``terms(x) -> (m,)`` with ``f = sum(terms(x))``: each term depends on a few
# neighbouring coordinates, so ``gradjit.gradient(terms, x, terms=True)`` costs a
# fixed number of evaluations of the terms whatever d is (gradjit.structured).


def rosenbrock_terms(x):
    """The d - 1 terms of :func:`rosenbrock`: ``100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2``."""
    out = np.empty(x.size - 1, dtype=x.dtype)
    for i in range(x.size - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        out[i] = 100.0 * a * a + b * b
    return out


def rosenbrock_gradient(x: np.ndarray) -> np.ndarray:
    """The exact gradient of :func:`rosenbrock` at the rows of ``x`` (..., d)."""
    points = np.atleast_2d(x)
    return _rosenbrock_gradient(points).reshape(np.shape(x))


def rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    """The exact Hessian (d, d) of :func:`rosenbrock` at one point ``x``."""
    d = x.size
    H = np.zeros((d, d))
    i = np.arange(d - 1)
    H[i, i] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    H[i + 1, i + 1] += 200.0
    H[i, i + 1] = H[i + 1, i] = -400.0 * x[:-1]
    return H


def chain_terms(x):
    """d - 2 terms, each of three consecutive coordinates:
    ``(x[i] - 2 x[i+1] + x[i+2])^2 + (x[i] x[i+2] - 1)^2 / 4`` (a Hessian of bandwidth 5)."""
    out = np.empty(x.size - 2, dtype=x.dtype)
    for i in range(x.size - 2):
        a = x[i] - 2.0 * x[i + 1] + x[i + 2]
        b = x[i] * x[i + 2] - 1.0
        out[i] = a * a + 0.25 * b * b
    return out


def chain(x):
    """``sum(chain_terms(x))`` as one scalar function (for the dense Hessian)."""
    total = 0.0
    for i in range(x.size - 2):
        a = x[i] - 2.0 * x[i + 1] + x[i + 2]
        b = x[i] * x[i + 2] - 1.0
        total += a * a + 0.25 * b * b
    return total


def broyden_tridiagonal(x):
    """Broyden's tridiagonal function ``F_i = (3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1``
    (``x_{-1} = x_d = 0``): a square system with a tridiagonal Jacobian."""
    d = x.size
    out = np.empty(d, dtype=x.dtype)
    for i in range(d):
        value = (3.0 - 2.0 * x[i]) * x[i] + 1.0
        if i > 0:
            value -= x[i - 1]
        if i < d - 1:
            value -= 2.0 * x[i + 1]
        out[i] = value
    return out


def broyden_tridiagonal_jacobian(x: np.ndarray) -> np.ndarray:
    """The exact Jacobian (d, d) of :func:`broyden_tridiagonal` at one point."""
    d = x.size
    J = np.diag(3.0 - 4.0 * x)
    J[np.arange(1, d), np.arange(d - 1)] = -1.0
    J[np.arange(d - 1), np.arange(1, d)] = -2.0
    return J


def band_pattern(m: int, d: int, offsets: tuple[int, ...]):
    """The :class:`~gradjit.Sparsity` of m components where component ``i`` depends on
    ``x[i + k]`` for each ``k`` in ``offsets`` that falls in ``0..d-1`` (built from its
    columns, no dense array): ``(0, 1)`` for :func:`rosenbrock_terms`, ``(0, 1, 2)``
    for :func:`chain_terms`, ``(-1, 0, 1)`` for :func:`broyden_tridiagonal`."""
    from .sparsity import Sparsity

    rows = np.concatenate([np.arange(m) for _ in offsets])
    cols = np.concatenate([np.arange(m) + k for k in offsets])
    keep = (cols >= 0) & (cols < d)
    rows, cols = rows[keep], cols[keep]
    order = np.lexsort((rows, cols))
    col_ptr = np.concatenate(([0], np.cumsum(np.bincount(cols, minlength=d)))).astype(np.int64)
    return Sparsity.from_csc((m, d), col_ptr, rows[order])
