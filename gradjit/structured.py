"""Structured problems: sparse Jacobians, gradients and Hessians of sums of terms.

The public functions (:func:`gradjit.jacobian`, :func:`gradjit.gradient` and
:func:`gradjit.hessian` with ``sparsity=`` or ``terms=True``) resolve their
options into a spec and call these, which pick the pattern
(:class:`~gradjit.Sparsity`, detected with ``"auto"``), allocate, run the
backend's grouped kernels and turn what the kernels saw into errors:

- every call checks, at no extra evaluation, that no component changed in a
  group where the pattern gives it no coordinate (:mod:`gradjit.stencils.grouped`);
- ``check=True`` also evaluates every coordinate alone at one point of the
  batch (chosen by a seeded generator): any dependency the pattern leaves out
  shows there, and the structured result must equal that one bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _chunks, _detect
from ._memo import memo_of
from ._objective import argument_types
from .errors import OptionError, PatternError
from .sparsity import Sparsity

__all__ = ["hessian_of_terms", "jacobian", "pattern_of", "sparse_hessian", "terms_gradient"]

#: The seed of the generator that picks the point ``check=True`` verifies.
CHECK_SEED = 7


def pattern_of(F: Callable, points: np.ndarray, spec, sparsity: Any) -> Sparsity:
    """The :class:`Sparsity` of F at ``points`` for ``sparsity=`` (a Sparsity, an array,
    a scipy.sparse matrix, or ``"auto"``, which ``None`` means), checked against F's length and d."""
    if spec.bounded:
        raise OptionError("bounds= does not apply with sparsity= or terms=True: a group's coordinates all step the "
                          "same way, which a bound can forbid for some of them.")
    m = _length(F, points, spec)
    d = points.shape[1]
    if sparsity is None:
        sparsity = "auto"
    if isinstance(sparsity, str):
        if sparsity != "auto":
            raise OptionError(f"sparsity must be an (m, d) pattern, a gradjit.Sparsity or 'auto'; got {sparsity!r}.")
        return _detect.detect(F, points, spec, m)
    pattern = sparsity if isinstance(sparsity, Sparsity) else Sparsity(sparsity)
    pattern.check_shape(m, d)
    return pattern


def _length(F: Callable, points: np.ndarray, spec) -> int:
    """m, remembered on F per d, backend and the types and shapes of ``args``: finding it
    runs F once, in Python where it can (slow for loops over large d)."""
    key = ("structured m", points.shape[1], spec.backend.NAME, argument_types(spec.args),
           tuple(np.shape(a) for a in spec.args))
    memo = memo_of(F)
    found = memo.get(key)
    if found is None:
        found = memo[key] = spec.backend.jacobian_length(F, points, spec)
    return found


def jacobian(F: Callable, points: np.ndarray, spec, pattern: Sparsity, *, sparse: bool, check: bool) -> np.ndarray:
    """The Jacobians ``(N, m, d)`` (zeros off the pattern), or with ``sparse`` their data ``(N, nnz)`` in CSR order."""
    n, d = points.shape
    m = pattern.shape[0]
    layout = "sparse" if sparse else "dense"
    out = _zeros((n, pattern.nnz) if sparse else (n, m, d))
    _grouped(F, points, spec, pattern, out, layout)
    if check and n:
        k = _checked_point(n)
        alone = np.zeros((1, pattern.nnz))
        _grouped(F, points[k:k + 1], spec, pattern.ungrouped(), alone, "sparse", checking=True)
        found = out[k] if sparse else out[k][pattern.row_idx, np.repeat(np.arange(d), np.diff(pattern.col_ptr))]
        expected = alone[0] if sparse else alone[0][pattern.csr_position]
        _compare(found, expected, k, "Jacobian")
    return out


def terms_gradient(F: Callable, points: np.ndarray, spec, out: np.ndarray, *, check: bool = False) -> None:
    """The gradient of ``Σ_r F_r`` at every row of ``points`` into ``out`` (N, d), by the
    groups of ``spec.terms``: ``∇f = J^T 1`` without forming J."""
    pattern = spec.terms
    n = points.shape[0]
    _grouped(F, points, spec, pattern, out, "terms")
    if check and n:
        k = _checked_point(n)
        alone = np.zeros((1, points.shape[1]))
        _grouped(F, points[k:k + 1], spec, pattern.ungrouped(), alone, "terms", checking=True)
        _compare(out[k], alone[0], k, "gradient")


def hessian_of_terms(F: Callable, points: np.ndarray, spec, pattern: Sparsity, *, sparse: bool, check: bool) -> np.ndarray:
    """The Hessians of ``Σ_r F_r``, ``(N, d, d)``, or with ``sparse`` their data ``(N, nnz)``
    in the CSR order of :attr:`Sparsity.hessian`."""
    n, d = points.shape
    plan = pattern.hessian
    out = _zeros((n, plan.nnz) if sparse else (n, d, d))
    _terms_hessian(F, points, spec, pattern, out, "sparse" if sparse else "dense")
    if check and n:
        k = _checked_point(n)
        one = points[k:k + 1]
        alone = pattern.ungrouped()
        # F's own pattern, every column alone (the Hessian's pairs do not reach a column that no term has).
        _grouped(F, one, spec, alone, np.zeros((1, pattern.nnz)), "sparse", checking=True)
        expected = np.zeros((1, alone.hessian.nnz))
        _terms_hessian(F, one, spec, alone, expected, "sparse", checking=True)
        found = out[k] if sparse else out[k][_hessian_rows(plan), plan.indices]
        _compare(found, expected[0], k, "Hessian")
    return out


