"""Pictures of gradients: tangents, gradient fields, descent paths, surfaces, basins.

Every function draws on the ``ax`` it is given, or on a new figure, and
returns the Axes (the Figure for :func:`benchmark`). New figures are made
without pyplot (``matplotlib.figure.Figure``): nothing is shown, nothing has to
be closed, and it works headless. Save one with ``ax.figure.savefig(path)``;
a notebook displays ``ax.figure``.

The numbers come from gradjit's kernels (``derivative``, ``grid_gradient``,
the batched evaluation of f), so a large grid costs what its gradient costs;
only the drawing is thinned (at most ``arrows`` arrows per axis).

Examples
--------
>>> import gradjit.plot
>>> def bowl(x):
...     return x[0] ** 2 + x[1] ** 2
>>> ax = gradjit.plot.gradient_field(bowl, xlim=(-2, 2), ylim=(-2, 2), n=17)
>>> ax.figure.savefig("gradient_field.png")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from . import _validation as check
from .api import derivative, grid_gradient, values
from .critical_points import group
from .errors import OptionError, ShapeError

__all__ = ["basin_labels", "basins", "descent_paths", "gradient_field", "surface", "tangent"]

#: Default colour map of values of f.
CMAP = "viridis"


def _axes(ax: Axes | None, *, projection: str | None = None, figsize=(5.0, 4.5)) -> Axes:
    if ax is not None:
        if not isinstance(ax, Axes):
            raise OptionError(f"ax must be a matplotlib Axes; got {type(ax).__name__}.")
        if projection == "3d" and getattr(ax, "name", None) != "3d":
            raise OptionError("ax must be a 3-D Axes: fig.add_subplot(projection='3d').")
        return ax
    return Figure(figsize=figsize).add_subplot(projection=projection)


def _grid_values(f, x, y, *, args, backend) -> np.ndarray:
    """f on the grid ``meshgrid(x, y)`` (rows along y), one batched evaluation."""
    X, Y = np.meshgrid(x, y)
    points = np.column_stack([X.ravel(), Y.ravel()])
    return values(f, points, args=args, backend=backend).reshape(X.shape)


def tangent(
    f: Callable[..., float],
    x0: float,
    *,
    xlim: tuple[float, float],
    n: int = 200,
    args: tuple = (),
    order: int = 2,
    backend: str = "numba",
    ax: Axes | None = None,
) -> Axes:
    """``f`` and its tangent line at ``x0`` (the slope from :func:`gradjit.derivative`).

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float`` of one variable.
    x0 : float
        Where the tangent touches.
    xlim : (low, high)
        The range drawn.
    n : int, optional
        Points on the curve.
    args, order, backend
        As in :func:`gradjit.derivative`.
    ax : Axes, optional
        Where to draw; a new figure if omitted.

    Returns
    -------
    Axes
        ``ax.lines[0]`` is f, ``ax.lines[1]`` the tangent; the legend gives the slope.
    """
    check.objective(f)
    low, high = check.limits("xlim", xlim)
    n = check.count("n", n, 2)
    x0 = check.finite("x0", x0)
    ax = _axes(ax)
    t = np.linspace(low, high, n)
    y = np.array([f(float(v), *args) for v in t], dtype=np.float64)
    slope = float(derivative(f, x0, args=args, order=order, backend=backend))
    y0 = float(f(x0, *args))
    ax.plot(t, y, label="f")
    ax.plot(t, y0 + slope * (t - x0), "--", label=f"tangent at x = {x0:g}, slope {slope:.6g}")
    ax.plot([x0], [y0], "o", color="black")
    ax.set(xlabel="x", ylabel="f(x)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax


def gradient_field(
    f: Callable[..., float],
    *,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    n: int = 20,
    contour: bool = True,
    normalize: bool = False,
    arrows: int = 25,
    args: tuple = (),
    order: int = 2,
    backend: str = "numba",
    cmap: str = CMAP,
    ax: Axes | None = None,
) -> Axes:
    """Arrows of −∇f on an ``n`` × ``n`` grid (from :func:`gradjit.grid_gradient`), over filled contours of f.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float`` with ``x`` of length 2.
    xlim, ylim : (low, high)
        The rectangle.
    n : int, optional
        Grid points per axis. The gradient (and f, for the contours) is
        computed at all n² points.
    contour : bool, optional
        Draw filled contours of f under the arrows.
    normalize : bool, optional
        Draw unit arrows coloured by the gradient's magnitude (readable where
        the magnitude varies over orders), instead of arrows to scale.
    arrows : int, optional
        At most this many arrows per axis: the grid is thinned for drawing.
    args, order, backend
        As in :func:`gradjit.grid_gradient`.
    cmap : str, optional
        Colour map of the contours and of the normalised arrows.
    ax : Axes, optional
        Where to draw; a new figure if omitted.

    Returns
    -------
    Axes
        The quiver is ``ax.collections[-1]``; its ``U``, ``V`` are −∇f at the
        drawn grid points (``min(n, arrows)`` evenly spaced per axis, edges included).
    """
    check.objective(f)
    (x_low, x_high), (y_low, y_high) = check.limits("xlim", xlim), check.limits("ylim", ylim)
    n = check.count("n", n, 2)
    arrows = check.count("arrows", arrows, 2)
    ax = _axes(ax)
    x, y = np.linspace(x_low, x_high, n), np.linspace(y_low, y_high, n)
    U, V = grid_gradient(f, (x, y), args=args, order=order, backend=backend)
    if contour:
        filled = ax.contourf(x, y, _grid_values(f, x, y, args=args, backend=backend), levels=20, cmap=cmap, alpha=0.6)
        ax.figure.colorbar(filled, ax=ax, label="f")
    drawn = np.unique(np.linspace(0, n - 1, min(n, arrows)).round().astype(np.int64))  # both edges included
    X, Y = np.meshgrid(x[drawn], y[drawn])
    u, v = -U[np.ix_(drawn, drawn)], -V[np.ix_(drawn, drawn)]
    if normalize:
        magnitude = np.hypot(u, v)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(magnitude > 0, 1.0 / magnitude, 0.0)
        # Unit arrows 0.8 of the spacing between drawn points long, coloured by |∇f|.
        spacing = min(np.ptp(x), np.ptp(y)) / max(len(drawn) - 1, 1)
        # A white edge keeps the dark arrows visible on the dark contours.
        ax.quiver(X, Y, u * scale, v * scale, magnitude, angles="xy", scale_units="xy", scale=1.0 / (0.8 * spacing),
                  cmap="plasma", pivot="mid", width=0.005, edgecolor="white", linewidth=0.4)
    else:
        # To scale, the longest arrow 0.9 of the spacing between drawn points; white with a
        # dark edge, so that they show over dark and light contours alike.
        spacing = min(np.ptp(x), np.ptp(y)) / max(len(drawn) - 1, 1)
        longest = np.nanmax(np.hypot(u, v)) if np.isfinite(np.hypot(u, v)).any() else 0.0
        scale = longest / (0.9 * spacing) if longest > 0 else 1.0
        ax.quiver(X, Y, u, v, angles="xy", scale_units="xy", scale=scale, pivot="mid", width=0.007, color="white",
                  edgecolor="black", linewidth=0.6)
    ax.set(xlim=(x_low, x_high), ylim=(y_low, y_high), xlabel="x0", ylabel="x1", title="−∇f")
    ax.set_aspect("equal", adjustable="box")
    return ax


def _histories(results) -> list:
    if isinstance(results, dict):
        results = [results]
    try:
        found = list(results)
    except TypeError:
        raise OptionError(f"results must be a minimize result or a list of them; got {type(results).__name__}.") from None
    if not found:
        raise OptionError("results is empty: give at least one minimize(..., record=True) result.")
    for result in found:
        if not isinstance(result, dict) or "history" not in result:
            raise OptionError("descent paths need results with a history: minimize(..., record=True).")
    return found


def _paths(result) -> list[np.ndarray]:
    """The path of each start: history points 0..nit (a stopped row stays put after)."""
    xs = np.asarray(result["history"]["x"])
    if xs.shape[-1] != 2:
        raise ShapeError(f"descent paths are drawn in 2-D; these points have d = {xs.shape[-1]}.")
    if xs.ndim == 2:
        return [xs[: int(result["nit"]) + 1]]
    return [xs[: int(nit) + 1, i] for i, nit in enumerate(np.asarray(result["nit"]))]


def descent_paths(
    f: Callable[..., float],
    results: Any,
    *,
    labels: Sequence[str] | None = None,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    n: int = 200,
    contour: bool = True,
    axis_lines: bool = True,
    aspect: str = "equal",
    args: tuple = (),
    backend: str = "numba",
    cmap: str = CMAP,
    ax: Axes | None = None,
) -> Axes:
    """The paths of one or many :func:`gradjit.minimize` runs over the contours of f.

    Parameters
    ----------
    f : callable
        The function minimised (2-D).
    results : OptimizeResult or sequence of them
        Runs made with ``record=True``. A many-start run draws one path per start.
    labels : sequence of str, optional
        One legend entry per result.
    xlim, ylim : (low, high), optional
        Default: the paths' extent with a margin.
    n : int, optional
        Grid points per axis of the contours.
    contour : bool, optional
        Draw contour lines of f.
    axis_lines : bool, optional
        Dashed lines along x0 = 0 and x1 = 0, as in the seeds' figure.
    args, backend
        For evaluating f on the contour grid.
    cmap : str, optional
        Colour map of the contours.
    aspect : {"equal", "auto"}, optional
        ``"equal"`` (default): one unit is as long along x0 as along x1, so a round
        bowl looks round; ``"auto"`` fills the axes (for ranges of very different size).
    ax : Axes, optional
        Where to draw; a new figure if omitted.

    Returns
    -------
    Axes
        One line per path (vertices: the history's points up to the row's
        ``nit``), a circle at each start and a star at each end.
    """
    check.objective(f)
    found = _histories(results)
    if labels is not None and len(labels) != len(found):
        raise OptionError(f"labels must have one entry per result ({len(found)}); got {len(labels)}.")
    paths = [_paths(result) for result in found]
    points = np.concatenate([p for result_paths in paths for p in result_paths])
    finite = points[np.isfinite(points).all(axis=1)]
    span = np.ptp(finite, axis=0) if finite.size else np.ones(2)
    margin = 0.1 * np.maximum(span, 1e-12) + (span == 0)
    x_low, x_high = check.limits("xlim", xlim) if xlim is not None else (finite[:, 0].min() - margin[0], finite[:, 0].max() + margin[0])
    y_low, y_high = check.limits("ylim", ylim) if ylim is not None else (finite[:, 1].min() - margin[1], finite[:, 1].max() + margin[1])
    ax = _axes(ax)
    if contour:
        n = check.count("n", n, 2)
        x, y = np.linspace(x_low, x_high, n), np.linspace(y_low, y_high, n)
        ax.contour(x, y, _grid_values(f, x, y, args=args, backend=backend), levels=20, cmap=cmap, alpha=0.5, linewidths=0.8)
    if axis_lines:
        ax.axhline(0.0, linestyle="--", color="tab:blue", linewidth=0.8)
        ax.axvline(0.0, linestyle="--", color="tab:blue", linewidth=0.8)
    for k, result_paths in enumerate(paths):
        colour = f"C{k % 10}"
        for i, path in enumerate(result_paths):
            label = (labels[k] if labels is not None else None) if i == 0 else None
            ax.plot(path[:, 0], path[:, 1], "-o", color=colour, markersize=2.5, linewidth=1.0, label=label)
            ax.plot(*path[0], "o", color=colour, markersize=6, markeredgecolor="black")
            ax.plot(*path[-1], "*", color=colour, markersize=11, markeredgecolor="black")
    ax.set(xlim=(x_low, x_high), ylim=(y_low, y_high), xlabel="x0", ylabel="x1")
    if aspect not in ("equal", "auto"):
        raise OptionError(f"aspect must be 'equal' or 'auto'; got {aspect!r}.")
    ax.set_aspect(aspect, adjustable="box")
    if labels is not None:
        ax.legend(loc="best", fontsize=8)
    return ax


def surface(
    f: Callable[..., float],
    *,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    n: int = 60,
    results: Any = None,
    args: tuple = (),
    backend: str = "numba",
    cmap: str = CMAP,
    ax: Axes | None = None,
) -> Axes:
    """The 3-D surface of f (the seeds' saddle), optionally with descent paths lifted onto it.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float`` with ``x`` of length 2.
    xlim, ylim : (low, high)
        The rectangle.
    n : int, optional
        Grid points per axis.
    results : OptimizeResult or sequence of them, optional
        Runs made with ``record=True``; each path is drawn at height f.
    args, backend
        For evaluating f.
    cmap : str, optional
        Colour map of the surface.
    ax : Axes3D, optional
        A 3-D Axes (``fig.add_subplot(projection="3d")``); a new one if omitted.

    Returns
    -------
    Axes3D
        ``ax.lines`` holds the lifted paths: x and y from the history, z = f.
    """
    check.objective(f)
    (x_low, x_high), (y_low, y_high) = check.limits("xlim", xlim), check.limits("ylim", ylim)
    n = check.count("n", n, 2)
    ax = _axes(ax, projection="3d", figsize=(6.0, 4.8))
    x, y = np.linspace(x_low, x_high, n), np.linspace(y_low, y_high, n)
    X, Y = np.meshgrid(x, y)
    ax.plot_surface(X, Y, _grid_values(f, x, y, args=args, backend=backend), cmap=cmap, alpha=0.8, linewidth=0)
    if results is not None:
        for k, result in enumerate(_histories(results)):
            for path in _paths(result):
                z = values(f, np.ascontiguousarray(path), args=args, backend=backend)
                ax.plot(path[:, 0], path[:, 1], z, "-o", color=f"C{(k + 1) % 10}", markersize=2.5, zorder=10)
    ax.set(xlabel="x0", ylabel="x1", zlabel="f")
    return ax


def basin_labels(x: np.ndarray, success: np.ndarray, tol: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Group the end points of converged starts into distinct minima.

    Parameters
    ----------
    x : ndarray, shape (N, d)
        End points.
    success : ndarray of bool, shape (N,)
        Which starts converged; the others get label −1.
    tol : float, optional
        End points closer than ``tol`` (max-norm) to a minimum's first end
        point belong to it.

    Returns
    -------
    labels : ndarray of int, shape (N,)
        The index of each start's minimum (−1: did not converge).
    minima : ndarray, shape (k, d)
        The minima, in order of first appearance along the starts.

    Examples
    --------
    >>> import numpy as np
    >>> labels, minima = basin_labels(np.array([[0.0, 1.0], [5.0, 5.0], [0.0, 1.0 + 1e-6]]), np.ones(3, bool))
    >>> labels.tolist(), minima.tolist()
    ([0, 1, 0], [[0.0, 1.0], [5.0, 5.0]])
    """
    x = np.asarray(x, dtype=np.float64)
    success = np.asarray(success, dtype=bool)
    labels = np.full(x.shape[0], -1, dtype=np.int64)
    converged = np.flatnonzero(success)
    groups, minima = group(x[converged], tol)
    labels[converged] = groups
    return labels, minima


def basins(
    result: Any,
    starts_shape: tuple[int, int],
    *,
    extent: tuple[float, float, float, float] | None = None,
    tol: float = 1e-3,
    ax: Axes | None = None,
) -> Axes:
    """The basins of attraction: each start of a many-start run coloured by the minimum it reached.

    Parameters
    ----------
    result : OptimizeResult
        A many-start :func:`gradjit.minimize` run whose starts were a grid,
        flattened in C order (e.g. ``np.stack(np.meshgrid(x, y), -1).reshape(-1, 2)``).
    starts_shape : (rows, columns)
        The grid's shape (``(len(y), len(x))`` for that meshgrid).
    extent : (x_low, x_high, y_low, y_high), optional
        The rectangle of the starts. Default: from the history's first points
        when the run was recorded, else start indices.
    tol : float, optional
        See :func:`basin_labels`.
    ax : Axes, optional
        Where to draw; a new figure if omitted.

    Returns
    -------
    Axes
        ``ax.images[0]`` holds the labels (−1 grey: did not converge); the
        legend gives each minimum and how many starts reached it.
    """
    if not isinstance(result, dict) or not {"x", "success"} <= set(result):
        raise OptionError(f"result must be a many-start minimize result (with x and success); got {type(result).__name__}"
                          f"{' without those keys' if isinstance(result, dict) else ''}.")
    if not (check._real(tol) and tol > 0):
        raise OptionError(f"tol must be a number > 0; got {tol!r}.")
    try:
        rows, columns = (check.count("starts_shape", s, 1) for s in starts_shape)
    except (TypeError, ValueError):
        raise OptionError(f"starts_shape must be a pair (rows, columns) of integers; got {starts_shape!r}.") from None
    x = np.asarray(result["x"])
    if x.ndim != 2 or x.shape[0] != rows * columns:
        raise ShapeError(f"basins need a many-start result with rows * columns = {rows * columns} starts; got x of shape {x.shape}.")
    labels, minima = basin_labels(x, result["success"], tol)
    if extent is None and "history" in result:
        first = np.asarray(result["history"]["x"])[0]
        extent = (first[:, 0].min(), first[:, 0].max(), first[:, 1].min(), first[:, 1].max())
    ax = _axes(ax)
    colours = ListedColormap(["#bbbbbb"] + [f"C{k % 10}" for k in range(max(len(minima), 1))])
    ax.imshow(labels.reshape(rows, columns), origin="lower", extent=extent, cmap=colours,
              vmin=-1.5, vmax=max(len(minima), 1) - 0.5, interpolation="nearest", aspect="equal")
    counts = np.bincount(labels[labels >= 0], minlength=len(minima))
    for k, minimum in enumerate(minima):
        ax.plot([], [], "s", color=f"C{k % 10}", label=f"({minimum[0]:+.3f}, {minimum[1]:+.3f}): {counts[k]} starts")
        if extent is not None:
            ax.plot(*minimum[:2], "*", color="white", markeredgecolor="black", markersize=12)
    if (labels < 0).any():
        ax.plot([], [], "s", color="#bbbbbb", label=f"not converged: {(labels < 0).sum()} starts")
    ax.legend(loc="upper right", fontsize=7, framealpha=0.8)
    ax.set(xlabel="x0 (start)", ylabel="x1 (start)", title="basins of attraction")
    return ax
