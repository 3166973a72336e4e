"""Sparsity patterns of vector functions, coloured once for grouped differences.

A pattern says which components of ``F: R^d -> R^m`` depend on which
coordinates: ``S[r, j]`` is true where ``F_r`` may depend on ``x_j``.
Coordinates that no component shares can be perturbed together
(:mod:`gradjit.stencils.grouped`), so a Jacobian costs as many stencils as
there are *groups*, not columns. :class:`Sparsity` validates a pattern and
colours its columns once; pass it as ``sparsity=`` to reuse the colouring
across calls (a plain array or ``scipy.sparse`` matrix is coloured on every
call).

The colouring
-------------
Greedy colouring of the column intersection graph (columns ``j`` and ``k``
are adjacent when some row has both) in *largest-first* order: columns by
decreasing degree in that graph, ties by index; each takes the smallest colour
none of its neighbours has. It needs at most ``1 + max degree`` colours and at
least the largest number of non-zeros in a row; on banded patterns it finds
the bandwidth's minimum (2 for Rosenbrock's terms, 3 for a tridiagonal
Jacobian). Time: ``Σ_r nnz(row r)²``, so a dense row (an arrow pattern) costs
``d`` per column, and then needs ``d`` colours anyway.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import Any, NamedTuple

import numba
import numpy as np

from ._config import CACHED_JIT_OPTIONS
from .errors import DTypeError, OptionError, PatternError

__all__ = ["HessianPattern", "Sparsity"]


class Sparsity:
    """A validated sparsity pattern with its columns coloured into groups.

    Parameters
    ----------
    pattern : array_like of shape (m, d), scipy.sparse matrix, or Sparsity
        Where ``F_r`` may depend on ``x_j``: a boolean (or 0/1) array, or a
        ``scipy.sparse`` matrix whose stored non-zero entries are the pattern.

    Attributes
    ----------
    shape : tuple of int
        ``(m, d)``.
    nnz : int
        The number of entries of the pattern.
    groups : ndarray of int64, shape (d,)
        The colour of each column.
    n_groups : int
        The number of colours: a central Jacobian of order ``p`` costs
        ``p * n_groups`` evaluations of F per point.
    colouring_seconds : float
        How long the colouring took (it is done once per :class:`Sparsity`).

    Examples
    --------
    >>> import numpy as np, gradjit
    >>> S = np.eye(6, dtype=bool) | np.eye(6, k=1, dtype=bool) | np.eye(6, k=-1, dtype=bool)
    >>> pattern = gradjit.Sparsity(S)
    >>> pattern.n_groups, pattern.groups.tolist()
    (3, [1, 2, 0, 1, 2, 0])
    """

    def __init__(self, pattern: Any) -> None:
        if isinstance(pattern, Sparsity):
            self.__dict__.update(pattern.__dict__)
            return
        self._build(*_csc(pattern))

    @classmethod
    def from_csc(cls, shape: tuple[int, int], col_ptr: np.ndarray, row_idx: np.ndarray) -> Sparsity:
        """The pattern whose column ``j`` has the rows ``row_idx[col_ptr[j]:col_ptr[j + 1]]`` (any order, no repeats)."""
        columns = np.repeat(np.arange(shape[1], dtype=np.int64), np.diff(col_ptr))
        order = np.lexsort((row_idx, columns))
        pattern = cls.__new__(cls)
        pattern._build((int(shape[0]), int(shape[1])), np.asarray(col_ptr, dtype=np.int64),
                       np.ascontiguousarray(row_idx[order], dtype=np.int64))
        return pattern

    def ungrouped(self) -> Sparsity:
        """The same pattern with every column in a group of its own (``d`` groups): what
        ``check=True`` evaluates, where any dependency the pattern leaves out shows."""
        alone = Sparsity.__new__(Sparsity)
        alone.__dict__.update({k: v for k, v in self.__dict__.items() if k != "hessian"})
        d = self.shape[1]
        alone.groups = alone.group_columns = np.arange(d, dtype=np.int64)
        alone.group_ptr = np.arange(d + 1, dtype=np.int64)
        alone._order_entries_by_group()
        alone.silent_ptr = alone.silent = np.zeros(0, dtype=np.int64)  # d lists would be too many: marks instead
        alone.n_groups = d
        return alone

    def _order_entries_by_group(self) -> None:
        """The entries in the order the groups are evaluated, for flat loops: column
        ``group_columns[c]`` has the components ``group_rows[group_col_ptr[c]:group_col_ptr[c + 1]]``
        (ascending), whose CSR positions are ``group_positions``; group g's entries are
        ``group_entry_ptr[g]:group_entry_ptr[g + 1]``, each component once (a component has at
        most one coordinate per group)."""
        lengths = np.diff(self.col_ptr)[self.group_columns]
        self.group_col_ptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        csc_of_entry = np.repeat(self.col_ptr[self.group_columns] - self.group_col_ptr[:-1], lengths) + np.arange(self.nnz)
        self.group_rows = self.row_idx[csc_of_entry]
        self.group_positions = self.csr_position[csc_of_entry]
        self.group_entry_ptr = self.group_col_ptr[self.group_ptr]

    def _build(self, shape: tuple[int, int], col_ptr: np.ndarray, row_idx: np.ndarray) -> None:
        self.shape, self.col_ptr, self.row_idx = shape, col_ptr, row_idx
        m, d = self.shape
        self.nnz = int(self.row_idx.size)
        columns = np.repeat(np.arange(d, dtype=np.int64), np.diff(self.col_ptr))
        by_row = np.lexsort((columns, self.row_idx))
        #: CSR view: the columns of row r are col_idx[row_ptr[r]:row_ptr[r + 1]], ascending.
        self.row_ptr = np.concatenate(([0], np.cumsum(np.bincount(self.row_idx, minlength=m)))).astype(np.int64)
        self.col_idx = np.ascontiguousarray(columns[by_row])
        #: csr_position[p]: where CSC entry p sits in CSR order.
        self.csr_position = np.empty(self.nnz, dtype=np.int64)
        self.csr_position[by_row] = np.arange(self.nnz, dtype=np.int64)
        started = time.perf_counter()
        degrees = _intersection_degrees(self.col_ptr, self.row_idx, self.row_ptr, self.col_idx)
        order = np.argsort(-degrees, kind="stable")
        self.groups = _greedy_colours(order.astype(np.int64), self.col_ptr, self.row_idx, self.row_ptr, self.col_idx)
        self.colouring_seconds = time.perf_counter() - started
        self.n_groups = int(self.groups.max()) + 1 if d else 0
        #: The columns of group g are group_columns[group_ptr[g]:group_ptr[g + 1]], ascending.
        self.group_columns = np.argsort(self.groups, kind="stable").astype(np.int64)
        counts = np.bincount(self.groups, minlength=self.n_groups)
        self.group_ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self._order_entries_by_group()
        self.silent_ptr, self.silent = _silent_lists(self)

    def __repr__(self) -> str:
        m, d = self.shape
        return f"Sparsity(shape=({m}, {d}), nnz={self.nnz}, n_groups={self.n_groups})"

    def toarray(self) -> np.ndarray:
        """The pattern as a dense boolean ``(m, d)`` array."""
        dense = np.zeros(self.shape, dtype=bool)
        dense[self.row_idx, np.repeat(np.arange(self.shape[1]), np.diff(self.col_ptr))] = True
        return dense

    def csr(self, data: np.ndarray) -> Any:
        """A ``scipy.sparse.csr_array`` of this pattern holding ``data`` (in CSR order)."""
        return _csr_array(data, self.col_idx, self.row_ptr, self.shape)

    def check_shape(self, m: int, d: int) -> None:
        """Raise :class:`PatternError` unless the pattern is ``(m, d)``, F's components by its variables."""
        if self.shape != (m, d):
            raise PatternError(f"the sparsity pattern has shape {self.shape}, but F has {m} components of "
                               f"{d} variables: it must be ({m}, {d}).")

    @cached_property
    def hessian(self) -> HessianPattern:
        """The pattern of the Hessian of ``sum(F)`` and its evaluation plan (:class:`HessianPattern`)."""
        return _hessian_pattern(self)

    def describe_group(self, g: int) -> str:
        """The columns of group ``g`` for messages (the first few)."""
        columns = self.group_columns[self.group_ptr[g]:self.group_ptr[g + 1]]
        shown = ", ".join(str(c) for c in columns[:6])
        return f"{{{shown}{', ...' if columns.size > 6 else ''}}}"


