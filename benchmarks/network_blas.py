"""Example 08's network at MNIST size: an f that calls BLAS inside gradjit's parallel kernels.

The loss of ``examples/08_two_layer_network.py`` (two matrix products per
evaluation) with 784 inputs, 50 hidden units and 10 outputs (39,760
parameters) on a batch of 100 random "images": one full gradient, timed three
ways in one run:

* the book's loop (``common/gradient.py``, as ``tests/classic_reference.py`` has
  it: perturb, evaluate with NumPy, restore, one parameter after the other),
  with BLAS's default threads;
* gradjit, as it runs by default: its threads over the parameters, BLAS held
  to one thread while they run (``gradjit/_blas.py``);
* gradjit with BLAS left at its default threads inside gradjit's threads (what
  gradjit did before), for comparison.

    python benchmarks/network_blas.py [--batch 100] [--hidden 50]
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

import gradjit
from gradjit.backends import numba_cpu


def _load(relative: str, name: str):
    """A module of this repository by its path (examples/ and tests/ are not packages)."""
    path = Path(__file__).resolve().parent.parent / relative
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def _blas_left_alone():
    real = numba_cpu.one_blas_thread
    numba_cpu.one_blas_thread = nullcontext  # BLAS keeps its threads
    try:
        yield
    finally:
        numba_cpu.one_blas_thread = real


def main(batch: int = 100, hidden: int = 50) -> dict[str, float]:
    example = _load("examples/08_two_layer_network.py", "two_layer_network")
    books_loop = _load("tests/classic_reference.py", "classic_reference").numerical_gradient_common
    rng = np.random.default_rng(0)
    X = rng.random((batch, 784))
    t = rng.integers(0, 10, batch)
    n_params = 784 * hidden + hidden + hidden * 10 + 10
    w = rng.normal(scale=0.1, size=n_params)
    gradjit.gradient(example.loss, w, args=(X, t, hidden))  # compile

    start = time.perf_counter()
    fast = gradjit.gradient(example.loss, w, args=(X, t, hidden))
    default_s = time.perf_counter() - start
    with _blas_left_alone():
        start = time.perf_counter()
        gradjit.gradient(example.loss, w, args=(X, t, hidden))
        oversubscribed_s = time.perf_counter() - start
    start = time.perf_counter()
    reference = books_loop(lambda v: example.loss_numpy(v, X, t, hidden), w.copy())
    book_s = time.perf_counter() - start
    difference = float(np.abs(fast - reference).max())
    print(f"784-{hidden}-10 network, batch {batch}: {n_params} parameters, one gradient "
          f"({2 * n_params} evaluations of the loss)")
    print("| computation | seconds | book's loop / this |")
    print("|---|---|---|")
    for name, seconds in [("book's loop (NumPy, BLAS default threads)", book_s),
                          ("gradjit (BLAS held to one thread in its threads)", default_s),
                          ("gradjit with BLAS's own threads inside (before)", oversubscribed_s)]:
        print(f"| {name} | {seconds:.2f} | {book_s / seconds:.2f} |")
    print(f"largest difference from the book's loop: {difference:.1e}")
    return {"book_s": book_s, "gradjit_s": default_s, "oversubscribed_s": oversubscribed_s}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=50)
    options = parser.parse_args()
    main(options.batch, options.hidden)
