"""Chunked grid evaluation: chunks equal one pass, out= memmaps and array-likes,
float32 storage, the memory guard, Ctrl-C between chunks, bounded extra memory."""

import tracemalloc

import numpy as np
import pytest

import gradjit
from gradjit import _chunks, errors
from gradjit.backends import numba_cpu


def wavy(x):
    return np.sin(x[0]) * np.cos(x[1]) + x[2] * x[0]


def bowl(x):
    return x[0] * x[0] + 2.0 * x[1] * x[1]


AXES_3D = (np.linspace(-1, 1, 7), np.linspace(0, 2, 5), np.linspace(-3, 3, 4))
AXES_2D = (np.linspace(-2, 2, 301), np.linspace(-1, 1, 203))


@pytest.mark.parametrize("chunk_bytes", [1, 8 * 7 * 4 * 3, 10**9])  # one row per chunk, uneven chunks, one chunk
@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_chunks_give_the_same_result_as_one_pass(chunk_bytes, indexing, backend, monkeypatch):
    whole = gradjit.grid_gradient(wavy, AXES_3D, indexing=indexing, backend=backend)
    monkeypatch.setattr(_chunks, "CHUNK_BYTES", chunk_bytes)
    np.testing.assert_array_equal(gradjit.grid_gradient(wavy, AXES_3D, indexing=indexing, backend=backend), whole)


def test_out_may_be_a_memmap_on_disk(tmp_path):
    expected = gradjit.grid_gradient(bowl, AXES_2D)
    out = np.lib.format.open_memmap(tmp_path / "grad.npy", mode="w+", dtype=np.float64, shape=expected.shape)
    assert gradjit.grid_gradient(bowl, AXES_2D, out=out) is out
    out.flush()
    np.testing.assert_array_equal(np.load(tmp_path / "grad.npy"), expected)


@pytest.mark.parametrize("layout", ["float32", "fortran", "array-like"])
def test_other_outputs_go_through_the_buffer(layout, monkeypatch):
    monkeypatch.setattr(_chunks, "CHUNK_BYTES", 8 * 2 * 301 * 10)  # 10 rows a chunk: several copies
    expected = gradjit.grid_gradient(bowl, AXES_2D)
    if layout == "float32":
        out = np.full(expected.shape, np.nan, dtype=np.float32)
    elif layout == "fortran":
        out = np.full(expected.shape, np.nan, order="F")
    else:
        out = _ArrayLike(expected.shape)
    assert gradjit.grid_gradient(bowl, AXES_2D, out=out) is out
    np.testing.assert_allclose(np.asarray(out.data if layout == "array-like" else out), expected, rtol=1e-7)


class _ArrayLike:
    """The least an out= needs: a shape and slice assignment (like a zarr or h5py array)."""

    def __init__(self, shape):
        self.shape, self.data, self.writes = shape, np.full(shape, np.nan), 0

    def __setitem__(self, key, value):
        self.data[key] = value
        self.writes += 1


def test_float32_storage_keeps_double_arithmetic():
    single = gradjit.grid_gradient(bowl, AXES_2D, dtype=np.float32)
    assert single.dtype == np.float32
    np.testing.assert_array_equal(single, gradjit.grid_gradient(bowl, AXES_2D).astype(np.float32))


def test_a_result_too_large_for_memory_is_refused_with_the_ways_out(monkeypatch):
    monkeypatch.setattr(_chunks, "available_memory", lambda: 10**5)
    with pytest.raises(errors.OutputTooLarge) as caught:
        gradjit.grid_gradient(bowl, AXES_2D)
    error = caught.value
    assert isinstance(error, MemoryError) and isinstance(error, errors.GradjitError)
    assert error.needed_bytes == 2 * 301 * 203 * 8 and error.available_bytes == 10**5
    message = str(error)
    for hint in ("needs 0.0 GB", "open_memmap", "dtype=np.float32", "gradjit.dask"):
        assert hint in message
    out = np.empty((2, 203, 301))
    gradjit.grid_gradient(bowl, AXES_2D, out=out)  # the caller's own output is not checked


