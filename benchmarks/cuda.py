"""backend="cuda" against the CPU backend, JAX on the GPU, and the device's bandwidth floor.

Usage (on a machine with an NVIDIA GPU and ``pip install "gradjit[cuda]"``; it installs nothing)::

    python benchmarks/cuda.py [--out cuda-results.md] [--repeat 3]

The workloads of ``gradjit bench``, at GPU sizes:

* sphere ``x0² + x1²`` on 2-D grids of 10^6 and 10^8 points, and the saddle
  ``x0² − x1² + 0.5 x2²`` on a 400³ grid, by :func:`gradjit.grid_gradient` into a
  device array (the points are made from the axes on the device);
* Rosenbrock at random points, d = 10 (10^6 points) and d = 100 (10^5 points),
  by :func:`gradjit.gradient` of device arrays;
* Himmelblau from 10^6 starts: one step of :func:`gradjit.minimize` (the run's
  state on the device), against one gradient call at the same points.

Each row gives gradjit on the device (steady state: the best of ``--repeat``
timed calls after a first, compiling call, whose time is shown too), the same call
with NumPy arrays (the copies to the device and back included), the CPU
backend (``backend="numba"``, every core), JAX's jitted central differences on
the GPU where JAX is installed with GPU support, and the floor: the time the
device takes to write the output, a kernel that stores one float per entry.

Without a GPU, under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``), the
script runs end to end at tiny sizes (``--tiny``, chosen by itself there): the
times then say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import gradjit
from gradjit import _cuda
from gradjit.bench.workloads import saddle_3d, sphere_2d
from gradjit.problems import PROBLEMS

#: (name, size) -> the size at full scale and under --tiny.
SIZES = {
    "sphere grid 10^6": (1_000, 8),
    "sphere grid 10^8": (10_000, 12),
    "saddle 3-D 400^3": (400, 4),
    "rosenbrock d=10": (1_000_000, 6),
    "rosenbrock d=100": (100_000, 2),
    "many starts 10^6": (1_000_000, 16),
}


def _best(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(first call, best of ``repeat`` later calls) in seconds, each synchronised with the device."""
    from numba import cuda

    def timed() -> float:
        start = time.perf_counter()
        call()
        cuda.synchronize()
        return time.perf_counter() - start

    first = timed()
    return first, min(timed() for _ in range(repeat))


def _write_floor(shape: tuple[int, ...], repeat: int) -> float:
    """The time to store one float64 per entry of an array of ``shape`` on the device."""
    from numba import cuda

    from gradjit.backends.cuda import fill

    out = cuda.device_array(math.prod(shape))
    return _best(lambda: fill(out, 1.0), repeat)[1]


