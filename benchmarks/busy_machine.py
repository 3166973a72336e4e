"""gradjit on a busy machine: default threads against one thread, with CPU-bound neighbours.

Starts its own bounded neighbour processes (each stops by itself after
``--max-seconds``), then times every ``gradjit bench`` workload (the quick
sizes) in a fresh process, once with the default threads and once with
``threads=1``, and prints ``default / 1 thread`` per workload and load::

    python benchmarks/busy_machine.py                      # 0, 1, 2 and 4 spinning neighbours
    python benchmarks/busy_machine.py --load 4 mixed       # four spinners; a mixed load
    python benchmarks/busy_machine.py --env OMP_WAIT_POLICY=PASSIVE   # another runtime setting

A ratio near 1 or below means the parallel call does not collapse when the
cores are oversubscribed; gradjit's target is at most 1.3 under any load. The
"mixed" load is what a developer's machine sees: one process compiling Numba
functions over and over, one spinning, and one alternating 5 ms of work with
5 ms of sleep.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

#: Python source of each kind of neighbour; each stops after the given seconds.
_NEIGHBOURS = {
    "spin": "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n",
    "bursty": ("import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n"
               "    t = time.time() + 0.005\n    while time.time() < t:\n        pass\n    time.sleep(0.005)\n"),
    "compile": ("import time, numba\nend = time.time() + {seconds}\ni = 0\nwhile time.time() < end:\n"
                "    ns = {{}}\n    exec(f'def g(x):\\n    return x * {{i}} + x * x - {{i}}', ns)\n"
                "    numba.njit(ns['g'])(1.0)\n    i += 1\n"),
}

_LOADS = {
    "0": [],
    "1": ["spin"],
    "2": ["spin", "spin"],
    "4": ["spin"] * 4,
    "mixed": ["compile", "spin", "bursty"],
}

# The measuring child: every quick workload, default threads and one thread,
# interleaved call by call so that both see the same load.
_MEASURE = r"""
import json, sys, time
import numpy as np
import gradjit
from gradjit.bench.workloads import WORKLOADS

calls = int(sys.argv[1])
rows = []
for workload in WORKLOADS.values():
    for case in workload.cases("quick"):
        points = case.points() if case.axes is None else None
        def run(threads, case=case, points=points):
            if case.axes is not None:
                return gradjit.grid_gradient(case.f, case.axes, indexing="ij", threads=threads)
            return gradjit.gradient(case.f, points, threads=threads)
        run(None); run(1)  # compile
        times = {"default": [], "one": []}
        budget = time.perf_counter() + 3.0
        for i in range(calls):
            for key, threads in (("default", None), ("one", 1)):
                start = time.perf_counter()
                run(threads)
                times[key].append(time.perf_counter() - start)
            if time.perf_counter() > budget and i >= 4:
                break
        rows.append({"workload": f"{case.workload} {case.label}",
                     "default_ms": 1e3 * float(np.median(times["default"])),
                     "one_ms": 1e3 * float(np.median(times["one"]))})
print("RESULT " + json.dumps({"layer": gradjit._config.threading_layer(), "rows": rows}))
"""


def _start(kind: str, seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _NEIGHBOURS[kind].format(seconds=seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(load: str, env: dict[str, str], calls: int, max_seconds: float) -> dict:
    """Start the neighbours of ``load``, run the measuring child, stop the neighbours."""
    neighbours = [_start(kind, max_seconds) for kind in _LOADS[load]]
    try:
        time.sleep(0.5 if neighbours else 0.0)  # let them reach full speed
        before = os.getloadavg()[0]
        child = subprocess.run([sys.executable, "-c", _MEASURE, str(calls)], env={**os.environ, **env},
                               capture_output=True, text=True, check=False, timeout=max_seconds)
        after = os.getloadavg()[0]
    finally:
        for p in neighbours:
            p.kill()
            p.wait()
    line = next((ln for ln in child.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"the measuring process failed:\n{child.stderr[-3000:]}")
    found = json.loads(line[len("RESULT "):])
    found.update(load=load, loadavg=(before, after))
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", nargs="+", default=["0", "1", "2", "4"], choices=list(_LOADS),
                        help="neighbour loads: a number of spinning processes, or 'mixed'")
    parser.add_argument("--env", nargs="*", default=[], help="KEY=VALUE settings for the measuring process")
    parser.add_argument("--calls", type=int, default=30, help="calls per workload and thread setting (at most)")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="neighbours stop by themselves after this")
    options = parser.parse_args(argv)
    env = dict(item.split("=", 1) for item in options.env)
    print(f"settings: {env or 'defaults'}")
    print("| load | workload | default threads (ms) | 1 thread (ms) | default / 1 thread |")
    print("|---|---|---|---|---|")
    worst = {}
    for load in options.load:
        found = measure(load, env, options.calls, options.max_seconds)
        for row in found["rows"]:
            ratio = row["default_ms"] / row["one_ms"]
            worst[load] = max(worst.get(load, 0.0), ratio)
            print(f"| {load} | {row['workload']} | {row['default_ms']:.3f} | {row['one_ms']:.3f} | {ratio:.2f} |", flush=True)
    print()
    print(f"threading layer: {found['layer']}; worst default / 1 thread per load: "
          + ", ".join(f"{k}: {v:.2f}" for k, v in worst.items()))


if __name__ == "__main__":
    main()