class HessianPattern(NamedTuple):
    """The Hessian of ``f = Σ_r F_r`` given the pattern S of F, and how to evaluate it by groups.

    ``H_jk`` can be non-zero only where some term depends on both ``x_j`` and
    ``x_k``: the pattern is the union over rows of ``cols(r) × cols(r)``. Entry
    ``(j, k)`` (``j <= k``) is computed from the evaluations for the pair of
    groups ``(groups[j], groups[k])`` (:func:`gradjit.stencils.grouped.group_second_sums`),
    summing the second differences of the terms that depend on both.
    """

    #: (P, 2) int64: the pairs of groups (a <= b) that some entry needs.
    pairs: np.ndarray
    #: The entries of pair p are entry_ptr[p]:entry_ptr[p + 1].
    entry_ptr: np.ndarray
    #: Entry e is (entry_j[e], entry_k[e]), j <= k.
    entry_j: np.ndarray
    entry_k: np.ndarray
    #: The terms of entry e are entry_rows[entry_row_ptr[e]:entry_row_ptr[e + 1]], ascending.
    entry_row_ptr: np.ndarray
    entry_rows: np.ndarray
    #: Where (j, k) and (k, j) sit in the CSR data of the symmetric pattern.
    position_jk: np.ndarray
    position_kj: np.ndarray
    #: The symmetric pattern (d, d) in CSR: indptr and indices.
    indptr: np.ndarray
    indices: np.ndarray

    @property
    def nnz(self) -> int:
        """Entries of the symmetric pattern."""
        return int(self.indices.size)

    def evaluations(self, order: int) -> int:
        """Evaluations of F per point: F(x), ``order`` per group on the diagonal, ``2 * order`` per pair of groups."""
        a, b = self.pairs[:, 0], self.pairs[:, 1]
        return 1 + int(np.sum(np.where(a == b, order, 2 * order)))

    def csr(self, data: np.ndarray, d: int) -> Any:
        """A ``scipy.sparse.csr_array`` (d, d) of the symmetric pattern holding ``data``."""
        return _csr_array(data, self.indices, self.indptr, (d, d))


