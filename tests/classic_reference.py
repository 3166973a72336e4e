"""The classic NumPy code of the seeds ("Deep Learning from Scratch"), verbatim in
substance: the ground truth for gradjit.classic."""

import numpy as np


def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def _numerical_gradient_no_batch(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad


def numerical_gradient(f, X):
    if X.ndim == 1:
        return _numerical_gradient_no_batch(f, X)
    grad = np.zeros_like(X)
    for idx, x in enumerate(X):
        grad[idx] = _numerical_gradient_no_batch(f, x)
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    x_history = []
    for i in range(step_num):
        x_history.append(x.copy())
        grad = numerical_gradient(f, x)
        x -= lr * grad
    return x, np.array(x_history)


def function_2(x):
    if x.ndim == 1:
        return np.sum(x**2)
    return np.sum(x**2, axis=1)


def numerical_gradient_common(f, x):
    """The book's common/gradient.py: every element of an array of any shape."""
    h = 1e-4
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
        it.iternext()
    return grad


# scipy.misc.derivative (SciPy < 1.12), as its documentation and source describe it:
# the stencil of `order` points, tabulated for n = 1, 2 and orders 3..9, else from the
# inverse of the Vandermonde matrix of the offsets; f evaluated at x0 + (k - order//2) dx
# for k = 0..order-1, the weighted values summed in that order, divided by dx**n
# formed as a product. Written out for the tests, one stencil at a time.

SCIPY_TABLE = {
    (1, 3): [-0.5, 0.0, 0.5],
    (1, 5): [1 / 12, -8 / 12, 0.0, 8 / 12, -1 / 12],
    (1, 7): [-1 / 60, 9 / 60, -45 / 60, 0.0, 45 / 60, -9 / 60, 1 / 60],
    (1, 9): [3 / 840, -32 / 840, 168 / 840, -672 / 840, 0.0, 672 / 840, -168 / 840, 32 / 840, -3 / 840],
    (2, 3): [1.0, -2.0, 1.0],
    (2, 5): [-1 / 12, 16 / 12, -30 / 12, 16 / 12, -1 / 12],
    (2, 7): [2 / 180, -27 / 180, 270 / 180, -490 / 180, 270 / 180, -27 / 180, 2 / 180],
    (2, 9): [-9 / 5040, 128 / 5040, -1008 / 5040, 8064 / 5040, -14350 / 5040, 8064 / 5040, -1008 / 5040, 128 / 5040,
             -9 / 5040],
}


def scipy_misc_derivative(func, x0, dx=1.0, n=1, args=(), order=3):
    if (n, order) in SCIPY_TABLE:
        weights = SCIPY_TABLE[(n, order)]
    else:
        half = order // 2
        offsets = np.arange(-half, half + 1.0)
        vandermonde = np.array([[o ** k for k in range(order)] for o in offsets])
        factorial = 1
        for i in range(2, n + 1):
            factorial *= i
        weights = list(factorial * np.linalg.inv(vandermonde)[n])
    half = order // 2
    value = 0.0
    for k, weight in enumerate(weights):
        value += weight * func(x0 + (k - half) * dx, *args)
    divisor = dx
    for _ in range(n - 1):
        divisor = divisor * dx
    return value / divisor
