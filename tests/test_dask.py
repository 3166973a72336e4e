"""gradjit.dask: lazy grids and batches equal the in-memory results on Dask's
threaded scheduler and on a LocalCluster of processes; zarr round trip; chunk edges."""

import subprocess
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import dask

import gradjit
import gradjit.dask
from gradjit import errors
from gradjit.problems import himmelblau


def wavy(x):
    return np.sin(x[0]) * np.cos(x[1]) + x[2] * x[0]


AXES_2D = (np.linspace(-5, 5, 301), np.linspace(-4, 4, 203))
AXES_3D = (np.linspace(-1, 1, 7), np.linspace(0, 2, 5), np.linspace(-3, 3, 4))


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("chunks", [(50, 64), 1000, "auto"])
def test_grid_equals_the_in_memory_result(indexing, chunks):
    lazy = gradjit.dask.grid_gradient(himmelblau, AXES_2D, chunks=chunks, indexing=indexing)
    expected = gradjit.grid_gradient(himmelblau, AXES_2D, indexing=indexing)
    assert lazy.shape == expected.shape and lazy.numblocks[0] == 1
    with dask.config.set(scheduler="threads", num_workers=4):  # blocks computed concurrently
        np.testing.assert_array_equal(lazy.compute(), expected)


def test_one_point_chunks_in_3d():
    lazy = gradjit.dask.grid_gradient(wavy, AXES_3D, chunks=1, indexing="ij")
    assert lazy.numblocks == (1, 7, 5, 4)
    np.testing.assert_array_equal(lazy.compute(scheduler="threads"), gradjit.grid_gradient(wavy, AXES_3D, indexing="ij"))


def test_float32_blocks():
    lazy = gradjit.dask.grid_gradient(himmelblau, AXES_2D, chunks=100, dtype=np.float32)
    assert lazy.dtype == np.float32
    np.testing.assert_array_equal(lazy.compute(), gradjit.grid_gradient(himmelblau, AXES_2D, dtype=np.float32))


def test_points_chunked_along_n_and_d():
    X = np.random.default_rng(0).uniform(-5, 5, (1001, 2))
    lazy = gradjit.dask.gradient(himmelblau, da.from_array(X, chunks=(300, 1)))
    assert lazy.chunks == ((300, 300, 300, 101), (2,))
    np.testing.assert_array_equal(lazy.compute(scheduler="threads"), gradjit.gradient(himmelblau, X))


def test_zarr_round_trip(tmp_path):
    pytest.importorskip("zarr")
    lazy = gradjit.dask.grid_gradient(himmelblau, AXES_2D, chunks=(64, 100))
    lazy.to_zarr(str(tmp_path / "grad.zarr"))
    back = da.from_zarr(str(tmp_path / "grad.zarr"))
    assert back.chunks == lazy.chunks  # read back lazily, block by block
    np.testing.assert_array_equal(back.compute(), gradjit.grid_gradient(himmelblau, AXES_2D))


def test_local_cluster_of_two_processes():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        lazy = gradjit.dask.grid_gradient(himmelblau, AXES_2D, chunks=(64, 100))
        np.testing.assert_array_equal(client.compute(lazy).result(), gradjit.grid_gradient(himmelblau, AXES_2D))
        # A function defined here is shipped by value (cloudpickle) and compiled in each worker.
        points = da.from_array(np.random.default_rng(1).normal(size=(500, 3)), chunks=(100, 3))
        lazy_points = gradjit.dask.gradient(lambda x: x[0] * x[1] + x[2] ** 3, points)
        expected = gradjit.gradient(lambda x: x[0] * x[1] + x[2] ** 3, points.compute())
        np.testing.assert_array_equal(client.compute(lazy_points).result(), expected)
        workers = client.run(lambda: sorted({"gradjit"} & set(sys.modules)))
        assert len(workers) == 2 and all(v == ["gradjit"] for v in workers.values())


BAD = [
    (lambda: gradjit.dask.grid_gradient(himmelblau, AXES_2D, chunks=(1, 2, 3)), errors.OptionError, "does not fit the grid"),
    (lambda: gradjit.dask.grid_gradient(himmelblau, AXES_2D, dtype=np.int8), errors.OptionError, "dtype must be"),
    (lambda: gradjit.dask.grid_gradient(himmelblau, AXES_2D, order=3), errors.OrderError, "order"),
    (lambda: gradjit.dask.gradient(himmelblau, da.ones(5)), errors.ShapeError, r"shape \(N, d\)"),
    (lambda: gradjit.dask.gradient(himmelblau, da.ones((5, 2)), h=np.ones(3)), errors.StepError, r"shape \(2,\)"),
]


@pytest.mark.parametrize("call, exception, message", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_arguments_fail_before_anything_is_computed(call, exception, message):
    with pytest.raises(exception, match=message):
        call()


def test_without_dask_the_module_says_what_to_install():
    code = ("import sys; sys.modules['dask'] = None; sys.modules['dask.array'] = None\n"
            "import gradjit\n"
            "try:\n    import gradjit.dask\nexcept ImportError as e:\n    print(e)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'pip install "gradjit[dask]"' in shown


def test_methods_and_bounds_reach_the_blocks():
    lazy = gradjit.dask.grid_gradient(wavy, AXES_3D, chunks=3, indexing="ij", method="richardson")
    np.testing.assert_array_equal(lazy.compute(), gradjit.grid_gradient(wavy, AXES_3D, indexing="ij", method="richardson"))
    box = ([-1.0, 0.0, -3.0], [1.0, 2.0, 3.0])  # the grid's own extent: its edges go one-sided
    lazy = gradjit.dask.grid_gradient(wavy, AXES_3D, chunks=3, indexing="ij", bounds=box)
    np.testing.assert_array_equal(lazy.compute(), gradjit.grid_gradient(wavy, AXES_3D, indexing="ij", bounds=box))
    X = np.random.default_rng(3).uniform(-1, 1, size=(50, 3))
    lazy = gradjit.dask.gradient(wavy, da.from_array(X, chunks=20), method="forward", order=3)
    np.testing.assert_array_equal(lazy.compute(), gradjit.gradient(wavy, X, method="forward", order=3))
    with pytest.raises(errors.OptionError, match="outside"):
        gradjit.dask.gradient(wavy, da.from_array(X * 3, chunks=20), bounds=(-1.0, 1.0)).compute()


def test_x_scale_reaches_the_blocks():
    lazy = gradjit.dask.grid_gradient(wavy, AXES_3D, chunks=3, indexing="ij", x_scale="auto")
    np.testing.assert_array_equal(lazy.compute(), gradjit.grid_gradient(wavy, AXES_3D, indexing="ij", x_scale="auto"))
    X = np.random.default_rng(4).uniform(-1e-3, 1e-3, size=(50, 3))
    lazy = gradjit.dask.gradient(wavy, da.from_array(X, chunks=20), x_scale=1e-3)
    np.testing.assert_array_equal(lazy.compute(), gradjit.gradient(wavy, X, x_scale=1e-3))
    with pytest.raises(errors.OptionError, match="not 'auto'"):
        gradjit.dask.gradient(wavy, da.from_array(X, chunks=20), x_scale="auto")
