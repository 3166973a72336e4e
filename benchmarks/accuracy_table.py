"""Median and worst relative error of the automatic steps on the standard test suite:
central stencils, Richardson (also one-sided, at a bound), one-sided stencils and the Hessian.

    python benchmarks/accuracy_table.py

Relative error: |error| / max(1, |df/dx_j|) against the analytic gradients of
gradjit.problems, at 400 seeded random points per problem (d = 2, and d = 5
where the problem allows it); for the Hessian, against the order-8 Jacobian of
the analytic gradient at 200 points per problem (d = 2). tests/test_accuracy.py
and tests/test_matrices.py assert bounds on the same figures.
"""

import numpy as np

import gradjit
from gradjit.problems import PROBLEMS, hessian_relative_errors, relative_errors, richardson_coverage


def richardson_at_a_lower_bound(n: int = 100, seed: int = 11) -> np.ndarray:
    """Relative errors of Richardson with every point on the lower bound of every
    coordinate (``bounds=(x, x + 100)``), so each entry extrapolates one-sided
    differences: one call per point, as the bounds differ per point."""
    errors = []
    for problem in PROBLEMS.values():
        for d in [2] if problem.dims else [2, 5]:
            X = problem.sample(n, d, seed=seed)
            exact = problem.gradient(X)
            g = np.array([gradjit.gradient(problem.f, x, method="richardson", bounds=(x, x + 100.0)) for x in X])
            errors.append((np.abs(g - exact) / np.maximum(1.0, np.abs(exact))).ravel())
    return np.concatenate(errors)


def richardson_evaluations(n: int = 20, seed: int = 11) -> dict[str, float]:
    """Evaluations of f per entry that Richardson makes (it stops early once no
    smaller step can win), per problem, counted through the NumPy reference."""
    counts = {}
    for problem in PROBLEMS.values():
        for d in [2] if problem.dims else [2, 5]:
            calls = [0]

            def counted(x, problem=problem, calls=calls):
                calls[0] += 1
                return problem.f(x)

            X = problem.sample(n, d, seed=seed)
            gradjit.gradient(counted, X, method="richardson", backend="numpy")
            counts[f"{problem.name} (d={d})"] = (calls[0] - n) / X.size  # less the f(x) of each point
    return counts


def row(label: str, e: np.ndarray) -> str:
    return f"| {label} | {np.median(e):.1e} | {np.quantile(e, 0.99):.1e} | {e.max():.1e} |"


if __name__ == "__main__":
    print("| method, order | median | 99th percentile | worst |")
    print("|---|---:|---:|---:|")
    for order in gradjit.stencils.ORDERS:
        print(row(f"central, {order}", relative_errors(order)))
    print(row("richardson, 2 (14 steps, levels 2-8)", relative_errors(2, method="richardson")))
    print(row("richardson at a lower bound (one-sided, 100 points)", richardson_at_a_lower_bound()))
    for method in ("forward", "backward"):
        for order in gradjit.stencils.ONE_SIDED_ORDERS:
            print(row(f"{method}, {order}", relative_errors(order, method=method)))
    print(row("hessian, 2", hessian_relative_errors()))
    print(f"\nRichardson's error estimate bounds the true error in {100 * richardson_coverage():.1f}% of entries.")
    counts = richardson_evaluations()
    print(f"Richardson evaluates f {np.mean(list(counts.values())):.1f} times per entry on average (at most "
          f"{2 * gradjit.stencils.RICHARDSON_STEPS}): " + ", ".join(f"{k} {v:.1f}" for k, v in counts.items()))
