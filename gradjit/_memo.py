"""Caches that never keep a user's function (or what it closes over) alive.

Everything gradjit compiles for an objective (its dispatcher, the adapter, the
kernels that inline it) refers to the objective, so a module-level cache keyed
by the objective would keep it, and every array it closes over, alive for as
long as the process runs (a ``WeakKeyDictionary`` does not help: its values
refer to their keys).

So every memo lives on the user's function object itself, the *owner*
(``owner.__dict__``), and nothing gradjit compiles refers back to that object:
:func:`gradjit._objective.jitted` compiles a copy of the function (same code,
globals and closure cells), and every compiled object derived from it carries
only a weak reference to its owner (:func:`adopt`). Numba roots a dispatcher's
compiled overloads in a global finalizer registry while the dispatcher lives;
those overloads refer to the dispatchers they call, never to the owner. When
the user drops their function, it and its memo are freed, and with them every
dispatcher compiled for it.

Owners without a ``__dict__`` (built-in functions, NumPy ufuncs) are immortal
module-level objects anyway; their memos live in one bounded module dict.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from numba.core.dispatcher import Dispatcher

from . import _cache

__all__ = ["adopt", "memo_of", "owner_of", "per_owner"]

_ATTRIBUTE = "_gradjit_memo"
_OWNER = "_gradjit_owner"
_OWNER_ID = "owner id"
_without_dict: dict[int, tuple[Any, dict]] = {}
_lock = threading.Lock()

T = TypeVar("T")


def memo_of(owner: Any) -> dict:
    """The memo dict attached to ``owner`` (created on first use)."""
    try:
        namespace = owner.__dict__
    except AttributeError:  # no __dict__: a built-in, kept alive by its module anyway
        with _lock:
            found = _without_dict.get(id(owner))
            if found is None or found[0] is not owner:
                if len(_without_dict) >= 1024:
                    _without_dict.clear()
                found = _without_dict[id(owner)] = (owner, {})
            return found[1]
    memo = namespace.get(_ATTRIBUTE)
    # Identity check: functools.update_wrapper copies a wrapped function's
    # __dict__, memo included, onto its wrapper.
    if memo is None or memo.get(_OWNER_ID) != id(owner):
        with _lock:
            memo = namespace.get(_ATTRIBUTE)
            if memo is None or memo.get(_OWNER_ID) != id(owner):
                memo = namespace[_ATTRIBUTE] = {_OWNER_ID: id(owner)}
    return memo


def adopt(derived: Any, owner: Any) -> None:
    """Record (weakly) that ``derived`` was compiled for ``owner``: memos of
    objects derived from ``derived`` then live on ``owner`` too."""
    try:
        derived.__dict__[_OWNER] = weakref.ref(owner)
    except (AttributeError, TypeError):  # no __dict__, or owner not weak-referenceable
        pass


def owner_of(obj: Any) -> Any:
    """The user's function ``obj`` was compiled for (``obj`` itself if none)."""
    ref = getattr(obj, "__dict__", {}).get(_OWNER)
    owner = ref() if ref is not None else None
    return obj if owner is None else owner


def per_owner(factory: Callable[..., T]) -> Callable[..., T]:
    """Memoise ``factory(obj, *rest, **options)`` in the memo of ``obj``'s owner.

    ``rest`` and the options must be hashable. The result is adopted by the
    same owner. Two threads may both build a missing entry; the first one
    stored wins, so every caller gets the same object.
    """
    name = factory.__qualname__

    @functools.wraps(factory)
    def memoised(obj: Any, *rest: Any, **options: Any) -> T:
        owner = owner_of(obj)
        memo = memo_of(owner)
        key = (name, obj, rest, *sorted(options.items()))
        found = memo.get(key)
        if found is None:
            made = factory(obj, *rest, **options)
            if isinstance(made, Dispatcher):
                _cache.enable(made, name, _cache.fingerprint(name, obj, rest, sorted(options.items())))
            if owner is not obj or _is_weakly_referenceable(owner):
                adopt(made, owner)
            found = memo.setdefault(key, made)
        return found

    return memoised


def _is_weakly_referenceable(obj: Any) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True
