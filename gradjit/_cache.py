"""The persistent cache of compiled kernels, keyed by what they compute.

Numba's own ``cache=True`` keys a function by its source file and cannot
cache a kernel made for a user's function (a closure); it also misses a
change in another module that the function calls. gradjit's kernels are
cached here instead, each under a key that is a hash of everything its
machine code depends on (:func:`fingerprint`):

* for a function: its bytecode and constants (nested code included), the
  values of the closure cells and of the globals it reads (numbers by value,
  arrays by content), and, recursively, the functions it calls, including
  functions reached through a module attribute (``mymodule.helper``);
* for a kernel: the factory that made it and the fingerprints of its arguments;
* always: gradjit's own source, and the versions of Python, NumPy, Numba and
  llvmlite (Numba adds the CPU's name and features to every entry).

So editing f, a constant it reads or a function it calls gives a new key, and
a stale kernel is never loaded. A value whose content cannot be hashed (an
object of unknown type) makes the function uncacheable: it is compiled in
memory as before, never cached wrongly.

Where: ``GRADJIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/gradjit``, else
``~/.cache/gradjit``. Size: at most ``GRADJIT_CACHE_SIZE_MB`` (default 1024);
the least recently used entries go first, trimmed at most once an hour, in the
background. ``GRADJIT_DISABLE_CACHE=1`` turns
it off. A directory that cannot be written gives one warning and in-memory
compilation. ``gradjit info`` shows the path and size; ``gradjit cache clear``
empties it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
import time
import types as pytypes
import warnings
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

import llvmlite
import numba
import numpy as np
from numba.core.caching import CompileResultCacheImpl, IndexDataCacheFile, _Cache
from numba.core.dispatcher import Dispatcher
from numba.core.extending import _Intrinsic
from numba.core.serialize import dumps

from ._config import CACHE_GENERIC_KERNELS
from .errors import CacheWarning

__all__ = ["cache_directory", "cache_size", "clear", "enable", "fingerprint", "note", "size_limit"]

#: The attribute under which a dispatcher carries the key it is cached under.
KEY_ATTRIBUTE = "_gradjit_cache_key"
_DEFAULT_SIZE_MB = 1024
_PACKAGE = Path(__file__).resolve().parent
_STANDARD_LIBRARY = str(Path(os.__file__).resolve().parent)


def cache_directory() -> Path:
    """Where compiled kernels are kept (see the module docstring)."""
    explicit = os.environ.get("GRADJIT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gradjit"


def size_limit() -> int:
    """The cache's size limit in bytes (``GRADJIT_CACHE_SIZE_MB``, default 1024 MiB)."""
    try:
        return int(float(os.environ.get("GRADJIT_CACHE_SIZE_MB", _DEFAULT_SIZE_MB)) * 2**20)
    except ValueError:
        return _DEFAULT_SIZE_MB * 2**20


