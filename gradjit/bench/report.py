"""Turn benchmark results into a table, ``results.json``, ``results.md`` and a chart."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from . import first_call
from .competitors import COMPUTE_FLOOR, GRADJIT, ONE_THREAD, REFERENCE, WRITE_FLOOR
from .runner import Measurement, Results


def _by_case(results: Results) -> dict[tuple[str, str], dict[str, Measurement]]:
    cases: dict[tuple[str, str], dict[str, Measurement]] = defaultdict(dict)
    for m in results.measurements:
        cases[(m.workload, m.label)][m.competitor] = m
    return cases


def _floor_s(case: dict[str, Measurement], competitor: str) -> float | None:
    compute = case.get(COMPUTE_FLOOR)
    write = case.get("write floor reused" if competitor == "gradjit out=" else WRITE_FLOOR)
    if compute is None or write is None:
        return None
    return max(compute.median_s, write.median_s)


def summary_rows(results: Results) -> list[dict]:
    """Per case: gradjit's speed-up over NumPy, fraction of the floor, parallel speed-up, compile time."""
    rows = []
    for (workload, label), case in _by_case(results).items():
        fast, reference, single = case.get(GRADJIT), case.get(REFERENCE), case.get(ONE_THREAD)
        if fast is None:
            continue
        floor = _floor_s(case, GRADJIT)
        out = case.get("gradjit out=")
        floor_out = _floor_s(case, "gradjit out=")
        rows.append({
            "workload": workload,
            "size": label,
            "gradjit_ms": 1e3 * fast.median_s,
            "speedup_vs_numpy": reference.median_s / fast.median_s if reference else None,
            "floor_fraction": floor / fast.median_s if floor else None,
            "floor_fraction_out": floor_out / out.median_s if floor_out and out else None,
            "parallel_speedup": single.median_s / fast.median_s if single else None,
            "first_call_ms": 1e3 * fast.first_call_s,
        })
    return rows


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def markdown_table(results: Results) -> str:
    """Every measurement, grouped by case, with ratios against NumPy and the floor."""
    lines = [
        "| workload | size | competitor | median ms | spread ms (q1–q3) | first call ms | × NumPy | floor / this | peak MiB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (workload, label), case in _by_case(results).items():
        reference = case.get(REFERENCE)
        for name, m in case.items():
            speedup = reference.median_s / m.median_s if reference and m.kind != "floor" else None
            floor = _floor_s(case, name) if m.kind in ("gradjit", "jax") else None
            median = f"{1e3 * m.median_s:.3f}" + (f" (extrapolated from {m.extrapolated_from} points)" if m.extrapolated_from else "")
            spread = f"{1e3 * m.q1_s:.3f}–{1e3 * m.q3_s:.3f}" if m.repeats > 1 else "–"
            lines.append(
                f"| {workload} | {label} | {name} | {median} | {spread} | {1e3 * m.first_call_s:.1f} | "
                f"{_fmt(speedup, '.3g')} | {_fmt(floor / m.median_s if floor else None, '.2f')} | {_fmt(m.peak_mib, '.1f')} |"
            )
    return "\n".join(lines)


#: Ratios that an undisturbed run cannot produce: gradjit faster than the machine's
#: floor, or two threads more than twice as slow as one.
IMPOSSIBLE_FLOOR_FRACTION = 1.05
IMPOSSIBLE_PARALLEL_SPEEDUP = 0.5
#: Load average (before the run, per core) above which the machine counts as busy.
BUSY_LOAD_PER_CORE = 0.5


def disturbance(results: Results) -> list[str]:
    """Why this run's figures may not show the machine's capability (empty if none seen).

    The load average before the run is other processes' work; after it, it also
    counts the benchmark's own threads (up to one per thread).
    """
    m = results.machine
    cores = m.get("cores") or 1
    notes = []
    before, after = m.get("load_average_before"), m.get("load_average_after")
    if before is not None and before > BUSY_LOAD_PER_CORE * cores:
        notes.append(f"the machine was busy before the run (load average {before:.2f} on {cores} cores)")
    if after is not None and after > cores + BUSY_LOAD_PER_CORE * cores:
        notes.append(f"other work ran beside it (load average {after:.2f} after the run on {cores} cores, "
                     f"of which this benchmark accounts for at most {m.get('threads')})")
    odd = [f"{r['workload']} {r['size']}" for r in summary_rows(results) if _impossible(r)]
    if odd:
        notes.append("figures an undisturbed run should not give (marked *: gradjit faster than the floor by over "
                     f"{IMPOSSIBLE_FLOOR_FRACTION - 1:.0%}, or a parallel speed-up below {IMPOSSIBLE_PARALLEL_SPEEDUP}) in "
                     + ", ".join(odd) + ": either the run was disturbed, or that floor was measured slower than "
                     "the machine can go (its kernel is not gradjit's, and on some CPUs gradjit's inlined loop "
                     "beats it)")
    return notes


def _beyond_floor(fraction: float | None) -> bool:
    return fraction is not None and fraction > IMPOSSIBLE_FLOOR_FRACTION


def _too_slow_in_parallel(speedup: float | None) -> bool:
    return speedup is not None and speedup < IMPOSSIBLE_PARALLEL_SPEEDUP


def _impossible(row: dict) -> bool:
    return (_beyond_floor(row["floor_fraction"]) or _beyond_floor(row["floor_fraction_out"])
            or _too_slow_in_parallel(row["parallel_speedup"]))


def _marked(value: float | None, spec: str, impossible: bool) -> str:
    """``value`` formatted, with ``*`` when no undisturbed run should give it."""
    return _fmt(value, spec) + ("*" if impossible else "")


def summary_table(results: Results) -> str:
    lines = [
        "| workload | size | gradjit ms | × NumPy | floor / gradjit (fresh / out=) | parallel speed-up | first call ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in summary_rows(results):
        lines.append(
            f"| {r['workload']} | {r['size']} | {r['gradjit_ms']:.3f} | {_fmt(r['speedup_vs_numpy'], '.1f')} | "
            f"{_marked(r['floor_fraction'], '.2f', _beyond_floor(r['floor_fraction']))} / "
            f"{_marked(r['floor_fraction_out'], '.2f', _beyond_floor(r['floor_fraction_out']))} | "
            f"{_marked(r['parallel_speedup'], '.2f', _too_slow_in_parallel(r['parallel_speedup']))} | {r['first_call_ms']:.0f} |"
        )
    return "\n".join(lines)


def machine_line(results: Results) -> str:
    m = results.machine
    load = ""
    if m.get("load_average_before") is not None:
        load = f", load average {m['load_average_before']:.2f} before / {m.get('load_average_after') or 0:.2f} after"
    return (f"{m['date']}, {m['cpu']}, {m['cores']} cores, {m['threads']} threads ({m['threading_layer']}), "
            f"Python {m['python']}, Numba {m['numba']}, NumPy {m['numpy']}, gradjit {m['gradjit']}{load}")


def disturbance_note(results: Results) -> str:
    """A warning paragraph for a disturbed run, or an empty string."""
    notes = disturbance(results)
    if not notes:
        return ""
    return ("Warning: this run may have been disturbed, so some figures may not show what gradjit and the "
            "machine can do: " + "; ".join(notes) + ". Re-run on a quiet machine for figures to quote.")


def markdown(results: Results) -> str:
    parts = [
        "# gradjit benchmark",
        "",
        f"Machine: {machine_line(results)}.",
        f"Command: `{results.command}` (tier `{results.tier}`).",
        "",
        (
            "Times are medians over repeats after a first call that compiles; every ratio compares "
            "measurements of this run. `× NumPy` is the vectorised NumPy reference's time over this "
            "competitor's; `floor / this` is the larger of the compute and write floors over this time "
            "(1.0 = at the machine's limit). Peak MiB is what NumPy and Python allocate during one call "
            "(tracemalloc; JAX's allocations are invisible to it)."
        ),
        "",
        "## Summary",
        "",
        *([disturbance_note(results), ""] if disturbance(results) else []),
        summary_table(results),
        "",
        *([first_call_section(results)] if results.first_call else []),
        "## Every competitor",
        "",
        markdown_table(results),
    ]
    if results.skipped:
        parts += ["", "Skipped: " + "; ".join(f"{k} ({v})" for k, v in results.skipped.items()) + "."]
    return "\n".join(parts) + "\n"


def chart(results: Results, path: Path) -> None:
    """Write :func:`gradjit.bench.chart.figure`'s chart of ``results`` to ``path``."""
    from .chart import figure  # matplotlib only when a chart is written

    figure(results).savefig(path, dpi=90)


def write(results: Results, directory: Path) -> dict[str, Path]:
    """Write ``results.json``, ``results.md`` and ``results.png`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "results.json", "md": directory / "results.md", "png": directory / "results.png"}
    paths["json"].write_text(json.dumps(results.to_dict(), indent=2))
    paths["md"].write_text(markdown(results))
    chart(results, paths["png"])
    return paths


def load(path: Path) -> Results:
    """Results from a ``results.json`` written by :func:`write`."""
    data = json.loads(Path(path).read_text())
    measurements = [Measurement(**m) for m in data["measurements"]]
    return Results(data["tier"], data["command"], data["machine"], measurements, data["skipped"], data.get("first_call", {}))


def first_call_section(results: Results) -> str:
    """The first-call table, or nothing when it was not measured."""
    if not results.first_call:
        return ""
    return "\n".join([
        "## First call on a new function",
        "",
        ("A new f each round, after the library's start-up; `auto` is the default (see \"First call\" in the "
         "README). JAX: `jax.jit(jax.vmap(...))` central differences on its `jax.numpy` twin."),
        "",
        first_call.table(results.first_call),
        "",
    ])


def readme_section(results: Results) -> str:
    """The README's benchmark section: summary, then every competitor folded."""
    return "\n".join([
        (
            f"Latest `--full` run: {machine_line(results)}; command `{results.command}`. "
            "Median times; every ratio is between measurements of this one run."
        ),
        "",
        *([disturbance_note(results), ""] if disturbance(results) else []),
        summary_table(results),
        "",
        *([first_call_section(results)] if results.first_call else []),
        "<details><summary>Every competitor (median, spread, first call, ratios, peak memory)</summary>",
        "",
        markdown_table(results),
        "",
        "</details>",
    ])


if __name__ == "__main__":  # python -m gradjit.bench.report results.json
    import sys

    print(readme_section(load(Path(sys.argv[1]))))
