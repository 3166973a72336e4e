"""The CUDA backend: the kernels' formulas on an NVIDIA GPU, through ``numba-cuda``.

f is compiled as a CUDA device function from the user's own Python source, and
each kernel compiles the very entry functions of :mod:`gradjit.backends._compiled`
(``target="cuda"``), which call the formulas of :mod:`gradjit.stencils`: the
CPU and the GPU share the mathematics line for line.

One GPU thread computes one output entry: a (point, coordinate) of a gradient,
a (point, pair) of a Hessian, a (point, component, coordinate) of a Jacobian;
on a grid, one thread computes the d components of one grid point, whose
coordinates it reads from the axes (the meshgrid is never built). A thread
copies its point into a buffer in local memory (its size d is fixed per
kernel), evaluates f on the stencils and writes its floats; the results do not
depend on how the work is cut into blocks, so they are the same bits for any
launch configuration.

Host (NumPy) inputs are copied to the device and back in chunks that fit
:func:`chunk_bytes`; device arrays (``numba.cuda`` arrays, or CuPy and PyTorch
tensors through ``__cuda_array_interface__``) stay on the device
(:mod:`gradjit._device_api`).

What f may do on the device: arithmetic, ``math`` functions, loops and
indexing of ``x`` and of array arguments, and calls to other functions that
compile for CUDA (``@numba.cuda.jit(device=True)`` or Numba's
``register_jitable``). It may not allocate arrays (``np.empty``, ``np.array``,
slicing arithmetic such as ``x[1:] - x[:-1]``), call NumPy's array functions,
or raise exceptions (the device ignores them). A vector F for the Jacobian
returns a tuple of floats.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
from numba.core.errors import TypingError

from .. import _cuda
from .._objective import _library_wrapper, _numba_knows, name_of, python_function
from ..errors import DeviceCompileError, ObjectiveError, OptionError
from ..stencils.richardson import RICHARDSON_TABLE_SIZE
from . import GridBlock
from ._common import hessian_pairs, vector_length
from ._compiled import coordinate_entry, hessian_entry, stencil_entry, step_rule

#: ``numba.cuda`` where the backend can run (:func:`missing` is None), else None.
cuda = None if _cuda.missing() else _cuda.module()

__all__ = [
    "CHUNK_BYTES",
    "NAME",
    "THREADS_PER_BLOCK",
    "DeviceDescent",
    "chunk_bytes",
    "fill",
    "gradient",
    "grid",
    "hessian",
    "jacobian",
    "jacobian_length",
    "missing",
    "values",
]

NAME = "cuda"


def missing() -> str | None:
    """Why this backend cannot run here (numba-cuda or a GPU is missing), or None."""
    return _cuda.missing()


#: Threads per block of every launch (results do not depend on it).
THREADS_PER_BLOCK = 128

#: Device memory that one chunk of a host array may take; None: a quarter of
#: the device's free memory (:func:`chunk_bytes`).
CHUNK_BYTES: int | None = None


def chunk_bytes() -> int:
    """The device memory a chunk of host work may use: :data:`CHUNK_BYTES`, else a
    quarter of the free device memory (what is left covers f's local buffers)."""
    if CHUNK_BYTES is not None:
        return CHUNK_BYTES
    free, _ = cuda.current_context().get_memory_info()
    if not math.isfinite(free):  # the simulator reports unlimited memory
        return 1 << 30
    return max(int(free) // 4, 1 << 20)


# ------------------------------------------------------------ f on the device


def _source(f) -> Any:
    """The Python function of f that compiles for the device: a Numba dispatcher's
    ``py_func``, a generated wrapper for a NumPy ufunc or ``math`` function."""
    if _numba_knows(f):
        return _library_wrapper(f)
    return python_function(f)


@lru_cache(maxsize=256)
def _device_calls(py, scalar_input: bool):
    """f as the kernels call it: ``call(x, args)``, and for the Jacobian
    ``component(x, (r, args))``, F's component r (F returns a tuple on the device)."""
    f = cuda.jit(device=True)(py)
    if scalar_input:
        def call(x, args):
            return f(x[0], *args)
    else:
        def call(x, args):
            return f(x, *args)

    def component(x, packed):
        return f(x, *packed[1])[packed[0]]

    return cuda.jit(device=True)(call), cuda.jit(device=True)(component)


def _call(f, spec, *, component: bool = False):
    call, component_call = _device_calls(_source(f), spec.scalar_input)
    return component_call if component else call


def _device_args(args: tuple) -> tuple:
    """f's extra arguments with NumPy arrays copied to the device (a kernel does not
    move arrays inside a tuple itself)."""
    return tuple(cuda.to_device(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a for a in args)


def _launch(kernel, n_items: int, f, *arguments) -> None:
    """``kernel`` over ``n_items`` threads; a compile failure is a :class:`DeviceCompileError` naming f."""
    if n_items == 0:
        return
    blocks = (n_items + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    try:
        kernel[blocks, THREADS_PER_BLOCK](*arguments, n_items)
    except TypingError as exc:
        raise DeviceCompileError(name_of(f), str(exc)) from exc


# --------------------------------------------------------------- the kernels


def _entry_function(call, code: _Code):
    """``value(buf, j, steps, typical, lower, upper, args) -> (value, error)``: gradient
    entry j of f at the point in ``buf`` by ``spec``'s formula (Richardson's error
    estimate, else 0), on the device."""
    central = code.formula == "central" and not code.bounded and code.n == 1
    needs_center = code.formula == "richardson" or (code.n > 1 and code.n % 2 == 0)
    table_size = RICHARDSON_TABLE_SIZE if needs_center else 1
    if central:
        entry = stencil_entry(call, code.weights, False, code.rule, target="cuda")
    else:
        entry = coordinate_entry(call, method=code.formula, bounded=code.bounded, weights=code.weights,
                                 one_sided=code.one_sided, direction=code.direction, n=code.n, target="cuda")

    @cuda.jit(device=True)
    def value(buf, j, steps, typical, lower, upper, args):
        if central:
            return entry(buf, j, steps[j], typical[j], args), 0.0
        table = cuda.local.array(table_size, np.float64)
        center = call(buf, args) if needs_center else 0.0
        return entry(buf, j, steps[j], typical[j], lower[j], upper[j], center, table, args)

    return value


@lru_cache(maxsize=256)
def _entries_kernel(call, code: _Code, d: int, m: int):
    """The gradient (``m = 0``: f scalar, the (N, d) layout) or the Jacobian of the ``m``
    components of F (``call`` its ``component``, the (N, m, d) layout): thread t computes
    entry t, (i, r, j) = point, component, coordinate, by the gradient's formula (applied
    to F_r alone for the Jacobian)."""
    value = _entry_function(call, code)
    dtype = np.complex128 if code.complex_input else np.float64
    rows = max(m, 1)

    @cuda.jit
    def kernel(x, out, errors, steps, typical, lower, upper, args, n_items):
        t = cuda.grid(1)
        if t < n_items:
            i = t // (rows * d)
            r = (t - i * rows * d) // d
            j = t - i * rows * d - r * d
            buf = cuda.local.array(d, dtype)
            for c in range(d):
                buf[c] = x[i * d + c]
            if m > 0:  # one branch is compiled: m is a constant of the kernel
                found, error = value(buf, j, steps, typical, lower, upper, (r, args))
            else:
                found, error = value(buf, j, steps, typical, lower, upper, args)
            out[t] = found
            if errors.size > 0:
                errors[t] = error

    return kernel


@lru_cache(maxsize=256)
def _values_kernel(call, d: int):
    @cuda.jit
    def kernel(x, out, args, n_items):
        i = cuda.grid(1)
        if i < n_items:
            buf = cuda.local.array(d, np.float64)
            for c in range(d):
                buf[c] = x[i * d + c]
            out[i] = call(buf, args)

    return kernel


@lru_cache(maxsize=256)
def _grid_kernel(call, code: _Code, d: int, swap_first_two: bool):
    value = _entry_function(call, code)
    # order[g]: the coordinate that grid dimension g runs along ('xy' swaps the first two).
    order = tuple([1, 0] + list(range(2, d))) if swap_first_two else tuple(range(d))

    @cuda.jit
    def kernel(axes, lengths, first_point, out, steps, typical, lower, upper, args, n_items):
        # Thread p: every component j of grid point first_point + p, to out[j, p] (for each j,
        # neighbouring threads write neighbouring addresses). The point's coordinates come
        # from its C-order index once, for all d components.
        p = cuda.grid(1)
        if p < n_items:
            buf = cuda.local.array(d, np.float64)
            rest = first_point + p
            for g in range(d - 1, -1, -1):
                a = order[g]
                buf[a] = axes[a, rest % lengths[a]]
                rest //= lengths[a]
            for j in range(d):
                found, _ = value(buf, j, steps, typical, lower, upper, args)
                out[j, p] = found

    return kernel


@lru_cache(maxsize=256)
def _hessian_kernel(call, code: _Code, d: int):
    entry = hessian_entry(call, method=code.formula, bounded=code.bounded, order=code.order, direction=code.direction,
                          target="cuda")
    complex_step = code.formula == "complex"
    dtype = np.complex128 if complex_step else np.float64
    table_size = RICHARDSON_TABLE_SIZE if code.formula == "richardson" else 1

    @cuda.jit
    def kernel(x, out, errors, steps, typical, lower, upper, pairs, args, n_items):
        # Thread t: pair p of point i, (i, p) = divmod(t, pairs); entry (j, k), written to both places.
        t = cuda.grid(1)
        if t < n_items:
            n_pairs = pairs.size // 2
            i = t // n_pairs
            p = t - i * n_pairs
            buf = cuda.local.array(d, dtype)
            for c in range(d):
                buf[c] = x[i * d + c]
            table = cuda.local.array(table_size, np.float64)
            center = 0.0 if complex_step else call(buf, args)
            j, k = pairs[2 * p], pairs[2 * p + 1]
            found, error = entry(buf, j, k, steps, typical, lower, upper, center, table, args)
            base = i * d * d
            out[base + j * d + k] = found
            out[base + k * d + j] = found
            if errors.size > 0:
                errors[base + j * d + k] = error
                errors[base + k * d + j] = error

    return kernel


class _Code(NamedTuple):
    """The options that change a kernel's code (the spec's arrays are its arguments)."""

    formula: str
    bounded: bool
    weights: tuple
    one_sided: tuple
    direction: float
    n: int
    order: int
    rule: str  # step_rule(spec)
    complex_input: bool


def _code(spec) -> _Code:
    return _Code(spec.formula, spec.bounded, spec.weights, spec.one_sided, spec.direction, spec.n, spec.order,
                 step_rule(spec), spec.method.complex_input)


# ------------------------------------------------- spec arrays on the device


#: Small read-only arrays already copied to the device, by content (see _cached_on_device).
_ON_DEVICE: OrderedDict = OrderedDict()
_ON_DEVICE_ENTRIES = 64
_CACHED_BYTES = 1 << 20


def _cached_on_device(array: np.ndarray):
    """A device copy of a small read-only array (a spec's steps, a grid's axes), reused by
    later calls with the same contents: each copy costs a synchronous transfer, tens of
    microseconds, as much as the kernel of a 10^6-point grid."""
    array = np.ascontiguousarray(array)
    if array.nbytes > _CACHED_BYTES:
        return cuda.to_device(array)
    key = (array.dtype.str, array.shape, array.tobytes())
    found = _ON_DEVICE.get(key)
    if found is None:
        found = _ON_DEVICE[key] = cuda.to_device(array)
        if len(_ON_DEVICE) > _ON_DEVICE_ENTRIES:
            _ON_DEVICE.popitem(last=False)
    else:
        _ON_DEVICE.move_to_end(key)
    return found


def _spec_arrays(spec) -> tuple:
    """``steps``, ``typical``, ``lower`` and ``upper`` on the device."""
    return tuple(_cached_on_device(np.asarray(a, dtype=np.float64)) for a in (spec.steps, spec.typical, spec.lower,
                                                                               spec.upper))


_NO_ERRORS = np.zeros(0)


def _errors_on_device(errors):
    return _cached_on_device(_NO_ERRORS) if errors is None else errors


# -------------------------------------------- device-resident computations


def gradient_on_device(f, x, spec, out, errors=None) -> None:
    """The gradient at the rows of the device array ``x`` (flat, N * d) into the device
    array ``out`` (flat, N * d); Richardson's error estimates into ``errors`` (flat)."""
    d = spec.steps.size
    kernel = _entries_kernel(_call(f, spec), _code(spec), d, 0)
    _launch(kernel, out.size, f, x, out, _errors_on_device(errors), *_spec_arrays(spec), _device_args(spec.args))


def values_on_device(f, x, spec, out) -> None:
    """f at the rows of the device array ``x`` (flat, N * d) into ``out`` (N,)."""
    d = spec.steps.size
    _launch(_values_kernel(_call(f, spec), d), out.size, f, x, out, _device_args(spec.args))


def hessian_on_device(f, x, spec, out, errors=None) -> None:
    """The Hessian at the rows of ``x`` (flat, N * d) into ``out`` (flat, N * d * d)."""
    d = spec.steps.size
    pairs = _cached_on_device(hessian_pairs(d))
    n_items = (x.size // d) * (pairs.size // 2)
    kernel = _hessian_kernel(_call(f, spec), _code(spec), d)
    _launch(kernel, n_items, f, x, out, _errors_on_device(errors), *_spec_arrays(spec), pairs, _device_args(spec.args))


def jacobian_on_device(f, x, spec, m: int, out, errors=None) -> None:
    """The Jacobian at the rows of ``x`` (flat, N * d) into ``out`` (flat, N * m * d)."""
    d = spec.steps.size
    kernel = _entries_kernel(_call(f, spec, component=True), _code(spec), d, m)
    _launch(kernel, out.size, f, x, out, _errors_on_device(errors), *_spec_arrays(spec), _device_args(spec.args))


def grid_on_device(f, axes: tuple[np.ndarray, ...], spec, out, first_point: int, *, indexing: str) -> None:
    """Components ``(d, P)`` of the gradient at grid points ``first_point .. + P`` (C order
    over the grid of ``axes``) into the device array ``out``; the points are made from
    the axes on the device."""
    d = len(axes)
    sizes = [a.size for a in axes]
    padded = np.zeros((d, max(sizes)))
    for a, axis in enumerate(axes):
        padded[a, :axis.size] = axis
    lengths = np.array(sizes, dtype=np.int64)
    kernel = _grid_kernel(_call(f, spec), _code(spec), d, indexing == "xy" and d >= 2)
    _launch(kernel, out.shape[1], f, _cached_on_device(padded), _cached_on_device(lengths), first_point, out,
            *_spec_arrays(spec), _device_args(spec.args))


# ------------------------------------------------------------------ the floor


@lru_cache(maxsize=1)
def _store_kernel():
    @cuda.jit
    def store(out, value, n_items):
        i = cuda.grid(1)
        if i < n_items:
            out[i] = value

    return store


def fill(out, value: float) -> None:
    """Store ``value`` in every entry of the flat device array ``out``: the device's floor for
    any kernel that writes ``out`` (``benchmarks/cuda.py``), one coalesced store per entry."""
    blocks = (out.size + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    if out.size:
        _store_kernel()[blocks, THREADS_PER_BLOCK](out, float(value), out.size)


# ------------------------------------------------ many starts of a descent


@lru_cache(maxsize=64)
def _descent_kernel(call, code: _Code, d: int, rule, n_moments: int):
    """One step of :func:`gradjit.minimize` for every running row: thread i evaluates f
    and the central gradient at row i, judges it (:func:`~gradjit.optim._kernels.verdict_of`)
    and moves it by the optimizer's ``rule`` (:mod:`gradjit.optim.rules`), as the CPU's
    fused step does row by row; the run's state never leaves the device."""
    from ..optim._kernels import DIVERGED, RUNNING, verdict_of

    entry = stencil_entry(call, code.weights, False, code.rule, target="cuda")
    move = cuda.jit(device=True)(rule)
    moved_size = max(n_moments * d, 1)

    @cuda.jit
    def kernel(x, grad, moments, fun, f0, norm, status, nit, steps, typical, coefficients, gtol, factor, step, last_step,
               watch, args, n_rows):
        i = cuda.grid(1)
        if i >= n_rows or status[i] != RUNNING:
            return
        buf = cuda.local.array(d, np.float64)
        gradient = cuda.local.array(d, np.float64)
        for j in range(d):
            buf[j] = x[i * d + j]
        value = call(buf, args)
        squares, finite = 0.0, math.isfinite(value)
        for j in range(d):
            g = entry(buf, j, steps[j], typical[j], args)
            gradient[j] = g
            squares += g * g
            finite = finite and math.isfinite(g)
        if step == 0:
            f0[i] = value
        verdict = verdict_of(value, squares, finite, f0[i], factor, gtol * gtol, step == last_step)
        if verdict == RUNNING:
            # The moves into local memory first: a row whose move is not finite keeps its last finite iterate.
            moved_x = cuda.local.array(d, np.float64)
            moved = cuda.local.array(moved_size, np.float64)
            finite_move = True
            for j in range(d):
                k = i * d + j
                if n_moments == 0:
                    new_x, new_moments = move(x[k], gradient[j], (), coefficients)
                elif n_moments == 1:
                    new_x, new_moments = move(x[k], gradient[j], (moments[0, k],), coefficients)
                elif n_moments == 2:
                    new_x, new_moments = move(x[k], gradient[j], (moments[0, k], moments[1, k]), coefficients)
                else:
                    new_x, new_moments = move(x[k], gradient[j], (moments[0, k], moments[1, k], moments[2, k]), coefficients)
                moved_x[j] = new_x
                if n_moments > 0:  # pruned when there are none (an empty tuple has no items to type)
                    for s in range(n_moments):
                        moved[s * d + j] = new_moments[s]
                finite_move = finite_move and math.isfinite(new_x)
            if finite_move:
                for j in range(d):
                    x[i * d + j] = moved_x[j]
                    for s in range(n_moments):
                        moments[s, i * d + j] = moved[s * d + j]
            else:
                verdict = DIVERGED
        if verdict != RUNNING or watch:
            fun[i] = value
            for j in range(d):
                grad[i * d + j] = gradient[j]
            norm[i] = math.sqrt(squares)
        if verdict != RUNNING:
            status[i] = verdict
            nit[i] = step

    return kernel


#: The most moments an optimizer may keep for the device step (the book's keep at most two).
MAX_DEVICE_MOMENTS = 3


class DeviceDescent:
    """The buffers of a many-start run (:class:`gradjit.optim._kernels.Buffers`) on the
    device, moved by :meth:`step`; :meth:`pull` copies them back for the result, the
    history or a callback."""

    NAMES = ("x", "grad", "moments", "fun", "f0", "norm", "status", "nit")
    COPIED = ("x", "moments", "status", "nit")

    def __init__(self, buffers) -> None:
        n_moments = buffers.moments.shape[0]
        if n_moments > MAX_DEVICE_MOMENTS:
            raise OptionError(f"backend='cuda' runs optimizers with at most {MAX_DEVICE_MOMENTS} moments; this one keeps "
                              f"{n_moments}.")
        self.rows, self.d = buffers.x.shape
        # The starts, zero moments and the statuses go over; the rest is written by the
        # kernel before it is read (f0 at the first step, f and the gradient when a row
        # stops or is watched), as the host's buffers are (new_buffers leaves them empty).
        self.arrays = {name: cuda.to_device(self._flat(name, getattr(buffers, name))) if name in self.COPIED
                       else cuda.device_array_like(self._flat(name, getattr(buffers, name))) for name in self.NAMES}

    def _flat(self, name: str, array: np.ndarray) -> np.ndarray:
        if name in ("x", "grad"):
            return array.reshape(-1)
        if name == "moments":
            return array.reshape(array.shape[0], -1) if array.shape[0] else np.zeros((1, 1))
        return array

    def step(self, f, spec, optimizer, coefficients, *, gtol: float, factor: float, step: int, last_step: int, watch: bool,
             args: tuple) -> None:
        """f, gradient, verdict and move of every running row (:func:`_descent_kernel`)."""
        if self.rows == 0:
            return
        kernel = _descent_kernel(_call(f, spec), _code(spec), self.d, optimizer.rule, optimizer.n_moments)
        a = self.arrays
        steps, typical = (_cached_on_device(np.asarray(v, dtype=np.float64)) for v in (spec.steps, spec.typical))
        _launch(kernel, self.rows, f, a["x"], a["grad"], a["moments"], a["fun"], a["f0"], a["norm"], a["status"], a["nit"],
                steps, typical, coefficients, float(gtol), float(factor), int(step), int(last_step), bool(watch),
                _device_args(args))

    def pull(self, buffers, names: tuple[str, ...] = NAMES) -> None:
        """Copy ``names`` of the device state into the host ``buffers``."""
        for name in names:
            target = getattr(buffers, name)
            if name == "moments" and target.shape[0] == 0:
                continue
            self.arrays[name].copy_to_host(self._flat(name, target))


# ------------------------------------------- the backend interface (host arrays)


def _chunked(n: int, bytes_per_row: int):
    """Slices of ``0..n`` rows whose device arrays fit :func:`chunk_bytes`."""
    rows = max(1, chunk_bytes() // max(bytes_per_row, 1))
    for start in range(0, n, rows):
        yield start, min(start + rows, n)


def gradient(f, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None = None) -> None:
    """The gradient at every row of ``points`` (N, d) into ``out`` (N, d), chunk by chunk on the device."""
    n, d = points.shape
    if n * d == 0:
        return
    for start, stop in _chunked(n, 8 * d * (3 if errors is not None else 2)):
        x = cuda.to_device(points[start:stop].reshape(-1))
        found = cuda.device_array((stop - start) * d)
        found_errors = None if errors is None else cuda.device_array((stop - start) * d)
        gradient_on_device(f, x, spec, found, found_errors)
        found.copy_to_host(out[start:stop].reshape(-1))
        if errors is not None:
            found_errors.copy_to_host(errors[start:stop].reshape(-1))


def values(f, points: np.ndarray, spec, out: np.ndarray) -> None:
    """f at every row of ``points`` (N, d) into ``out`` (N,)."""
    n, d = points.shape
    if n == 0:
        return
    for start, stop in _chunked(n, 8 * (d + 1)):
        found = cuda.device_array(stop - start)
        values_on_device(f, cuda.to_device(points[start:stop].reshape(-1)), spec, found)
        found.copy_to_host(out[start:stop])


def grid(f, axes: tuple[np.ndarray, ...], spec, block: GridBlock, *, indexing: str) -> None:
    """The gradient on the grid of ``axes`` into ``block``, in chunks of grid points that fit the device."""
    d = len(axes)
    n_points = math.prod(a.size for a in axes)
    for start, stop in _chunked(n_points, 8 * d):
        found = cuda.device_array((d, stop - start))
        grid_on_device(f, axes, spec, found, start, indexing=indexing)
        for j in range(d):  # row by row: the block's rows are contiguous, its columns not
            found[j].copy_to_host(block.out[j, block.offset + start:block.offset + stop])


def hessian(f, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None = None,
            pairs: np.ndarray | None = None) -> None:
    """The Hessian at every row of ``points`` (N, d) into ``out`` (N, d, d)."""
    if pairs is not None:
        raise OptionError("backend='cuda' computes whole Hessians; a Hessian pattern (sparsity=) runs on 'numba' or 'numpy'.")
    n, d = points.shape
    if n * d == 0:
        return
    for start, stop in _chunked(n, 8 * (d + d * d * (2 if errors is not None else 1))):
        found = cuda.device_array((stop - start) * d * d)
        found_errors = None if errors is None else cuda.device_array((stop - start) * d * d)
        hessian_on_device(f, cuda.to_device(points[start:stop].reshape(-1)), spec, found, found_errors)
        found.copy_to_host(out[start:stop].reshape(-1))
        if errors is not None:
            found_errors.copy_to_host(errors[start:stop].reshape(-1))


def jacobian_length(f, points: np.ndarray, spec) -> int:
    """m, from F at the first point, run in Python."""
    try:
        with np.errstate(all="ignore"):
            return vector_length(python_function(f), points, spec.args)
    except ObjectiveError:
        raise
    except Exception as exc:
        raise ObjectiveError(f"backend='cuda' reads the length of F by calling it in Python at the first point, which "
                             f"failed: {exc!r}") from exc


def jacobian(f, points: np.ndarray, spec, out: np.ndarray, *, errors: np.ndarray | None = None) -> None:
    """The Jacobian at every row of ``points`` (N, d) into ``out`` (N, m, d)."""
    n, d = points.shape
    m = out.shape[1]
    if n * d * m == 0:
        return
    for start, stop in _chunked(n, 8 * (d + m * d * (2 if errors is not None else 1))):
        found = cuda.device_array((stop - start) * m * d)
        found_errors = None if errors is None else cuda.device_array((stop - start) * m * d)
        jacobian_on_device(f, cuda.to_device(points[start:stop].reshape(-1)), spec, m, found, found_errors)
        found.copy_to_host(out[start:stop].reshape(-1))
        if errors is not None:
            found_errors.copy_to_host(errors[start:stop].reshape(-1))


def _structured(*_: Any, **__: Any) -> None:
    raise OptionError("backend='cuda' does not run structured problems (terms=True, sparsity=) or pattern detection; "
                      "use backend='numba'.")


grouped_jacobian = terms_hessian = terms_values = dependencies = _structured

