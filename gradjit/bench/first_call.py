"""The first call on a new function: what a user waits for before any result.

Each round makes a genuinely new objective (fresh source with a new constant,
so neither the process nor the disk cache has seen it) and times the first
call of each entry point on it, on each compilation tier, beside JAX's first
``jit(vmap(...))`` finite-difference call on its ``jax.numpy`` twin when JAX is
installed. All of it runs after the library's own start-up (one call of each
entry point on another function), as the issue's targets are stated.

A second measurement runs two fresh processes on the same module-level
function written to a file: the first compiles it and fills the disk cache,
the second should only load it.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["FLOOR", "measure", "second_process", "table"]

_SOURCE = "def f(x):\n    return x[0] * x[0] - 2.0 * x[0] * x[1] + {c!r} * x[1] * x[1]\n"
_JAX_SOURCE = "def f(x):\n    return x[0] * x[0] - 2.0 * x[0] * x[1] + {c!r} * x[1] * x[1]\n"
_DERIVATIVE_SOURCE = "def f(t):\n    return t * t * t - {c!r} * t\n"
_VECTOR_SOURCE = ("import numpy as np\n\ndef f(x):\n"
                  "    return np.array([x[0] * x[1], x[0] - {c!r} * x[1] * x[1], x[0] * x[0] * x[1]])\n")


def _new(source: str, rng: np.random.Generator) -> Callable:
    # In a module, as a user's function is (so it is also written to the disk cache).
    namespace: dict = {"__name__": "__main__"}
    exec(source.format(c=float(rng.uniform(1, 2))), namespace)  # noqa: S102 - a fixed template
    return namespace["f"]


def _workloads() -> dict[str, tuple[str, Callable]]:
    import gradjit

    points = np.random.default_rng(1).uniform(-1, 1, size=(1000, 2))
    axes = (np.linspace(-1, 1, 200), np.linspace(-1, 1, 200))
    scalars = np.linspace(0.5, 1.5, 1000)
    starts = np.random.default_rng(2).uniform(-1, 1, size=(10_000, 2))
    return {
        "gradient, 1000 points, d = 2": (_SOURCE, lambda f, jit: gradjit.gradient(f, points, jit=jit)),
        "grid_gradient, 200^2 grid": (_SOURCE, lambda f, jit: gradjit.grid_gradient(f, axes, jit=jit)),
        "derivative, 1000 points": (_DERIVATIVE_SOURCE, lambda f, jit: gradjit.derivative(f, scalars, jit=jit)),
        "gradient, Richardson with bounds, 1000 points": (
            _SOURCE, lambda f, jit: gradjit.gradient(f, points, method="richardson", bounds=(-1.0, 1.0), jit=jit)),
        "hessian, 1000 points, d = 2": (_SOURCE, lambda f, jit: gradjit.hessian(f, points, jit=jit)),
        "jacobian, 1000 points, 3 x 2": (_VECTOR_SOURCE, lambda f, jit: gradjit.jacobian(f, points, jit=jit)),
        "minimize, one start (Adam, 100 steps)": (
            _SOURCE, lambda f, jit: gradjit.minimize(f, [0.5, 0.5], method="adam", lr=0.01, max_iter=100, jit=jit)),
        "minimize, 10^4 starts (Adam, 2 steps)": (
            _SOURCE, lambda f, jit: gradjit.minimize(f, starts, method="adam", lr=0.01, max_iter=2, jit=jit)),
    }


def _jax_first_call(rng: np.random.Generator) -> Callable[[], None] | None:
    """JAX's first call on a new function: trace, compile and run jit(vmap(central
    differences)) on 1000 points, with gradjit's step rule; None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    points = jax.device_put(np.random.default_rng(1).uniform(-1, 1, size=(1000, 2)))
    eye = jnp.eye(2)

    def run() -> None:
        f = _new(_JAX_SOURCE, rng)
        on_rows = jax.vmap(f)

        def fd(x):
            h = (x + 6.055454e-06 * jnp.maximum(1.0, jnp.abs(x))) - x
            return 0.5 * (on_rows(x + eye * h) - on_rows(x - eye * h)) / h

        jax.jit(jax.vmap(fd))(points).block_until_ready()

    return run


