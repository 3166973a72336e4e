"""``sparsity="auto"``: which components of F depend on which coordinates, found by probing.

At three probe points (the first point of the batch, and two random points
around it, within half of ``max(1, |x_j|)`` of each coordinate), each coordinate
in turn is moved by a random amount (a quarter to three quarters of
``max(1, |x_j|)``) and then set to NaN: component ``r`` depends on ``x_j`` if
its value changed with the move, or became NaN from a number, at any probe
(:func:`gradjit.stencils.grouped.column_dependencies`). That is ``6 d``
evaluations of F, twice (a pass that counts, then one that writes), in
parallel over the coordinates. The probes are drawn from a fixed seed, so a
pattern is reproducible.

When it misses a dependency
---------------------------
Detection sees what changes F's values at the probes, so it misses ``x_j`` in
``F_r`` only if, at all three probes, both the move and the NaN leave ``F_r``
bitwise unchanged:

- ``x_j`` acts only through a branch that no probe takes (``if x[j] > 100``
  near ``x = 0``), and its NaN is masked by a comparison or ``min``/``max``;
- its effect is below ``F_r``'s rounding (``x_0 + 1e-20 * x_j``);
- ``F_r`` is NaN or infinite at every probe (then nothing can be seen).

A missed dependency is caught later whenever it moves a component in a group
where that component has no coordinate (every structured call checks this at
no cost, :mod:`gradjit.stencils.grouped`); ``check=True`` checks every
coordinate at one point. The pattern is cached on F per ``d``, ``m``, backend
and the types and shapes of ``args``: ``args`` of the same types and shapes
whose *values* change the structure (an edge list of the same length) reuse
the first pattern, so give a :class:`~gradjit.Sparsity` there, or ``check=True``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._memo import memo_of
from ._objective import argument_types
from .sparsity import Sparsity

__all__ = ["detect"]

#: Probe points: the given one and this many random ones around it.
RANDOM_PROBES = 2
#: The fixed seed of the probes and moves.
PROBE_SEED = 20261201


def detect(F: Callable, points: np.ndarray, spec, m: int) -> Sparsity:
    """The pattern of F's ``m`` components over the ``d`` coordinates of ``points``, probed
    around its first row (cached on F per d, m, backend, and the types and shapes of ``args``)."""
    d = points.shape[1]
    key = ("sparsity='auto'", d, m, spec.backend.NAME, argument_types(spec.args), tuple(np.shape(a) for a in spec.args))
    memo = memo_of(F)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _probe(F, points, spec, m)
    return found


def _probe(F: Callable, points: np.ndarray, spec, m: int) -> Sparsity:
    d = points.shape[1]
    rng = np.random.default_rng(PROBE_SEED)
    center = points[0] if points.shape[0] else np.zeros(d)
    scale = np.maximum(1.0, np.abs(center))
    around = center + scale * rng.uniform(-0.5, 0.5, size=(RANDOM_PROBES, d))
    probes = np.ascontiguousarray(np.vstack([center, around]))
    deltas = np.maximum(1.0, np.abs(probes)) * rng.uniform(0.25, 0.75, size=probes.shape) * rng.choice([-1.0, 1.0], probes.shape)
    counts = np.zeros(d, dtype=np.int64)
    no_rows = np.zeros(0, dtype=np.int64)
    spec.backend.dependencies(F, probes, deltas, m, spec, counts, no_rows, no_rows)
    col_ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    rows = np.empty(col_ptr[-1], dtype=np.int64)
    if rows.size:
        spec.backend.dependencies(F, probes, deltas, m, spec, counts, col_ptr, rows)
    return Sparsity.from_csc((m, d), col_ptr, rows)
