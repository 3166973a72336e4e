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

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["measure", "second_process", "table"]

_SOURCE = "def f(x):\n    return x[0] * x[0] - 2.0 * x[0] * x[1] + {c!r} * x[1] * x[1]\n"
_JAX_SOURCE = "def f(x):\n    return x[0] * x[0] - 2.0 * x[0] * x[1] + {c!r} * x[1] * x[1]\n"
_DERIVATIVE_SOURCE = "def f(t):\n    return t * t * t - {c!r} * t\n"


def _new(source: str, rng: np.random.Generator) -> Callable:
    namespace: dict = {}
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
        "minimize, one start (Adam, 100 steps)": (
            _SOURCE, lambda f, jit: gradjit.minimize(f, [0.5, 0.5], method="adam", lr=0.01, max_iter=100, jit=jit)),
        "minimize, 10^4 starts (Adam, 2 steps)": (
            _SOURCE, lambda f, jit: gradjit.minimize(f, starts, method="adam", lr=0.01, max_iter=2, jit=jit)),
    }


def _jax_first_call(rng: np.random.Generator) -> Callable[[], float] | None:
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

    def run() -> float:
        f = _new(_JAX_SOURCE, rng)
        on_rows = jax.vmap(f)

        def fd(x):
            h = (x + 6.055454e-06 * jnp.maximum(1.0, jnp.abs(x))) - x
            return 0.5 * (on_rows(x + eye * h) - on_rows(x - eye * h)) / h

        start = time.perf_counter()
        jax.jit(jax.vmap(fd))(points).block_until_ready()
        return time.perf_counter() - start

    return run


def measure(rounds: int = 5, tiers: tuple[str, ...] = ("auto", "fast-start", "inline"), *, jax: bool = True) -> dict:
    """``{workload: {tier: [seconds per round]}}`` for new functions, after start-up;
    JAX's first call is under ``"JAX jit+vmap"`` of the gradient workload."""
    rng = np.random.default_rng(0)
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
    for _ in range(rounds):
        for name, (source, call) in workloads.items():
            for tier in tiers:
                f = _new(source, rng)
                start = time.perf_counter()
                call(f, tier)
                results[name][tier].append(time.perf_counter() - start)
        if jax_run is not None:
            results[first]["JAX jit+vmap"].append(jax_run())
    return results


_PROCESS_SCRIPT = """
import time
start = time.perf_counter()
import numpy as np
import gradjit
imported = time.perf_counter()
from objective_module import f
points = np.random.default_rng(1).uniform(-1, 1, size=(1000, 2))
begin = time.perf_counter()
gradjit.gradient(f, points)
print(f"{{imported - start}} {{time.perf_counter() - begin}}")
"""


def second_process(cache_dir: str | None = None) -> list[tuple[float, float]]:
    """``[(import seconds, first call seconds)]`` of two fresh processes on one new
    module-level f: the first compiles it, the second loads it from the disk cache."""
    with tempfile.TemporaryDirectory() as folder:
        constant = float(np.random.default_rng(int(time.time())).uniform(1, 2))
        Path(folder, "objective_module.py").write_text(_SOURCE.format(c=constant))
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([folder, os.environ.get("PYTHONPATH", "")])}
        if cache_dir is not None:
            environment["GRADJIT_CACHE_DIR"] = cache_dir
        found = []
        for _ in range(2):
            output = subprocess.run([sys.executable, "-c", textwrap.dedent(_PROCESS_SCRIPT.format())], env=environment,
                                    capture_output=True, text=True, check=True).stdout
            imported, first = map(float, output.split()[-2:])
            found.append((imported, first))
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
