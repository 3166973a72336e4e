"""The disk cache of compiled kernels: reused by a second process, never stale after
an edit, and harmless when its directory cannot be written."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np

import gradjit
from gradjit import _cache, errors
from gradjit.cli import main

# A fresh process: the gradient of objective.f at two points, and which of the
# user's functions Numba compiled (rather than loaded from the cache).
PROCESS = textwrap.dedent("""
    import json
    import numpy as np
    from numba.core import event
    import gradjit
    import objective
    with event.install_recorder("numba:compile") as recorder:
        found = gradjit.gradient(objective.f, np.array([[1.0, 2.0], [0.5, -1.0]]))
        # Kernels that hand f's adapter to the shared stencil functions are kept too.
        gradjit.gradient(objective.f, np.array([[1.0, 2.0]]), method="richardson", bounds=(-3.0, 3.0))
    compiled = sorted({e.data["dispatcher"].py_func.__name__ for _, e in recorder.buffer if e.is_start})
    print(json.dumps({"gradient": found.tolist(), "compiled": compiled}))
""")

HELPERS = "import numba\n\n@numba.njit\ndef square(t):\n    return t * t\n"
OBJECTIVE = textwrap.dedent("""
    import numba
    import helpers
    SCALE = {scale}

    @numba.njit
    def inner(x):
        return SCALE * x[0] * x[1]

    def f(x):
        return inner(x) + helpers.square(x[1])
""")


def run_process(folder: Path, cache: Path) -> dict:
    environment = {**os.environ, "GRADJIT_CACHE_DIR": str(cache), "PYTHONPATH": str(folder)}
    environment.pop("GRADJIT_DISABLE_CACHE", None)
    output = subprocess.run([sys.executable, "-c", PROCESS], cwd=folder, env=environment, capture_output=True, text=True,
                            check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def expected(scale: float, power: int) -> np.ndarray:
    x = np.array([[1.0, 2.0], [0.5, -1.0]])
    return np.stack([scale * x[:, 1], scale * x[:, 0] + power * x[:, 1] ** (power - 1)], axis=1)


def test_a_second_process_loads_f_and_an_edit_always_recompiles(tmp_path):
    folder, cache = tmp_path / "project", tmp_path / "cache"
    folder.mkdir()
    (folder / "helpers.py").write_text(HELPERS)
    (folder / "objective.py").write_text(OBJECTIVE.format(scale=2.0))

    first = run_process(folder, cache)
    assert "f" in first["compiled"]
    np.testing.assert_allclose(first["gradient"], expected(2.0, 2), rtol=1e-7)
    assert any(cache.glob("f-*.nbi"))

    second = run_process(folder, cache)  # nothing changed: everything is loaded
    assert second["compiled"] == []
    assert second["gradient"] == first["gradient"]

    (folder / "objective.py").write_text(OBJECTIVE.format(scale=3.0))  # a constant f reads through a callee
    third = run_process(folder, cache)
    assert "f" in third["compiled"]
    np.testing.assert_allclose(third["gradient"], expected(3.0, 2), rtol=1e-7)

    (folder / "helpers.py").write_text(HELPERS.replace("t * t", "t * t * t"))  # a function in another module
    fourth = run_process(folder, cache)
    assert "f" in fourth["compiled"]
    np.testing.assert_allclose(fourth["gradient"], expected(3.0, 3), rtol=1e-7)


# Numba names a symbol by module, qualified name, a per-process counter and the
# argument types, so two processes that compile the same sequence of functions give
# different objectives, and the kernels made for them, the same names. Numba looks a
# compiled kernel's address up by name when it is first passed as a first-class
# function (to the parallel driver), and with two definitions of one name loaded the
# JIT may return the other one. Before every cached name carried the cache key, one
# f's first parallel launch below ran the other f's kernel (wrong by 7.8).
SAME_NAME = textwrap.dedent("""
    import json, sys, types
    import numpy as np
    import gradjit
    jit, sources = sys.argv[1], sys.argv[2:]
    small = np.array([[2.0, 3.0]])
    large = np.random.default_rng(0).normal(size=(20000, 2))
    functions = []
    for source in sources:  # each loaded (or compiled) and launched serially
        module = types.ModuleType("objective")
        exec(source, module.__dict__)
        functions.append(module.f)
        gradjit.gradient(module.f, small, jit=jit)
    errors = []
    for f in functions:  # the first parallel launch of each
        found = gradjit.gradient(f, large, jit=jit, threads=2)[:100]
        errors.append(float(abs(found - gradjit.gradient(f, large[:100], backend="numpy")).max()))
    print(json.dumps(errors))
