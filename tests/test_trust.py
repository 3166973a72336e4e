"""What a user can rely on: no silent wrong answer, no crash or hang, clear errors.

Each test here is a regression test for something that once went wrong.
"""

import gc
import multiprocessing
import pickle
import subprocess
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

import gradjit
from gradjit import _chunks, _objective, classic, critical_points, errors
from gradjit.problems import PROBLEMS

sphere = PROBLEMS["sphere"].f


# ------------------------------------------------------------------ f reads or writes past the end of x


def reads_past_the_end(x):
    return x[0] * x[1]


def writes_past_the_end(x):
    x[3] = 1e300
    return x[0]


@pytest.mark.parametrize("call", [
    lambda f: gradjit.gradient(f, [3.0]),
    lambda f: gradjit.gradient(f, np.ones((50, 1))),
    lambda f: gradjit.gradient(f, np.ones((3, 1)), method="richardson"),
    lambda f: gradjit.grid_gradient(f, (np.linspace(0, 1, 4),)),
    lambda f: gradjit.hessian(f, [3.0]),
    lambda f: gradjit.minimize(f, [3.0], max_iter=2),
])
@pytest.mark.parametrize("f", [reads_past_the_end, writes_past_the_end])
def test_f_indexing_past_the_end_of_x_raises_a_shape_error(call, f):
    with pytest.raises(errors.ShapeError, match="coordinate (1|3) of x, but x has d = 1"):
        call(f)


def test_the_index_check_runs_compiled_when_python_would_be_slow(monkeypatch):
    monkeypatch.setattr(_objective, "PYTHON_CHECK_ELEMENTS", 0)  # every call takes the bounds-checked twin

    def three_coordinates(x):
        return x[0] * x[2]

    with pytest.raises(errors.ShapeError, match="out of bounds"):
        gradjit.gradient(three_coordinates, [1.0, 2.0])
    np.testing.assert_allclose(gradjit.gradient(three_coordinates, [1.0, 2.0, 3.0]), [3.0, 0.0, 1.0])


# ------------------------------------------------------------------ captured values


def test_a_changed_captured_number_is_followed():
    k = 1.0

    def f(x):
        return k * x[0] ** 2

    assert gradjit.gradient(f, [1.0])[0] == pytest.approx(2.0)
    k = 5.0
    assert gradjit.gradient(f, [1.0])[0] == pytest.approx(10.0)  # as the NumPy backend gives
    assert gradjit.gradient(f, [1.0], backend="numpy")[0] == pytest.approx(10.0)


def test_a_captured_array_is_warned_about_once():
    W = np.array([2.0])

    def f(x):
        return W[0] * x[0] ** 2

    with pytest.warns(errors.FrozenArrayWarning, match=r"args=\(W,\)"):
        gradjit.gradient(f, [1.0])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradjit.gradient(f, [2.0])  # once per function


# ------------------------------------------------------------------ caches hold nothing of the user's


def test_dropped_functions_and_what_they_close_over_are_freed():
    def make(data):
        return lambda x: x[0] * x[0] + data[0] * x[1]

    refs = []
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            data = np.ones(1_000_000)  # 8 MB each
            f = make(data)
            with pytest.warns(errors.FrozenArrayWarning):
                gradjit.gradient(f, np.ones((4, 2)))
            gradjit.gradient(f, np.ones((4, 2)), backend="numpy")
            refs.append((weakref.ref(f), weakref.ref(data)))
            del f, data
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert all(f() is None and data() is None for f, data in refs)
    assert kept < 4_000_000  # not the 24 MB the three arrays take


def test_a_compile_failure_is_remembered_by_code_object(monkeypatch):
    class Net:
        def loss(self):
            return 1.0

    net, attempts = Net(), []
    real = _objective.native
    monkeypatch.setattr(_objective, "native", lambda f: attempts.append(1) or real(f))
    for _ in range(3):
        with pytest.raises(errors.CompileError):
            gradjit.gradient(lambda W: net.loss() + W[0], [1.0])  # a new lambda each time, as the book writes
    assert len(attempts) == 1


# ------------------------------------------------------------------ the classic drop-ins


