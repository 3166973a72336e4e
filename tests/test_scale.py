"""Steps that follow the units of x (issue 15): ``x_scale=`` (a typical magnitude per
coordinate, or ``"auto"`` from the points) gives functions of variables near 1e-6 or 1e6
the relative accuracy they have near 1, for every method, the Hessian and the Jacobian;
Richardson finds the scale of f itself."""

import numba
import numpy as np
import pytest

import gradjit
from gradjit import problems
from gradjit.problems import PROBLEMS

_ROSENBROCK = numba.njit(PROBLEMS["rosenbrock"].f)
_BEALE = numba.njit(PROBLEMS["beale"].f)


def rosenbrock_in_units(y, s):
    """Rosenbrock of ``x = y / s``: the same function with x measured in units of 1/s."""
    return _ROSENBROCK(y / s)


def beale_in_units(y, s):
    return _BEALE(y / s)


CASES = [("rosenbrock", rosenbrock_in_units, 3), ("beale", beale_in_units, 2)]
METHODS = [{"order": 2}, {"order": 8}, {"method": "richardson"}, {"method": "forward", "order": 4}]


def relative_errors(found, exact):
    return np.abs(found - exact) / np.maximum(1.0, np.abs(exact))


@pytest.mark.parametrize("scale", [1e-6, 1e6])
@pytest.mark.parametrize("options", METHODS, ids=lambda o: "-".join(map(str, o.values())))
@pytest.mark.parametrize("name, f, d", CASES, ids=[c[0] for c in CASES])
def test_a_change_of_units_keeps_the_relative_accuracy(name, f, d, options, scale):
    # The gradient in the new units is the old one over s: with x_scale = s (or "auto",
    # read from the points) every step scales with s, and the accuracy is that at s = 1.
    problem = PROBLEMS[name]
    X = problem.sample(100, d, seed=1)
    exact = problem.gradient(X)
    for x_scale, at_one_scale in ((scale, None), ("auto", "auto")):
        at_one = relative_errors(gradjit.gradient(f, X, args=(1.0,), x_scale=at_one_scale, **options), exact)
        found = relative_errors(gradjit.gradient(f, scale * X, args=(scale,), x_scale=x_scale, **options) * scale, exact)
        assert np.median(found) <= 10 * max(np.median(at_one), 1e-15)
        assert found.max() <= 10 * max(at_one.max(), 1e-14)


def test_without_x_scale_the_steps_assume_order_one():
    # The documented limit of the default: near 1e-6 its steps (1e-5 and more) dwarf x.
    X = PROBLEMS["rosenbrock"].sample(100, 3, seed=1)
    exact = PROBLEMS["rosenbrock"].gradient(X)
    found = relative_errors(gradjit.gradient(rosenbrock_in_units, 1e-6 * X, args=(1e-6,)) * 1e-6, exact)
    assert np.median(found) > 1e-3


def test_auto_scale_cannot_tell_a_small_variable_from_one_near_zero():
    # Why "auto" is not the default (gradjit.stencils.default_step, Notes): near the minimum
    # of 1 + x**2 at x = 1e-8 its steps of 6e-14 are below what 1 + x**2 resolves.
    def offset_bowl(x):
        return 1.0 + x[0] * x[0]

    assert abs(gradjit.gradient(offset_bowl, [1e-8])[0] - 2e-8) <= 1e-10
    assert gradjit.gradient(offset_bowl, [1e-8], x_scale="auto")[0] == 0.0


def test_x_scale_gives_the_default_steps_at_one_and_scales_them():
    x = np.array([0.25, -3.0, 0.0])
    default = gradjit._spec.resolve(3, points=x[None])
    assert np.array_equal(default.typical, [1.0, 1.0, 1.0])
    auto = gradjit._spec.resolve(3, points=np.array([[0.25, -3.0, 0.0], [-0.5, 1.0, 0.0]]), x_scale="auto")
    assert np.array_equal(auto.typical, [0.5, 3.0, 3.0])  # a coordinate 0 everywhere takes the largest |x|
    f = problems.exp_cos
    np.testing.assert_array_equal(gradjit.gradient(f, x), gradjit.gradient(f, x, x_scale=1.0))


def log(t):
    return np.log(t)