def _entries(directory: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(directory) as found:
            return [e for e in found if e.is_file() and e.name.endswith((".nbi", ".nbc", ".note"))]
    except OSError:
        return []


def cache_size() -> tuple[int, int]:
    """``(files, bytes)`` in the cache directory."""
    entries = _entries(cache_directory())
    return len(entries), sum(e.stat().st_size for e in entries)


def clear() -> tuple[int, int]:
    """Delete every cached kernel; returns ``(files, bytes)`` removed."""
    removed, freed = 0, 0
    for entry in _entries(cache_directory()):
        try:
            size = entry.stat().st_size
            os.unlink(entry.path)
        except OSError:
            continue
        removed, freed = removed + 1, freed + size
    return removed, freed


#: Seconds between two trims of one cache directory (by any process).
TRIM_INTERVAL = 3600.0
_TRIM_MARKER = "last-trim"


def _trim_when_due(directory: Path) -> None:
    """Start :func:`_trim` in a background thread if no process has trimmed ``directory``
    in the last :data:`TRIM_INTERVAL` seconds. Trimming reads every entry's metadata
    (0.2 s for 20,000 files here), which a first call should not wait for; the size
    limit may be overshot by what an hour of compilations writes."""
    marker = directory / _TRIM_MARKER
    try:
        if time.time() - marker.stat().st_mtime < TRIM_INTERVAL:
            return
    except FileNotFoundError:
        pass
    except OSError:
        return
    try:
        marker.touch()
    except OSError:
        return
    threading.Thread(target=_trim, args=(directory,), name="gradjit-cache-trim", daemon=True).start()


def _trim(directory: Path) -> None:
    """Delete the least recently used entries until the cache is under 80% of its limit."""
    entries = _entries(directory)
    stats = [(e, e.stat()) for e in entries]
    total, limit = sum(s.st_size for _, s in stats), size_limit()
    if total <= limit:
        return
    for entry, stat in sorted(stats, key=lambda pair: max(pair[1].st_atime, pair[1].st_mtime)):
        if total <= 0.8 * limit:
            break
        try:
            os.unlink(entry.path)
            total -= stat.st_size
        except OSError:
            pass


# ---------------------------------------------------------------- fingerprints


@lru_cache(maxsize=1)
def _salt() -> bytes:
    """gradjit's source, the versions and the Numba settings that change generated code."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    versions = (sys.version, np.__version__, numba.__version__, llvmlite.__version__, numba.config.OPT,
                numba.config.BOUNDSCHECK)
    digest.update(repr(versions).encode())
    return digest.digest()


class Unhashable(Exception):
    """A value whose content cannot be fingerprinted: do not cache."""


#: Packages whose code is fixed by the salt (gradjit's source, the versions).
_SALTED = ("gradjit", "numpy", "numba", "llvmlite", "math", "cmath", "builtins")


def _is_library(module_name: str | None) -> bool:
    """Whether a module's code is fixed by the salt: gradjit, NumPy, Numba, the
    standard library. (Anything else, an installed package too, is hashed by content:
    upgrading it must not leave stale kernels.)"""
    if not module_name:
        return False
    if module_name.split(".")[0] in _SALTED:
        return True
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if module is None or path is None:
        return module_name in sys.builtin_module_names
    resolved = str(Path(path).resolve())
    return resolved.startswith(_STANDARD_LIBRARY) and "site-packages" not in resolved and "dist-packages" not in resolved


def is_module_level(function: pytypes.FunctionType) -> bool:
    """A function found in its module by its qualified name (not a closure, a
    lambda, a copy or a function made by exec)."""
    module = sys.modules.get(function.__module__ or "")
    if function.__closure__ or module is None:
        return False
    found = module
    for part in function.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is function or getattr(found, "py_func", None) is function


def _is_library_function(function: pytypes.FunctionType) -> bool:
    """A module-level function of a library module: its code is fixed by the salt.
    (A lambda, a closure or a function made by exec in such a module, a doctest's
    for one, is hashed like the user's.)"""
    return _is_library(function.__module__) and is_module_level(function)


#: Callables hashed by name when a library module defines them (others, such as a
#: functools.partial, carry state and make the function uncacheable).
_LIBRARY_CALLABLES = (np.ufunc, pytypes.BuiltinFunctionType, _Intrinsic)

_SIMPLE = (int, float, complex, bool, str, bytes, type(None), np.number, np.bool_)


class _Hasher:
    """Feeds a value's content into a digest, following functions recursively."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.seen: set[int] = set()

    def add(self, value: Any) -> None:
        update = self.digest.update
        key = getattr(value, KEY_ATTRIBUTE, None) if isinstance(value, Dispatcher) else None
        if key is not None:
            update(b"K" + key.encode())
        elif isinstance(value, _SIMPLE):
            update(f"S{type(value).__name__}:{value!r};".encode())
        elif isinstance(value, (tuple, list)):
            update(f"T{type(value).__name__}{len(value)}(".encode())
            for item in value:
                self.add(item)
            update(b")")
        elif isinstance(value, np.ndarray):
            update(f"A{value.dtype.str}{value.shape}".encode())
            update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, np.dtype):
            update(f"D{value!r}".encode())
        elif isinstance(value, Enum):
            update(f"E{type(value).__qualname__}.{value.name}".encode())
        elif isinstance(value, pytypes.ModuleType):
            update(f"M{value.__name__};".encode())
        elif isinstance(value, Dispatcher):
            update(f"J{sorted(value.targetoptions.items())!r}".encode())
            self.add(value.py_func)
        elif isinstance(value, pytypes.FunctionType):
            self._function(value)
        elif isinstance(value, type):
            self._class(value)
        elif isinstance(value, numba.types.Type):
            update(f"N{value!r}".encode())
        elif isinstance(value, _LIBRARY_CALLABLES):
            # np.sin, math.exp, scipy.special.gamma, a Numba intrinsic: compiled code,
            # fixed by its package's version.
            module = getattr(value, "__module__", None) or "builtins"
            version = getattr(sys.modules.get(module.split(".")[0]), "__version__", "")
            update(f"L{module}.{getattr(value, '__name__', repr(type(value)))}@{version};".encode())
        else:
            raise Unhashable(type(value).__name__)

    def _class(self, cls: type) -> None:
        fields = getattr(cls, "_fields", None)
        self.digest.update(f"C{cls.__module__}.{cls.__qualname__}{fields!r};".encode())

    def _function(self, function: pytypes.FunctionType) -> None:
        update = self.digest.update
        module = function.__module__
        if _is_library_function(function):
            update(f"F{module}.{function.__qualname__};".encode())
            return
        if id(function) in self.seen:  # recursion: the name is enough the second time
            update(f"R{function.__qualname__};".encode())
            return
        self.seen.add(id(function))
        update(f"F{function.__qualname__}".encode())
        self._code(function.__code__)
        self.add(function.__defaults__)
        for cell in function.__closure__ or ():
            try:
                self.add(cell.cell_contents)
            except ValueError:  # an empty cell
                update(b"_")
        namespace = function.__globals__
        names = _names(function.__code__)
        for name in names:
            if name in namespace:
                value = namespace[name]
                update(f"G{name}=".encode())
                self.add(value)
                if isinstance(value, pytypes.ModuleType) and not _is_library(value.__name__):
                    # module.helper: follow the module's attributes this code reads
                    for attribute in names:
                        found = getattr(value, attribute, None)
                        if isinstance(found, (pytypes.FunctionType, Dispatcher)):
                            update(f".{attribute}=".encode())
                            self.add(found)

    def _code(self, code: pytypes.CodeType) -> None:
        update = self.digest.update
        update(code.co_code)
        update(repr((code.co_names, code.co_varnames, code.co_freevars, code.co_argcount, code.co_kwonlyargcount,
                     code.co_flags)).encode())
        for const in code.co_consts:
            if isinstance(const, pytypes.CodeType):
                self._code(const)
            else:
                update(f"c{type(const).__name__}:{const!r};".encode())


def _names(code: pytypes.CodeType) -> tuple[str, ...]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, pytypes.CodeType):
            names |= set(_names(const))
    return tuple(sorted(names))


def fingerprint(*values: Any) -> str | None:
    """A hex key for the content of ``values``, or None if one cannot be hashed."""
    hasher = _Hasher()
    hasher.digest.update(_salt())
    try:
        for value in values:
            hasher.add(value)
    except (Unhashable, RecursionError):
        return None
    return hasher.digest.hexdigest()[:40]


# ----------------------------------------------------------------- the cache

_warned = False
_state_lock = threading.Lock()


def _warn_unwritable(directory: Path, error: OSError) -> None:
    global _warned
    with _state_lock:
        if _warned:
            return
        _warned = True
    warnings.warn(f"gradjit cannot write its kernel cache in {directory} ({error.strerror or error}); compiled kernels "
                  "are kept in memory for this process only. Set GRADJIT_CACHE_DIR to a writable directory, or "
                  "GRADJIT_DISABLE_CACHE=1 to silence this.", CacheWarning, stacklevel=2)


class _Impl(CompileResultCacheImpl):
    """Numba's (de)serialisation of a compile result, without its source-file locator."""

    def __init__(self) -> None:  # the parent locates a source file; there is none
        pass

    def check_cachable(self, cres, dispatchers: frozenset = frozenset()) -> bool:
        """Whether ``cres`` holds nothing that lives only in this process.

        Numba refuses any "dynamic global": an address of this process built into the
        code. One kind is harmless: the address of a dispatcher passed as an argument
        (the kernels hand f's adapter to the shared stencil functions). A dispatcher's
        value is opaque in compiled code, where calls on it are resolved when the
        caller is compiled; only boxing it for Python or casting it to a first-class
        function reads it, and no gradjit kernel does either. So addresses of the
        dispatchers in ``dispatchers`` (ids of those the function can reach) are
        allowed; any other (a large array f reads, a function pointer) is not.
        """
        if not all(x.can_cache for x in cres.lifted):
            return False
        return all(_dynamic_address(name) in dispatchers for name in cres.library._dynamic_globals)


def _dynamic_address(name: str) -> int | None:
    """The address in the name Numba gives a dynamic global, ``numba.dynamic.globals.<hex>[.n]``."""
    try:
        return int(name.split(".")[3], 16)
    except (IndexError, ValueError):
        return None


def _reachable_dispatchers(function: Any, limit: int = 256) -> frozenset:
    """Ids of the dispatchers ``function`` reaches through closure cells, globals it
    names and the functions those reach (at most ``limit`` functions visited)."""
    found: set[int] = set()
    seen: set[int] = set()
    pending = [function]
    while pending and len(seen) < limit:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Dispatcher):
            found.add(id(item))
            item = item.py_func
        code = getattr(item, "__code__", None)
        if code is None:
            continue
        for cell in item.__closure__ or ():
            try:
                pending.append(cell.cell_contents)
            except ValueError:  # an empty cell
                pass
        namespace = getattr(item, "__globals__", {})
        pending.extend(namespace[name] for name in _names(code) if name in namespace)
    return frozenset(found)


class KeyedCache(_Cache):
    """Numba's index and data files for one dispatcher, under a content key."""

    def __init__(self, name: str, key: str, directory: Path, function: Any = None) -> None:
        self._name, self._key, self._directory = name, key, directory
        self._function = function  # the Python function compiled, for check_cachable
        safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)[:60]
        base = f"{safe}-{key}"
        self._impl = _Impl()
        self._file = _PicklingDone(cache_path=str(directory), filename_base=base, source_stamp=key)
        self._enabled = True

    @property
    def cache_path(self) -> str:
        return str(self._directory)

    def enable(self) -> None:
        self._enabled = True

    def disable(self) -> None:
        self._enabled = False

    def flush(self) -> None:
        self._file.flush()

    def note(self, label: str, value: str | None = None) -> str | None:
        """Read (or with ``value``, write) a small fact kept beside the entry, such
        as one read from the machine code, which a loaded entry no longer shows."""
        path = self._directory / f"{self._file._index_name[:-4]}.{label}.note"
        try:
            if value is None:
                return path.read_text()
            path.write_text(value)
        except OSError:
            return None
        return value

    def _index_key(self, sig, codegen) -> tuple:
        return sig, codegen.magic_tuple()

    def load_overload(self, sig, target_context):
        if not self._enabled:
            return None
        target_context.refresh()
        try:
            data = self._file.load(self._index_key(sig, target_context.codegen()))
            if data is None or tuple(data[3].args) != tuple(getattr(sig, "args", sig)):
                return None  # (data[3]: the entry's signature)
            return self._impl.rebuild(target_context, data)
        except Exception:  # noqa: BLE001 - an unreadable or corrupt entry is a miss
            return None

    def save_overload(self, sig, cres) -> None:
        """Write the entry, pickled once, before the index names it (a constant of f
        may not pickle). (Writing in a background thread was measured slower on two
        cores: the pickling holds the interpreter lock while the caller compiles on.)"""
        if (not self._enabled or cres.fndesc.global_dict is not None
                or not self._impl.check_cachable(cres, _reachable_dispatchers(self._function))):
            return  # (a function made by exec without a module name: Numba cannot serialise it)
        try:
            payload = dumps(self._impl.reduce(cres))
        except Exception:  # noqa: BLE001 - something in it cannot be pickled: kept in memory only
            self._enabled = False
            return
        try:
            _ensure_writable(self._directory)
            self._file.save(self._index_key(sig, cres.codegen), payload)
        except OSError as error:
            self._enabled = False
            _warn_unwritable(self._directory, error)
            return
        _trim_when_due(self._directory)


