"""Helpers every backend uses: grid blocks as batches of points, the Hessian's entries, and the length of F."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import ObjectiveError
from . import GridBlock

__all__ = ["grid_points", "hessian_pairs", "vector_length", "write_block"]


def grid_points(axes: tuple[np.ndarray, ...], indexing: str) -> np.ndarray:
    """The points of ``np.meshgrid(*axes, indexing=indexing)`` as rows ``(P, d)`` in C order."""
    mesh = np.meshgrid(*axes, indexing=indexing)
    return np.ascontiguousarray(np.stack([m.ravel() for m in mesh], axis=-1))


@lru_cache(maxsize=64)
def hessian_pairs(d: int) -> np.ndarray:
    """The Hessian's (j, k), j <= k, flattened (int64); made once per d (the kernels only read it)."""
    j, k = np.triu_indices(d)
    return np.ascontiguousarray(np.stack([j, k], axis=1).reshape(-1), dtype=np.int64)


def write_block(block: GridBlock, gradients: np.ndarray) -> None:
    """The gradients ``(P, d)`` of a block's points into ``block`` (component ``j`` to row ``j``)."""
    block.out[:, block.offset:block.offset + gradients.shape[0]] = gradients.T


def vector_length(F, points: np.ndarray, args: tuple) -> int:
    """m, the length of ``F``'s value at the first point (at zeros when there are no points)."""
    probe = points[0].copy() if points.shape[0] else np.zeros(points.shape[1])
    value = np.asarray(F(probe, *args))
    if value.ndim != 1:
        raise ObjectiveError(f"F must return a 1-D array (its m components); it returned shape {value.shape}.")
    return value.shape[0]