""")
# Two objectives that compile the same sequence of functions (with straight-line
# bodies Numba's counter did not line up, and the failure did not show).
SUM_OF_SQUARES, THREE_TIMES_SUM = (f"def f(x):\n    total = 0.0\n    for v in x:\n        total += {term}\n    return total\n"
                                   for term in ("v * v", "v * 3.0"))


def test_two_cached_functions_of_one_name_never_call_each_other(tmp_path):
    environment = {**os.environ, "GRADJIT_CACHE_DIR": str(tmp_path)}
    environment.pop("GRADJIT_DISABLE_CACHE", None)

    def run(*sources: str) -> list:
        output = subprocess.run([sys.executable, "-c", SAME_NAME, "inline", *sources], env=environment,
                                capture_output=True, text=True, check=True)
        return json.loads(output.stdout.strip().splitlines()[-1])

    assert run(SUM_OF_SQUARES) == [0.0]  # each process fills the cache with its own f
    assert run(THREE_TIMES_SUM) == [0.0]
    assert run(SUM_OF_SQUARES, THREE_TIMES_SUM) == [0.0, 0.0]  # both loaded into one process
    # (The fast-start tier looks f's address up when f is loaded, before another can be.)


def test_fingerprints_follow_code_constants_callees_and_arrays():
    namespace: dict = {"SCALE": 2.0, "TABLE": np.arange(3.0)}
    exec("def g(t):\n    return SCALE * t\ndef f(x):\n    return g(x[0]) + TABLE[1]\n", namespace)  # noqa: S102
    key = _cache.fingerprint(namespace["f"])
    assert key is not None and key == _cache.fingerprint(namespace["f"])
    namespace["SCALE"] = 2.5  # a global read by a callee
    changed = _cache.fingerprint(namespace["f"])
    assert changed != key
    namespace["TABLE"] = np.arange(3.0) * 2  # an array Numba would freeze into the code
    assert _cache.fingerprint(namespace["f"]) not in (key, changed)

    class Opaque:
        pass

    namespace["SCALE"] = Opaque()  # content gradjit cannot hash: never cached, never stale
    assert _cache.fingerprint(namespace["f"]) is None


def test_functions_that_differ_never_share_a_key():
    # Lambdas in one namespace, also one that is gradjit's own (a doctest's): hashed by content.
    for name in ("__main__", "gradjit.api"):
        namespace: dict = {"__name__": name}
        exec("f = lambda t: t ** 3\ng = lambda t: 2 * t\nh = lambda t: 2 * t\n", namespace)  # noqa: S102
        assert _cache.fingerprint(namespace["f"]) != _cache.fingerprint(namespace["g"])
        assert _cache.fingerprint(namespace["g"]) == _cache.fingerprint(namespace["h"])
    factor = functools.partial(max, 3.0)  # state gradjit cannot hash: not cached
    assert _cache.fingerprint(lambda x: factor(x[0])) is None
    assert gradjit.derivative(lambda t: t ** 3, 2.0) != gradjit.derivative(lambda t: 2 * t, 2.0)


def test_an_unwritable_cache_directory_warns_once_and_keeps_kernels_in_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("GRADJIT_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be created, even by root
    monkeypatch.setattr(_cache, "_warned", False)
    namespace: dict = {"__name__": "user_module"}  # functions of a module: Numba can serialise them
    source = f"def f(x):\n    return x[0] * x[0] * 4.25 + x[1]\ndef g(x):\n    return x[0] * 1.75 - x[1] + {time.time()!r} * 0\n"
    exec(source, namespace)  # noqa: S102 - new code: compiled (and saved) here, whatever ran before
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = gradjit.gradient(namespace["f"], [1.0, 2.0], jit="fast-start")
        again = gradjit.gradient(namespace["g"], [1.0, 2.0], jit="fast-start")
    cache_warnings = [w for w in caught if issubclass(w.category, errors.CacheWarning)]
    assert len(cache_warnings) == 1 and "cannot write its kernel cache" in str(cache_warnings[0].message)
    np.testing.assert_allclose(found, [8.5, 1.0], rtol=1e-8)
    np.testing.assert_allclose(again, [1.75, -1.0], rtol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradjit.gradient(namespace["f"], [3.0, 2.0], jit="fast-start")  # in memory now: no compile, no warning


def test_cache_command_shows_and_clears(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRADJIT_CACHE_DIR", str(tmp_path))
    (tmp_path / "k-0.nbi").write_bytes(b"x" * 10)
    (tmp_path / "k-0.1.nbc").write_bytes(b"x" * 20)
    (tmp_path / "unrelated.txt").write_text("kept")
    assert main(["cache"]) == 0
    assert f"{tmp_path}: 2 files" in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert "Removed 2 files" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unrelated.txt"]
    assert main(["info"]) == 0
    assert "kernel cache" in capsys.readouterr().out


def test_the_cache_is_trimmed_to_its_size_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADJIT_CACHE_SIZE_MB", str(1000 / 2**20))  # 1000 bytes
    for i in range(10):
        path = tmp_path / f"k{i}.1.nbc"
        path.write_bytes(b"x" * 200)
        os.utime(path, (i, i))  # k0 is the least recently used
    _cache._trim(tmp_path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert sum((tmp_path / name).stat().st_size for name in left) <= 800
    assert "k9.1.nbc" in left and "k0.1.nbc" not in left


def test_trimming_runs_in_the_background_at_most_once_an_interval(tmp_path, monkeypatch):
    trimmed = []
    monkeypatch.setattr(_cache, "_trim", trimmed.append)

    def save() -> None:  # what every save does, then wait for the thread it may start
        _cache._trim_when_due(tmp_path)
        for thread in threading.enumerate():
            if thread.name == "gradjit-cache-trim":
                thread.join()

    for _ in range(3):
        save()
    assert trimmed == [tmp_path]  # only the first save in the interval trims
    past = time.time() - _cache.TRIM_INTERVAL - 1
    os.utime(tmp_path / _cache._TRIM_MARKER, (past, past))
    save()
    assert trimmed == [tmp_path, tmp_path]  # an interval later
