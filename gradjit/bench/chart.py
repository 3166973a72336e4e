"""The chart ``gradjit bench`` writes: time against evaluations of f, per workload."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..errors import OptionError
from .report import load

__all__ = ["figure"]


def figure(results: Any) -> Figure:
    """The chart ``gradjit bench`` writes: time against evaluations of f, log-log,
    one panel per workload, floors dashed, extrapolated points hollow.

    Parameters
    ----------
    results : gradjit.bench.Results, or the path of a ``results.json``

    Returns
    -------
    Figure
    """
    if isinstance(results, (str, Path)):
        results = load(Path(results))
    if not hasattr(results, "measurements"):
        raise OptionError(f"results must be gradjit.bench Results or the path of a results.json; got {type(results).__name__}.")
    workloads = sorted({m.workload for m in results.measurements})
    names = list(dict.fromkeys(m.competitor for m in results.measurements))  # in table order
    palette = [f"C{i % 10}" for i in range(len(names))]
    colours = dict(zip(names, palette))
    panels = max(len(workloads), 1)
    fig = Figure(figsize=(3.6 * panels + 2.2, 3.6))
    axes = fig.subplots(1, panels, squeeze=False)[0]
    for ax, workload in zip(axes, workloads):
        series: dict[str, list] = defaultdict(list)
        for m in results.measurements:
            if m.workload == workload:
                series[m.competitor].append(m)
        for name, ms in series.items():
            ms.sort(key=lambda m: m.evaluations)
            x = [m.evaluations for m in ms]
            y = [m.median_s * 1e3 for m in ms]
            ax.plot(x, y, "--" if ms[0].kind == "floor" else "-", marker="o", color=colours[name], label=name)
            hollow = [(xi, yi) for xi, yi, m in zip(x, y, ms) if m.extrapolated_from]
            if hollow:
                ax.plot(*zip(*hollow), "o", mfc="white", color=colours[name])
        ax.set(xscale="log", yscale="log", title=workload, xlabel="evaluations of f (order·d·N)", ylabel="ms")
        ax.grid(True, which="both", alpha=0.3)
    handles = [Line2D([], [], color=colours[n], marker="o", linestyle="--" if "floor" in n else "-") for n in names]
    fig.legend(handles, names, loc="center right", fontsize=8)
    fig.suptitle(f"gradjit benchmark ({results.tier}); floors dashed; hollow markers: extrapolated", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1 - 2.0 / fig.get_figwidth(), 1))
    return fig