class _PicklingDone(IndexDataCacheFile):
    """Numba's index and data files, given the entry already pickled.

    A data file is named by a hash of its index key and written before the index
    names it, so two processes saving entries of one function at once can at
    worst lose an index entry (compiled again later), never point one at the
    other's code."""

    def save(self, key: tuple, data: bytes) -> None:
        name = f"{self._index_name[:-4]}.{hashlib.sha1(repr(key).encode()).hexdigest()[:12]}.nbc"
        with self._open_for_write(self._data_path(name)) as file:
            file.write(data)
        overloads = self._load_index()
        overloads[key] = name
        self._save_index(overloads)


_writable: set[Path] = set()


def _ensure_writable(directory: Path) -> None:
    """Create ``directory`` and check that a file can be written there (once per process)."""
    if directory in _writable:
        return
    directory.mkdir(parents=True, exist_ok=True)
    tempfile.TemporaryFile(dir=directory).close()
    _writable.add(directory)


def note(dispatcher: Dispatcher, topic: str, about: Any, value: str | None = None) -> str | None:
    """Read (or with ``value``, write) a fact about ``dispatcher``'s cache entry, such
    as one read from machine code that a loaded entry no longer shows; ``about``
    (a signature, a d) is part of the fact's name. None when it is not cached or
    the fact was never written."""
    cache = getattr(dispatcher, "_cache", None)
    if not isinstance(cache, KeyedCache):
        return None
    return cache.note(f"{topic}-{hashlib.sha1(repr(about).encode()).hexdigest()[:10]}", value)


