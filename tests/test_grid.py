"""grid_gradient: the meshgrid is never built, but the result is the one it describes."""

import numpy as np
import pytest

import gradjit
from gradjit.problems import PROBLEMS


def gradient_on_meshgrid(f, axes, indexing, **options):
    mesh = np.meshgrid(*axes, indexing=indexing)
    points = np.stack(mesh, axis=-1)
    return np.moveaxis(gradjit.gradient(f, points, **options), -1, 0)


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("lengths", [(7,), (5, 9), (4, 3, 6), (1, 8), (8, 1), (2, 3, 1, 2)])
def test_grid_equals_gradient_at_the_meshgrid_points(indexing, lengths):
    d = len(lengths)
    f = PROBLEMS["styblinski_tang"].f
    axes = [np.linspace(-2.0 - i, 1.5 + i, n) for i, n in enumerate(lengths)]
    got = gradjit.grid_gradient(f, axes, indexing=indexing, order=4)
    expected = gradient_on_meshgrid(f, axes, indexing, order=4)
    assert got.shape == (d, *np.meshgrid(*axes, indexing=indexing)[0].shape)
    np.testing.assert_array_equal(got, expected)  # same points, same code: same bits
    np.testing.assert_array_equal(got, gradjit.grid_gradient(f, axes, indexing=indexing, order=4, backend="numpy"))


def test_large_grid_runs_in_parallel_and_is_exact_for_the_sphere():
    x0 = np.linspace(-2, 2, 301)
    x1 = np.linspace(-1, 3, 257)
    U, V = gradjit.grid_gradient(PROBLEMS["sphere"].f, (x0, x1))
    X, Y = np.meshgrid(x0, x1)
    np.testing.assert_allclose(U, 2 * X, rtol=0, atol=1e-9)
    np.testing.assert_allclose(V, 2 * Y, rtol=0, atol=1e-9)


def test_grid_feeds_quiver_as_in_the_seed():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x0 = np.arange(-2, 2.5, 0.25)
    x1 = np.arange(-2, 2.5, 0.25)
    U, V = gradjit.grid_gradient(PROBLEMS["sphere"].f, (x0, x1))
    X, Y = np.meshgrid(x0, x1)
    fig, ax = plt.subplots()
    q = ax.quiver(X, Y, -U, -V, angles="xy")
    np.testing.assert_allclose(q.U, (-2 * X).ravel(), atol=1e-9)
    plt.close(fig)


def test_uneven_axes_and_extra_arguments():
    def shifted(x, c):
        return (x[0] - c[0]) ** 2 + 3.0 * (x[1] - c[1]) ** 2

    x0 = np.array([-3.0, -1.0, 0.5, 4.0])
    x1 = np.geomspace(0.1, 10.0, 6)
    c = np.array([0.25, 2.0])
    U, V = gradjit.grid_gradient(shifted, (x0, x1), args=(c,), order=2)
    X, Y = np.meshgrid(x0, x1)
    np.testing.assert_allclose(U, 2 * (X - c[0]), atol=1e-8)
    np.testing.assert_allclose(V, 6 * (Y - c[1]), atol=1e-8)


def test_out_is_filled_in_place_and_returned():
    axes = (np.linspace(0, 1, 30), np.linspace(0, 2, 20))
    out = np.full((2, 20, 30), np.nan)
    result = gradjit.grid_gradient(PROBLEMS["saddle"].f, axes, out=out)
    assert result is out and np.isfinite(out).all()
    non_contiguous = np.full((2, 30, 20), np.nan).transpose(0, 2, 1)
    result = gradjit.grid_gradient(PROBLEMS["saddle"].f, axes, out=non_contiguous)
    assert result is non_contiguous
    np.testing.assert_array_equal(non_contiguous, out)


def test_empty_axis_gives_an_empty_grid():
    got = gradjit.grid_gradient(PROBLEMS["sphere"].f, (np.array([]), np.linspace(0, 1, 3)))
    assert got.shape == (2, 3, 0)
