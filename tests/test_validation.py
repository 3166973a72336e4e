"""Every bad argument gets a specific gradjit error that subclasses the right built-in."""

import numpy as np
import pytest

import gradjit
from gradjit import errors
from gradjit.problems import PROBLEMS

sphere = PROBLEMS["sphere"].f
AXES = (np.linspace(0, 1, 3), np.linspace(0, 1, 4))

BAD_CALLS = [
    # (call, exception, message fragment)
    (lambda: gradjit.gradient(sphere, 1.0), errors.ShapeError, "got a scalar"),
    (lambda: gradjit.gradient(sphere, [1 + 2j, 0]), errors.DTypeError, "real numbers"),
    (lambda: gradjit.gradient(sphere, ["a", "b"]), errors.DTypeError, "real numbers"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], order=3), errors.OrderError, r"order must be one of \(2, 4, 6, 8\).*got 3"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], order=2.0), errors.OrderError, "got 2.0"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], order=True), errors.OrderError, "got True"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], h=0.0), errors.StepError, "finite and nonzero"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], h=np.nan), errors.StepError, "finite and nonzero"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], x_scale=-1e-3), errors.StepError, "x_scale must be finite and > 0"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], x_scale=[1.0, 0.0]), errors.StepError, "x_scale must be finite and > 0"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], x_scale=[1.0, 2.0, 3.0]), errors.StepError, "shape \\(2,\\)"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], x_scale="large"), errors.StepError, "'auto'"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], x_scale=True), errors.StepError, "'auto'"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], x_scale=1e-3, h=1e-6), errors.OptionError, "one or the other"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], h=[1e-3, 1e-3, 1e-3]), errors.StepError, r"shape \(2,\).*got shape \(3,\)"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], h="small"), errors.StepError, "nonzero float"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], h=True), errors.StepError, "nonzero float"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], backend="jax"), errors.OptionError, "backend must be one of"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], threads=0), errors.OptionError, "threads must be None or an integer from 1"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], threads=10_000), errors.OptionError, "this machine's limit"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], args=3.0), errors.OptionError, r"args=\(a,\)"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], out=np.empty(3)), errors.ShapeError, r"out must have shape \(2,\)"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], out=np.empty(2, np.int64)), errors.OptionError, "dtype float64 or float32"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], out=np.empty(2, np.float32), dtype=np.float64), errors.OptionError,
     "contradicts out"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], dtype=np.float16), errors.OptionError, "np.float64 or np.float32"),
    (lambda: gradjit.jacobian(lambda x: x * 2.0, [1.0, 2.0], dtype="int32"), errors.OptionError, "np.float64 or np.float32"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], out=[0.0, 0.0]), errors.OptionError, "NumPy array"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], vectorized=True), errors.OptionError, "applies to backend='numpy'"),
    (lambda: gradjit.gradient("sphere", [1.0, 2.0]), errors.ObjectiveError, "must be a callable"),
    (lambda: gradjit.gradient(lambda x: x * 2.0, [1.0, 2.0]), errors.ObjectiveError, "must return a real scalar"),
    (lambda: gradjit.gradient(lambda x: x * 2.0, [1.0, 2.0], backend="numpy"), errors.ObjectiveError, r"returned an array of shape \(2,\)"),
    (lambda: gradjit.gradient(lambda X: X[:-1, 0], np.ones((3, 2)), backend="numpy", vectorized=True), errors.ObjectiveError, "N=3"),
    (lambda: gradjit.gradient(lambda X: X, np.ones((3, 2)), backend="numpy", vectorized=True), errors.ObjectiveError, r"\(N,\)"),
    (lambda: gradjit.gradient(lambda x: len(globals()), [1.0, 2.0]), errors.CompileError, "backend='numpy' works for any Python callable"),
    (lambda: gradjit.gradient(sphere, [1.0, 2.0], args=(object(),)), errors.CompileError, "cannot be passed to compiled code"),
    (lambda: gradjit.derivative(sphere, 1.0, h=[1e-3, 1e-3]), errors.StepError, r"shape \(1,\)"),
    (lambda: gradjit.grid_gradient(sphere, np.linspace(0, 1, 3)), errors.ShapeError, "got one 1-D array"),
    (lambda: gradjit.grid_gradient(sphere, ()), errors.ShapeError, "non-empty sequence"),
    (lambda: gradjit.grid_gradient(sphere, 3.0), errors.ShapeError, "non-empty sequence"),
    (lambda: gradjit.grid_gradient(sphere, (np.ones((2, 2)), np.ones(2))), errors.ShapeError, r"axes\[0\] must be a 1-D array"),
    (lambda: gradjit.grid_gradient(sphere, AXES, indexing="yx"), errors.OptionError, "indexing must be 'xy' or 'ij'"),
    (lambda: gradjit.grid_gradient(sphere, AXES, out=np.empty((2, 3, 4))), errors.ShapeError, r"\(2, 4, 3\)"),
]