def test_ctrl_c_stops_between_chunks_and_keeps_the_finished_ones(monkeypatch):
    expected = gradjit.grid_gradient(bowl, AXES_2D)
    monkeypatch.setattr(_chunks, "CHUNK_BYTES", 8 * 2 * 301 * 20)  # 20 rows a chunk
    real, calls = numba_cpu.grid, []

    def interrupted_on_the_third_chunk(*arguments, **options):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(*arguments, **options)

    monkeypatch.setattr(numba_cpu, "grid", interrupted_on_the_third_chunk)
    out = np.full(expected.shape, np.nan)
    with pytest.raises(errors.GridInterrupted) as caught:
        gradjit.grid_gradient(bowl, AXES_2D, out=out)
    assert isinstance(caught.value, KeyboardInterrupt) and caught.value.rows_done == 40 and caught.value.out is out
    np.testing.assert_array_equal(out[:, :40], expected[:, :40])
    assert np.isnan(out[:, 40:]).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["direct", "through the buffer"])
def test_a_real_sigint_during_a_chunk_stops_after_the_finished_ones(dtype, monkeypatch):
    # Ctrl-C as the terminal sends it: SIGINT, while the third chunk runs. That
    # chunk is finished, written (also when it goes through the buffer) and counted.
    import signal

    expected = gradjit.grid_gradient(bowl, AXES_2D)
    monkeypatch.setattr(_chunks, "CHUNK_BYTES", 8 * 2 * 301 * 20)
    real, calls = numba_cpu.grid, []

    def sigint_during_the_third_chunk(*arguments, **options):
        calls.append(1)
        real(*arguments, **options)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(numba_cpu, "grid", sigint_during_the_third_chunk)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        out = np.full(expected.shape, np.nan, dtype=dtype)
        with pytest.raises(errors.GridInterrupted) as caught:
            gradjit.grid_gradient(bowl, AXES_2D, out=out)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert caught.value.rows_done == 60 and len(calls) == 3
    np.testing.assert_allclose(out[:, :60], expected[:, :60], rtol=1e-6 if dtype == np.float32 else 0)
    assert np.isnan(out[:, 60:]).all()


def test_progress_bar_counts_chunks(monkeypatch, capsys):
    monkeypatch.setattr(_chunks, "CHUNK_BYTES", 8 * 2 * 301 * 50)
    gradjit.grid_gradient(bowl, AXES_2D, progress=True)
    assert "5/5" in capsys.readouterr().err  # ceil(203 / 50) chunks


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extra_memory_is_bounded_by_one_chunk(dtype, monkeypatch):
    monkeypatch.setattr(_chunks, "CHUNK_BYTES", 2**20)
    axes = (np.linspace(-2, 2, 1000), np.linspace(-2, 2, 1000))
    out = np.empty((2, 1000, 1000), dtype=dtype)  # 16 MB (8 MB as float32)
    gradjit.grid_gradient(bowl, axes, out=out)  # compile and warm up
    tracemalloc.start()
    gradjit.grid_gradient(bowl, axes, out=out)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < (2**20 + 2**18 if dtype == np.float32 else 2**18)  # the buffer, if any, plus small change


BAD = [
    (lambda: gradjit.grid_gradient(bowl, AXES_2D, dtype=np.int32), errors.OptionError, "dtype must be np.float64 or np.float32"),
    (lambda: gradjit.grid_gradient(bowl, AXES_2D, out=[[0.0]]), errors.OptionError, "out must be an array"),
    (lambda: gradjit.grid_gradient(bowl, AXES_2D, out=np.empty((2, 301, 203))), errors.ShapeError, r"out must have shape \(2, 203, 301\)"),
    (lambda: gradjit.grid_gradient(bowl, AXES_2D, out=np.empty((2, 203, 301), dtype=np.int64)), errors.OptionError, "float64 or float32"),
]


@pytest.mark.parametrize("call, exception, message", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_arguments(call, exception, message):
    with pytest.raises(exception, match=message):
        call()
