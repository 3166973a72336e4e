"""The two compilation tiers: the same numbers bit for bit, the same errors, the
automatic switch, and many threads on one new function."""

from __future__ import annotations

import threading
import types
import warnings

import numpy as np
import pytest

import gradjit
from gradjit import _tiers, errors
from gradjit.problems import PROBLEMS

ROSENBROCK = PROBLEMS["rosenbrock"]
BEALE = PROBLEMS["beale"]
RNG = np.random.default_rng(7)
BATCH = ROSENBROCK.sample(300, seed=3)
POINT = np.array([0.3, -0.7])


def both_tiers(call):
    """``call(jit)`` on the fast-start tier and on the inlined tier."""
    before = _tiers.launches.copy()
    fast = call("fast-start")
    assert _tiers.launches["fast-start"] > before["fast-start"]
    inline = call("inline")
    return fast, inline


def assert_identical(fast, inline):
    if isinstance(fast, tuple):
        for a, b in zip(fast, inline):
            assert_identical(a, b)
        return
    np.testing.assert_array_equal(fast, inline, strict=True)


@pytest.mark.parametrize("method,order", [("central", 2), ("central", 4), ("central", 8), ("forward", 3), ("backward", 1),
                                          ("richardson", 2), ("complex", 2)])
def test_gradient_tiers_agree_bit_for_bit(method, order):
    f = ROSENBROCK.f if method != "complex" else BEALE.f
    x = BATCH if method != "complex" else BEALE.sample(200, seed=4)
    full = method == "richardson"
    assert_identical(*both_tiers(lambda jit: gradjit.gradient(f, x, method=method, order=order, full_output=full, jit=jit)))


def log(t):
    return np.log(t)


def sine(t):
    return np.sin(t)


def test_bounded_and_scalar_and_point_tiers_agree():
    assert_identical(*both_tiers(lambda jit: gradjit.gradient(ROSENBROCK.f, BATCH, bounds=(-2.0, 2.0), jit=jit)))
    assert_identical(*both_tiers(lambda jit: gradjit.gradient(ROSENBROCK.f, POINT, jit=jit)))
    t = np.linspace(0.5, 2.0, 50)
    assert_identical(*both_tiers(lambda jit: gradjit.derivative(log, t, order=4, jit=jit)))
    assert_identical(*both_tiers(lambda jit: gradjit.derivative(sine, t, method="richardson", full_output=True, jit=jit)))


def test_many_variables_and_one_point_split_over_coordinates_agree():
    def sum_of_squares(x):
        total = 0.0
        for value in x:
            total += value * value + np.sin(value)
        return total

    wide = RNG.normal(size=(3, 80))  # d > 64: the heap-buffer kernel
    assert_identical(*both_tiers(lambda jit: gradjit.gradient(sum_of_squares, wide, jit=jit)))
    one = RNG.normal(size=3000)  # one point, many coordinates: the (point, coordinate) items
    assert_identical(*both_tiers(lambda jit: gradjit.gradient(sum_of_squares, one, jit=jit)))


@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_grid_tiers_agree(indexing):
    axes = (np.linspace(-1, 1, 37), np.linspace(-2, 2, 23))
    assert_identical(*both_tiers(lambda jit: gradjit.grid_gradient(ROSENBROCK.f, axes, indexing=indexing, jit=jit)))


def test_hessian_jacobian_and_values_tiers_agree():
    assert_identical(*both_tiers(lambda jit: gradjit.hessian(ROSENBROCK.f, BATCH[:20], jit=jit)))

    def F(x):
        return np.array([x[0] * x[1], np.sin(x[0]) + x[1] ** 3, np.exp(0.1 * x[1])])

    assert_identical(*both_tiers(lambda jit: gradjit.jacobian(F, BATCH[:30], jit=jit)))
    assert_identical(*both_tiers(lambda jit: gradjit.jacobian(F, BATCH[:30], method="forward", order=2, jit=jit)))
    assert_identical(*both_tiers(lambda jit: gradjit.api.values(ROSENBROCK.f, BATCH, jit=jit)))


