"""Accuracy and time of every differentiation method, beside numdifftools and scipy.differentiate.

    python benchmarks/accuracy.py [--points 400] [--slow-points 100] [--seed 11]

On the test-function suite of ``gradjit.problems`` (nine functions; d = 2, and
d = 5 where the function allows it) at seeded random points, in one run:

* the relative error ``|error| / max(1, |df/dx_j|)`` of each method: median,
  99th percentile and worst entry;
* the time per 10,000 points (summed over the suite, compilation excluded:
  each gradjit call is made once before it is timed);
* for the methods with an error estimate, how often it bounds the true error;
* where each method's worst entry is (function, point, and its error estimate),
  and how many entries exceed 5e-12;
* on issue 15's kink suite (a ReLU network and a sum of ``|x_j - a_j|``, at random
  points and at points placed next to a kink), how often Richardson's estimate
  bounds the error, beside scipy's and numdifftools' estimates;
* on issue 15's Hessian suite (:func:`gradjit.problems.hessian_cases`: the nine
  functions at d = 2 and 5 and three outside them), every Hessian method beside
  ``scipy.differentiate.hessian`` and ``numdifftools.Hessian``;
* on issue 15's scale suite (the suite's functions of ``y = s x``, s = 1e-6, 1,
  1e6), the relative error of each method with and without ``x_scale``, beside
  the peers' defaults;
* higher derivatives, ``derivative(f, t, n=k)`` for k = 2 to 10, on
  :func:`gradjit.problems.derivative_cases`, beside ``numdifftools.Derivative``.

Competitors, when installed (``pip install numdifftools``; SciPy >= 1.15 for
``scipy.differentiate``): ``numdifftools.Gradient`` (Richardson extrapolation,
one Python call per point, timed on ``--slow-points`` points per problem), and
``scipy.differentiate.jacobian`` (iterative extrapolation, vectorised over the
points: the suite's batched NumPy functions).
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable

import numba
import numpy as np

import gradjit
from gradjit.problems import PROBLEMS, derivative_cases, hessian_cases, kink_cases, kink_coverage

#: Issue 7's target for Richardson's worst relative error on the suite.
TARGET_WORST = 5e-12


def _cases(points: int, seed: int):
    for problem in PROBLEMS.values():
        for d in [2] if problem.dims else [2, 5]:
            X = problem.sample(points, d, seed=seed)
            yield problem, X, problem.gradient(X)


def measure(label: str, run: Callable, points: int, with_error: bool = False, seed: int = 11) -> dict:
    errors, held, seconds, count, worst = [], [], 0.0, 0, (-1.0, "")
    for problem, X, exact in _cases(points, seed):
        run(problem, X)  # compile and warm up with the call measured (the default tier depends on its size)
        start = time.perf_counter()
        result = run(problem, X)
        seconds += time.perf_counter() - start
        count += X.shape[0]
        estimate, bound = result if with_error else (result, None)
        error = np.abs(estimate - exact) / np.maximum(1.0, np.abs(exact))
        errors.append(error.ravel())
        if bound is not None:
            held.append((np.abs(estimate - exact) <= bound).ravel())
        i, j = np.unravel_index(np.argmax(error), error.shape)
        if error[i, j] > worst[0]:
            where = f"{problem.name}, d={X.shape[1]}, x={np.array2string(X[i], precision=4)}, coordinate {j}"
            worst = (error[i, j], where + ("" if bound is None else f", estimate {bound[i, j]:.1e}"))
    e = np.concatenate(errors)
    return {"method": label, "median": float(np.median(e)), "p99": float(np.quantile(e, 0.99)), "worst": float(e.max()),
            "worst_at": worst[1], "above_target": int(np.sum(e > TARGET_WORST)), "entries": e.size, "seconds_per_10k": seconds / count * 10_000,
            "bound_holds": float(np.concatenate(held).mean()) if held else None}


def gradjit_runs() -> list[tuple[str, Callable, bool]]:
    runs = [(f"gradjit central, order {p}", lambda pr, X, p=p: gradjit.gradient(pr.f, X, order=p), False)
            for p in gradjit.stencils.ORDERS]
    runs.append(("gradjit richardson", lambda pr, X: gradjit.gradient(pr.f, X, method="richardson", full_output=True), True))
    runs += [(f"gradjit forward, order {p}", lambda pr, X, p=p: gradjit.gradient(pr.f, X, method="forward", order=p), False)
             for p in (1, 2, 4, 6)]
    return runs


def numdifftools_run(problem, X):
    import numdifftools as nd

    gradient = nd.Gradient(problem.f)
    return np.array([gradient(x) for x in X])


def numdifftools_with_error(problem, X):
    return _numdifftools_gradients(problem.f, X)


def _numdifftools_gradients(f, X):
    """numdifftools.Gradient with its error estimates, one Python call per point of ``X``."""
    import numdifftools as nd

    gradient = nd.Gradient(f, full_output=True)
    values, bounds = [], []
    for x in X:
        result = gradient(x)
        values.append(result.estimate)
        bounds.append(np.ravel(result.error_estimate))
    return np.array(values), np.array(bounds)


def scipy_run(problem, X):
    from scipy.differentiate import jacobian

    d = X.shape[1]

    def f(xi):  # xi: (d, ...) -> (...)
        flat = np.moveaxis(xi, 0, -1).reshape(-1, d)
        return problem.batched(flat).reshape(xi.shape[1:])

    result = jacobian(f, X.T)
    return result.df.T, result.error.T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=400, help="points per problem for gradjit and scipy")
    parser.add_argument("--slow-points", type=int, default=100, help="points per problem for numdifftools")
    parser.add_argument("--seed", type=int, default=11, help="seed of the random points (the README's table: 11)")
    options = parser.parse_args()
    rows = [measure(label, run, options.points, with_error, options.seed) for label, run, with_error in gradjit_runs()]
    if importlib.util.find_spec("scipy.differentiate") is not None:
        rows.append(measure("scipy.differentiate.jacobian (vectorised)", scipy_run, options.points, True, options.seed))
    if importlib.util.find_spec("numdifftools") is not None:
        rows.append(measure("numdifftools.Gradient (a call per point)", numdifftools_with_error, options.slow_points, True,
                            options.seed))
    _table(rows)
    print(f"\nWhere each worst entry is, and how many entries exceed {TARGET_WORST:.0e} (issue 7's worst-case target):")
    for r in rows:
        print(f"  {r['method']}: {r['worst']:.1e} ({r['worst_at']}); {r['above_target']} of {r['entries']} above")
    kinks(options.seed, 4 * options.slow_points)
    hessians(options.points, options.slow_points, options.seed)
    units(options.points, options.slow_points, options.seed)
    higher(options.points, options.slow_points, options.seed)


def _table(rows: list[dict]) -> None:
    print("| method | median | 99th percentile | worst | s per 10,000 points | estimate bounds the error |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        held = "–" if r["bound_holds"] is None else f"{100 * r['bound_holds']:.1f}%"
        print(f"| {r['method']} | {r['median']:.1e} | {r['p99']:.1e} | {r['worst']:.1e} | {r['seconds_per_10k']:.4f} | {held} |")


def kinks(seed: int, slow_points: int = 400) -> None:
    """Issue 15's kink suite (:func:`gradjit.problems.kink_cases`): how often each method's
    error estimate bounds the error of functions with kinks near the points, gradjit's
    Richardson beside scipy.differentiate and numdifftools (``slow_points`` per case)."""
    print("\nKinks: error estimates where f is not smooth (gradjit.problems.kink_cases)")
    print("| method | function | points | entries off by > 1e-6 | of those, bounded by the estimate | all entries bounded |")
    print("|---|---|---|---:|---:|---:|")
    peers = []
    if importlib.util.find_spec("scipy.differentiate") is not None:
        peers.append(("scipy.differentiate.jacobian", _scipy_kinks, None))
    if importlib.util.find_spec("numdifftools") is not None:
        peers.append(("numdifftools.Gradient", _numdifftools_kinks, slow_points))
    for placed, n in ((False, 20000), (True, 4000)):
        where = f"{n} random" if not placed else f"{n}, half placed 1e-10 to 0.1 from a kink"
        for name, (bad, flagged, coverage) in kink_coverage(n, seed, placed).items():
            print(f"| gradjit richardson | {name} | {where} | {bad} | {flagged} | {100 * coverage:.1f}% |")
        for label, run, limit in peers:
            for name, f, X, args, exact in kink_cases(n, seed, placed):
                if limit is not None:  # the same mix of random and placed points, fewer of them
                    keep = np.r_[0:limit // 2, n // 2:n // 2 + limit // 2] if placed else np.arange(limit)
                    X, exact = X[keep], exact[keep]
                estimate, error = run(name, f, X, args)
                wrong = np.abs(estimate - exact)
                bad = wrong > 1e-6
                count = f"{X.shape[0]} of those" if limit is not None else where
                print(f"| {label} | {name} | {count} | {int(bad.sum())} | {int((error[bad] >= wrong[bad]).sum())} | "
                      f"{100 * float((wrong <= error).mean()):.1f}% |")


def _batched_kink(name: str, args: tuple) -> Callable:
    """The kink cases as NumPy functions of ``(N, d)`` points (scipy's vectorised form)."""
    if name == "ReLU network":
        W1, b1, w2 = args
        return lambda X: np.maximum(X @ W1.T + b1, 0.0) @ w2
    a, c = args
    return lambda X: np.sin(X[:, 0] * X[:, 1]) + np.abs(X[:, :3] - a) @ c


def _scipy_kinks(name, f, X, args):
    from scipy.differentiate import jacobian

    batched, d = _batched_kink(name, args), X.shape[1]

    def vectorised(xi):
        flat = np.moveaxis(xi, 0, -1).reshape(-1, d)
        return batched(flat).reshape(xi.shape[1:])

    result = jacobian(vectorised, X.T)
    return result.df.T, result.error.T


def _numdifftools_kinks(name, f, X, args):
    return _numdifftools_gradients(lambda x: f(x, *args), X)


# ------------------------------------------------------------------ Hessians


def hessian_measure(label: str, run: Callable, points: int, seed: int, with_error: bool = False, repeats: int = 1) -> dict:
    """Relative errors ``|H - exact| / max(1, |exact|)`` of ``run(f, batched, X)`` over
    :func:`gradjit.problems.hessian_cases`, time per 10,000 points (the best of ``repeats``
    calls per case, after a warm-up call), estimate coverage."""
    errors, held, seconds, count = [], [], 0.0, 0
    for _, f, batched, X, exact in hessian_cases(points, seed):
        run(f, batched, X)  # compile and warm up with the call measured
        best = np.inf
        for _ in range(repeats):
            start = time.perf_counter()
            result = run(f, batched, X)
            best = min(best, time.perf_counter() - start)
        seconds += best
        count += X.shape[0]
        estimate, bound = result if with_error else (result, None)
        errors.append((np.abs(estimate - exact[: len(estimate)]) / np.maximum(1.0, np.abs(exact))).ravel())
        if bound is not None:
            held.append((np.abs(estimate - exact) <= bound).ravel())
    e = np.concatenate(errors)
    return {"method": label, "median": float(np.median(e)), "p99": float(np.quantile(e, 0.99)), "worst": float(e.max()),
            "seconds_per_10k": seconds / count * 10_000, "bound_holds": float(np.concatenate(held).mean()) if held else None}


def gradjit_hessian_runs() -> list[tuple[str, Callable, bool]]:
    runs = [(f"gradjit hessian, central order {p}", lambda f, b, X, p=p: gradjit.hessian(f, X, order=p), False)
            for p in gradjit.stencils.ORDERS]
    runs.append(("gradjit hessian, richardson",
                 lambda f, b, X: gradjit.hessian(f, X, method="richardson", full_output=True), True))
    return runs


def numdifftools_hessian(f, batched, X):
    import numdifftools as nd

    hessian = nd.Hessian(f, full_output=True)
    values, bounds = [], []
    for x in X:
        result = hessian(x)
        values.append(result.estimate)
        bounds.append(np.reshape(result.error_estimate, result.estimate.shape))
    return np.array(values), np.array(bounds)


def scipy_hessian(f, batched, X):
    from scipy.differentiate import hessian

    d = X.shape[1]

    def vectorised(xi):  # xi: (d, ...) -> (...)
        flat = np.moveaxis(xi, 0, -1).reshape(-1, d)
        return batched(flat).reshape(xi.shape[1:])

    result = hessian(vectorised, X.T)
    return np.moveaxis(result.ddf, -1, 0), np.moveaxis(result.error, -1, 0)


def hessians(points: int, slow_points: int, seed: int) -> None:
    """Issue 15's Hessian suite: every method beside scipy.differentiate.hessian and numdifftools.Hessian."""
    print("\nHessians: relative error |H - exact| / max(1, |exact|) over gradjit.problems.hessian_cases "
          "(the suite at d = 2 and 5, and three functions outside it)")
    rows = [hessian_measure(label, run, points, seed, with_error, repeats=3) for label, run, with_error in gradjit_hessian_runs()]
    if importlib.util.find_spec("scipy.differentiate") is not None:
        rows.append(hessian_measure("scipy.differentiate.hessian (vectorised)", scipy_hessian, points, seed, True))
    if importlib.util.find_spec("numdifftools") is not None:
        rows.append(hessian_measure("numdifftools.Hessian (a call per point)", numdifftools_hessian, slow_points, seed, True))
    _table(rows)


# ------------------------------------------------------------------ units


def _in_units(problem):
    """``(f_s, batched_s)``: the problem as a function of ``y = s x`` (``s`` an argument)."""
    inner = numba.njit(problem.f)

    def in_units(y, s):
        return inner(y / s)

    return in_units, lambda Y, s: problem.batched(Y / s)


def scale_measure(label: str, run: Callable, points: int, seed: int) -> list[str]:
    """Per unit ``s``: the relative errors of ``run(f_s, batched_s, s * X, s) * s`` against the
    exact gradient of the suite (d = 2 and 5), median, 99th percentile and worst."""
    cells = []
    for s in UNITS:
        errors = []
        for problem, X, exact in _cases(points, seed):
            f, batched = _in_units(problem)
            found = run(f, batched, s * X, s) * s
            errors.append((np.abs(found - exact) / np.maximum(1.0, np.abs(exact))).ravel())
        e = np.concatenate(errors)
        cells.append(f"{np.median(e):.0e} / {np.quantile(e, 0.99):.0e} / {e.max():.0e}")
    return [label, *cells]


#: The units of the scale suite: x measured in units of 1/s.
UNITS = (1e-6, 1.0, 1e6)


def scale_runs() -> list[tuple[str, Callable]]:
    runs = []
    for name, options in (("central, order 2", {}), ("central, order 8", {"order": 8}),
                          ("richardson", {"method": "richardson"})):
        for x_scale in (None, "auto", "s"):
            label = f"gradjit {name}, x_scale={'s' if x_scale == 's' else repr(x_scale)}"
            runs.append((label, lambda f, b, Y, s, o=options, x=x_scale: gradjit.gradient(
                f, Y, args=(s,), x_scale=s if x == "s" else x, **o)))
    return runs


def scipy_units(f, batched, Y, s):
    from scipy.differentiate import jacobian

    d = Y.shape[1]

    def vectorised(yi):
        flat = np.moveaxis(yi, 0, -1).reshape(-1, d)
        return batched(flat, s).reshape(yi.shape[1:])

    return jacobian(vectorised, Y.T).df.T


def numdifftools_units(f, batched, Y, s):
    import numdifftools as nd

    gradient = nd.Gradient(lambda y: batched(y[None], s)[0])
    return np.array([gradient(y) for y in Y])


def units(points: int, slow_points: int, seed: int) -> None:
    """Issue 15's scale suite: the suite's functions of ``y = s x`` for ``s`` = 1e-6, 1, 1e6."""
    print("\nUnits: the suite as functions of y = s x; relative error of the gradient (times s) "
          "median / 99th percentile / worst")
    print("| method | " + " | ".join(f"s = {s:g}" for s in UNITS) + " |")
    print("|---|" + "---|" * len(UNITS))
    rows = [scale_measure(label, run, points, seed) for label, run in scale_runs()]
    if importlib.util.find_spec("scipy.differentiate") is not None:
        rows.append(scale_measure("scipy.differentiate.jacobian (defaults)", scipy_units, points, seed))
    if importlib.util.find_spec("numdifftools") is not None:
        rows.append(scale_measure("numdifftools.Gradient (defaults)", numdifftools_units, slow_points, seed))
    for row in rows:
        print("| " + " | ".join(row) + " |")


# ------------------------------------------------------------------ higher derivatives


def higher_cell(run: Callable, n: int, points: int, seed: int) -> tuple[str, float]:
    """``"median / 99th percentile / worst"`` of ``run(f, t, n)`` over
    :func:`gradjit.problems.derivative_cases`, and its time per 10,000 points."""
    errors, seconds, count = [], 0.0, 0
    for _, f, t, exact in derivative_cases(n, points, seed):
        run(f, t, n)  # compile and warm up with the call measured
        start = time.perf_counter()
        found = run(f, t, n)
        seconds += time.perf_counter() - start
        count += t.size
        errors.append(np.abs(found - exact) / np.maximum(1.0, np.abs(exact)))
    e = np.concatenate(errors)
    return f"{np.median(e):.0e} / {np.quantile(e, 0.99):.0e} / {e.max():.0e}", seconds / count * 10_000


def numdifftools_derivative(f, t, n):
    import numdifftools as nd

    def tolerant(u):
        try:
            return f(u)
        except ValueError:  # math.log outside its domain: NaN, as np.log says
            return np.nan

    derivative = nd.Derivative(tolerant, n=n)
    with np.errstate(all="ignore"):
        return np.array([derivative(ti) for ti in t])


def higher(points: int, slow_points: int, seed: int) -> None:
    """Issue 15's higher derivatives, ``derivative(f, t, n=k)``, beside numdifftools.Derivative."""
    print("\nHigher derivatives: |error| / max(1, |f^(n)|) over gradjit.problems.derivative_cases, "
          "median / 99th percentile / worst (s per 10,000 points)")
    ns = (2, 3, 5, 8, 10)
    print("| method | " + " | ".join(f"n = {n}" for n in ns) + " |")
    print("|---|" + "---|" * len(ns))
    runs = [(f"gradjit central, order {p}", lambda f, t, n, p=p: gradjit.derivative(f, t, n=n, order=p), points)
            for p in (2, 8)]
    runs.append(("gradjit richardson", lambda f, t, n: gradjit.derivative(f, t, n=n, method="richardson"), points))
    if importlib.util.find_spec("numdifftools") is not None:
        runs.append(("numdifftools.Derivative (a call per point)", numdifftools_derivative, slow_points))
    for label, run, count in runs:
        cells = [higher_cell(run, n, count, seed) for n in ns]
        print(f"| {label} | " + " | ".join(f"{c} ({s:.3g})" for c, s in cells) + " |")


if __name__ == "__main__":
    main()
