"""Structured problems: gradients of sums of terms, sparse Jacobians and Hessians.

    python benchmarks/structured.py [--quick] [--no-minimize] [--out results.json]

Every ratio compares timings of this one run (medians of repeats after a first
call that compiles, on the inlined tier as ``gradjit bench`` measures steady
state; the machine is described at the top). Five measurements:

* ``rosenbrock d=10^4``: one point. gradjit's gradient of the d - 1 terms
  (``terms=True``, 2 column groups), the dense gradient of the scalar
  Rosenbrock (2 d evaluations of f), JAX's exact gradient (``jit(grad)``, and
  ``jit(vmap(grad))`` as ``gradjit bench`` times it) when JAX is installed.
* ``rosenbrock d=100, N=1000``: the same at 1000 points, against
  ``jit(vmap(grad))``.
* ``tridiagonal d=10^5``: the Jacobian of Broyden's tridiagonal function with
  its pattern, as a ``scipy.sparse`` result, against
  ``scipy.optimize.approx_derivative(F, x, method="3-point", sparsity=(S, groups))``
  on a vectorised NumPy F (the form scipy's users write), with scipy's own
  column groups computed beforehand; each library's colouring is timed apart.
* ``chain hessian d=10^4``: the Hessian of a sum of terms of three
  consecutive variables, by pairs of column groups: its evaluations of the
  terms and its time, beside the dense Hessian of the same scalar f at d = 300.
* ``minimize d=10^4``: momentum descent on Rosenbrock's terms from 0 to a
  gradient norm of 1e-6 (about two minutes; ``--no-minimize`` skips it).

``--quick`` shrinks every size by 10 (a check that everything runs).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import time

import numpy as np

import gradjit
from gradjit import problems

REPEATS = 15


def _median(run, repeats: int = REPEATS) -> float:
    run()  # compile, warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _jax():
    if importlib.util.find_spec("jax") is None:
        return None
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _jax_rosenbrock(x):
    import jax.numpy as jnp

    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def broyden_numpy(x):
    """Broyden's tridiagonal function, vectorised (as scipy's users write F)."""
    out = (3.0 - 2.0 * x) * x + 1.0
    out[1:] -= x[:-1]
    out[:-1] -= 2.0 * x[1:]
    return out


def rosenbrock_one_point(d: int, jax) -> dict:
    x = np.random.default_rng(0).uniform(-2.0, 2.0, d)
    pattern = problems.band_pattern(d - 1, d, (0, 1))
    row = {"case": f"rosenbrock d={d}, one point", "groups": pattern.n_groups,
           "evaluations_of_terms": 2 * pattern.n_groups, "evaluations_dense": 2 * d}
    row["gradjit_terms_ms"] = 1e3 * _median(lambda: gradjit.gradient(problems.rosenbrock_terms, x, terms=True,
                                                                     sparsity=pattern, jit="inline"))
    row["gradjit_dense_ms"] = 1e3 * _median(lambda: gradjit.gradient(problems.rosenbrock, x, jit="inline"), repeats=5)
    exact = problems.rosenbrock_gradient(x)
    found = gradjit.gradient(problems.rosenbrock_terms, x, terms=True, sparsity=pattern)
    row["max_relative_error"] = float(np.max(np.abs(found - exact) / np.maximum(1.0, np.abs(exact))))
    if jax is not None:
        grad = jax.jit(jax.grad(_jax_rosenbrock))
        on_device = jax.device_put(x)
        row["jax_grad_ms"] = 1e3 * _median(lambda: grad(on_device).block_until_ready(), repeats=50)
        batched = jax.jit(jax.vmap(jax.grad(_jax_rosenbrock)))
        one_row = jax.device_put(x[None])
        row["jax_vmap_grad_ms"] = 1e3 * _median(lambda: batched(one_row).block_until_ready(), repeats=50)
    return row


def rosenbrock_batch(d: int, n: int, jax) -> dict:
    X = np.random.default_rng(1).uniform(-2.0, 2.0, (n, d))
    pattern = problems.band_pattern(d - 1, d, (0, 1))
    row = {"case": f"rosenbrock d={d}, N={n}", "groups": pattern.n_groups}
    row["gradjit_terms_ms"] = 1e3 * _median(lambda: gradjit.gradient(problems.rosenbrock_terms, X, terms=True,
                                                                     sparsity=pattern, jit="inline"))
    row["gradjit_terms_1_thread_ms"] = 1e3 * _median(lambda: gradjit.gradient(problems.rosenbrock_terms, X, terms=True,
                                                                              sparsity=pattern, threads=1, jit="inline"))
    row["gradjit_dense_ms"] = 1e3 * _median(lambda: gradjit.gradient(problems.rosenbrock, X, jit="inline"), repeats=5)
    if jax is not None:
        batched = jax.jit(jax.vmap(jax.grad(_jax_rosenbrock)))
        on_device = jax.device_put(X)
        row["jax_vmap_grad_ms"] = 1e3 * _median(lambda: batched(on_device).block_until_ready(), repeats=50)
    return row


def tridiagonal(d: int) -> dict:
    import scipy.sparse as sp
    from scipy.optimize._numdiff import approx_derivative, group_columns

    x = np.random.default_rng(2).uniform(-1.0, 1.0, d)
    row = {"case": f"tridiagonal d={d}"}
    start = time.perf_counter()
    pattern = problems.band_pattern(d, d, (-1, 0, 1))
    row["gradjit_pattern_and_colouring_ms"] = 1e3 * (time.perf_counter() - start)
    row["gradjit_colouring_ms"] = 1e3 * pattern.colouring_seconds
    row["groups"] = pattern.n_groups
    structure = sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(d, d), format="csr")
    start = time.perf_counter()
    groups = group_columns(structure)
    row["scipy_group_columns_ms"] = 1e3 * (time.perf_counter() - start)
    row["scipy_groups"] = int(groups.max()) + 1
    row["gradjit_ms"] = 1e3 * _median(lambda: gradjit.jacobian(problems.broyden_tridiagonal, x, sparsity=pattern,
                                                                sparse=True, jit="inline"))
    row["scipy_3point_ms"] = 1e3 * _median(lambda: approx_derivative(broyden_numpy, x, method="3-point",
                                                                     sparsity=(structure, groups)), repeats=7)
    ours = gradjit.jacobian(problems.broyden_tridiagonal, x, sparsity=pattern, sparse=True)
    theirs = approx_derivative(broyden_numpy, x, method="3-point", sparsity=(structure, groups))
    exact = sp.diags([-np.ones(d - 1), 3.0 - 4.0 * x, -2.0 * np.ones(d - 1)], [-1, 0, 1], format="csr")
    row["gradjit_max_error"] = float(abs(ours - exact).max())
    row["scipy_max_error"] = float(abs(theirs - exact).max())
    return row


def chain_hessian(d: int, dense_d: int) -> dict:
    x = np.random.default_rng(3).uniform(-1.0, 1.0, d)
    pattern = problems.band_pattern(d - 2, d, (0, 1, 2))
    row = {"case": f"chain hessian d={d}", "groups": pattern.n_groups,
           "evaluations_of_terms": pattern.hessian.evaluations(2), "hessian_nnz": pattern.hessian.nnz}
    row["gradjit_terms_ms"] = 1e3 * _median(lambda: gradjit.hessian(problems.chain_terms, x, terms=True, sparsity=pattern,
                                                                    sparse=True, jit="inline"), repeats=7)
    small = x[:dense_d]
    row["dense_d"] = dense_d
    row["dense_evaluations_of_f"] = 4 * dense_d * (dense_d + 1) // 2 - 2 * dense_d + 1  # order 2: 2 per diagonal, 4 off it
    row["gradjit_dense_ms"] = 1e3 * _median(lambda: gradjit.hessian(problems.chain, small, jit="inline"), repeats=5)
    dense_pattern = problems.band_pattern(dense_d - 2, dense_d, (0, 1, 2))
    row["gradjit_terms_at_dense_d_ms"] = 1e3 * _median(lambda: gradjit.hessian(problems.chain_terms, small, terms=True,
                                                                               sparsity=dense_pattern, sparse=True))
    return row


def minimize_rosenbrock(d: int) -> dict:
    pattern = problems.band_pattern(d - 1, d, (0, 1))
    x0 = np.zeros(d)
    start = time.perf_counter()
    result = gradjit.minimize(problems.rosenbrock_terms, x0, terms=True, sparsity=pattern, method="momentum", lr=1e-3,
                              max_iter=400_000, record=False)
    seconds = time.perf_counter() - start
    return {"case": f"minimize rosenbrock d={d}", "nit": int(result.nit), "status": result.message,
            "grad_norm": float(np.linalg.norm(result.grad)), "max_abs_x_minus_1": float(np.max(np.abs(result.x - 1.0))),
            "seconds": seconds, "ms_per_step": 1e3 * seconds / max(result.nit, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every size divided by 10")
    parser.add_argument("--no-minimize", action="store_true", help="skip the two-minute descent")
    parser.add_argument("--out", help="write the rows as JSON here")
    options = parser.parse_args()
    scale = 10 if options.quick else 1
    jax = _jax()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numba threads "
          f"{__import__('numba').config.NUMBA_NUM_THREADS}, gradjit {gradjit.__version__}, "
          f"JAX {'not installed' if jax is None else jax.__version__}")
    rows = [rosenbrock_one_point(10_000 // scale, jax), rosenbrock_batch(100, 1000 // scale, jax),
            tridiagonal(100_000 // scale), chain_hessian(10_000 // scale, 300 // (3 if options.quick else 1))]
    if not options.no_minimize:
        rows.append(minimize_rosenbrock(10_000 // scale))
    for row in rows:
        print(json.dumps(row))
    one, batch, tri, hess = rows[:4]
    print()
    print("| case | gradjit ms | beside | ratio |\n|---|---:|---|---:|")
    print(f"| {one['case']}: terms ({one['evaluations_of_terms']} evaluations of F) | {one['gradjit_terms_ms']:.3f} | "
          f"dense f ({one['evaluations_dense']} evaluations): {one['gradjit_dense_ms']:.1f} ms | "
          f"{one['gradjit_dense_ms'] / one['gradjit_terms_ms']:.0f}x faster |")
    for key, name in (("jax_grad_ms", "JAX jit(grad)"), ("jax_vmap_grad_ms", "JAX jit(vmap(grad))")):
        for row in (one, batch):
            if key in row:
                print(f"| {row['case']}: terms | {row['gradjit_terms_ms']:.3f} | {name}: {row[key]:.3f} ms | "
                      f"{row['gradjit_terms_ms'] / row[key]:.2f}x JAX's time |")
    print(f"| {batch['case']}: terms | {batch['gradjit_terms_ms']:.3f} | dense f: {batch['gradjit_dense_ms']:.1f} ms | "
          f"{batch['gradjit_dense_ms'] / batch['gradjit_terms_ms']:.0f}x faster |")
    print(f"| {tri['case']}: sparse Jacobian ({tri['groups']} groups) | {tri['gradjit_ms']:.3f} | scipy approx_derivative "
          f"3-point: {tri['scipy_3point_ms']:.2f} ms | {tri['scipy_3point_ms'] / tri['gradjit_ms']:.0f}x faster |")
    print(f"| {tri['case']}: colouring, once | {tri['gradjit_colouring_ms']:.2f} | scipy group_columns: "
          f"{tri['scipy_group_columns_ms']:.2f} ms | |")
    print(f"| {hess['case']}: Hessian of terms ({hess['evaluations_of_terms']} evaluations of F) | "
          f"{hess['gradjit_terms_ms']:.3f} | dense Hessian at d={hess['dense_d']} ({hess['dense_evaluations_of_f']} "
          f"evaluations of f): {hess['gradjit_dense_ms']:.1f} ms | terms at d={hess['dense_d']}: "
          f"{hess['gradjit_terms_at_dense_d_ms']:.3f} ms |")
    if not options.no_minimize:
        m = rows[4]
        print(f"| {m['case']}: momentum to gradient norm {m['grad_norm']:.1e} | {m['ms_per_step']:.3f} per step | "
              f"{m['nit']} steps, {m['seconds']:.1f} s | |")
    if options.out:
        with open(options.out, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