class TinyNet:
    """The book's pattern: the loss reads the weights through self, not through its argument."""

    def __init__(self, W):
        self.W = W

    def loss(self):
        return float(np.sum(self.W.astype(np.float64) ** 2) + self.W[0, 1] * self.W[1, 0])


@pytest.mark.filterwarnings("ignore::gradjit.classic.FallbackWarning")
def test_classic_float32_weights_are_perturbed_in_place_and_restored_exactly():
    W = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    original = W.copy()
    net = TinyNet(W)
    grad = classic.numerical_gradient(lambda w: net.loss(), W)
    expected = 2 * original.astype(np.float64) + np.array([[0, 3.0], [2.0, 0]])
    np.testing.assert_allclose(grad, expected, rtol=2e-3)  # float32 perturbations: about 1e-3 relative
    np.testing.assert_array_equal(W, original)
    assert W.dtype == np.float32


@pytest.mark.filterwarnings("ignore::gradjit.classic.FallbackWarning")
def test_classic_read_only_weights_are_refused_as_the_classic_code_fails():
    W = np.ones((2, 2))
    W.flags.writeable = False
    net = TinyNet(W)
    with pytest.raises(errors.OptionError, match="read-only"):
        classic.numerical_gradient(lambda w: net.loss(), W)


def test_classic_numerical_gradient_common_is_the_books_whole_array_gradient():
    import classic_reference as seed

    W = np.arange(6.0).reshape(2, 3) / 10

    def squared_sum(w):
        return np.sum(w) ** 2

    expected = seed.numerical_gradient_common(squared_sum, W.copy())
    got = classic.numerical_gradient_common(squared_sum, W)
    np.testing.assert_allclose(got, expected, rtol=1e-7)
    np.testing.assert_allclose(got, np.full((2, 3), 2 * W.sum()), rtol=1e-7)
    # The batch semantics of the gradient-field chapter give another answer for a 2-D array: each row is a point.
    np.testing.assert_allclose(classic.numerical_gradient(squared_sum, W), 2 * W.sum(axis=1, keepdims=True) * np.ones((2, 3)),
                               rtol=1e-7)


@pytest.mark.filterwarnings("ignore::gradjit.classic.FallbackWarning")
def test_classic_numerical_gradient_common_on_a_network_that_reads_its_weights():
    import classic_reference as seed

    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    net = TinyNet(W)
    expected = seed.numerical_gradient_common(lambda w: net.loss(), W)
    np.testing.assert_allclose(classic.numerical_gradient_common(lambda w: net.loss(), W), expected, rtol=1e-9)


def test_classic_numerical_diff_evaluates_f_only_near_its_points():
    import math

    def log_of_positive(x):
        if x <= 0.0:
            raise ValueError("only x > 0")  # compiled too: a probe near 0.0 would raise it
        return math.log(x)

    assert classic.numerical_diff(log_of_positive, 5.0) == pytest.approx(0.2)