@pytest.mark.parametrize("method", ["central", "richardson", "complex"])
def test_log_near_zero_with_auto_scale(method):
    # The case: d log / dx at 1e-3 was off by 3e-6 (central) with unit-scale steps.
    found = gradjit.derivative(log, 1e-3, method=method, x_scale="auto")
    assert abs(found - 1e3) / 1e3 <= {"central": 1e-9, "richardson": 1e-13, "complex": 1e-15}[method]


_ACKLEY = numba.njit(PROBLEMS["ackley"].f)


def ackley_in_units(y, s):
    return _ACKLEY(y / s)


def gaussian_in_units(y, s):
    return np.exp(-np.sum((y / s) ** 2))


def _gaussian_gradient(X):
    return -2.0 * X * np.exp(-np.sum(X**2, axis=1))[:, None]


UNIT_CASES = [("rosenbrock", rosenbrock_in_units, 3, PROBLEMS["rosenbrock"].gradient),
              ("ackley", ackley_in_units, 2, PROBLEMS["ackley"].gradient),
              ("gaussian", gaussian_in_units, 2, _gaussian_gradient)]


@pytest.mark.parametrize("scale", [1e-6, 1e6])
@pytest.mark.parametrize("name, f, d, gradient", UNIT_CASES, ids=[c[0] for c in UNIT_CASES])
def test_richardson_finds_the_scale_of_f_without_x_scale(name, f, d, gradient, scale):
    # Richardson's steps slide down past the planned ones while the best estimate is above
    # rounding: in units of 1e-6 the planned steps (1 down to 1e-3) are far beyond f's
    # scale (the Gaussian is flat there, 0 at every step; Ackley's cos(2 pi x) aliases),
    # and the slide reaches it. In units of 1e6 the steps scale with |x| already.
    X = PROBLEMS["ackley"].sample(200, d, seed=3) if name != "rosenbrock" else PROBLEMS[name].sample(200, d, seed=3)
    exact = gradient(X)
    found, estimate = gradjit.gradient(f, scale * X, args=(scale,), method="richardson", full_output=True)
    errors = relative_errors(found * scale, exact)
    assert np.median(errors) <= 1e-13 and errors.max() <= 1e-10
    # No confident wrong value: every error beyond rounding is within its estimate.
    wrong = np.abs(found * scale - exact)
    assert np.all((wrong <= estimate * scale) | (errors <= 1e-11))


def test_richardson_beside_a_bound_finds_the_scale_of_log():
    # The planned steps (1 down to 1e-3) are all beyond log's scale at 1e-3: before the
    # slide this gave 67 with an estimate of 40. It slides on to where log is smooth.
    found, estimate = gradjit.derivative(log, 1e-3, bounds=(1e-3, 2.0), method="richardson", full_output=True)
    assert abs(found - 1e3) <= 1e-9 * 1e3 and abs(found - 1e3) <= estimate


def fast_wave(t, w):
    return np.sin(w * t)


def test_where_the_slide_runs_out_the_estimate_says_so():
    # sin(1e12 t) at 0.5: f's scale (1e-12) is at the end of the slide's reach (0.6**54
    # is 1e-12). The result is 1% off, and the estimate (40% of the value) says so.
    found, estimate = gradjit.derivative(fast_wave, 0.5, args=(1e12,), method="richardson", full_output=True)
    exact = 1e12 * np.cos(0.5e12)
    assert abs(found - exact) <= estimate and estimate >= 1e-3 * abs(exact)


def morse_chain(x, depth, rest):
    """Energy of particles on a line, neighbours bound by Morse potentials
    ``depth (1 - exp(-(r - rest) / rest))**2`` of range ``rest``."""
    total = 0.0
    for i in range(x.shape[0] - 1):
        e = 1.0 - np.exp(-(x[i + 1] - x[i] - rest) / rest)
        total += depth * e * e
    return total


def morse_chain_hessian(x, depth, rest):
    d, a = x.size, 1.0 / rest
    H = np.zeros((d, d))
    for i in range(d - 1):
        e = np.exp(-a * (x[i + 1] - x[i] - rest))
        c = 2.0 * depth * a * a * e * (2.0 * e - 1.0)  # V''(r)
        H[i, i] += c
        H[i + 1, i + 1] += c
        H[i, i + 1] -= c
        H[i + 1, i] -= c
    return H


