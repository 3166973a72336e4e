"""Steady state of the two compilation tiers on every ``gradjit bench`` workload.

    python benchmarks/tiers_steady_state.py [--tier quick|full]

For each case, the median time of a call on the fast-start tier (f called
through its address) and on the inlined tier, after both are compiled, and
their ratio: the price of starting fast, which ``jit="auto"`` stops paying once
the work repays compiling the inlined kernels.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import gradjit
from gradjit.bench.workloads import WORKLOADS


def median_seconds(run, repeats: int = 15) -> float:
    run()  # compile (or load) first
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", default="quick", choices=["smoke", "quick", "full"])
    options = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, gradjit {gradjit.__version__}, bench sizes {options.tier!r}\n")
    print("| workload | size | fast-start ms | inline ms | fast-start / inline |\n|---|---|---:|---:|---:|")
    for workload in WORKLOADS.values():
        if workload.unavailable():
            continue
        for case in workload.cases(options.tier):
            points = case.points()
            if case.workload == "many-starts":
                def call(jit, case=case, points=points):
                    return gradjit.minimize(case.f, points, method="gd", lr=1e-3, max_iter=10, gtol=0.0, record=False,
                                            jit=jit)
            elif case.axes is not None:
                def call(jit, case=case):
                    return gradjit.grid_gradient(case.f, case.axes, indexing="ij", order=case.order, jit=jit)
            else:
                def call(jit, case=case, points=points):
                    return gradjit.gradient(case.f, points, order=case.order, jit=jit)
            fast = median_seconds(lambda: call("fast-start"))
            inline = median_seconds(lambda: call("inline"))
            print(f"| {case.workload} | {case.label} | {1e3 * fast:.3f} | {1e3 * inline:.3f} | {fast / inline:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
