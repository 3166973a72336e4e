"""gradient(method=...): one-sided stencils of each order and the complex step, against
analytic derivatives with tolerances from their error orders; parity with the reference."""

import math

import numpy as np
import pytest

import gradjit
from gradjit import errors
from gradjit.problems import PROBLEMS, kink_coverage
from gradjit.stencils import one_sided_weights

EPS = np.finfo(float).eps


def wave(x):
    # x0 * x0 * x0, not x0 ** 3: Numba's complex power goes through exp and log,
    # which loses the complex step's tiny imaginary part for a negative base.
    return np.sin(x[0]) * np.exp(x[1]) + x[0] * x[0] * x[0] * x[2] - np.cos(x[1] * x[2])


def wave_gradient(x):
    a, b, c = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([
        np.cos(a) * np.exp(b) + 3 * a**2 * c,
        np.sin(a) * np.exp(b) + c * np.sin(b * c),
        a**3 + b * np.sin(b * c),
    ], axis=-1)


POINTS = np.random.default_rng(0).uniform(-1.5, 1.5, (200, 3))
EXACT = wave_gradient(POINTS)


def relative(g):
    return np.abs(g - EXACT) / np.maximum(1.0, np.abs(EXACT))


@pytest.mark.parametrize("method", ["forward", "backward"])
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_one_sided_stencils_reach_the_accuracy_of_their_order(method, order):
    # Truncation ~ h^p and rounding ~ eps/h balance at ~ eps^(p/(p+1)); allow a
    # factor of 300 for the constants (derivatives of order p+1 of the test function).
    errors_ = relative(gradjit.gradient(wave, POINTS, method=method, order=order))
    assert np.median(errors_) < 300 * EPS ** (order / (order + 1))


def test_one_sided_weights_are_exact_on_polynomials():
    for order in range(1, 7):
        w = one_sided_weights(order)
        for degree in range(order + 1):
            assert math.isclose(sum(c * k**degree for k, c in enumerate(w)), 1.0 if degree == 1 else 0.0, abs_tol=1e-12)


def test_the_complex_step_is_exact_to_rounding():
    errors_ = relative(gradjit.gradient(wave, POINTS, method="complex"))
    assert np.median(errors_) <= 1e-15 and errors_.max() < 1e-14


@pytest.mark.parametrize("method, order", [("forward", 2), ("backward", 3), ("complex", 2)])
def test_parity_with_the_reference(method, order):
    fast = gradjit.gradient(wave, POINTS[:20], method=method, order=order)
    reference = gradjit.gradient(wave, POINTS[:20], method=method, order=order, backend="numpy")
    # f itself rounds differently in Numba and NumPy (1 ulp), amplified by 1/h.
    np.testing.assert_allclose(fast, reference, rtol=1e-9, atol=1e-9)


def half_line(x):
    # Defined for x0 >= 0 only (NaN to the left), like sqrt or log at the edge of their domain.
    return x[0] * x[0] + x[0] + x[1] if x[0] >= 0.0 else np.nan


def test_one_sided_stencils_stay_on_their_side():
    at_edge = np.array([0.0, 1.0])
    assert np.isnan(gradjit.gradient(half_line, at_edge)[0])  # central steps off the domain
    np.testing.assert_allclose(gradjit.gradient(half_line, at_edge, method="forward", order=2), [1.0, 1.0], atol=1e-9)
    assert np.isnan(gradjit.gradient(half_line, at_edge, method="backward", order=2)[0])


BAD = [
    (lambda: gradjit.gradient(wave, POINTS[0], method="secant"), errors.OptionError, "method must be one of"),
    (lambda: gradjit.gradient(wave, POINTS[0], method="forward", order=7), errors.OrderError, "forward stencils"),
    (lambda: gradjit.gradient(wave, POINTS[0], method="central", order=3), errors.OrderError, "central stencils"),
    (lambda: gradjit.gradient(wave, POINTS[0], method="complex", order=4), errors.OrderError, "leave order=2"),
    (lambda: gradjit.gradient(lambda x: abs(x[0]), [1.0], method="complex"), errors.ObjectiveError, "complex result"),
    (lambda: gradjit.gradient(lambda x: math.sin(x[0]), [1.0], method="complex"), errors.CompileError, "complex128"),
    (lambda: gradjit.gradient(wave, POINTS, method="forward", backend="numpy", vectorized=True), errors.OptionError, "vectorized"),
]