def test_classic_gradient_descent_stops_where_its_docstring_says():
    with pytest.warns(RuntimeWarning, match="diverged after 3 of 100 steps"):
        x, history = classic.gradient_descent(lambda x: x[0] ** 2 + x[1] ** 2, np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    np.testing.assert_allclose(x, [20577, -27436], rtol=1e-3)
    np.testing.assert_array_equal(history[-1], x)  # the points before steps 1..4; the 4th step diverged
    assert len(history) == 4


# ------------------------------------------------------------------ optimizers and critical points


def test_a_negative_learning_rate_from_a_schedule_is_an_error():
    with pytest.raises(errors.OptionError, match="schedule returned lr=-1.0 at step 0"):
        gradjit.minimize(sphere, [1.0, 2.0], schedule=lambda step: -1.0)
    with pytest.raises(errors.OptionError, match="nan"):
        gradjit.minimize(sphere, [1.0, 2.0], schedule=lambda step: float("nan"))


def test_numpy_numbers_are_accepted_as_options():
    result = gradjit.minimize(sphere, [1.0, 2.0], lr=np.float32(0.1), max_iter=np.int64(5))
    assert result.nit == 5


@pytest.mark.parametrize("options, message", [
    ({"tolerance": -1}, "tolerance"), ({"gtol": -1}, "gtol"), ({"bounds": [(-np.inf, 1), (0, 1)]}, "finite"),
])
def test_critical_points_refuse_meaningless_options(options, message):
    arguments = {"bounds": [(-1, 1), (-1, 1)], **options}
    with pytest.raises(errors.OptionError, match=message):
        critical_points.find(sphere, **arguments)


def test_an_unbounded_history_is_refused_before_it_fills_memory(monkeypatch):
    monkeypatch.setattr(_chunks, "available_memory", lambda: 10**8)
    with pytest.raises(errors.OutputTooLarge, match="record=False"):
        gradjit.minimize(sphere, np.zeros((10**5, 2)), max_iter=1000, gtol=0.0)
    assert gradjit.minimize(sphere, np.zeros((10**5, 2)), max_iter=2, gtol=0.0, record=False).x.shape == (10**5, 2)


# ------------------------------------------------------------------ what f returns, on the NumPy backend


@pytest.mark.parametrize("value", [None, "a", np.array([1.0, 2.0])])
def test_the_numpy_backend_refuses_what_is_not_a_real_scalar(value):
    with pytest.raises(errors.ObjectiveError):
        gradjit.gradient(lambda x: value, [1.0, 2.0], backend="numpy")


def test_a_complex_value_is_a_complex_valued_f_where_gradients_take_one():
    assert np.array_equal(gradjit.gradient(lambda x: 1j, [1.0, 2.0], backend="numpy"), [0j, 0j])
    with pytest.raises(errors.ComplexValued):
        gradjit.hessian(lambda x: 1j, [1.0, 2.0], backend="numpy")


# ------------------------------------------------------------------ processes and pickling


def _work(seed):
    X = np.random.default_rng(seed).normal(size=(100_000, 2))
    return float(gradjit.gradient(PROBLEMS["himmelblau"].f, X, threads=None).sum())


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_pool_map_works_after_the_parent_ran_a_parallel_kernel(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    expected = [_work(1), _work(2)]  # the parent runs parallel kernels first
    with multiprocessing.get_context(method).Pool(2) as pool:
        assert pool.map_async(_work, [1, 2]).get(timeout=120) == expected


def _raise(exception):
    raise exception


EXCEPTIONS = [
    errors.CompileError("f", "message", "advice"),
    errors.JitDisabled("f"),
    errors.OutputTooLarge("too large", 10, 5),
    errors.GridInterrupted(3, np.zeros(2)),
    errors.ShapeError("shape"),
    errors.ObjectiveError("objective"),
    errors.OptionError("option"),
]


@pytest.mark.parametrize("exception", EXCEPTIONS, ids=lambda e: type(e).__name__)
def test_every_exception_survives_pickle_with_its_message_and_attributes(exception):
    copy = pickle.loads(pickle.dumps(exception))
    assert type(copy) is type(exception) and str(copy) == str(exception)
    for name, value in vars(exception).items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(copy, name), value)
        else:
            assert getattr(copy, name) == value


def test_a_pool_worker_that_raises_a_gradjit_error_does_not_hang_the_pool():
    with multiprocessing.get_context("spawn").Pool(1) as pool, pytest.raises(errors.CompileError):
        pool.apply_async(_raise, (EXCEPTIONS[0],)).get(timeout=60)


# ------------------------------------------------------------------ memory limits


def test_available_memory_takes_the_address_space_limit_into_account():
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30)); "
            "from gradjit import _chunks; print(_chunks.available_memory())")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert found.returncode == 0, found.stderr
    assert int(found.stdout.split()[-1]) < 2 * 2**30


# ------------------------------------------------------------------ clearer errors


def explicit_signature_f(x):
    return x[0] * x[0]


