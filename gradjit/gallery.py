"""The seeds' figures redone with :mod:`gradjit.plot`, and a few more: each
function is a short, complete recipe that writes one PNG and returns its path.

``gradjit demo [--out DIR]`` renders them all (:func:`render_all`);
``examples/09_gallery.py`` renders one or all; the README shows them.
``small=True`` draws the same pictures from fewer points (for tests).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from . import optim, plot
from .api import gradient, grid_gradient
from .errors import OptionError
from .optim import minimize
from .problems import PROBLEMS, himmelblau, rosenbrock, saddle, sphere

__all__ = ["FIGURES", "check_names", "render_all"]

#: Resolution of the gallery's PNGs (``gradjit demo --dpi``): a 5-inch figure is 550 pixels
#: wide, crisp where the README shows three side by side.
DPI = 110


def _save(ax_or_fig, out: Path, name: str, dpi: int = DPI) -> Path:
    """Write a compact PNG: rendered at DPI, then reduced to a 256-colour palette
    (Pillow, which matplotlib depends on), about a third of the bytes."""
    from PIL import Image

    figure = ax_or_fig if isinstance(ax_or_fig, Figure) else ax_or_fig.figure
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    buffer.seek(0)
    path = Path(out) / f"{name}.png"
    Image.open(buffer).convert("RGB").quantize(256).save(path, optimize=True)
    return path


#: The seeds' ``function_2``, x0² + x1²: the suite's sphere in 2-D (their saddle,
#: x² − y², is the suite's ``saddle``).
bowl = sphere


def tangent_of_cube(out: Path, small: bool = False, dpi: int = DPI) -> Path:
    """The tangent of x³ at 10 (the seed's derivative, 300)."""
    ax = plot.tangent(lambda t: t**3, 10.0, xlim=(0, 15))
    ax.set_title("x³ and its tangent at x = 10")
    return _save(ax, out, "tangent_of_cube", dpi)


def tangent_of_line(out: Path, small: bool = False, dpi: int = DPI) -> Path:
    """The tangent of 2x at 3: the line itself, slope 2."""
    ax = plot.tangent(lambda t: 2.0 * t, 3.0, xlim=(0, 6))
    ax.set_title("2x and its tangent at x = 3")
    return _save(ax, out, "tangent_of_line", dpi)


def gradient_field_of_the_seed(out: Path, small: bool = False, dpi: int = DPI) -> Path:
    """−∇(x0² + x1²) on the seed's grid (step 0.25 on [−2, 2]²): arrows to the minimum."""
    ax = plot.gradient_field(bowl, xlim=(-2, 2), ylim=(-2, 2), n=17)
    return _save(ax, out, "gradient_field", dpi)


def descent_of_the_seed(out: Path, small: bool = False, dpi: int = DPI) -> Path:
    """Gradient descent on x0² + x1² from (−3, 4), lr 0.1, 20 steps (the seed's figure)."""
    run = minimize(bowl, [-3.0, 4.0], lr=0.1, max_iter=20, gtol=0.0)
    ax = plot.descent_paths(bowl, run, xlim=(-3.5, 3.5), ylim=(-4.5, 4.5))
    ax.set_title("gradient descent from (−3, 4), lr = 0.1")
    return _save(ax, out, "descent_path", dpi)


def saddle_surface(out: Path, small: bool = False, dpi: int = DPI) -> Path:
    """The seed's saddle x² − y², with plain descent from next to the saddle lifted onto it."""
    run = minimize(saddle, [4.0, 0.01], lr=0.05, max_iter=60, gtol=0.0)
    ax = plot.surface(saddle, xlim=(-5, 5), ylim=(-5, 5), n=30 if small else 80, results=run)
    ax.set_title("x² − y²: descent rolls into the saddle, then off it")
    return _save(ax, out, "saddle_surface", dpi)


def optimizers_on_the_saddle(out: Path, small: bool = False, dpi: int = DPI) -> Path:
    """Plain descent lingers at the saddle of x² − y²; momentum and Adam leave it sooner."""
    methods = {"gradient descent": optim.GradientDescent(lr=0.05), "momentum": optim.Momentum(lr=0.05),
               "adam": optim.Adam(lr=0.05)}
    runs = [minimize(saddle, [1.5, 1e-3], method=m, max_iter=40, gtol=0.0) for m in methods.values()]
    ax = plot.descent_paths(saddle, runs, labels=list(methods), xlim=(-1.5, 2.5), ylim=(-2.5, 2.5))
    ax.set_title("40 steps from (1.5, 0.001) on x² − y²")
    return _save(ax, out, "optimizers_on_saddle", dpi)


def optimizers_on_rosenbrock(out: Path, small: bool = False, dpi: int = DPI) -> Path:
    """Descent, momentum, RMSprop and Adam on Rosenbrock from (−1.2, 1), 2,000 steps each."""
    methods = {"gradient descent": optim.GradientDescent(lr=1e-3), "momentum": optim.Momentum(lr=2e-4),
               "rmsprop": optim.RMSprop(lr=1e-3), "adam": optim.Adam(lr=0.02)}
    steps = 300 if small else 2000
    runs = [minimize(rosenbrock, [-1.2, 1.0], method=m, max_iter=steps, gtol=1e-6) for m in methods.values()]
    ax = plot.descent_paths(rosenbrock, runs, labels=list(methods), xlim=(-1.5, 1.5), ylim=(-0.5, 1.5), axis_lines=False)
    ax.plot([1.0], [1.0], "k+", markersize=14)
    ax.set_title(f"Rosenbrock from (−1.2, 1), {steps} steps at most")
    return _save(ax, out, "optimizers_on_rosenbrock", dpi)


def learning_rates(out: Path, small: bool = False, dpi: int = DPI) -> Path:
    """The seed's learning rates side by side: 10 (diverges), 1e-10 (hardly moves) and 0.1."""
    figure = Figure(figsize=(13, 4.6), layout="constrained")  # room for each panel's labels
    for ax, lr, limit in zip(figure.subplots(1, 3), (10.0, 1e-10, 0.1), (400.0, 5.0, 5.0)):
        run = minimize(bowl, [-3.0, 4.0], lr=lr, max_iter=20, gtol=0.0)
        plot.descent_paths(bowl, run, xlim=(-limit, limit), ylim=(-limit, limit), ax=ax)
        ax.set_title(f"lr = {lr:g}: {optim.loop.STATUS_NAMES[run.status]} after {run.nit} steps", fontsize=10)
    return _save(figure, out, "learning_rates", dpi)


def himmelblau_basins(out: Path, small: bool = False, dpi: int = DPI) -> Path:
    """Himmelblau from a grid of starts (200 × 200): the basin of each of its four minima."""
    side = 40 if small else 200
    axis = np.linspace(-5, 5, side)
    starts = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    run = minimize(himmelblau, starts, method="adam", lr=0.05, max_iter=3000, record=False)
    ax = plot.basins(run, (side, side), extent=(-5, 5, -5, 5))
    ax.set_title(f"Himmelblau: {side * side} starts, Adam")
    return _save(ax, out, "himmelblau_basins", dpi)


def large_gradient_field(out: Path, small: bool = False, dpi: int = DPI) -> Path:
    """A gradient field computed on a 2,000 x 2,000 grid (drawn with 20 x 20 arrows), timed against NumPy."""
    n = 200 if small else 2000
    axis = np.linspace(-5, 5, n)
    grid_gradient(himmelblau, (axis, axis), jit="inline")  # compile: the time below is the steady state
    start = time.perf_counter()
    grid_gradient(himmelblau, (axis, axis), jit="inline")
    fast = time.perf_counter() - start
    X, Y = np.meshgrid(axis, axis)
    start = time.perf_counter()  # the NumPy reference, a whole column of points per call
    gradient(PROBLEMS["himmelblau"].batched, np.column_stack([X.ravel(), Y.ravel()]), backend="numpy", vectorized=True)
    reference = time.perf_counter() - start
    ax = plot.gradient_field(himmelblau, xlim=(-5, 5), ylim=(-5, 5), n=n, arrows=20, normalize=True)
    ax.set_title(f"−∇ Himmelblau on {n:,} × {n:,} points\ngradjit {_duration(fast)}, NumPy {_duration(reference)}", fontsize=9)
    return _save(ax, out, "large_gradient_field", dpi)


def _duration(seconds: float) -> str:
    """Two significant digits in ms (``0.42 ms``, ``69 ms``, ``1,234 ms``): a small grid's
    time must not round to 0."""
    ms = 1e3 * seconds
    return f"{ms:,.0f} ms" if ms >= 10 else f"{ms:.2g} ms"


#: Every figure, by name, in the order the gallery shows them.
FIGURES: dict[str, Callable[..., Path]] = {
    f.__name__: f
    for f in (
        tangent_of_cube,
        tangent_of_line,
        gradient_field_of_the_seed,
        descent_of_the_seed,
        saddle_surface,
        optimizers_on_the_saddle,
        optimizers_on_rosenbrock,
        learning_rates,
        himmelblau_basins,
        large_gradient_field,
    )
}


def check_names(names: list[str] | None) -> None:
    """Raise :class:`~gradjit.errors.OptionError` naming the figures if ``names`` has an unknown one."""
    unknown = sorted(set(names or ()) - set(FIGURES))
    if unknown:
        raise OptionError(f"unknown figures {unknown}; choose from {list(FIGURES)}.")


def render_all(out: Path, small: bool = False, names: list[str] | None = None, dpi: int = DPI) -> list[Path]:
    """Write every figure (or those in ``names``) into ``out`` at ``dpi``; returns their paths."""
    check_names(names)
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 20 <= dpi <= 1200:
        raise OptionError(f"dpi must be an integer from 20 to 1200; got {dpi!r}.")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return [FIGURES[name](out, small, dpi) for name in (names or FIGURES)]