#: Precomputed silent lists are kept while they hold at most this many rows per entry and row.
SILENT_BUDGET = 4


def _silent_lists(pattern: Sparsity) -> tuple[np.ndarray, np.ndarray]:
    """For each group the components that none of its coordinates reaches (``silent[silent_ptr[g]:silent_ptr[g + 1]]``,
    ascending), which the grouped formulas check did not change; empty arrays when they would
    be too many (then the kernels find them from marks at each group, in O(m))."""
    m, n_groups = pattern.shape[0], pattern.n_groups
    # Each entry claims one (component, group) pair and no pair twice: the rest are silent.
    if n_groups * m - pattern.nnz > SILENT_BUDGET * (m + pattern.nnz):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    silent = np.ones((n_groups, m), dtype=bool)
    silent[pattern.groups[np.repeat(np.arange(pattern.shape[1]), np.diff(pattern.col_ptr))], pattern.row_idx] = False
    groups, rows = np.nonzero(silent)
    ptr = np.concatenate(([0], np.cumsum(np.bincount(groups, minlength=n_groups)))).astype(np.int64)
    return ptr, rows.astype(np.int64)


def _csr_array(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> Any:
    try:
        from scipy.sparse import csr_array
    except ImportError as exc:  # pragma: no cover - scipy is installed with the tests
        raise OptionError("sparse=True returns scipy.sparse arrays: install scipy, or leave sparse=False for a dense "
                          "result.") from exc
    return csr_array((data, indices, indptr), shape=shape)


def _csc(pattern: Any) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """``(shape, col_ptr, row_idx)`` of a pattern: rows ascending in each column."""
    if hasattr(pattern, "tocsc") and hasattr(pattern, "shape"):  # scipy.sparse, without importing scipy
        matrix = pattern.tocsc(copy=True)
        if matrix.ndim != 2:
            raise PatternError(f"a sparsity pattern must be 2-D (m, d); got shape {matrix.shape}.")
        matrix.eliminate_zeros()
        matrix.sum_duplicates()
        matrix.sort_indices()
        shape = tuple(int(n) for n in matrix.shape)
        return shape, matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64)
    try:
        dense = np.asarray(pattern)
    except Exception as exc:
        raise PatternError(f"a sparsity pattern must be an (m, d) array of booleans or a scipy.sparse matrix; "
                           f"got {type(pattern).__name__}.") from exc
    if dense.dtype.kind not in "biuf":
        raise DTypeError(f"a sparsity pattern holds booleans (or 0/1); got dtype {dense.dtype}.")
    if dense.ndim != 2:
        raise PatternError(f"a sparsity pattern must be 2-D (m, d); got shape {dense.shape}.")
    columns, rows = np.nonzero(dense.T)  # column-major: rows ascending within each column
    m, d = dense.shape
    col_ptr = np.concatenate(([0], np.cumsum(np.bincount(columns, minlength=d)))).astype(np.int64)
    return (m, d), col_ptr, rows.astype(np.int64)


