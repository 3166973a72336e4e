"""Accuracy against analytic gradients on the standard suite.

With the automatic step the error of an order-p stencil is ~ eps^(p/(p+1))
relative: 4e-11 (p=2) to 1e-14 (p=8). The bounds below leave a factor of about
10 to 100 for functions with large high derivatives.
"""

import numpy as np
import pytest

import gradjit
from gradjit.problems import PROBLEMS, relative_errors

MEDIAN_BOUND = {2: 1e-9, 4: 1e-11, 6: 1e-12, 8: 1e-12}
# Worst case over the suite: rounding (eps |f| / h) dominates where f is large.
WORST_BOUND = {2: 1e-6, 4: 1e-7, 6: 1e-7, 8: 1e-7}


@pytest.mark.parametrize("order", [2, 4, 6, 8])
def test_median_and_worst_relative_error(order):
    errors = relative_errors(order)
    assert np.median(errors) <= MEDIAN_BOUND[order]
    assert errors.max() <= WORST_BOUND[order]


def test_error_falls_with_the_order_at_the_automatic_step():
    medians = [np.median(relative_errors(order)) for order in (2, 4, 8)]
    assert medians[0] > 10 * medians[1] > 10 * medians[2] / 10  # strictly better, then at the rounding floor
    assert medians[2] < medians[0] / 100


def test_a_fixed_order_blind_step_misses_the_high_order_target():
    # The reason the automatic step depends on the order: with order 8 and the
    # order-2 step (~3e-6) rounding dominates and the median error is far above 1e-12.
    problem = PROBLEMS["styblinski_tang"]
    X = problem.sample(400, 3, seed=2)
    exact = problem.gradient(X)
    blind = gradjit.gradient(problem.f, X, order=8, h=3e-6)
    tuned = gradjit.gradient(problem.f, X, order=8)
    err = lambda g: np.median(np.abs(g - exact) / np.maximum(1, np.abs(exact)))
    assert err(blind) > 1e-11 and err(tuned) < 1e-13
