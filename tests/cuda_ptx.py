"""Compile every CUDA kernel family to PTX for a real GPU, on a machine without one.

Numba's CUDA simulator runs the kernels as Python, so it cannot tell whether they
compile for the device; this script does, through NVVM (which ships in a wheel), for
compute capability 9.0. Run in its own process with ``NUMBA_ENABLE_CUDASIM=0``
(``tests/test_cuda.py`` does); prints one line per kernel and ``compiled N kernels``.

Numba compiles a device function for the current device's compute capability; with
no device it asks the driver and fails, so the script names the capability itself.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numba import cuda, typeof, types
from numba.cuda import dispatcher

from gradjit._spec import resolve
from gradjit.optim import AdaGrad, Adam, GradientDescent, Momentum

CC = (9, 0)


class _Device:
    compute_capability = CC


def _compile_without_a_gpu():
    """The CUDA backend module, set to compile for CC with no device or driver here (done in
    main only: pytest imports this file when it collects doctests)."""
    dispatcher.get_current_device = lambda: _Device()
    import gradjit._cuda

    gradjit._cuda.missing = lambda: None  # compiling needs no GPU (launching would)
    from gradjit.backends import cuda as backend

    return backend


def sphere(x, a):
    total = 0.0
    for j in range(x.size):
        total += math.sin(x[j]) * x[j] * a
    return total


def polynomial(x, a):  # analytic in x, for the complex step (math.sin takes no complex)
    return x[0] * x[0] * a + x[1] * x[2] * x[2]


def vector(x, a):
    return x[0] * x[1] * a, math.exp(x[0]) + x[1], math.cos(x[1])


def of_t(t, a):
    return math.exp(t) * a


def with_array(x, weights):
    return weights[0] * x[0] ** 2 + weights[1] * x[1] ** 4


def allocates(x, a):
    return np.sum(x * x) * a


ARRAY = types.float64[::1]
ARRAY_2D = types.float64[:, ::1]
INT = types.int64
ARGS = typeof((2.0,))


def _compile(kernel, signature, label: str) -> None:
    ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=CC)
    assert ".entry" in ptx, label
    print(f"ok {label}: {len(ptx)} characters of PTX")


#: The exit status when NVVM, the compiler, is not installed.
NO_NVVM = 3


def main() -> int:
    from numba.cuda.cudadrv import nvvm

    if not nvvm.is_available():
        print("NVVM is not installed")
        return NO_NVVM
    backend = _compile_without_a_gpu()
    d = 3
    count = 0
    gradient_signature = (ARRAY, ARRAY, ARRAY, ARRAY, ARRAY, ARRAY, ARRAY, ARGS, INT)
    for method, order, bounds in [("central", 2, None), ("central", 4, (-5.0, 5.0)), ("backward", 3, None),
                                  ("richardson", 2, None), ("complex", 2, None)]:
        spec = resolve(d, method=method, order=order, bounds=bounds, backend="numpy", args=(2.0,))
        f = polynomial if method == "complex" else sphere
        kernel = backend._entries_kernel(backend._call(f, spec), backend._code(spec), d, 0)
        _compile(kernel, gradient_signature, f"gradient {method} order {order}{' bounded' if bounds else ''}")
        count += 1
    for n, method in [(3, "central"), (2, "richardson")]:
        spec = resolve(1, method=method, order=4 if method == "central" else 2, n=n, scalar_input=True, backend="numpy",
                       args=(2.0,))
        kernel = backend._entries_kernel(backend._call(of_t, spec), backend._code(spec), 1, 0)
        _compile(kernel, gradient_signature, f"derivative n={n} {method}")
        count += 1
    array_args = typeof((np.ones(2),)).types[0]  # the array argument as the device sees it
    spec = resolve(2, backend="numpy", args=(np.ones(2),))
    kernel = backend._entries_kernel(backend._call(with_array, spec), backend._code(spec), 2, 0)
    _compile(kernel, (*gradient_signature[:-2], types.Tuple((array_args,)), INT), "gradient with an array argument")
    count += 1
    for method in ("central", "richardson", "forward", "complex"):
        spec = resolve(d, kind="hessian", method=method, backend="numpy", args=(2.0,))
        f = polynomial if method == "complex" else sphere
        kernel = backend._hessian_kernel(backend._call(f, spec), backend._code(spec), d)
        _compile(kernel, (ARRAY, ARRAY, ARRAY, ARRAY, ARRAY, ARRAY, ARRAY, types.int64[::1], ARGS, INT), f"hessian {method}")
        count += 1
    for method in ("central", "richardson"):
        spec = resolve(2, kind="jacobian", method=method, backend="numpy", args=(2.0,))
        kernel = backend._entries_kernel(backend._call(vector, spec, component=True), backend._code(spec), 2, 3)
        _compile(kernel, gradient_signature, f"jacobian {method}")
        count += 1
    for method, swap in [("central", True), ("richardson", False)]:
        spec = resolve(2, kind="grid", method=method, backend="numpy", args=(2.0,))
        kernel = backend._grid_kernel(backend._call(sphere, spec), backend._code(spec), 2, swap)
        _compile(kernel, (ARRAY_2D, types.int64[::1], INT, ARRAY_2D, ARRAY, ARRAY, ARRAY, ARRAY, ARGS, INT),
                 f"grid {method}{' xy' if swap else ''}")
        count += 1
    spec = resolve(d, backend="numpy", args=(2.0,))
    _compile(backend._values_kernel(backend._call(sphere, spec), d), (ARRAY, ARRAY, ARGS, INT), "values")
    count += 1
    for optimizer in (GradientDescent(0.1), Momentum(0.1), AdaGrad(0.1), Adam(0.1)):  # 0, 1 and 2 moments, sqrt
        kernel = backend._descent_kernel(backend._call(sphere, spec), backend._code(spec), d, optimizer.rule,
                                         optimizer.n_moments)
        coefficients = typeof(optimizer.coefficients(0.1, 1))
        _compile(kernel, (ARRAY, ARRAY, ARRAY_2D, ARRAY, ARRAY, ARRAY, types.int8[::1], types.int64[::1], ARRAY, ARRAY,
                          coefficients, types.float64, types.float64, INT, INT, types.boolean, ARGS, INT),
                 f"descent step {type(optimizer).__name__}")
        count += 1
    # f that allocates an array: the CompileError that names the subset.
    spec = resolve(d, backend="numpy", args=(2.0,))
    kernel = backend._entries_kernel(backend._call(allocates, spec), backend._code(spec), d, 0)
    try:
        _compile(kernel, gradient_signature, "f that allocates")
    except Exception as exc:  # noqa: BLE001 - reported below
        print(f"refused f that allocates: {type(exc).__name__}")
    else:
        print("f that allocates compiled: expected a failure")
        return 1
    print(f"compiled {count} kernels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
