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
the GPU where JAX is installed with GPU support (the form ``gradjit bench`` races: the
faster of its dense and coordinate-mapped forms), and the floor: the time the
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


def _jax_on_gpu() -> bool:
    """Whether JAX is installed and sees a GPU (its arrays then live there by default)."""
    try:
        import jax
    except ImportError:
        return False
    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


def _jax_time(workload: str, points: np.ndarray, repeat: int) -> float:
    """JAX's jitted central differences at ``points`` on the GPU: the form ``gradjit bench``
    races, which takes the faster of its dense and coordinate-mapped forms, as a user would
    (:func:`gradjit.bench.jax_competitors.central_differences`)."""
    from gradjit.bench.jax_competitors import central_differences
    from gradjit.bench.workloads import Case

    d = points.shape[1]
    case = Case(workload, "", None, None, d, points.shape[0], lambda: points)
    return _best(central_differences(case, points), repeat)[1]


def _grid_row(label: str, workload: str, f: Callable, axes: list[np.ndarray], repeat: int, jax: bool) -> dict:
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
    if jax:  # JAX needs the grid's points themselves
        jax_time = _jax_time(workload, np.stack(np.meshgrid(*axes, indexing="xy"), axis=-1).reshape(-1, d), repeat)
    return {"workload": label, "first": first, "device": device, "host": host, "cpu": cpu, "jax": jax_time,
            "floor": _write_floor(shape, repeat)}


def _points_row(label: str, workload: str, f: Callable, points: np.ndarray, repeat: int, jax: bool) -> dict:
    from numba import cuda

    on_device = cuda.to_device(points)
    out = cuda.device_array(points.shape)
    first, device = _best(lambda: gradjit.gradient(f, on_device, backend="cuda", out=out), repeat)
    _, host = _best(lambda: gradjit.gradient(f, points, backend="cuda"), max(1, repeat // 3))
    gradjit.gradient(f, points[:100], backend="numba")  # compile
    start = time.perf_counter()
    gradjit.gradient(f, points, backend="numba")
    cpu = time.perf_counter() - start
    jax_time = _jax_time(workload, points, repeat) if jax else None
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
    jax = not _cuda.simulated() and _jax_on_gpu()
    repeat = max(1, options.repeat)
    rosenbrock = PROBLEMS["rosenbrock"]
    rng = np.random.default_rng(0)

    rows = []
    for label in ("sphere grid 10^6", "sphere grid 10^8"):
        axis = np.linspace(-2.0, 2.0, size[label])
        rows.append(_grid_row(label, "sphere-grid", sphere_2d, [axis, axis.copy()], repeat, jax))
        print(f"{label}: done", flush=True)
    axis = np.linspace(-1.0, 1.0, size["saddle 3-D 400^3"])
    rows.append(_grid_row("saddle 3-D 400^3", "saddle-3d", saddle_3d, [axis, axis.copy(), axis.copy()], repeat, jax))
    print("saddle 3-D: done", flush=True)
    for label, d in (("rosenbrock d=10", 10), ("rosenbrock d=100", 100)):
        points = rng.uniform(-2.0, 2.0, size=(size[label], d))
        rows.append(_points_row(label, "rosenbrock", rosenbrock.f, points, repeat, jax))
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