@pytest.mark.parametrize("method", ["gd", "adam"])
def test_minimize_tiers_agree(method):
    starts = ROSENBROCK.sample(64, seed=5)

    def run(jit):
        result = gradjit.minimize(ROSENBROCK.f, starts, method=method, lr=1e-3, max_iter=40, jit=jit)
        return result.x, result.fun, result.nit

    assert_identical(*both_tiers(run))
    assert_identical(*both_tiers(lambda jit: gradjit.minimize(ROSENBROCK.f, [-1.0, 1.5], lr=1e-3, max_iter=30, jit=jit).x))


def test_fast_start_results_do_not_depend_on_the_thread_count():
    points = ROSENBROCK.sample(200_000, seed=6)  # enough work for the parallel driver
    one = gradjit.gradient(ROSENBROCK.f, points, threads=1, jit="fast-start")
    np.testing.assert_array_equal(gradjit.gradient(ROSENBROCK.f, points, jit="fast-start"), one)


def raises_past_one(x):
    if x[0] > 1.0:
        raise ValueError("x[0] is past one")
    return x[0] * x[1]


@pytest.mark.parametrize("jit", ["fast-start", "inline", "auto"])
def test_an_exception_of_f_surfaces_alike_on_every_tier(jit):
    with pytest.raises(ValueError, match="x\\[0\\] is past one"):
        gradjit.gradient(raises_past_one, np.array([[0.0, 1.0], [2.0, 1.0]]), jit=jit)
    with pytest.raises(ValueError, match="x\\[0\\] is past one"):
        gradjit.minimize(raises_past_one, np.array([[0.5, 1.0], [0.9, 0.2]]), lr=0.5, max_iter=5, jit=jit)


def test_auto_starts_fast_and_switches_to_inline_when_the_work_repays_it(monkeypatch):
    namespace: dict = {}
    exec("def fresh(x):\n    return x[0] * x[0] + 3.0 * x[1] * x[0] - x[1]\n", namespace)  # noqa: S102 - new code object
    fresh = namespace["fresh"]
    small = RNG.normal(size=(10, 2))
    # The estimates learned from earlier tests (on a busy machine, anything) do not decide this one.
    monkeypatch.setattr(_tiers, "_compile_seconds", _tiers._INITIAL_COMPILE_SECONDS)
    monkeypatch.setattr(_tiers, "_seconds_per_cost", _tiers._INITIAL_SECONDS_PER_COST)
    before = _tiers.launches.copy()
    first = gradjit.gradient(fresh, small)
    assert _tiers.launches["fast-start"] == before["fast-start"] + 1  # a new f starts on the fast tier
    monkeypatch.setattr(_tiers, "_compile_seconds", 1e-9)  # tier 2 now costs less than any work: switch
    switched = gradjit.gradient(fresh, small)
    assert _tiers.launches["inline"] == before["inline"] + 1
    np.testing.assert_array_equal(first, switched)
    gradjit.gradient(fresh, small)  # and it stays inline
    assert _tiers.launches["inline"] == before["inline"] + 2


def test_a_loop_of_small_calls_switches_after_a_compilation_in_the_background(monkeypatch):
    namespace: dict = {}
    exec("def fresh(x):\n    return x[0] * x[1] * x[1] + 0.125 * x[0]\n", namespace)  # noqa: S102 - new code object
    fresh, small = namespace["fresh"], RNG.normal(size=(10, 2))
    gradjit.gradient(fresh, small, jit="fast-start")  # the fast-start kernel is warm: its calls are timed
    monkeypatch.setattr(_tiers, "_compile_seconds", 1e-4)  # more than one call's estimate, less than a few calls
    monkeypatch.setattr(_tiers, "_seconds_per_cost", 1e-12)
    before = _tiers.launches.copy()
    results = [gradjit.gradient(fresh, small) for _ in range(20)]  # tier 1 throughout, a compile starts beside
    assert _tiers.launches["fast-start"] >= before["fast-start"] + 1
    compiled = gradjit._objective.compiled_call(fresh, (), points=small)
    from gradjit.backends import numba_cpu

    _tiers.wait_for_background_compiles(compiled, _tiers.kernel(numba_cpu._rows, (0.5,), 2, "unit"))
    inline_before = _tiers.launches["inline"]
    results.append(gradjit.gradient(fresh, small))
    assert _tiers.launches["inline"] == inline_before + 1  # ready: used from the next call on
    for result in results:
        np.testing.assert_array_equal(result, results[0])


