"""The disk cache of compiled kernels: reused by a second process, never stale after
an edit, and harmless when its directory cannot be written."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
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


# Each process defines one function named f in __main__ and compiles it first: in
# both, Numba gives it the same symbol name unless the cache key is part of it. (This
# guards the property; on Numba 0.68 it also passed before names carried the key, so
# it does not reproduce the one full-suite failure that led to that change.)
SAME_NAME = textwrap.dedent("""
    import json, sys
    import numpy as np
    import gradjit
    exec(sys.argv[1])  # defines f
    print(json.dumps(gradjit.gradient(f, np.array([[2.0, 3.0]]), jit=sys.argv[2]).tolist()))
""")
PRODUCT, SUM_OF_SQUARES = "def f(x):\n    return x[0] * x[1]\n", "def f(x):\n    return x[0] * x[0] + x[1] * x[1]\n"


def test_two_cached_functions_of_one_name_never_call_each_other(tmp_path):
    environment = {**os.environ, "GRADJIT_CACHE_DIR": str(tmp_path)}
    environment.pop("GRADJIT_DISABLE_CACHE", None)

    def run(source: str, jit: str) -> list:
        output = subprocess.run([sys.executable, "-c", SAME_NAME, source, jit], env=environment, capture_output=True,
                                text=True, check=True)
        return json.loads(output.stdout.strip().splitlines()[-1])

    for jit in ("fast-start", "inline"):  # each fills the cache with its own f
        assert run(PRODUCT, jit) == [[3.0, 2.0]]
        assert run(SUM_OF_SQUARES, jit) == [[4.0, 6.0]]
    # One process loading both from the cache, on both tiers, in both orders.
    both = textwrap.dedent("""
        import json
        import numpy as np
        import gradjit
        found = []
        for source in (PRODUCT, SUM_OF_SQUARES, PRODUCT):
            namespace = {"__name__": "__main__"}
            exec(source, namespace)
            for jit in ("inline", "fast-start"):
                found.append(gradjit.gradient(namespace["f"], np.array([[2.0, 3.0]]), jit=jit).tolist())
        print(json.dumps(found))
    """).replace("PRODUCT", repr(PRODUCT)).replace("SUM_OF_SQUARES", repr(SUM_OF_SQUARES))
    output = subprocess.run([sys.executable, "-c", both], env=environment, capture_output=True, text=True, check=True)
    found = json.loads(output.stdout.strip().splitlines()[-1])
    assert found == [[[3.0, 2.0]]] * 2 + [[[4.0, 6.0]]] * 2 + [[[3.0, 2.0]]] * 2


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