#: Largest error relative to max |H| with x_scale = 1e-6 (the units' scale) and "auto" (the
#: largest |x|, here 1.2e-5: four spacings, so steps four times longer than with 1e-6).
SI_TOLERANCES = {"order 2": ({"order": 2}, 1e-6, 1e-4), "order 8": ({"order": 8}, 1e-10, 1e-6),
                 "richardson": ({"method": "richardson"}, 1e-12, 1e-10)}


@pytest.mark.parametrize("name", SI_TOLERANCES)
def test_the_hessian_of_an_energy_in_si_units(name):
    # Particles about 3 micrometres apart (positions in metres) bound by Morse potentials
    # of that range: the unit-scale step of 1.2e-4 m is 40 times the spacing.
    options, given, auto = SI_TOLERANCES[name]
    rest = 2.8e-6
    x = rest * np.arange(5) * 1.1 + np.random.default_rng(0).normal(scale=1e-7, size=5)
    exact = morse_chain_hessian(x, 1e-19, rest)
    scale = np.abs(exact).max()
    for x_scale, tolerance in ((1e-6, given), ("auto", auto)):
        H = gradjit.hessian(morse_chain, x, args=(1e-19, rest), x_scale=x_scale, **options)
        assert np.abs(H - exact).max() <= tolerance * scale
    if name != "richardson":  # what the unit-scale steps give: garbage (Richardson: 1e-4)
        unit = gradjit.hessian(morse_chain, x, args=(1e-19, rest), **options)
        assert not np.abs(unit - exact).max() <= 1e-2 * scale


def test_the_jacobian_and_minimize_take_x_scale():
    def F(x):
        return np.array([x[0] * x[1], np.sin(x[0] / 1e-6)])

    x = np.array([2e-6, 3e-6])
    exact = np.array([[3e-6, 2e-6], [np.cos(2.0) / 1e-6, 0.0]])
    J = gradjit.jacobian(F, x, x_scale="auto", order=4)
    np.testing.assert_allclose(J, exact, rtol=1e-9, atol=1e-9 * np.abs(exact).max())
    result = gradjit.minimize(rosenbrock_in_units, [0.5e-6, 0.5e-6], args=(1e-6,), method="adam", lr=1e-8,
                              max_iter=3000, x_scale=1e-6, gtol=0.0)
    np.testing.assert_allclose(result.x, [1e-6, 1e-6], rtol=1e-3)


def mixed_in_units(y, s):
    """Three components of x = y / s: a Gaussian (flat at steps beyond its scale), a wave, a quartic."""
    x = y / s
    return np.array([np.exp(-(x[0] ** 2 + x[1] ** 2)), np.sin(x[0]) * x[1], x[0] ** 4 - x[1]])


def _mixed_jacobian(X):
    g = np.exp(-np.sum(X**2, axis=1))
    J = np.empty((X.shape[0], 3, 2))
    J[:, 0, 0], J[:, 0, 1] = -2.0 * X[:, 0] * g, -2.0 * X[:, 1] * g
    J[:, 1, 0], J[:, 1, 1] = np.cos(X[:, 0]) * X[:, 1], np.sin(X[:, 0])
    J[:, 2, 0], J[:, 2, 1] = 4.0 * X[:, 0] ** 3, -1.0
    return J


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_the_richardson_jacobian_finds_the_scale_of_each_component(scale):
    X = np.random.default_rng(1).uniform(-2.0, 2.0, (100, 2))
    exact = _mixed_jacobian(X)
    J, estimate = gradjit.jacobian(mixed_in_units, scale * X, args=(scale,), method="richardson", full_output=True)
    errors = relative_errors(J * scale, exact)
    assert np.median(errors) <= 1e-14 and errors.max() <= 1e-11
    assert np.all((np.abs(J * scale - exact) <= estimate * scale) | (errors <= 1e-11))


def log_and_product(x):
    return np.array([np.log(x[0]), x[0] * x[1]])


def test_the_richardson_jacobian_beside_a_bound_finds_the_scale_of_log():
    # As the gradient's: 67 with an estimate of 40 before the slide.
    J, estimate = gradjit.jacobian(log_and_product, [1e-3, 2.0], method="richardson", bounds=([1e-3, -5.0], [2.0, 5.0]),
                                   full_output=True)
    assert abs(J[0, 0] - 1e3) <= 1e-9 * 1e3 and abs(J[0, 0] - 1e3) <= estimate[0, 0]