def vector(x):
    return np.array([x[0] * x[1], x[0]])


#: Options every backend refuses alike (they are checked once, before any backend runs).
BAD_OPTIONS = [
    (lambda b: gradjit.gradient(sphere, [1.0, 2.0], order=3, backend=b), errors.OrderError, "order must be one of"),
    (lambda b: gradjit.gradient(sphere, [1.0, 2.0], method="spline", backend=b), errors.OptionError, "method must be one of"),
    (lambda b: gradjit.gradient(sphere, [1.0, 2.0], method="complex", order=4, backend=b), errors.OrderError, "no order"),
    (lambda b: gradjit.gradient(sphere, [1.0, 2.0], method="forward", order=8, backend=b), errors.OrderError, r"\(1, 2, 3"),
    (lambda b: gradjit.gradient(sphere, [3.0, 2.0], bounds=(0, 1), backend=b), errors.OptionError, r"x\[0, 0\] = 3.0 is outside"),
    (lambda b: gradjit.gradient(sphere, [1.0, 2.0], bounds=(1, 0), backend=b), errors.OptionError, "lower < upper"),
    (lambda b: gradjit.gradient(sphere, [1.0, 2.0], method="forward", bounds=(0, 3), backend=b), errors.OptionError,
     "bounds= applies to"),
    (lambda b: gradjit.gradient(sphere, [1.0, 2.0], full_output=True, backend=b), errors.OptionError, "method='richardson'"),
    (lambda b: gradjit.gradient(sphere, [1.0, 2.0], h=np.inf, backend=b), errors.StepError, "finite and nonzero"),
    (lambda b: gradjit.derivative(lambda t: t, 1.0, order=5, backend=b), errors.OrderError, "order must be one of"),
    (lambda b: gradjit.grid_gradient(sphere, AXES, bounds=(0.5, 1.0), backend=b), errors.OptionError, "outside"),
    (lambda b: gradjit.grid_gradient(sphere, AXES, method="spline", backend=b), errors.OptionError, "method must be"),
    (lambda b: gradjit.hessian(sphere, [1.0, 2.0], method="spline", backend=b), errors.OptionError, "for hessian"),
    (lambda b: gradjit.jacobian(vector, [1.0, 2.0], full_output=True, backend=b), errors.OptionError, "richardson"),
    (lambda b: gradjit.jacobian(vector, [1.0, 2.0], bounds=(2, 3), backend=b), errors.OptionError, "outside"),
    (lambda b: gradjit.minimize(sphere, [1.0, 2.0], difference="spline", backend=b), errors.OptionError,
     "difference must be one of"),
    (lambda b: gradjit.minimize(sphere, [1.0, 2.0], box=(0, 1), backend=b), errors.OptionError, "inside the box"),
    (lambda b: gradjit.minimize(sphere, [1.0, 2.0], difference="forward", box=(0, 3), backend=b), errors.OptionError,
     "box= applies to"),
]


@pytest.mark.parametrize("call, exception, fragment", BAD_OPTIONS, ids=[f"option{i}" for i in range(len(BAD_OPTIONS))])
def test_every_backend_refuses_bad_options_alike(call, exception, fragment, backend):
    with pytest.raises(exception, match=fragment) as info:
        call(backend)
    assert isinstance(info.value, errors.GradjitError)


@pytest.mark.parametrize("call, exception, fragment", BAD_CALLS, ids=[f"case{i}" for i in range(len(BAD_CALLS))])
def test_bad_input_raises_a_specific_error(call, exception, fragment):
    with pytest.raises(exception, match=fragment) as info:
        call()
    assert isinstance(info.value, errors.GradjitError)


def test_exception_families():
    assert issubclass(errors.CompileError, TypeError)
    assert issubclass(errors.ObjectiveError, TypeError)
    assert issubclass(errors.DTypeError, TypeError)
    for cls in (errors.ShapeError, errors.StepError, errors.OrderError, errors.OptionError):
        assert issubclass(cls, ValueError)


def test_compile_error_names_the_function_and_carries_numbas_message():
    class Opaque:
        pass

    opaque = Opaque()

    def reads_an_object(x):
        return opaque.value * x[0]

    with pytest.raises(errors.CompileError) as info:
        gradjit.gradient(reads_an_object, [1.0])
    err = info.value
    assert "reads_an_object" in err.function_name and "reads_an_object" in str(err)
    assert "opaque" in err.numba_message and "\x1b[" not in err.numba_message
    # The reference backend runs any Python callable.
    Opaque.value = 3.0
    assert gradjit.gradient(reads_an_object, [1.0], backend="numpy")[0] == pytest.approx(3.0)
