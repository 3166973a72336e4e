"""Time every competitor on every case, in one run, and describe the machine."""

from __future__ import annotations

import datetime
import os
import platform
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numba
import numpy as np

from .. import __version__, _config
from .. import _validation as check
from ..errors import OptionError
from . import first_call
from .competitors import Competitor, classic_loop, competitors
from .workloads import TIERS, WORKLOADS, Case

#: Most repeats per competitor after the first (compiling) call, per tier.
REPEATS = {"smoke": 1, "quick": 10, "full": 30}
#: Seconds of timing a competitor may take per case before repeats are cut (at least 3 are kept).
TIME_BUDGET_S = {"smoke": 0.5, "quick": 1.0, "full": 4.0}
#: The first-call measurement per tier: rounds (a new f each), compilation modes, and
#: whether JAX runs beside (smoke only checks that it runs; quick times what a user
#: meets, the default mode, against JAX; full adds both tiers forced).
FIRST_CALL = {"smoke": (1, ("auto",), False), "quick": (3, ("auto",), True),
              "full": (7, ("auto", "fast-start", "inline"), True)}
#: Seconds the classic per-point loop may run; beyond, it runs on fewer points and is extrapolated.
CLASSIC_BUDGET_S = {"smoke": 0.2, "quick": 0.5, "full": 2.0}


@dataclass
class Measurement:
    """One competitor on one case. Times in seconds."""

    workload: str
    label: str
    competitor: str
    kind: str
    n_points: int
    d: int
    evaluations: int
    median_s: float
    q1_s: float
    q3_s: float
    repeats: int
    first_call_s: float
    peak_mib: float | None
    extrapolated_from: int | None = None


@dataclass
class Results:
    tier: str
    command: str
    machine: dict
    measurements: list[Measurement] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    #: First call on a new f: {workload: {jit mode or "JAX jit+vmap": [seconds per round]}}.
    first_call: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "tier": self.tier,
            "command": self.command,
            "machine": self.machine,
            "measurements": [asdict(m) for m in self.measurements],
            "skipped": self.skipped,
            "first_call": self.first_call,
        }


def machine_info(threads: int) -> dict:
    """CPU model, cores, versions, threading layer and thread count."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": threads,
        "threading_layer": _config.threading_layer(),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": np.__version__,
        "gradjit": __version__,
        "platform": platform.platform(),
    }


def run(
    tier: str = "quick",
    workloads: Iterable[str] | None = None,
    *,
    threads: int | None = None,
    command: str = "",
    report: Callable[[str], None] = print,
) -> Results:
    """Run the benchmark matrix and return every measurement.

    Parameters
    ----------
    tier : {"smoke", "quick", "full"}
        Which sizes to run.
    workloads : iterable of str, optional
        Names from :data:`~gradjit.bench.workloads.WORKLOADS` (default: all).
    threads : int, optional
        Threads for the parallel competitors (default: all Numba threads).
    command : str
        The command line, recorded with the results.
    report : callable
        Receives one line per finished measurement (progress).
    """
    check.one_of("tier", tier, TIERS)
    names = list(WORKLOADS) if workloads is None else list(workloads)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise OptionError(f"workloads must be names from {list(WORKLOADS)}; got the unknown {unknown}.")
    threads = threads or numba.config.NUMBA_NUM_THREADS
    results = Results(tier, command, machine_info(threads))
    results.machine["load_average_before"] = _load_average()
    for name in names:
        workload = WORKLOADS[name]
        reason = workload.unavailable()
        if reason:
            results.skipped[name] = reason
            report(f"{name}: skipped ({reason})")
            continue
        for case in workload.cases(tier):
            points = case.points()
            for competitor in competitors(threads):
                if competitor.applies(case):
                    m = _measure(competitor, case, points, threads=threads, tier=tier)
                    results.measurements.append(m)
                    report(f"{case.workload} {case.label}: {competitor.name:26s} {1e3 * m.median_s:10.3f} ms"
                           + (f" (extrapolated from {m.extrapolated_from} points)" if m.extrapolated_from else ""))
    report("first call on a new f (jit='auto', 'fast-start', 'inline'; JAX's jit+vmap) ...")
    rounds, modes, with_jax = FIRST_CALL[tier]
    results.first_call = first_call.measure(rounds, modes, jax=with_jax and _jax_installed())
    results.machine["load_average_after"] = _load_average()
    return results


def _jax_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("jax") is not None


def _load_average() -> float | None:
    """The 1-minute load average (runnable processes, averaged), or None where unknown."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def _measure(competitor: Competitor, case: Case, points: np.ndarray, *, threads: int, tier: str) -> Measurement:
    if competitor.prepare is classic_loop:
        return _measure_classic(competitor, case, points, threads=threads, tier=tier)
    run_once = competitor.prepare(case, points, threads)
    first = _seconds(run_once)
    times = [_seconds(run_once)]  # the first steady-state call sets the number of repeats
    if tier != "smoke":
        repeats = min(REPEATS[tier], max(3, int(TIME_BUDGET_S[tier] / max(times[0], 1e-9))))
        times += [_seconds(run_once) for _ in range(repeats - 1)]
    # tracemalloc sees NumPy's and Python's allocations, not XLA's: no figure for JAX.
    peak = _peak_mib(run_once) if tier != "smoke" and competitor.kind != "jax" else None
    return _measurement(competitor, case, times, first=first, peak=peak)


def _measure_classic(competitor: Competitor, case: Case, points: np.ndarray, *, threads: int, tier: str) -> Measurement:
    # The classic loop is exactly linear in the number of points: time a subset
    # that fits the budget and scale up (marked), rather than wait minutes.
    probe = points[: min(case.n_points, 4)]
    probe_s = _seconds(competitor.prepare(case, probe, threads))
    per_point = probe_s / len(probe)
    n = int(min(case.n_points, max(len(probe), CLASSIC_BUDGET_S[tier] / max(per_point, 1e-12))))
    first = probe_s if n == len(probe) else _seconds(competitor.prepare(case, points[:n], threads))
    scale = case.n_points / n
    m = _measurement(competitor, case, [first * scale], first=first * scale, peak=None)
    m.extrapolated_from = n if n < case.n_points else None
    return m


def _measurement(competitor: Competitor, case: Case, times: list[float], *, first: float, peak: float | None) -> Measurement:
    q1, median, q3 = np.percentile(times, [25, 50, 75]) / competitor.per_call
    return Measurement(case.workload, case.label, competitor.name, competitor.kind, case.n_points, case.d,
                       case.evaluations, float(median), float(q1), float(q3), len(times), first, peak)


def _seconds(run_once: Callable[[], object]) -> float:
    start = time.perf_counter()
    run_once()
    return time.perf_counter() - start


def _peak_mib(run_once: Callable[[], object]) -> float:
    """Peak memory NumPy and Python allocate during one call (tracemalloc sees NumPy's buffers)."""
    tracemalloc.start()
    try:
        run_once()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