@numba.njit(**CACHED_JIT_OPTIONS)
def _intersection_degrees(col_ptr, row_idx, row_ptr, col_idx):  # pragma: no cover - compiled
    """Each column's degree in the column intersection graph."""
    d = col_ptr.size - 1
    seen = np.full(d, -1, dtype=np.int64)
    degrees = np.zeros(d, dtype=np.int64)
    for j in range(d):
        seen[j] = j
        for p in range(col_ptr[j], col_ptr[j + 1]):
            r = row_idx[p]
            for q in range(row_ptr[r], row_ptr[r + 1]):
                k = col_idx[q]
                if seen[k] != j:
                    seen[k] = j
                    degrees[j] += 1
    return degrees


@numba.njit(**CACHED_JIT_OPTIONS)
def _greedy_colours(order, col_ptr, row_idx, row_ptr, col_idx):  # pragma: no cover - compiled
    """Greedy colouring in ``order``: each column the smallest colour no column sharing a row has."""
    d = order.size
    colours = np.full(d, -1, dtype=np.int64)
    forbidden = np.full(d + 1, -1, dtype=np.int64)
    for t in range(d):
        j = order[t]
        for p in range(col_ptr[j], col_ptr[j + 1]):
            r = row_idx[p]
            for q in range(row_ptr[r], row_ptr[r + 1]):
                c = colours[col_idx[q]]
                if c >= 0:
                    forbidden[c] = j
        c = 0
        while forbidden[c] == j:
            c += 1
        colours[j] = c
    return colours


@numba.njit(**CACHED_JIT_OPTIONS)
def _row_pairs(row_ptr, col_idx):  # pragma: no cover - compiled
    """Every (j, k, r), j <= k, with both columns in row r."""
    total = 0
    for r in range(row_ptr.size - 1):
        n = row_ptr[r + 1] - row_ptr[r]
        total += n * (n + 1) // 2
    triples = np.empty((total, 3), dtype=np.int64)
    t = 0
    for r in range(row_ptr.size - 1):
        for a in range(row_ptr[r], row_ptr[r + 1]):
            for b in range(a, row_ptr[r + 1]):
                triples[t, 0], triples[t, 1], triples[t, 2] = col_idx[a], col_idx[b], r
                t += 1
    return triples


def _hessian_pattern(sparsity: Sparsity) -> HessianPattern:
    d = sparsity.shape[1]
    triples = _row_pairs(sparsity.row_ptr, sparsity.col_idx)
    j, k, rows = triples[:, 0], triples[:, 1], triples[:, 2]
    gj, gk = sparsity.groups[j], sparsity.groups[k]
    a, b = np.minimum(gj, gk), np.maximum(gj, gk)
    order = np.lexsort((rows, k, j, b, a))  # by pair of groups, then entry, then term
    j, k, rows, a, b = j[order], k[order], rows[order], a[order], b[order]
    new_entry = np.ones(j.size, dtype=bool)
    new_entry[1:] = (j[1:] != j[:-1]) | (k[1:] != k[:-1])
    starts = np.flatnonzero(new_entry)
    entry_j, entry_k, entry_a, entry_b = j[starts], k[starts], a[starts], b[starts]
    entry_row_ptr = np.append(starts, j.size).astype(np.int64)
    new_pair = np.ones(entry_j.size, dtype=bool)
    new_pair[1:] = (entry_a[1:] != entry_a[:-1]) | (entry_b[1:] != entry_b[:-1])
    pair_starts = np.flatnonzero(new_pair)
    pairs = np.ascontiguousarray(np.stack([entry_a[pair_starts], entry_b[pair_starts]], axis=1), dtype=np.int64)
    entry_ptr = np.append(pair_starts, entry_j.size).astype(np.int64)
    # The symmetric pattern in CSR, and where each entry and its mirror sit in it.
    off = entry_j != entry_k
    rows_h = np.concatenate([entry_j, entry_k[off]])
    cols_h = np.concatenate([entry_k, entry_j[off]])
    by_row = np.lexsort((cols_h, rows_h))
    position = np.empty(rows_h.size, dtype=np.int64)
    position[by_row] = np.arange(rows_h.size, dtype=np.int64)
    position_kj = position[:entry_j.size].copy()
    position_kj[off] = position[entry_j.size:]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows_h, minlength=d)))).astype(np.int64)
    return HessianPattern(pairs, entry_ptr, entry_j.astype(np.int64), entry_k.astype(np.int64), entry_row_ptr,
                          np.ascontiguousarray(rows, dtype=np.int64), position[:entry_j.size].copy(), position_kj,
                          indptr, np.ascontiguousarray(cols_h[by_row], dtype=np.int64))
