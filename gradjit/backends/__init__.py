"""Backends: the interface every backend implements, and the registry of backends.

A backend is a module with the functions of :class:`Backend`. It receives
arrays that are already validated and laid out as below, and an options
:class:`~gradjit._spec.Spec` from :func:`gradjit._spec.resolve`; it only
computes. The public functions validate, allocate and pick the backend
(:func:`get`), so a new backend is one module and one line in :data:`REGISTRY`,
and the test suite runs it through every parity, accuracy and bad-input test
(its ``backend`` fixture is parametrised over :func:`available`).

The agreed layout
-----------------
``points``
    ``(N, d)`` float64, C-contiguous, never written.
``gradient``: ``out``, ``errors``
    ``(N, d)`` float64, C-contiguous; ``errors`` is ``None`` unless the method
    makes error estimates (``spec.method.error_estimates``).
``hessian``: ``out``
    ``(N, d, d)``. ``jacobian``: ``out`` ``(N, m, d)``. ``values``: ``out`` ``(N,)``.
``grouped_jacobian``, ``terms_hessian``: ``out``
    Flat by ``layout``: ``"dense"`` ``(N, m, d)`` or ``(N, d, d)`` (zero-filled by the
    caller), ``"sparse"`` ``(N, nnz)`` in the pattern's CSR order, ``"terms"`` ``(N, d)``.
``grid``: ``block``
    A :class:`GridBlock`: component ``j`` of grid point ``p`` (C order over
    the grid of ``axes``) goes to ``block.out[j, block.offset + p]``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

from ..errors import OptionError

if TYPE_CHECKING:  # pragma: no cover
    from .._spec import Spec
    from ..sparsity import Sparsity

__all__ = ["REGISTRY", "Backend", "GridBlock", "available", "get"]

#: Every backend by name: the module that implements it. A backend whose
#: module cannot be imported here (a missing optional dependency), or whose
#: module's ``missing()`` gives a reason (no GPU), is not :func:`available`.
REGISTRY: dict[str, str] = {
    "numba": "gradjit.backends.numba_cpu",
    "numpy": "gradjit.backends.numpy_ref",
    "cuda": "gradjit.backends.cuda",
}


class GridBlock(NamedTuple):
    """Where a backend writes the gradient of one block of grid points."""

    #: ``(d, P)`` float64, C-contiguous: one row per component.
    out: np.ndarray
    #: The column of ``out`` that the block's first grid point goes to.
    offset: int


class Backend(Protocol):
    """What a backend module provides (see the module docstring for the layout)."""

    #: The name in :data:`REGISTRY`.
    NAME: str

    def gradient(self, f: Callable, points: np.ndarray, spec: Spec, out: np.ndarray, *, errors: np.ndarray | None = None) -> None:
        """The gradient of ``f`` at every row of ``points`` by ``spec.method``."""

    def grid(self, f: Callable, axes: tuple[np.ndarray, ...], spec: Spec, block: GridBlock, *, indexing: str) -> None:
        """The gradient at every point of the grid ``np.meshgrid(*axes, indexing=indexing)``."""

    def hessian(self, f: Callable, points: np.ndarray, spec: Spec, out: np.ndarray, *,
                errors: np.ndarray | None = None, pairs: np.ndarray | None = None) -> None:
        """The Hessian of ``f`` at every row of ``points`` (and Richardson's error estimates);
        only the entries ``pairs`` (flattened (j, k), j <= k) when given."""

    def jacobian_length(self, f: Callable, points: np.ndarray, spec: Spec) -> int:
        """``m``, the number of components of the vector function ``f``."""

    def jacobian(self, f: Callable, points: np.ndarray, spec: Spec, out: np.ndarray, *,
                 errors: np.ndarray | None = None) -> None:
        """The Jacobian of the vector function ``f`` at every row of ``points`` (and Richardson's error estimates)."""

    def values(self, f: Callable, points: np.ndarray, spec: Spec, out: np.ndarray) -> None:
        """``f`` at every row of ``points``."""

    def grouped_jacobian(self, F: Callable, points: np.ndarray, spec: Spec, sparsity: Sparsity, out: np.ndarray,
                         violations: np.ndarray, *, layout: str) -> None:
        """The Jacobian of F by the column groups of ``sparsity``, written by ``layout``
        (:func:`gradjit.stencils.grouped.write_group`); ``violations`` (N * groups, int64,
        -1 filled) gets each (point, group)'s first component that changed outside the group."""

    def terms_hessian(self, F: Callable, points: np.ndarray, spec: Spec, sparsity: Sparsity, out: np.ndarray,
                      violations: np.ndarray, *, layout: str) -> None:
        """The Hessian of ``Σ_r F_r`` by pairs of groups (:func:`gradjit.stencils.grouped.hessian_pair`)."""

    def terms_values(self, F: Callable, points: np.ndarray, spec: Spec, out: np.ndarray) -> None:
        """``Σ_r F_r`` (ascending r) at every row of ``points``."""

    def dependencies(self, F: Callable, probes: np.ndarray, deltas: np.ndarray, m: int, spec: Spec, counts: np.ndarray,
                     ptr: np.ndarray, rows: np.ndarray) -> None:
        """Which components of F each coordinate moves at the probes (:mod:`gradjit._detect`)."""


@cache
def _load(name: str) -> ModuleType | ImportError:
    try:
        return importlib.import_module(REGISTRY[name])
    except ImportError as exc:
        return exc


def _missing(name: str) -> str | None:
    """Why the backend ``name`` cannot run here, or None."""
    found = _load(name)
    if isinstance(found, ImportError):
        return str(found)
    reason = getattr(found, "missing", None)
    return None if reason is None else reason()


def available() -> tuple[str, ...]:
    """The names of the backends that can run here.

    Returns
    -------
    tuple of str
        In :data:`REGISTRY` order; a backend that cannot run here (a missing
        optional dependency, no GPU) is left out.
    """
    return tuple(name for name in REGISTRY if _missing(name) is None)


def get(name: object) -> Backend:
    """The backend called ``name``.

    Parameters
    ----------
    name : str
        A name in :data:`REGISTRY`.

    Returns
    -------
    Backend
        Its module.

    Raises
    ------
    OptionError
        Says why not: an unknown name, or a backend that cannot run here.
    """
    if not isinstance(name, str) or name not in REGISTRY:
        raise OptionError(f"backend must be one of {available()}; got {name!r}.")
    reason = _missing(name)
    if reason is not None:
        raise OptionError(f"backend {name!r} cannot run here: {reason}")
    return _load(name)