def measure(rounds: int = 5, tiers: tuple[str, ...] = ("auto", "fast-start", "inline"), *, jax: bool = True) -> dict:
    """``{workload: {tier: [seconds per round]}}`` for new functions, after start-up;
    JAX's first call is under ``"JAX jit+vmap"`` of the gradient workload."""
    rng = np.random.default_rng()  # new constants every run: nothing in the disk cache either
    workloads = _workloads()
    for source, call in workloads.values():  # the library's own start-up: every kernel family once
        for tier in tiers:
            call(_new(source, rng), tier)
    jax_run = _jax_first_call(rng) if jax else None
    if jax_run is not None:
        jax_run()  # JAX's own start-up
    results: dict = {name: {tier: [] for tier in tiers} for name in workloads}
    first = next(iter(workloads))
    if jax_run is not None:
        results[first]["JAX jit+vmap"] = []
    for name in workloads:
        results[name][FLOOR] = []
    for _ in range(rounds):
        for name, (source, call) in workloads.items():
            for tier in tiers:
                f = _new(source, rng)
                results[name][tier].append(_timed(lambda: call(f, tier)))  # noqa: B023 - called at once
            results[name][FLOOR].append(_timed(_compile_alone(_new(source, rng), source)))
        if jax_run is not None:
            results[first]["JAX jit+vmap"].append(_timed(jax_run))
    return results


#: The column of the floor: Numba compiling the new f alone, for the kernels only (no
#: Python or C entry points), what any tier that compiles f must at least spend.
FLOOR = "Numba compiles f alone"


def _compile_alone(f: Callable, source: str) -> Callable[[], None]:
    import numba
    from numba import types

    from .._config import INTERNAL_JIT_OPTIONS  # the options gradjit compiles f with for its kernels

    point = types.float64 if source == _DERIVATIVE_SOURCE else types.float64[::1]
    dispatcher = numba.njit(**INTERNAL_JIT_OPTIONS)(f)
    return lambda: dispatcher.compile((point,))


def _timed(run: Callable[[], object]) -> float:
    """Seconds of one call, with the garbage collector run before and paused during it,
    as :mod:`timeit` does: a collection of the benchmark's own earlier objects (hundreds
    of compiled kernels by then) is not the call's cost."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed


_PROCESS_SCRIPT = """
import time
start = time.perf_counter()
import numpy as np
import gradjit
imported = time.perf_counter()
from numba.core.registry import cpu_target
cpu_target.target_context.refresh()  # Numba's own once-per-process start: any @njit function pays it
numba_started = time.perf_counter()
from objective_module import f
points = np.random.default_rng(1).uniform(-1, 1, size=(1000, 2))
begin = time.perf_counter()
gradjit.gradient(f, points)
gradient = time.perf_counter()
gradjit.gradient(f, points, method="richardson", bounds=(-1.0, 1.0))
print(imported - start, numba_started - imported, gradient - begin, time.perf_counter() - gradient)
"""


def second_process(cache_dir: str | None = None) -> list[tuple[float, float, float, float]]:
    """``[(import, Numba's start, first gradient, then first Richardson gradient with
    bounds)]`` in seconds, of two fresh processes on one new module-level f: the first
    compiles it, the second loads it from the disk cache. Numba's start (loading its
    typing registries, which imports SciPy's BLAS where SciPy is installed) is paid
    once per process by any Numba code."""
    with tempfile.TemporaryDirectory() as folder:
        constant = float(np.random.default_rng(int(time.time())).uniform(1, 2))
        Path(folder, "objective_module.py").write_text(_SOURCE.format(c=constant))
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([folder, os.environ.get("PYTHONPATH", "")])}
        if cache_dir is not None:
            environment["GRADJIT_CACHE_DIR"] = cache_dir
        found = []
        for _ in range(2):
            output = subprocess.run([sys.executable, "-c", _PROCESS_SCRIPT], env=environment, capture_output=True,
                                    text=True, check=True).stdout
            found.append(tuple(map(float, output.split()[-4:])))
        return found


def _ms(values: list[float]) -> str:
    return f"{1e3 * statistics.median(values):.0f} ({1e3 * min(values):.0f}-{1e3 * max(values):.0f})"


def table(results: dict) -> str:
    """A markdown table: median (range) ms of the first call per workload and tier."""
    columns = list(dict.fromkeys(column for row in results.values() for column in row))
    lines = ["| first call on a new f, ms: median (range) | " + " | ".join(columns) + " |",
             "|---|" + "---|" * len(columns)]
    for name, row in results.items():
        lines.append(f"| {name} | " + " | ".join(_ms(row[c]) if c in row else "" for c in columns) + " |")
    return "\n".join(lines)
