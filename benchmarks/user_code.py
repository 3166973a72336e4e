"""Where users already work: their own compiled loops, gradient checks, slow Python
objectives and scipy.misc.derivative.

    python benchmarks/user_code.py [--quick] [--out results.json]

Every ratio compares timings of this one run (minimum of repeats after a first
call that compiles; the machine is described at the top). Four measurements:

* ``gradjit.nb in a compiled loop``: a user's ``@numba.njit`` loop calling
  ``gradjit.nb.gradient`` at each of 10^5 points in 2-D, against one batched
  ``gradjit.gradient`` call on the same points with ``threads=1`` (inlined tier).
  Also the first call of the loop (its compilation).
* ``check_gradient``: on the suite's analytic gradients (gradjit.problems, 1000
  points each), the correct gradient and the gradient with 1% added to one
  coordinate: false failures and misses of ``gradjit.check_gradient`` and of
  ``scipy.optimize.check_grad`` judged as its users judge it (``err < 1e-5``,
  and ``err < 1e-6 * max(1, |grad|)``); time per 10^4 points (Rosenbrock, d = 5).
* ``workers=``: f that sleeps 5 ms (releases the GIL) and f that spins 5 ms in
  Python, d = 50, one gradient (100 evaluations): serial against a thread pool
  and against a process pool (``multiprocessing.Pool(...).map``).
* ``classic.derivative``: scipy.misc.derivative's arithmetic over 10^6 points,
  compiled, against the same arithmetic in NumPy (how SciPy ran it).

``--quick`` shrinks the sizes (a check that everything runs).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import time

import numba
import numpy as np

import gradjit
from gradjit import nb, problems
from gradjit.classic import derivative as misc_derivative
from gradjit.classic import derivative_weights

REPEATS = 7


def _best(run, repeats: int = REPEATS) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _interleaved(first, second, repeats: int = 25) -> tuple[float, float]:
    """The best times of two runs timed in turn: a noisy neighbour slows both alike."""
    a, b = [], []
    for _ in range(repeats):
        for run, times in ((first, a), (second, b)):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return min(a), min(b)


@numba.njit
def bowl_with_sine(x):
    return x[0] * x[0] + 3.0 * x[0] * x[1] + np.sin(x[1])


@numba.njit
def user_loop(points, out):
    for i in range(points.shape[0]):
        nb.gradient(bowl_with_sine, points[i], out[i])


def compiled_loop(n: int) -> dict:
    points = np.random.default_rng(0).uniform(-2.0, 2.0, (n, 2))
    out, batched = np.empty_like(points), np.empty_like(points)
    start = time.perf_counter()
    user_loop(points, out)
    first = time.perf_counter() - start
    gradjit.gradient(bowl_with_sine, points, threads=1, jit="inline", out=batched)  # compile
    loop, batch = _interleaved(lambda: user_loop(points, out),
                               lambda: gradjit.gradient(bowl_with_sine, points, threads=1, jit="inline", out=batched))
    return {"case": f"{n} calls at 2-D points", "loop_ms": 1e3 * loop, "batched_1_thread_ms": 1e3 * batch,
            "ratio": loop / batch, "first_call_s": first, "same_bits": bool(np.array_equal(out, batched))}


def _one_percent_off(problem, coordinate):
    def wrong(x):
        g = problem.gradient(x[None])[0]
        g[coordinate] *= 1.01
        return g

    return wrong


def gradient_checks(n: int) -> dict:
    from scipy.optimize import check_grad

    rows = {"points": 0, "gradjit_false_failures": 0, "gradjit_misses": 0, "scipy_abs_false_failures": 0,
            "scipy_abs_misses": 0, "scipy_rel_false_failures": 0, "scipy_rel_misses": 0}
    for problem in problems.PROBLEMS.values():
        for d in [2] if problem.dims else [2, 5]:
            X = problem.sample(n, d, seed=3)
            exact = lambda x, p=problem: p.gradient(x[None])[0]
            wrong = _one_percent_off(problem, d - 1)
            rows["points"] += n
            rows["gradjit_false_failures"] += int(np.sum(~gradjit.check_gradient(problem.f, exact, X).consistent))
            rows["gradjit_misses"] += int(np.sum(gradjit.check_gradient(problem.f, wrong, X).consistent))
            f = problem.f
            for grad, kind in ((exact, "false_failures"), (wrong, "misses")):
                errors = np.array([check_grad(f, grad, x) for x in X])
                norms = np.maximum(1.0, np.linalg.norm(problem.gradient(X), axis=1))
                passed_abs, passed_rel = errors < 1e-5, errors < 1e-6 * norms
                failed_abs, failed_rel = ~passed_abs, ~passed_rel
                if kind == "false_failures":
                    rows["scipy_abs_false_failures"] += int(failed_abs.sum())
                    rows["scipy_rel_false_failures"] += int(failed_rel.sum())
                else:
                    rows["scipy_abs_misses"] += int(passed_abs.sum())
                    rows["scipy_rel_misses"] += int(passed_rel.sum())
    timed = problems.get("rosenbrock")
    X = timed.sample(10 * n, 5, seed=4)
    exact = lambda x: timed.gradient(x[None])[0]
    f = timed.f
    rows["gradjit_s_per_10k"] = _best(lambda: gradjit.check_gradient(timed.f, exact, X), repeats=2) * 1e4 / X.shape[0]
    start = time.perf_counter()
    for x in X:
        check_grad(f, exact, x)
    rows["scipy_s_per_10k"] = (time.perf_counter() - start) * 1e4 / X.shape[0]
    return rows


def sleeps(x):
    """5 ms of waiting (a simulator in C, a solver, I/O): the GIL is released."""
    time.sleep(0.005)
    return float(np.dot(x, x))


def spins(x):
    """5 ms of Python: the GIL is held."""
    start = time.perf_counter()
    total = 0.0
    while time.perf_counter() - start < 0.005:
        total += 1.0
    return float(np.dot(x, x)) + 0.0 * total


def workers(d: int) -> dict:
    x = np.linspace(-1.0, 1.0, d)
    row = {"case": f"d = {d}, {2 * d} evaluations of 5 ms", "cores": os.cpu_count()}
    serial = gradjit.gradient(sleeps, x, backend="numpy")
    row["sleep_serial_s"] = _best(lambda: gradjit.gradient(sleeps, x, backend="numpy"), repeats=2)
    for n in (2, 4, 8):
        row[f"sleep_threads_{n}_s"] = _best(lambda n=n: gradjit.gradient(sleeps, x, backend="numpy", workers=n), repeats=2)
    row["sleep_same_bits"] = bool(np.array_equal(serial, gradjit.gradient(sleeps, x, backend="numpy", workers=4)))
    row["spin_serial_s"] = _best(lambda: gradjit.gradient(spins, x, backend="numpy"), repeats=2)
    row["spin_threads_2_s"] = _best(lambda: gradjit.gradient(spins, x, backend="numpy", workers=2), repeats=2)
    processes = os.cpu_count() or 1
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        row[f"spin_processes_{processes}_s"] = _best(lambda: gradjit.gradient(spins, x, backend="numpy", workers=pool.map),
                                                     repeats=2)
    row["processes"] = processes
    return row


def _misc_numpy(func, x0, dx, n, order):
    """scipy.misc.derivative's loop as SciPy ran it: func on the whole array at each offset."""
    weights, half, total = derivative_weights(order, n), order >> 1, 0.0
    for k in range(order):
        total += weights[k] * func(x0 + (k - half) * dx)
    return total / np.prod((dx,) * n, axis=0)