def test_one_large_call_switches_at_once(monkeypatch):
    namespace: dict = {}
    exec("def fresh(x):\n    return x[0] * x[1] - 2.5 * x[1]\n", namespace)  # noqa: S102 - new code object
    monkeypatch.setattr(_tiers, "_compile_seconds", 0.4)
    monkeypatch.setattr(_tiers, "_seconds_per_cost", 1.0)  # any call is estimated as seconds of work
    before = _tiers.launches.copy()
    gradjit.gradient(namespace["fresh"], RNG.normal(size=(5, 2)))
    assert _tiers.launches["inline"] == before["inline"] + 1
    assert _tiers.launches["fast-start"] == before["fast-start"]


def test_concurrent_first_calls_on_one_new_function():
    namespace: dict = {}
    exec("import numpy as np\ndef fresh(x):\n    return np.sin(x[0]) * x[1] + x[1] ** 3\n", namespace)  # noqa: S102
    fresh = namespace["fresh"]
    points = RNG.normal(size=(500, 2))
    found: list = [None] * 6
    barrier = threading.Barrier(len(found))

    def work(i: int) -> None:
        barrier.wait()
        found[i] = gradjit.gradient(fresh, points, jit=("fast-start", "inline", "auto")[i % 3])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(found))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = np.stack([np.cos(points[:, 0]) * points[:, 1], np.sin(points[:, 0]) + 3 * points[:, 1] ** 2], axis=1)
    for result in found:
        np.testing.assert_array_equal(result, found[0])
        np.testing.assert_allclose(result, expected, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("bad", ["fast", 1, "INLINE!"])
def test_a_bad_jit_mode_is_an_option_error(bad):
    with pytest.raises(errors.OptionError, match="compilation mode"):
        gradjit.gradient(ROSENBROCK.f, POINT, jit=bad)


def test_the_default_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRADJIT_JIT", "inline")
    before = _tiers.launches.copy()
    gradjit.gradient(ROSENBROCK.f, POINT)
    assert _tiers.launches["inline"] == before["inline"] + 1
    monkeypatch.setenv("GRADJIT_JIT", "sometimes")
    with pytest.raises(errors.OptionError, match="GRADJIT_JIT"):
        gradjit.gradient(ROSENBROCK.f, POINT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monkeypatch.delenv("GRADJIT_JIT")
        gradjit.gradient(ROSENBROCK.f, POINT)


def test_one_slow_measurement_does_not_derail_the_estimates(monkeypatch):
    # A call slowed by a busy machine (or a compilation holding the GIL) must not
    # make every later small call look like seconds of work.
    monkeypatch.setattr(_tiers, "_seconds_per_cost", 1e-9)
    monkeypatch.setattr(_tiers, "_compile_seconds", 0.4)
    state = types.SimpleNamespace(seconds=0.0, seconds_per_cost=None)
    _tiers._record(state, 1e-6, 1000)  # 1e-9 per unit of cost
    _tiers._record(state, 5.0, 1000)  # an outlier 5 million times slower
    assert state.seconds_per_cost == pytest.approx(1e-9)
    assert _tiers._seconds_per_cost <= 2e-9
    _tiers._record_compile(100.0)
    assert _tiers._compile_seconds <= 0.8
