"""Structured problems: large d at the cost of a few evaluations, by column groups.

Four things a user with a large, structured black-box function does:

1. the gradient of an objective given as its terms (Rosenbrock, d - 1 terms of
   two neighbouring variables): 4 evaluations of the terms whatever d is,
   against 2 d evaluations of f for the dense gradient;
2. Newton's method on a sparse nonlinear system (a discretised reaction-diffusion
   equation), its Jacobian's pattern detected with ``sparsity="auto"`` and
   each Jacobian a ``scipy.sparse`` matrix for ``spsolve``;
3. the sparse Hessian of a chain of terms, in a fixed number of evaluations;
4. gradient descent in d dimensions at a few evaluations per step.

    python examples/11_structured.py [--d 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gradjit
from gradjit import problems


def reaction_diffusion(u, spacing):
    """The residual of ``u'' = u^3 - 1`` on (0, 1) with u = 0 at both ends, at the
    interior nodes: component i depends on u[i-1], u[i], u[i+1] (found by probing)."""
    n = u.size
    out = np.empty(n)
    for i in range(n):
        left = u[i - 1] if i > 0 else 0.0
        right = u[i + 1] if i < n - 1 else 0.0
        out[i] = (left - 2.0 * u[i] + right) / (spacing * spacing) - u[i] ** 3 + 1.0
    return out


def main(d: int = 10_000) -> dict:
    from scipy.sparse.linalg import spsolve

    report = {}
    rng = np.random.default_rng(0)

    # 1. The gradient of a sum of terms.
    x = rng.uniform(-2.0, 2.0, d)
    pattern = problems.band_pattern(d - 1, d, (0, 1))  # a gradjit.Sparsity: coloured once, reused
    gradjit.gradient(problems.rosenbrock_terms, x, terms=True, sparsity=pattern)  # compiles
    start = time.perf_counter()
    g = gradjit.gradient(problems.rosenbrock_terms, x, terms=True, sparsity=pattern)
    seconds = time.perf_counter() - start
    error = np.max(np.abs(g - problems.rosenbrock_gradient(x)) / np.maximum(1.0, np.abs(problems.rosenbrock_gradient(x))))
    print(f"1. Rosenbrock, d = {d}: {pattern.n_groups} groups, {2 * pattern.n_groups} evaluations of the terms "
          f"(dense: {2 * d} of f), {1e3 * seconds:.3f} ms, largest relative error {error:.1e}")
    report["gradient_error"] = float(error)

    # 2. Newton on a sparse system: u'' = u^3 - 1, u(0) = u(1) = 0.
    n = max(d // 10, 50)
    spacing = 1.0 / (n + 1)
    u = np.zeros(n)
    for step in range(20):
        residual = reaction_diffusion(u, spacing)
        if np.linalg.norm(residual, np.inf) < 1e-9:
            break
        J = gradjit.jacobian(reaction_diffusion, u, args=(spacing,), sparsity="auto", sparse=True, order=4)
        u = u - spsolve(J.tocsc(), residual)
    print(f"2. Newton on u'' = u^3 - 1 with {n} nodes: {step} steps, residual "
          f"{np.linalg.norm(reaction_diffusion(u, spacing), np.inf):.1e}, Jacobian {J.shape} with {J.nnz} entries, "
          f"u(1/2) = {u[n // 2]:.6f}")
    report["newton_residual"] = float(np.linalg.norm(reaction_diffusion(u, spacing), np.inf))

    # 3. The sparse Hessian of a chain of terms.
    chain = problems.band_pattern(d - 2, d, (0, 1, 2))
    H = gradjit.hessian(problems.chain_terms, x, terms=True, sparsity=chain, sparse=True)
    print(f"3. Hessian of the chain, d = {d}: {chain.hessian.evaluations(2)} evaluations of the terms, "
          f"{H.nnz} entries, symmetric: {abs(H - H.T).max() == 0}")
    report["hessian_nnz"] = int(H.nnz)

    # 4. Descent at a few evaluations per step.
    small = min(d, 1000)
    start = time.perf_counter()
    result = gradjit.minimize(problems.rosenbrock_terms, np.zeros(small), terms=True,
                              sparsity=problems.band_pattern(small - 1, small, (0, 1)), method="momentum", lr=1e-3,
                              max_iter=100_000, record=False)
    seconds = time.perf_counter() - start
    print(f"4. minimize Rosenbrock's terms, d = {small}: {result.message} after {result.nit} steps "
          f"({1e3 * seconds / max(result.nit, 1):.3f} ms a step), |x - 1| <= {np.max(np.abs(result.x - 1)):.1e}")
    report["minimize_success"] = bool(result.success)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=10_000)
    main(parser.parse_args().d)