BAD_CALLS = [
    (lambda: gradjit.gradient(lambda x, a: a * x[0], [1.0]), errors.ObjectiveError, r"args=\(\.\.\.\)"),
    (lambda: gradjit.gradient(lambda X: X[:, 0] * X[:, 0], np.ones((4, 2))), errors.CompileError, "vectorized=True"),
    (lambda: gradjit.gradient(sphere, [[1.0, 2.0], [3.0]]), errors.ShapeError, "rectangular"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], backend=np.array(["numba"])), errors.OptionError, "backend must be"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], method=np.array([1])), errors.OptionError, "method must be"),
    (lambda: gradjit.grid_gradient(sphere, (np.ones(2), np.ones(2)), dtype="banana"), errors.OptionError, "dtype"),
    (lambda: gradjit.minimize(sphere, [1.0, 2.0], callback=3), errors.OptionError, "callback"),
    (lambda: gradjit.minimize(sphere, [1.0, 2.0], data=(np.ones((3, 1)), np.ones(3)), seed="a"), errors.OptionError, "seed"),
    (lambda: classic.numerical_gradient(sphere, np.array([])), errors.ShapeError, "at least one coordinate"),
    (lambda: classic.gradient_descent(sphere, np.array([1.0, 2.0]), step_num=0), errors.OptionError, "step_num"),
    (lambda: critical_points.classify(sphere, []), errors.ShapeError, "d >= 1"),
]


@pytest.mark.parametrize("call, exception, fragment", BAD_CALLS, ids=[f"case{i}" for i in range(len(BAD_CALLS))])
def test_clear_errors(call, exception, fragment):
    with pytest.raises(exception, match=fragment):
        call()


def test_an_explicit_signature_dispatcher_is_compiled_for_what_gradjit_needs():
    import numba

    f = numba.njit("float64(float64[:])")(explicit_signature_f)
    np.testing.assert_allclose(gradjit.gradient(f, [3.0]), [6.0])


def test_disabled_jit_is_named_as_the_cause():
    code = ("import gradjit\ntry:\n    gradjit.gradient(lambda x: x[0] * x[0], [1.0])\nexcept gradjit.errors.JitDisabled as e:\n"
            "    print('OK', e)\nprint(gradjit.gradient(lambda x: x[0] * x[0], [1.0], backend='numpy'))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300,
                           env={**__import__("os").environ, "NUMBA_DISABLE_JIT": "1"})
    assert "OK NUMBA_DISABLE_JIT=1" in found.stdout, found.stderr[-2000:]


@pytest.mark.parametrize("value, expected", [("", True), ("0", True), ("false", True), ("1", False), ("yes", False)])
def test_the_cache_flag_reads_as_users_write_it(value, expected, monkeypatch):
    monkeypatch.setenv("GRADJIT_DISABLE_CACHE", value)
    assert (not gradjit._config.environment_flag("GRADJIT_DISABLE_CACHE")) is expected


PLOT_CALLS = [
    (lambda plot: plot.tangent(lambda t: t * t, "a", xlim=(0, 1)), "x0 must be a finite number"),
    (lambda plot: plot.descent_paths(sphere, []), "results is empty"),
    (lambda plot: plot.basins({}, (2, 2)), "many-start minimize result"),
    (lambda plot: plot.basins({"x": np.zeros((4, 2)), "success": np.ones(4, bool)}, (2, 2), tol=-1), "tol must be"),
]


@pytest.mark.parametrize("call, fragment", PLOT_CALLS, ids=[f"plot{i}" for i in range(len(PLOT_CALLS))])
def test_plot_errors(call, fragment):
    from gradjit import plot

    with pytest.raises(errors.OptionError, match=fragment):
        call(plot)


def test_the_benchmark_chart_refuses_what_is_not_results():
    from gradjit.bench import chart

    with pytest.raises(errors.OptionError, match="results must be"):
        chart.figure(42)


# ------------------------------------------------------------------ malformed arguments, drawn at random

from hypothesis import given
from hypothesis import strategies as st

_junk = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
    st.lists(st.floats(-2, 2), max_size=3), st.lists(st.lists(st.floats(-2, 2), max_size=3), max_size=3),
    st.just(np.array([[1.0, 2.0], [3.0, 4.0]])), st.just(np.array(["a", "b"])), st.just(np.ones((2, 2), np.complex128)),
    st.just(np.empty((0, 2))), st.just(object()),
)
_points = st.one_of(_junk, st.lists(st.floats(-2, 2), min_size=1, max_size=3))


