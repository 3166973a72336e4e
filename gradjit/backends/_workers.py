"""The NumPy reference spread over workers (``workers=``): for expensive objectives
that Numba cannot compile (a simulator, a solver, a library written in Python).

One call's work is cut into tasks, each a call of the reference itself on a part:
a slice of the points when there are enough of them, otherwise, per point, a
slice of the coordinates (the Hessian: a slice of its entries). A slice of
coordinates is differentiated through :class:`Columns`, which puts them back into
the point before calling f: every evaluation sees exactly the array the whole
reference would have passed, so the results are the same bits as without workers.
The tasks run on the workers' ``map`` (an int: a thread pool of that size; else
the map-like callable given, such as ``multiprocessing.Pool(4).map``), in order;
an exception raised by f in a worker reaches the caller.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np

from .._objective import name_of

__all__ = ["Columns", "spread"]

#: Tasks per worker: enough to even out workers that finish early.
TASKS_PER_WORKER = 4


class Columns:
    """f as a function of some coordinates of a point, the others fixed at ``base``.

    Picklable when f is, so a task can travel to a process pool.
    """

    def __init__(self, f: Callable, base: np.ndarray, columns: np.ndarray) -> None:
        self.f, self.base, self.columns = f, base, columns
        self.__qualname__ = name_of(f)  # error messages name the user's f

    def __call__(self, y: np.ndarray, *args: Any) -> Any:
        x = self.base.astype(np.result_type(self.base, y))  # complex for the complex step
        x[self.columns] = y
        return self.f(x, *args)


@contextmanager
def _mapper(workers: Any) -> Iterator[Callable]:
    if callable(workers):
        yield workers
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gradjit-worker") as pool:
        yield pool.map


def _target_tasks(workers: Any) -> int:
    size = workers if isinstance(workers, int) else (os.cpu_count() or 1)
    return max(1, TASKS_PER_WORKER * size)


def _slices(n: int, parts: int) -> list[slice]:
    parts = max(1, min(n, parts))
    bounds = np.linspace(0, n, parts + 1).round().astype(int)
    return [slice(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _portable(spec) -> Any:
    """``spec`` without what does not pickle (the method's row, the backend module) or
    must not recurse (the workers); :func:`_task` puts them back."""
    return spec._replace(method=spec.method.name, backend=None, workers=None)


def _restored(spec) -> Any:
    from ..stencils.methods import METHODS
    from . import numpy_ref

    return spec._replace(method=METHODS[spec.method], backend=numpy_ref)


def _columns_spec(spec, columns: np.ndarray) -> Any:
    return spec._replace(steps=spec.steps[columns], typical=spec.typical[columns], lower=spec.lower[columns],
                         upper=spec.upper[columns])


def _task(payload: tuple) -> tuple:
    """One task, in a worker: ``(out, errors)`` of the reference's ``kind`` on its part."""
    kind, f, points, spec, extra = payload
    from . import numpy_ref

    spec = _restored(spec)
    errors = None
    if kind == "values":
        out = np.empty(points.shape[0])
        numpy_ref.values(f, points, spec, out)
    elif kind == "gradient":
        out = np.empty(points.shape)
        errors = np.empty(points.shape) if spec.method.error_estimates else None
        numpy_ref.gradient(f, points, spec, out, errors=errors)
    elif kind == "jacobian":
        out = np.empty((points.shape[0], extra, points.shape[1]))
        errors = np.empty(out.shape) if spec.method.error_estimates else None
        numpy_ref.jacobian(f, points, spec, out, errors=errors)
    else:  # hessian: extra is the pairs
        d = points.shape[1]
        out = np.zeros((points.shape[0], d, d))
        errors = np.zeros(out.shape) if spec.method.error_estimates else None
        numpy_ref.hessian(f, points, spec, out, errors=errors, pairs=extra)
    return out, errors


def spread(kind: str, f: Callable, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None = None,
           m: int = 0) -> None:
    """The reference's ``kind`` (``"values"``, ``"gradient"``, ``"jacobian"`` with m
    components, ``"hessian"``) at ``points`` into ``out`` (and ``errors``), spread over
    ``spec.workers``."""
    n, d = points.shape
    if n == 0:
        return
    portable, target = _portable(spec), _target_tasks(spec.workers)
    payloads, places = [], []  # places: (rows, columns or None, mask of Hessian entries or None)
    if kind == "values" or n >= target or d <= 1:
        for rows in _slices(n, target):
            payloads.append((kind, f, points[rows], portable, m or None))
            places.append((rows, None, None))
    elif kind == "hessian":
        j, k = np.triu_indices(d)
        for i in range(n):
            for entries in _slices(j.size, math.ceil(target / n)):
                pairs = np.stack([j[entries], k[entries]], axis=1).reshape(-1)
                payloads.append((kind, f, points[i:i + 1], portable, pairs))
                places.append((slice(i, i + 1), None, _pairs_mask(d, pairs)))
    else:
        for i in range(n):
            for part in _slices(d, math.ceil(target / n)):
                columns = np.arange(d)[part]
                restricted = Columns(f, points[i].copy(), columns)
                payloads.append((kind, restricted, points[i:i + 1, columns], _columns_spec(portable, columns), m or None))
                places.append((slice(i, i + 1), columns, None))
    with _mapper(spec.workers) as map_:
        results = list(map_(_task, payloads))
    for (rows, columns, mask), (found, found_errors) in zip(places, results):
        targets = [(out, found)] if errors is None else [(out, found), (errors, found_errors)]
        for target_array, part in targets:
            if mask is not None:
                target_array[rows][:, mask] = part[:, mask]
            elif columns is not None:
                target_array[rows, ..., columns] = part
            else:
                target_array[rows] = part


def _pairs_mask(d: int, pairs: np.ndarray) -> np.ndarray:
    """The entries (j, k) and (k, j) of the flattened ``pairs``, as a (d, d) mask."""
    mask = np.zeros((d, d), dtype=bool)
    mask[pairs[0::2], pairs[1::2]] = True
    mask[pairs[1::2], pairs[0::2]] = True
    return mask
