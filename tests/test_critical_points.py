"""Classifying critical points by the Hessian's eigenvalues, and finding them all in a box."""

import numpy as np
import pytest

from gradjit import critical_points as cp
from gradjit import errors
from gradjit.problems import himmelblau


def saddle(x):
    return x[0] ** 2 - x[1] ** 2


def bowl(x):
    return x[0] ** 2 + 2.0 * x[1] ** 2


def dome(x):
    return -(x[0] ** 2) - 2.0 * x[1] ** 2


def quartic(x):
    return x[0] ** 4 + x[1] ** 2


def saddle_with_a_flat_direction(x):
    return x[0] ** 2 - x[1] ** 2 + x[2] ** 4


def linear(x):
    return x[0] + 2.0 * x[1]


@pytest.mark.parametrize("f, point, kind, eigenvalues", [
    (saddle, [0.0, 0.0], "saddle", [-2.0, 2.0]),
    (bowl, [0.0, 0.0], "minimum", [2.0, 4.0]),
    (dome, [0.0, 0.0], "maximum", [-4.0, -2.0]),
    (quartic, [0.0, 0.0], "degenerate", [0.0, 2.0]),  # Hessian diag(0, 2): second order cannot tell
    (saddle_with_a_flat_direction, [0.0, 0.0, 0.0], "saddle", [-2.0, 0.0, 2.0]),  # one up, one down: a saddle whatever the zero
])
def test_known_points(f, point, kind, eigenvalues):
    result = cp.classify(f, point)
    assert result.kind == kind and isinstance(result.kind, str)
    np.testing.assert_allclose(result.eigenvalues, eigenvalues, atol=1e-6)  # ascending, as the Hessian's


def test_a_batch_gives_an_array_of_kinds_with_the_eigenvalues():
    result = cp.classify(bowl, np.zeros((2, 3, 2)))
    assert result.kind.shape == (2, 3) and (result.kind == "minimum").all()
    np.testing.assert_allclose(result.eigenvalues, np.broadcast_to([2.0, 4.0], (2, 3, 2)), atol=1e-6)
    assert result.hessian.shape == (2, 3, 2, 2)


def test_himmelblau_has_four_minima_four_saddles_and_one_maximum():
    found = cp.find(himmelblau, [(-5, 5), (-5, 5)], n=20)
    assert found.kind.tolist() == ["minimum"] * 4 + ["saddle"] * 4 + ["maximum"]
    minima = {(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)}
    for point in found.points[:4]:
        assert min(np.max(np.abs(point - np.array(m))) for m in minima) < 1e-5
    np.testing.assert_allclose(found.value[:4], 0.0, atol=1e-12)
    np.testing.assert_allclose(found.points[-1], [-0.270845, -0.923039], atol=1e-5)
    assert found.starts.sum() <= 400 and "9 critical points" in repr(found)


def test_the_saddle_of_the_seeds_is_found_and_a_linear_function_has_none():
    found = cp.find(saddle, [(-2, 2), (-3, 3)], n=6)
    assert found.kind.tolist() == ["saddle"] and np.allclose(found.points, 0.0, atol=1e-8)
    assert len(cp.find(linear, [(-1, 1), (-1, 1)], n=4)) == 0


BAD = [
    (lambda: cp.find(bowl, [(1, -1), (0, 1)]), errors.OptionError, "low < high"),
    (lambda: cp.find(bowl, [(0, 1), (0, 1)], n=0), errors.OptionError, "n must be an integer"),
    (lambda: cp.classify(bowl, [0.0, 0.0], tolerance=2.0), errors.OptionError, "tolerance"),
    (lambda: cp.find(bowl, [(0, 1)] * 6, n=20), errors.OptionError, "choose a smaller n"),
    (lambda: cp.find(bowl, [1, 2]), errors.OptionError, "pairs"),  # numbers, not pairs
    (lambda: cp.find(bowl, [(0, 1), (0, 1, 2)]), errors.OptionError, "pairs"),
]


@pytest.mark.parametrize("call, exception, message", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_bad_arguments(call, exception, message):
    with pytest.raises(exception, match=message):
        call()


def _group_one_by_one(points, tolerance):
    """group() written as its definition: each point joins the first group whose first point is near."""
    labels, firsts = [], []
    for point in points:
        for k, first in enumerate(firsts):
            if np.max(np.abs(point - first)) <= tolerance:
                labels.append(k)
                break
        else:
            labels.append(len(firsts))
            firsts.append(point)
    return np.array(labels), np.array(firsts)


def test_group_matches_its_one_by_one_definition():
    rng = np.random.default_rng(3)
    # Clusters closer together than twice the tolerance, so that points sit near two groups' first points.
    points = rng.integers(0, 6, (2000, 2)) * 1.5e-3 + rng.uniform(-1e-3, 1e-3, (2000, 2))
    points[::97] = np.nan
    labels, firsts = cp.group(points, 1e-3)
    expected_labels, expected_firsts = _group_one_by_one(points, 1e-3)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_array_equal(firsts, expected_firsts)
