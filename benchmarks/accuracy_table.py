"""Median and worst relative error of the automatic step on the standard test suite.

    python benchmarks/accuracy_table.py

Relative error: |error| / max(1, |df/dx_j|) against the analytic gradients of
gradjit.problems, at 400 seeded random points per problem (d = 2, and d = 5
where the problem allows it). tests/test_accuracy.py asserts bounds on the same
figures.
"""

import numpy as np

import gradjit
from gradjit.problems import relative_errors

if __name__ == "__main__":
    print("| order | median | 99th percentile | worst |")
    print("|---|---:|---:|---:|")
    for order in gradjit.stencils.ORDERS:
        e = relative_errors(order)
        print(f"| {order} | {np.median(e):.1e} | {np.quantile(e, 0.99):.1e} | {e.max():.1e} |")
