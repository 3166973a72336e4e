"""gradjit.plot on the Agg backend: the artists hold what they should, ax is honoured, no figure leaks."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import gradjit
from gradjit import errors
from gradjit import plot as gplot
from gradjit.problems import PROBLEMS


def bowl(x):
    return x[0] * x[0] + x[1] * x[1]


def saddle(x):
    return x[0] * x[0] - x[1] * x[1]


def cube(t):
    return t**3


@pytest.fixture(autouse=True)
def no_figure_leaks():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


def test_tangent_slope_is_the_derivative():
    ax = gplot.tangent(cube, 10.0, xlim=(0, 20))
    curve, line = ax.lines[0], ax.lines[1]
    t, y = line.get_data()
    slope = (y[-1] - y[0]) / (t[-1] - t[0])
    np.testing.assert_allclose(slope, gradjit.derivative(cube, 10.0), rtol=1e-12)
    np.testing.assert_allclose(curve.get_ydata(), curve.get_xdata() ** 3)
    assert "slope 300" in ax.get_legend().get_texts()[1].get_text()


def test_gradient_field_arrows_are_minus_the_gradient_on_the_grid():
    ax = gplot.gradient_field(bowl, xlim=(-2, 2), ylim=(-1, 3), n=9, arrows=25)
    quiver = ax.collections[-1]
    x, y = np.linspace(-2, 2, 9), np.linspace(-1, 3, 9)
    X, Y = np.meshgrid(x, y)
    np.testing.assert_allclose(quiver.U, (-2 * X).ravel(), atol=1e-8)
    np.testing.assert_allclose(quiver.V, (-2 * Y).ravel(), atol=1e-8)
    np.testing.assert_allclose(quiver.get_offsets(), np.column_stack([X.ravel(), Y.ravel()]))
    # To scale, and visible: the longest arrow is 0.9 of the spacing between arrows (0.5 here).
    assert quiver.scale_units == "xy"
    np.testing.assert_allclose(np.hypot(-2 * 2.0, -2 * 3.0) / quiver.scale, 0.9 * 0.5)
    assert ax.get_aspect() == 1.0


def test_a_large_field_is_computed_everywhere_and_thinned_for_drawing():
    ax = gplot.gradient_field(bowl, xlim=(-2, 2), ylim=(-2, 2), n=401, arrows=20, normalize=True, contour=False)
    quiver = ax.collections[-1]
    assert quiver.U.size == 20 * 20  # 20 of the 401 points per axis
    np.testing.assert_allclose(np.hypot(quiver.U, quiver.V)[np.hypot(quiver.U, quiver.V) > 0], 1.0)
    np.testing.assert_allclose(quiver.get_array()[-1], np.hypot(4.0, 4.0), rtol=1e-8)  # colour: |grad| at (2, 2)


def test_descent_paths_vertices_are_the_history():
    single = gradjit.minimize(bowl, [-3.0, 4.0], lr=0.1, max_iter=20, gtol=0.0)
    many = gradjit.minimize(bowl, np.array([[1.0, 1.0], [2.0, -1.0]]), lr=0.1, max_iter=50)
    ax = gplot.descent_paths(bowl, [single, many], labels=["one", "two"])
    paths = [line for line in ax.lines if line.get_linestyle() == "-"]
    np.testing.assert_array_equal(np.column_stack(paths[0].get_data()), single.history["x"])
    for i, line in enumerate(paths[1:]):
        expected = many.history["x"][: many.nit[i] + 1, i]
        np.testing.assert_array_equal(np.column_stack(line.get_data()), expected)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one", "two"]
    assert ax.get_aspect() == 1.0  # a round bowl looks round
    assert gplot.descent_paths(bowl, single, aspect="auto").get_aspect() == "auto"


def test_surface_lifts_paths_to_f():
    run = gradjit.minimize(saddle, [1.0, 1e-3], lr=0.05, max_iter=30, gtol=0.0)
    ax = gplot.surface(saddle, xlim=(-2, 2), ylim=(-2, 2), n=20, results=run)
    xs, ys, zs = ax.lines[0].get_data_3d()
    np.testing.assert_array_equal(np.column_stack([xs, ys]), run.history["x"])
    np.testing.assert_allclose(zs, run.history["fun"])
    assert ax.name == "3d"


def test_basins_colour_each_start_by_its_minimum():
    axis = np.linspace(-5, 5, 12)
    starts = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    run = gradjit.minimize(PROBLEMS["himmelblau"].f, starts, method="adam", lr=0.05, max_iter=3000)
    ax = gplot.basins(run, (12, 12))
    labels, minima = gplot.basin_labels(run.x, run.success)
    np.testing.assert_array_equal(ax.images[0].get_array(), labels.reshape(12, 12))
    assert len(minima) == 4
    assert ax.images[0].get_extent() == [-5.0, 5.0, -5.0, 5.0]


def test_the_given_axes_are_used():
    fig = Figure()
    ax = fig.add_subplot()
    assert gplot.tangent(cube, 1.0, xlim=(0, 2), ax=ax) is ax
    assert gplot.gradient_field(bowl, xlim=(-1, 1), ylim=(-1, 1), n=5, ax=ax) is ax
    run = gradjit.minimize(bowl, [1.0, 1.0], lr=0.1, max_iter=5)
    assert gplot.descent_paths(bowl, run, ax=ax) is ax
    ax3 = fig.add_subplot(projection="3d")
    assert gplot.surface(bowl, xlim=(-1, 1), ylim=(-1, 1), n=5, ax=ax3) is ax3


def test_the_benchmark_chart_has_a_panel_per_workload(tmp_path):
    from gradjit.bench import chart, runner

    # Made-up measurements: the chart is what is tested here (tests/test_bench.py runs the
    # benchmark itself and checks the chart it writes).
    def measured(workload, competitor, kind, evaluations, seconds, extrapolated=None):
        return runner.Measurement(workload, f"N={evaluations}", competitor, kind, evaluations, 2, evaluations, seconds,
                                  seconds, seconds, 3, seconds, None, extrapolated)

    results = runner.Results("smoke", "gradjit bench --smoke", {"cpu": "test"}, [
        measured(workload, competitor, kind, n, seconds * n, 10 if competitor == "classic loop" and n > 10 else None)
        for workload in ("sphere-grid", "rosenbrock")
        for competitor, kind, seconds in (("gradjit", "gradjit", 1e-9), ("classic loop", "competitor", 1e-6),
                                          ("compute floor", "floor", 5e-10))
        for n in (10, 1000)
    ])
    fig = chart.figure(results)
    assert [ax.get_title() for ax in fig.axes] == ["rosenbrock", "sphere-grid"]
    (tmp_path / "results.json").write_text(json.dumps(results.to_dict()))  # what report.write saves
    assert chart.figure(tmp_path / "results.json").axes[0].get_xscale() == "log"


BAD = [
    (lambda: gplot.tangent(cube, 1.0, xlim=(2, 1)), errors.OptionError, "low < high"),
    (lambda: gplot.gradient_field(bowl, xlim=(0, 1), ylim="wide"), errors.OptionError, "ylim must be a pair"),
    (lambda: gplot.gradient_field(bowl, xlim=(0, 1), ylim=(0, 1), n=1), errors.OptionError, "n must be an integer >= 2"),
    (lambda: gplot.descent_paths(bowl, gradjit.minimize(bowl, [1.0, 1.0], record=False)), errors.OptionError, "record=True"),
    (lambda: gplot.surface(bowl, xlim=(0, 1), ylim=(0, 1), ax=Figure().add_subplot()), errors.OptionError, "3-D Axes"),
    (lambda: gplot.basins(gradjit.minimize(bowl, np.ones((4, 2))), (3, 3)), errors.ShapeError, "rows \\* columns = 9"),
    (lambda: gplot.gradient_field(bowl, xlim=(0, 1), ylim=(0, 1), ax="here"), errors.OptionError, "matplotlib Axes"),
    (lambda: gplot.descent_paths(bowl, gradjit.minimize(bowl, [1.0, 1.0]), aspect="square"), errors.OptionError,
     "aspect must be"),
]


@pytest.mark.parametrize("call, exception, message", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_arguments(call, exception, message):
    with pytest.raises(exception, match=message):
        call()


def test_importing_gradjit_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, gradjit; print('matplotlib' in sys.modules); gradjit.plot; print('matplotlib' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert shown == ["False", "True"]