def _jax_gpu() -> object | None:
    """JAX with a GPU and float64, or None."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    try:
        return jax if jax.devices("gpu") else None
    except RuntimeError:
        return None


def _jax_central(jax, f: Callable, points_on_gpu) -> Callable[[], object]:
    """gradjit's order-2 central differences written in JAX (the dense form its bench uses for
    a few variables), jitted and vmapped over the points, on the GPU."""
    import jax.numpy as jnp

    from gradjit.stencils import default_step

    relative = default_step(2)
    d = points_on_gpu.shape[1]
    eye = jnp.eye(d)

    def one(x):
        h = ((x + relative * jnp.maximum(1.0, jnp.abs(x))) - x)
        plus = jax.vmap(f)(x + eye * h)
        minus = jax.vmap(f)(x - eye * h)
        return (plus - minus) / (2.0 * h)

    run = jax.jit(jax.vmap(one))
    return lambda: run(points_on_gpu).block_until_ready()


def _grid_row(label: str, f: Callable, axes: list[np.ndarray], jax_f: Callable | None, repeat: int, jax) -> dict:
    from numba import cuda

    d = len(axes)
    shape = (d, *(a.size for a in reversed(axes[:2])), *(a.size for a in axes[2:]))
    out = cuda.device_array(shape)
    first, device = _best(lambda: gradjit.grid_gradient(f, axes, backend="cuda", out=out), repeat)
    _, host = _best(lambda: gradjit.grid_gradient(f, axes, backend="cuda"), max(1, repeat // 3))
    start = time.perf_counter()
    gradjit.grid_gradient(f, axes, backend="numba")  # compiled by a first call below
    cpu_first = time.perf_counter() - start
    start = time.perf_counter()
    gradjit.grid_gradient(f, axes, backend="numba")
    cpu = min(cpu_first, time.perf_counter() - start)
    jax_time = None
    if jax is not None and jax_f is not None:
        mesh = np.stack(np.meshgrid(*axes, indexing="xy"), axis=-1).reshape(-1, d)
        jax_time = _best(_jax_central(jax, jax_f, jax.device_put(mesh)), repeat)[1]
    return {"workload": label, "first": first, "device": device, "host": host, "cpu": cpu, "jax": jax_time,
            "floor": _write_floor(shape, repeat)}


def _points_row(label: str, f: Callable, points: np.ndarray, jax_f: Callable | None, repeat: int, jax) -> dict:
    from numba import cuda

    on_device = cuda.to_device(points)
    out = cuda.device_array(points.shape)
    first, device = _best(lambda: gradjit.gradient(f, on_device, backend="cuda", out=out), repeat)
    _, host = _best(lambda: gradjit.gradient(f, points, backend="cuda"), max(1, repeat // 3))
    gradjit.gradient(f, points[:100], backend="numba")  # compile
    start = time.perf_counter()
    gradjit.gradient(f, points, backend="numba")
    cpu = time.perf_counter() - start
    jax_time = None
    if jax is not None and jax_f is not None:
        jax_time = _best(_jax_central(jax, jax_f, jax.device_put(points)), repeat)[1]
    return {"workload": label, "first": first, "device": device, "host": host, "cpu": cpu, "jax": jax_time,
            "floor": _write_floor(points.shape, repeat)}


def _descent_row(label: str, starts: np.ndarray, repeat: int) -> dict:
    """One step of minimize from every start, as the difference of runs of 2k and k steps
    (the setup, copies to the device and back, cancels), against one gradient call."""
    from numba import cuda

    himmelblau = PROBLEMS["himmelblau"].f
    steps = 10

    def run(n_steps: int) -> None:
        gradjit.minimize(himmelblau, starts, backend="cuda", method="gd", lr=1e-4, gtol=0.0, max_iter=n_steps, record=False)

    first, short = _best(lambda: run(steps), repeat)
    _, long = _best(lambda: run(2 * steps), repeat)
    step = max(long - short, 0.0) / steps
    on_device = cuda.to_device(starts)
    out = cuda.device_array(starts.shape)
    _, gradient = _best(lambda: gradjit.gradient(himmelblau, on_device, backend="cuda", out=out), repeat)
    def on_cpu(n_steps: int) -> float:
        start = time.perf_counter()
        gradjit.minimize(himmelblau, starts, backend="numba", method="gd", lr=1e-4, gtol=0.0, max_iter=n_steps, record=False)
        return time.perf_counter() - start

    on_cpu(1)  # compiles
    cpu = max(on_cpu(2 * steps) - on_cpu(steps), 0.0) / steps
    return {"workload": label, "first": first, "device": step, "host": None, "cpu": cpu, "jax": None,
            "floor": _write_floor(starts.shape, repeat), "gradient": gradient}


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1e3:,.3g}"


def table(rows: list[dict], device_name: str) -> str:
    """The rows as markdown."""
    lines = [
        f"Device: {device_name}. Times in ms; steady state is the best of the timed calls after a first, compiling one.",
        "",
        ("| workload | first call | gradjit cuda (device arrays) | with NumPy arrays (copies) | CPU backend | JAX GPU "
        "(central differences) | floor (write the output) | cuda / floor | CPU / cuda |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratio = row["device"] / row["floor"] if row["floor"] else math.nan
        speedup = row["cpu"] / row["device"] if row["device"] else math.nan
        lines.append(f"| {row['workload']} | {_ms(row['first'])} | {_ms(row['device'])} | {_ms(row['host'])} | "
                     f"{_ms(row['cpu'])} | {_ms(row['jax'])} | {_ms(row['floor'])} | {ratio:.2f} | {speedup:,.1f} |")
        if "gradient" in row:
            lines.append("")
            lines.append(f"Many starts: one minimize step {_ms(row['device'])} ms against one gradient call "
                         f"{_ms(row['gradient'])} ms: {row['device'] / row['gradient']:.2f}x (target: within 2x).")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("cuda-results.md"), help="where the markdown table goes")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per measurement (the best is kept)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (chosen by itself on the CUDA simulator)")
    options = parser.parse_args(argv)
    if _cuda.missing() is not None:
        print(f"backend='cuda' cannot run here: {_cuda.missing()}", file=sys.stderr)
        return 2
    tiny = options.tiny or _cuda.simulated()
    size = {label: sizes[1] if tiny else sizes[0] for label, sizes in SIZES.items()}
    jax = None if _cuda.simulated() else _jax_gpu()
    repeat = max(1, options.repeat)
    rosenbrock = PROBLEMS["rosenbrock"]
    rng = np.random.default_rng(0)

    def jax_twin(name: str) -> Callable | None:
        if jax is None:
            return None
        import jax.numpy as jnp

        return {
            "sphere": lambda x: x[0] * x[0] + x[1] * x[1],
            "saddle": lambda x: x[0] * x[0] - x[1] * x[1] + 0.5 * x[2] * x[2],
            "rosenbrock": lambda x: jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2),
        }[name]

    rows = []
    for label in ("sphere grid 10^6", "sphere grid 10^8"):
        axis = np.linspace(-2.0, 2.0, size[label])
        rows.append(_grid_row(label, sphere_2d, [axis, axis.copy()], jax_twin("sphere"), repeat, jax))
        print(f"{label}: done", flush=True)
    axis = np.linspace(-1.0, 1.0, size["saddle 3-D 400^3"])
    rows.append(_grid_row("saddle 3-D 400^3", saddle_3d, [axis, axis.copy(), axis.copy()], jax_twin("saddle"), repeat, jax))
    print("saddle 3-D: done", flush=True)
    for label, d in (("rosenbrock d=10", 10), ("rosenbrock d=100", 100)):
        points = rng.uniform(-2.0, 2.0, size=(size[label], d))
        rows.append(_points_row(label, rosenbrock.f, points, jax_twin("rosenbrock"), repeat, jax))
        print(f"{label}: done", flush=True)
    starts = rng.uniform(-5.0, 5.0, size=(size["many starts 10^6"], 2))
    rows.append(_descent_row("many starts 10^6 (one step)", starts, repeat))
    name = _cuda.describe()["cuda"]
    text = table(rows, name + (" (tiny sizes: not a measurement of a GPU)" if tiny else ""))
    options.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