@st.composite
def _calls(draw):
    name = draw(st.sampled_from(["gradient", "derivative", "grid_gradient", "hessian", "jacobian", "minimize"]))
    options = {key: draw(_junk) for key in draw(st.sets(st.sampled_from(
        ["h", "order", "backend", "threads", "method", "args", "bounds", "out"]), max_size=2))}
    return name, draw(_points), options


_FUNCTIONS = {
    "gradient": lambda x, o: gradjit.gradient(sphere, x, **o),
    "derivative": lambda x, o: gradjit.derivative(_square, x, **o),
    "grid_gradient": lambda x, o: gradjit.grid_gradient(sphere, x, **o),
    "hessian": lambda x, o: gradjit.hessian(sphere, x, **o),
    "jacobian": lambda x, o: gradjit.jacobian(_double, x, **o),
    "minimize": lambda x, o: gradjit.minimize(sphere, x, max_iter=2, **o),
}


def _square(t):
    return t * t


def _double(y):
    return y * 2.0


def _accepted(name: str, options: dict) -> dict:
    """The options the public function takes (an unknown keyword is Python's TypeError, not ours)."""
    import inspect

    function = gradjit.minimize if name == "minimize" else getattr(gradjit, name)
    return {k: v for k, v in options.items() if k in inspect.signature(function).parameters}


@given(_calls())
def test_malformed_arguments_give_gradjit_errors_or_results(call):
    name, x, options = call
    try:
        _FUNCTIONS[name](x, _accepted(name, options))
    except errors.GradjitError:
        pass


# ------------------------------------------------------------------ more clear errors, hygiene


def test_a_grid_of_more_axes_than_numpy_allows_is_refused():
    with pytest.raises(errors.ShapeError, match="at most 63 axes"):
        gradjit.grid_gradient(sphere, [np.ones(1)] * 64)


def test_dask_errors_come_at_construction_not_at_compute():
    import gradjit.dask

    with pytest.raises(errors.OptionError, match="chunks"):
        gradjit.dask.grid_gradient(sphere, (np.ones(3), np.ones(3)), chunks=0)
    with pytest.raises(errors.ShapeError, match="coordinate 5"):
        gradjit.dask.grid_gradient(lambda x: x[5], (np.ones(3), np.ones(3)))
    with pytest.raises(errors.OptionError, match="threads"):
        gradjit.dask.gradient(sphere, np.ones((3, 2)), threads=10_000)


def test_bench_refuses_an_output_location_it_cannot_write_before_running(tmp_path, capsys):
    from gradjit import cli

    taken = tmp_path / "a-file"
    taken.write_text("")
    assert cli.main(["bench", "--smoke", "--out", str(taken)]) == 2
    assert "existing file" in capsys.readouterr().err


def test_a_disturbed_bench_run_says_so():
    from gradjit.bench import report
    from gradjit.bench.runner import Measurement, Results

    def m(competitor, kind, seconds):
        return Measurement("w", "s", competitor, kind, 10, 2, 40, seconds, seconds, seconds, 3, seconds, None)

    results = Results("quick", "gradjit bench", {"cores": 2, "threads": 2, "load_average_before": 3.5, "load_average_after": 5.0},
                      [m("gradjit", "gradjit", 1.0), m("gradjit 1 thread", "gradjit", 0.3), m("numpy vectorized", "reference", 9.0),
                       m("compute floor", "floor", 1.2), m("write floor", "floor", 0.1)])
    notes = report.disturbance(results)
    assert any("busy before the run" in n for n in notes) and any("marked *" in n for n in notes)
    assert "1.20*" in report.summary_table(results) and "0.30*" in report.summary_table(results)