def enable(dispatcher: Dispatcher, name: str, key: str | None) -> Dispatcher:
    """Cache ``dispatcher``'s compilations under ``key`` (no-op with None or when
    caching is off); the key is also recorded on it, for the fingerprints of
    kernels built from it.

    The key also goes into the name of the function Numba compiles, and so into
    its machine-code symbols. Numba names a symbol by module, qualified name, a
    per-process counter and the argument types, so two processes that compile
    the same sequence of functions give different objectives (and the closures
    a factory makes for them) the same names. Numba looks a compiled function's
    address up by that name when it is first used as a first-class function or
    through its entry point, and with two definitions of one name loaded (from
    entries compiled in different processes) the JIT may return the other one:
    a kernel would run another objective's body (reproduced by
    ``tests/test_kernel_cache.py``, one f's parallel launch running the other's
    kernel). A module-level function keeps its name: only gradjit's own reach
    this function (the user's objectives and optimizer rules are compiled from
    copies), and the cache's salt fixes their code.
    """
    if key is None:
        return dispatcher
    setattr(dispatcher, KEY_ATTRIBUTE, key)
    function = dispatcher.py_func
    suffix = f"__{key[:16]}"
    if not is_module_level(function) and not function.__qualname__.endswith(suffix):
        function.__qualname__ += suffix
    if CACHE_GENERIC_KERNELS and not _warned:
        dispatcher._cache = KeyedCache(name, key, cache_directory(), function)
    return dispatcher