def sparse_hessian(f: Callable, points: np.ndarray, spec, pattern: np.ndarray, *,
                   check: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The Hessians ``(N, d, d)`` of a scalar f computing only the entries of its
    Hessian's symmetric boolean ``pattern`` ``(d, d)``, zeros elsewhere; and Richardson's
    error estimates (else None)."""
    n, d = points.shape
    upper = np.triu(pattern)
    j, k = np.nonzero(upper)
    pairs = np.ascontiguousarray(np.stack([j, k], axis=1).reshape(-1), dtype=np.int64)
    out = _zeros((n, d, d))
    errors = _zeros((n, d, d)) if spec.method.error_estimates else None
    spec.backend.hessian(f, points, spec, out, errors=errors, pairs=pairs)
    if check and n:
        at = _checked_point(n)
        dense = np.empty((1, d, d))
        spec.backend.hessian(f, points[at:at + 1], spec, dense, errors=None if errors is None else np.empty((1, d, d)))
        on = upper | upper.T
        _compare(out[at][on], dense[0][on], at, "Hessian", against="the dense Hessian")
        # Off the pattern f's own rounding leaves noise of about eps |f| / (h_j h_k); a coupling
        # the pattern misses is of the size of the Hessian itself.
        noise = 1e-6 * max(1.0, float(np.nanmax(np.abs(dense[0]), initial=0.0)))
        missed = np.argwhere(~on & (np.abs(dense[0]) > noise))
        if missed.size:
            r, c = missed[0]
            raise PatternError(f"check=True: at point {at} the Hessian entry ({r}, {c}) is {dense[0][r, c]:.6g}, but the "
                               f"sparsity pattern says it is zero ({len(missed)} such entries): the pattern misses a "
                               "coupling of f.")
    return out, errors


def _zeros(shape: tuple[int, ...]) -> np.ndarray:
    _chunks.check_fits(shape, np.dtype(np.float64))
    return np.zeros(shape)


def _checked_point(n: int) -> int:
    return int(np.random.default_rng(CHECK_SEED).integers(n))


def _hessian_rows(plan) -> np.ndarray:
    return np.repeat(np.arange(plan.indptr.size - 1), np.diff(plan.indptr))


def _grouped(F, points, spec, pattern: Sparsity, out: np.ndarray, layout: str, *, checking: bool = False) -> None:
    violations = np.full(points.shape[0] * pattern.n_groups, -1, dtype=np.int64)
    spec.backend.grouped_jacobian(F, points, spec, pattern, out, violations, layout=layout)
    _raise_violations(violations, pattern.n_groups, lambda g: pattern.describe_group(g), checking)


def _terms_hessian(F, points, spec, pattern: Sparsity, out: np.ndarray, layout: str, *, checking: bool = False) -> None:
    plan = pattern.hessian
    violations = np.full(points.shape[0] * plan.pairs.shape[0], -1, dtype=np.int64)
    spec.backend.terms_hessian(F, points, spec, pattern, out, violations, layout=layout)

    def describe(p: int) -> str:
        a, b = plan.pairs[p]
        return pattern.describe_group(a) if a == b else f"{pattern.describe_group(a)} and {pattern.describe_group(b)}"

    _raise_violations(violations, plan.pairs.shape[0], describe, checking)


def _raise_violations(violations: np.ndarray, per_point: int, describe: Callable[[int], str], checking: bool) -> None:
    if not violations.size or violations.max() < 0:
        return
    found = np.flatnonzero(violations >= 0)
    item = int(found[0])
    point, group = divmod(item, per_point)
    row = int(violations[item])
    how = "check=True: evaluating every coordinate alone" if checking else "the grouped evaluation"
    raise PatternError(
        f"{how}: F's component {row} changed when the coordinates {describe(group)} moved (at point {point}), "
        f"but the sparsity pattern says it depends on none of them ({found.size} such case(s)). The pattern leaves "
        f"out a dependency of component {row}: add it, or use sparsity='auto'.")


def _compare(found: np.ndarray, expected: np.ndarray, point: int, what: str, *,
             against: str = "the one with every coordinate alone") -> None:
    differ = ~((found == expected) | (np.isnan(found) & np.isnan(expected)))
    if differ.any():
        where = int(np.flatnonzero(differ)[0])
        raise PatternError(
            f"check=True: at point {point} the structured {what} differs from {against} "
            f"({int(differ.sum())} entries; the first {found[where]!r} against {expected[where]!r}): the function is "
            "not one of the pattern's coordinates alone, or not deterministic.")