def misc(n: int) -> dict:
    x0 = np.linspace(-3.0, 3.0, n)

    def f(t):
        return np.sin(t) * np.exp(-0.1 * t * t)

    compiled = _best(lambda: misc_derivative(f, x0, dx=1e-3, n=1, order=5))
    reference = _best(lambda: _misc_numpy(f, x0, 1e-3, 1, 5))
    same = np.max(np.abs(misc_derivative(f, x0, dx=1e-3, order=5) - _misc_numpy(f, x0, 1e-3, 1, 5)))
    return {"case": f"{n} points, order 5", "gradjit_ms": 1e3 * compiled, "numpy_ms": 1e3 * reference,
            "speedup": reference / compiled, "max_difference": float(same)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a check that everything runs")
    parser.add_argument("--out", help="write the rows as JSON here")
    options = parser.parse_args()
    quick = options.quick
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numba threads "
          f"{numba.config.NUMBA_NUM_THREADS}, gradjit {gradjit.__version__}")
    rows = {"nb": compiled_loop(10_000 if quick else 100_000), "check": gradient_checks(100 if quick else 1000),
            "workers": workers(6 if quick else 50), "misc": misc(10_000 if quick else 1_000_000)}
    print(json.dumps(rows, indent=1))
    loop, check, pool, drop_in = rows["nb"], rows["check"], rows["workers"], rows["misc"]
    print("\n| measurement | gradjit | beside | ratio |\n|---|---:|---|---:|")
    print(f"| nb.gradient in a user's loop, {loop['case']} | {loop['loop_ms']:.2f} ms | batched gradient, threads=1: "
          f"{loop['batched_1_thread_ms']:.2f} ms | {loop['ratio']:.2f}x |")
    print(f"| check_gradient, {check['points']} points: false failures / misses of a 1% error | "
          f"{check['gradjit_false_failures']} / {check['gradjit_misses']} | check_grad < 1e-5: "
          f"{check['scipy_abs_false_failures']} / {check['scipy_abs_misses']}; < 1e-6 max(1, |g|): "
          f"{check['scipy_rel_false_failures']} / {check['scipy_rel_misses']} | |")
    print(f"| check_gradient, time per 10^4 points (Rosenbrock d=5) | {check['gradjit_s_per_10k']:.2f} s | check_grad: "
          f"{check['scipy_s_per_10k']:.2f} s | {check['scipy_s_per_10k'] / check['gradjit_s_per_10k']:.1f}x faster |")
    for n in (2, 4, 8):
        print(f"| workers={n} (threads), f sleeps 5 ms, {pool['case']} | {pool[f'sleep_threads_{n}_s']:.3f} s | serial: "
              f"{pool['sleep_serial_s']:.3f} s | {pool['sleep_serial_s'] / pool[f'sleep_threads_{n}_s']:.2f}x |")
    print(f"| workers=2 (threads), f spins 5 ms in Python | {pool['spin_threads_2_s']:.3f} s | serial: "
          f"{pool['spin_serial_s']:.3f} s | {pool['spin_serial_s'] / pool['spin_threads_2_s']:.2f}x |")
    processes = pool["processes"]
    print(f"| workers=Pool({processes}).map (processes), f spins 5 ms | {pool[f'spin_processes_{processes}_s']:.3f} s | "
          f"serial: {pool['spin_serial_s']:.3f} s | {pool['spin_serial_s'] / pool[f'spin_processes_{processes}_s']:.2f}x |")
    print(f"| classic.derivative, {drop_in['case']} | {drop_in['gradjit_ms']:.2f} ms | SciPy's loop in NumPy: "
          f"{drop_in['numpy_ms']:.2f} ms | {drop_in['speedup']:.1f}x |")
    if options.out:
        with open(options.out, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