def test_blas_gets_one_thread_while_gradjits_threads_run_an_f_that_calls_it():
    from threadpoolctl import threadpool_info

    from gradjit import _blas

    def layer(x, W):
        return np.sum(np.dot(W, x))

    W = np.ones((3, 3))
    gradjit.gradient(layer, np.ones((2, 3)), args=(W,))
    assert gradjit._memo.memo_of(layer)["calls_blas"]
    assert not gradjit._memo.memo_of(sphere).get("calls_blas", False)
    before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    with _blas.one_blas_thread():
        inside = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert inside and set(inside) == {1}  # Numba's np.dot loaded a BLAS, and it is held to one thread
    assert [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"] == before


def test_contention_sends_short_calls_to_one_thread_for_a_while_with_the_same_bits(monkeypatch):
    from gradjit import _contention

    X = np.random.default_rng(3).normal(size=(200_000, 2))  # enough work for the parallel path
    f = PROBLEMS["himmelblau"].f
    parallel = gradjit.gradient(f, X)
    monkeypatch.setattr(_contention, "_serial_until", 0.0)
    monkeypatch.setattr(_contention, "_recent_share", 0.0)
    _contention.observe(wall=1e-3, cpu=4e-4)  # the calling thread got 40% of the wall time
    assert not _contention.contended(None)  # once may be a hiccup
    for _ in range(10):
        _contention.observe(wall=1e-3, cpu=9e-4)  # clean launches
    _contention.observe(wall=1e-3, cpu=4e-4)
    assert not _contention.contended(None)
    _contention.observe(wall=1e-3, cpu=4e-4)  # twice in a row: oversubscribed
    assert _contention.contended(None) and _contention.contended(0.01)
    assert not _contention.contended(1.0)  # long calls stay parallel
    launches = []
    monkeypatch.setattr(_contention, "observe", lambda wall, cpu: launches.append(wall))
    np.testing.assert_array_equal(gradjit.gradient(f, X), parallel)
    assert launches == []  # it ran on the calling thread
    monkeypatch.setattr(_contention, "_serial_until", 0.0)
    np.testing.assert_array_equal(gradjit.gradient(f, X), parallel)
    assert len(launches) == 1  # the backoff is over: parallel again


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __call__(self, x):
        return x[0] * x[0]


def test_an_unhashable_callable_object_gets_advice_and_runs_on_numpy():
    with pytest.raises(errors.CompileError, match="backend='numpy'"):
        gradjit.gradient(_Unhashable(), [1.0, 2.0])
    np.testing.assert_allclose(gradjit.gradient(_Unhashable(), [1.0, 2.0], backend="numpy"), [2.0, 0.0], atol=1e-8)


def test_a_cgroup_memory_limit_is_taken_into_account(monkeypatch):
    files = {"/sys/fs/cgroup/memory.max": 3 * 2**30, "/sys/fs/cgroup/memory.current": 2**30}
    monkeypatch.setattr(_chunks, "_read_int", files.get)
    monkeypatch.setattr(_chunks, "_memory_reading", (-1.0, None))
    assert _chunks.available_memory() <= 2 * 2**30
    monkeypatch.setattr(_chunks, "_memory_reading", (-1.0, None))


def test_example_10_leaves_nothing_in_the_temporary_directory(tmp_path, monkeypatch):
    import importlib.util
    import tempfile
    from pathlib import Path

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = Path(__file__).resolve().parent.parent / "examples" / "10_large_grids.py"
    spec = importlib.util.spec_from_file_location("large_grids_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(side=40)
    assert list(tmp_path.iterdir()) == []


def test_a_compile_failure_of_one_closure_is_not_blamed_on_another_of_the_same_factory():
    def make(g):
        return lambda x: g(x) + 1.0

    class Opaque:
        def value(self):
            return 1.0

    opaque = Opaque()
    with pytest.raises(errors.CompileError):
        gradjit.gradient(make(lambda x: opaque.value() + x[0]), [1.0])
    np.testing.assert_allclose(gradjit.gradient(make(_objective.numba.njit(lambda x: x[0] * x[0])), [3.0]), [6.0])


@pytest.mark.filterwarnings("ignore::gradjit.classic.FallbackWarning")
def test_classic_whole_array_gradient_refuses_a_layout_it_cannot_perturb_in_place():
    W = np.arange(12.0).reshape(3, 4).T  # a transposed view: not C-contiguous
    net = TinyNet(W)
    with pytest.raises(errors.OptionError, match="C-contiguous"):
        classic.numerical_gradient_common(lambda w: net.loss(), W)