@pytest.mark.parametrize("call, exception, message", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_arguments(call, exception, message):
    with pytest.raises(exception, match=message):
        call()


def test_richardson_is_near_machine_precision_and_its_error_estimates_hold():
    estimate, error = gradjit.gradient(wave, POINTS, method="richardson", full_output=True)
    assert estimate.shape == error.shape == POINTS.shape
    assert np.median(relative(estimate)) < 1e-13
    assert (np.abs(estimate - EXACT) <= error).mean() >= 0.95


def test_richardson_on_the_suite():
    from gradjit.problems import relative_errors, richardson_coverage

    e = relative_errors(2, n=100, method="richardson")
    # The targets of issue 7: 99th percentile <= 5e-13, worst <= 5e-12, estimates
    # that hold for >= 95%. Measured here (seed 11, 100 points): median 1.7e-15,
    # 99th percentile 2.8e-13, worst 1.8e-12, estimates hold for 99.9%.
    assert np.median(e) < 1e-14 and np.quantile(e, 0.99) <= 5e-13 and e.max() <= 5e-12
    assert richardson_coverage(n=100) >= 0.95


def test_the_accuracy_benchmark_measures_what_the_readme_quotes():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "accuracy.py"
    spec = importlib.util.spec_from_file_location("accuracy_benchmark", path)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    label, run, with_error = next(r for r in benchmark.gradjit_runs() if r[0] == "gradjit richardson")
    row = benchmark.measure(label, run, points=50, with_error=with_error)
    assert row["p99"] <= 5e-13 and row["worst"] <= 5e-12 and row["bound_holds"] >= 0.95
    assert row["seconds_per_10k"] > 0


def test_richardson_parity_and_out():
    out = np.empty((20, 3))
    fast, fast_error = gradjit.gradient(wave, POINTS[:20], method="richardson", full_output=True, out=out)
    reference, reference_error = gradjit.gradient(wave, POINTS[:20], method="richardson", full_output=True, backend="numpy")
    assert fast is out
    np.testing.assert_allclose(fast, reference, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fast_error, reference_error, rtol=1e-3, atol=1e-12)


def test_full_output_needs_richardson():
    with pytest.raises(errors.OptionError, match="method='richardson'"):
        gradjit.gradient(wave, POINTS[0], full_output=True)


def inside_the_box(x):
    # Smooth, but raises if evaluated outside [0, 2] x [-1, 1].
    if x[0] < 0.0 or x[0] > 2.0 or x[1] < -1.0 or x[1] > 1.0:
        raise ValueError("evaluated outside the bounds")
    return np.exp(x[0]) * np.cos(x[1]) + x[0] * x[1] * x[1]


def inside_the_box_gradient(X):
    a, b = X[:, 0], X[:, 1]
    return np.stack([np.exp(a) * np.cos(b) + b * b, -np.exp(a) * np.sin(b) + 2 * a * b], axis=1)


BOX = ([0.0, -1.0], [2.0, 1.0])
# Corners, edges, points a hair inside, and ordinary points.
EDGES = np.array([[0.0, -1.0], [2.0, 1.0], [0.0, 0.3], [1.2, 1.0], [1e-9, -1.0 + 1e-9], [2.0 - 1e-7, 0.0], [1.0, 0.5], [0.5, -0.25]])


@pytest.mark.parametrize("method, order, tolerance", [("central", 2, 1e-6), ("central", 4, 1e-8), ("central", 8, 1e-8),
                                                      ("richardson", 2, 1e-12)])
def test_bounds_are_never_crossed(method, order, tolerance, backend):
    with pytest.raises(ValueError, match="outside the bounds"):
        gradjit.gradient(inside_the_box, EDGES[:1], method=method, order=order, backend=backend)  # no bounds: it does
    g = gradjit.gradient(inside_the_box, EDGES, method=method, order=order, bounds=BOX, backend=backend)
    np.testing.assert_allclose(g, inside_the_box_gradient(EDGES), atol=tolerance * 10)


def test_bounded_richardson_error_estimates_hold_next_to_the_bounds():
    X = np.random.default_rng(6).uniform([0.0, -1.0], [2.0, 1.0], (300, 2))
    X[::3, 0] = 0.0  # a third on the lower bound of x0
    g, error = gradjit.gradient(inside_the_box, X, method="richardson", full_output=True, bounds=BOX)
    exact = inside_the_box_gradient(X)
    assert np.max(np.abs(g - exact)) < 1e-11  # measured 3e-13
    assert (np.abs(g - exact) <= error).mean() >= 0.95


def test_bounded_richardson_keeps_central_steps_that_fit_and_turns_one_sided_at_the_bound():
    seen = []

    def recording(x):
        seen.append(x[0])
        return math.exp(x[0])

    # 0.3 of room on both sides: the steps that fit (0.216 down) stay central.
    g, error = gradjit.gradient(recording, [0.5], method="richardson", full_output=True, bounds=(0.2, 0.8), backend="numpy")
    offsets = np.array(seen[1:]) - 0.5
    assert offsets.min() < 0 < offsets.max() and np.abs(offsets).max() <= 0.3
    assert abs(g[0] - math.exp(0.5)) < 1e-13 and error[0] < 1e-11
    # On the bound: one-sided, upward only.
    seen.clear()
    g = gradjit.gradient(recording, [0.2], method="richardson", bounds=(0.2, 0.8), backend="numpy")
    assert min(seen) == 0.2 and max(seen) <= 0.8
    assert abs(g[0] - math.exp(0.2)) < 1e-11
    # 1e-6 of room below: one-sided upward and central within the 1e-6 compete; the
    # one-sided wins here (central steps that small are mostly rounding).
    seen.clear()
    g, error = gradjit.gradient(recording, [0.2 + 1e-6], method="richardson", full_output=True, bounds=(0.2, 0.8),
                                backend="numpy")
    assert 0.2 <= min(seen) < 0.2 + 1e-6 and max(seen) <= 0.8
    assert abs(g[0] - math.exp(0.2 + 1e-6)) < 1e-11 and error[0] < 1e-10


@pytest.mark.parametrize("x", [1e-6, 1e-3, 0.05])
def test_bounded_richardson_near_a_bound_where_f_varies_on_the_scale_of_the_distance(x):
    # log x at 1e-3 with bounds (0, inf): no step of the usual sequence (1 down to 0.0013)
    # fits centrally and one-sided steps that large see log's curvature; central steps
    # from the distance to the bound down win the comparison of error estimates.
    d, error = gradjit.derivative(lambda t: np.log(t), x, method="richardson", full_output=True, bounds=(0.0, np.inf))
    assert abs(d * x - 1.0) < 1e-12 and abs(d - 1.0 / x) <= error


def _raises_outside_ulps(x):
    if x[0] < 1.0 - 2.0**-52 or x[0] > 1.0 + 7 * 2.0**-52:
        raise ValueError("evaluated outside the bounds")
    return x[0]


@pytest.mark.parametrize("method, order", [("central", 2), ("central", 4), ("central", 8), ("richardson", 2)])
def test_bounds_hold_where_rounding_would_carry_a_point_past_them(method, order, backend):
    # Bounds a few ulps apart: the one-sided step 7 ulp / 4 rounds up to 2 ulps, so a
    # check on s alone put the order-4 stencil's farthest point at 8 ulps, past the
    # bound (it did before the points themselves were checked).
    bounds = (1.0 - 2.0**-52, 1.0 + 7 * 2.0**-52)
    gradjit.gradient(_raises_outside_ulps, [1.0], method=method, order=order, bounds=bounds, backend=backend)


def test_richardson_skips_steps_where_f_is_nan():
    # log is NaN left of 0: the large steps from x = 0.05 give NaN and lose to the small ones.
    X = np.linspace(0.05, 3.0, 50)[:, None]
    g, error = gradjit.gradient(lambda x: np.log(x[0]), X, method="richardson", full_output=True)
    np.testing.assert_allclose(g[:, 0], 1.0 / X[:, 0], rtol=1e-12)
    assert np.all(np.isfinite(error))


def _log(t):
    return np.log(t)


@pytest.mark.parametrize("x", [1e-9, 1e-6, 1e-3, 0.01])
def test_richardson_shrinks_its_steps_where_the_large_ones_leave_the_domain(x, backend):
    # Without bounds every step of the usual sequence (1 down to 0.0013) reaches
    # below 0 from x <= 1e-3, where log is NaN: the sequence starts at the first
    # step that gives a finite quotient (measured: relative errors 5e-14 to 1.3e-13).
    d, error = gradjit.derivative(_log, x, method="richardson", full_output=True, backend=backend)
    assert abs(d * x - 1.0) < 1e-12 and abs(d - 1.0 / x) <= error


def test_richardson_where_f_is_nan_at_every_step_gives_nan_and_an_infinite_estimate(backend):
    d, error = gradjit.derivative(_log, [-1.0, 0.0], method="richardson", full_output=True, backend=backend)
    assert np.all(np.isnan(d)) and np.all(error == np.inf)


BAD_BOUNDS = [
    (lambda: gradjit.gradient(inside_the_box, [3.0, 0.0], bounds=BOX), "outside \\[0.0, 2.0\\]"),
    (lambda: gradjit.gradient(inside_the_box, [1.0, 0.0], bounds=([1.0, 0.0], [0.5, 1.0])), "lower < upper"),
    (lambda: gradjit.gradient(inside_the_box, [1.0, 0.0], bounds=(0.0,)), "pair"),
    (lambda: gradjit.gradient(inside_the_box, [1.0, 0.0], bounds=BOX, method="forward"), "bounds= applies to"),
]


@pytest.mark.parametrize("call, message", BAD_BOUNDS, ids=[f"case{i}" for i in range(len(BAD_BOUNDS))])
def test_bad_bounds(call, message):
    with pytest.raises(errors.OptionError, match=message):
        call()


def _cubic_wave(t):
    return np.sin(t) * np.exp(t) + t * t * t


@pytest.mark.parametrize("method, order, tolerance", [("central", 4, 1e-9), ("richardson", 2, 1e-13), ("forward", 4, 1e-8),
                                                      ("backward", 4, 1e-8), ("complex", 2, 1e-14)])
def test_derivative_takes_every_method(method, order, tolerance):
    t = np.linspace(-2.0, 2.0, 7)
    exact = np.cos(t) * np.exp(t) + np.sin(t) * np.exp(t) + 3 * t * t
    fast = gradjit.derivative(_cubic_wave, t, method=method, order=order)
    reference = gradjit.derivative(_cubic_wave, t, method=method, order=order, backend="numpy")
    assert fast.shape == t.shape
    np.testing.assert_allclose(fast, exact, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(fast, reference, rtol=1e-12, atol=1e-12)


def test_derivative_full_output_keeps_the_shape_of_x():
    d, error = gradjit.derivative(_cubic_wave, 0.5, method="richardson", full_output=True)
    assert np.ndim(d) == np.ndim(error) == 0 and abs(d - (np.cos(0.5) * np.exp(0.5) + np.sin(0.5) * np.exp(0.5) + 0.75)) <= error
    d, error = gradjit.derivative(_cubic_wave, [[0.5, 1.0]], method="richardson", full_output=True)
    assert d.shape == error.shape == (1, 2)
    with pytest.raises(errors.OptionError, match="method='richardson'"):
        gradjit.derivative(_cubic_wave, 0.5, full_output=True)
    with pytest.raises(errors.CompileError, match="complex128 number"):
        gradjit.derivative(lambda t: math.sin(t), 0.5, method="complex")


def test_richardson_error_estimates_cover_kinks_near_the_points():
    # Issue 15's kink suite: a ReLU network and a sum of |x_j - a_j| at random points,
    # then with half the points closer to a kink than Richardson's smallest step
    # (measured: 99.7% and 100% of entries bounded, 99.7% and 99.98% with points placed;
    # issue 15's target is 99%). Of the entries off by more than 1e-6 (57 and 0, 923
    # and 0), all but 1 and 2 are flagged by their estimate (those are off by < 1e-5).
    for (bad, flagged, coverage) in kink_coverage(20000, seed=0).values():
        assert coverage >= 0.99 and bad - flagged <= max(0.01 * bad, 3)
    for (bad, flagged, coverage) in kink_coverage(4000, seed=0, placed=True).values():
        assert coverage >= 0.99 and bad - flagged <= max(0.01 * bad, 3)


def test_richardson_error_estimates_stay_tight_where_f_is_smooth():
    # The kink tests never fire on the smooth suite: no estimate grows to a kink's size.
    for problem in PROBLEMS.values():
        for d in [2] if problem.dims else [2, 5]:
            X = problem.sample(400, d, seed=11)
            _, error = gradjit.gradient(problem.f, X, method="richardson", full_output=True)
            assert np.max(error / np.maximum(1.0, np.abs(problem.gradient(X)))) < 1e-8, problem.name
