"""Textbook finite differences, written independently of ``gradjit.stencils``.

The test oracle: every backend is compared with these functions, so a mistake
in a formula that the NumPy reference and the kernels share (they run the same
``gradjit.stencils`` code) shows up as a disagreement here. Nothing is
imported from gradjit's formulas; only the method's parameters are taken as
given (the steps each coordinate uses, and Richardson's step ratio, count,
levels and rounding factor), because the tests compare formulas, not choices.

Weights come from a Vandermonde solve in floating point (gradjit solves in
rationals), every loop is explicit, Richardson is a plain full tableau, and
the Hessian is the textbook second difference. Everything is float64 and slow.
"""

from __future__ import annotations

import numpy as np

EPS = np.finfo(np.float64).eps


# Weights -----------------------------------------------------------------------


def central_weights(order: int) -> np.ndarray:
    """w_1..w_m of f'(x) ~ (1/h) sum_k w_k (f(x + k h) - f(x - k h)), from the Taylor
    conditions sum_k 2 w_k k^(2i-1) = [i == 1], i = 1..m (a Vandermonde system)."""
    m = order // 2
    k = np.arange(1, m + 1, dtype=np.float64)
    system = np.array([2.0 * k ** (2 * i - 1) for i in range(1, m + 1)])
    rhs = np.zeros(m)
    rhs[0] = 1.0
    return np.linalg.solve(system, rhs)


def forward_weights(order: int) -> np.ndarray:
    """c_0..c_p of f'(x) ~ (1/h) sum_k c_k f(x + k h): sum_k c_k k^n = [n == 1], n = 0..p."""
    k = np.arange(order + 1, dtype=np.float64)
    system = np.array([k**n for n in range(order + 1)])
    rhs = np.zeros(order + 1)
    rhs[1] = 1.0
    return np.linalg.solve(system, rhs)


# Steps -------------------------------------------------------------------------


def taken_step(x0: float, step: float, typical: float) -> float:
    """The step f actually sees: (x0 + s) - x0, with s = step * max(typical, |x0|) (the
    coordinate's typical magnitude, 1 by default), or step itself for typical < 0."""
    s = step * max(typical, abs(x0)) if typical >= 0 else step
    return (x0 + s) - x0


def _at(f, x: np.ndarray, j: int, value: float, args: tuple):
    y = np.array(x, dtype=np.result_type(x, value))
    y[j] = value
    return f(y, *args)


# Gradients ---------------------------------------------------------------------


def central(f, X: np.ndarray, steps: np.ndarray, typical: np.ndarray, order: int, args: tuple = ()) -> np.ndarray:
    """The central difference of the given order at every row of X (N, d)."""
    w = central_weights(order)
    out = np.empty(X.shape)
    for i, x in enumerate(X):
        for j in range(x.size):
            h = taken_step(x[j], steps[j], typical[j])
            total = 0.0
            for k in range(1, w.size + 1):
                total += w[k - 1] * (_at(f, x, j, x[j] + k * h, args) - _at(f, x, j, x[j] - k * h, args))
            out[i, j] = total / h
    return out


def one_sided(f, X: np.ndarray, steps: np.ndarray, typical: np.ndarray, order: int, direction: float, args: tuple = ()) -> np.ndarray:
    """Forward (direction +1) or backward (-1) differences of the given order."""
    c = forward_weights(order)
    out = np.empty(X.shape)
    for i, x in enumerate(X):
        for j in range(x.size):
            h = taken_step(x[j], direction * steps[j], typical[j])
            out[i, j] = sum(c[k] * _at(f, x, j, x[j] + k * h, args) for k in range(c.size)) / h
    return out


def complex_step(f, X: np.ndarray, steps: np.ndarray, typical: np.ndarray, args: tuple = ()) -> np.ndarray:
    """Im f(x + i h e_j) / h."""
    out = np.empty(X.shape)
    for i, x in enumerate(X):
        for j in range(x.size):
            h = steps[j] * max(typical[j], abs(x[j])) if typical[j] >= 0 else steps[j]
            out[i, j] = np.imag(_at(f, x.astype(np.complex128), j, x[j] + 1j * h, args)) / h
    return out


# Richardson --------------------------------------------------------------------


def _tableau_entry(f, x, j, fx, base, count, direction, *, ratio, levels, rounding, slide, args,
                   kink_steady=0.25, kink_rounding=1000.0, slide_above=1e-12):
    """(best, error) of Richardson extrapolation of df/dx_j over the steps base, base * ratio, ...
    (each product rounded in turn, each step taken as (x + s) - x): central differences
    (direction 0; their errors are even powers of h) or one-sided (f(x + h) - f(x)) / h
    toward direction's sign (all powers). Column by column, the candidate of level >= 2
    with the smallest error estimate, as gradjit documents it:
    |T_k(n) - T_k(n-1)| + |T_k(n) - T_(k-1)(n)| + |T_k(n-1) - T_(k-1)(n-1)|
    + rounding * G_k * eps |f(x)| / |h_n|, with G_k the sum of the level's |weights| over the
    difference quotients times h_n / h (twice that one-sided). The steps stop once the best error is at most
    rounding * G_2 * eps * |f(x)| / |h_(n+1)|, or after the first ``count`` steps once it is
    at most slide_above * |best| (past them, rounding * G_2 * eps * |best|), after at most
    ``count + slide`` steps; the error then
    grows by how far the last column's candidates are from the best beyond both estimates.
    Central differences also follow the curvature c(h) = (f(x+h) - 2 f(x) + f(x-h)) / h**2:
    where its last change exceeds the one before (which is at least kink_steady times its
    own predecessor) and kink_rounding * eps * |f(x)| / h**2, the best's error grows by
    |(c(h) - c(h / ratio)) h| (the steps are not yet where f is smooth)."""
    sign = -1.0 if direction < 0 else 1.0
    r = 1.0 / ratio**2 if direction == 0 else 1.0 / ratio
    noise = 1.0 if direction == 0 else 2.0
    x0 = x[j]
    D, hs, curvatures = [], [], []
    T = [[] for _ in range(levels + 1)]
    W = [[] for _ in range(levels + 1)]  # T[k][n] as weights over D[n-k..n]
    best, best_error, moving = np.nan, np.inf, 0.0
    s = base

    def candidate_error(k, n):
        gain = noise * sum(abs(w) * ratio ** (k - m) for m, w in enumerate(W[k][n]))  # nominal h_n / h_(n-k+m)
        return (abs(T[k][n] - T[k][n - 1]) + abs(T[k][n] - T[k - 1][n]) + abs(T[k][n - 1] - T[k - 1][n - 1])
                + rounding * gain * EPS * abs(fx) / abs(hs[n]))

    for n in range(count + slide):
        h = (x0 + sign * s) - x0
        plus = _at(f, x, j, x0 + h, args)
        if direction == 0:
            minus = _at(f, x, j, x0 - h, args)
            D.append((plus - minus) / (2 * h))
            curvatures.append(((plus - fx) - (fx - minus)) / (h * h))
        else:
            D.append((plus - fx) / h)
        hs.append(h)
        T[0].append(D[n])
        W[0].append(np.array([1.0]))
        for k in range(1, levels + 1):
            if n < k:
                T[k].append(np.nan)
                W[k].append(None)
                continue
            c = 1.0 / (r**k - 1.0)
            T[k].append(T[k - 1][n] + (T[k - 1][n] - T[k - 1][n - 1]) * c)
            W[k].append(np.concatenate([[0.0], W[k - 1][n]]) * (1.0 + c) - np.concatenate([W[k - 1][n - 1], [0.0]]) * c)
        for k in range(2, min(n, levels) + 1):
            if n >= k + 2 and candidate_error(k, n) < best_error:
                best, best_error = T[k][n], candidate_error(k, n)
        if len(curvatures) >= 4:
            c = curvatures[-4:]
            change, change_before, change_earlier = abs(c[3] - c[2]), abs(c[2] - c[1]), abs(c[1] - c[0])
            if change > change_before > kink_steady * change_earlier and change > kink_rounding * EPS * abs(fx) / (h * h):
                best_error += abs((c[3] - c[2]) * h)
        moving = max([0.0] + [abs(T[k][n] - best) - best_error - candidate_error(k, n)
                              for k in range(2, min(n, levels) + 1) if n >= k + 2])
        s *= ratio
        if n < 2:
            continue
        gain_2 = noise * sum(abs(w) * ratio ** (2 - m) for m, w in enumerate(W[2][n]))
        if best_error <= rounding * gain_2 * EPS * abs(fx) / abs((x0 + sign * s) - x0):
            break
        if n + 1 == count and best_error <= slide_above * abs(best):
            break
        if n + 1 > count and best_error <= rounding * gain_2 * EPS * abs(best):
            break
    return best, best_error + moving


def richardson(f, X: np.ndarray, steps: np.ndarray, typical: np.ndarray, *, ratio: float, count: int, levels: int,
               rounding: float, slide: int, args: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Richardson extrapolation of central differences from the taken step down, at every row of X."""
    out, errors = np.empty(X.shape), np.empty(X.shape)
    for i, x in enumerate(X):
        fx = f(x, *args)
        for j in range(x.size):
            out[i, j], errors[i, j] = _tableau_entry(f, x, j, fx, taken_step(x[j], steps[j], typical[j]), count, 0, ratio=ratio,
                                                     levels=levels, rounding=rounding, slide=slide, args=args)
    return out, errors


def _inside(x0, s, direction, lo, hi) -> bool:
    """Whether the one-step stencil (both ways for direction 0) stays in [lo, hi]."""
    h = ((x0 - s) - x0) if direction < 0 else ((x0 + s) - x0)
    if direction == 0:
        return x0 + h <= hi and x0 - h >= lo
    return lo <= x0 + h <= hi


def bounded_richardson(f, X: np.ndarray, steps: np.ndarray, typical: np.ndarray, lower: np.ndarray, upper: np.ndarray, *,
                       ratio: float, count: int, levels: int, rounding: float, min_steps: int, slide: int,
                       args: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Richardson extrapolation that never evaluates f outside [lower, upper], by the rule
    gradjit documents: drop the largest steps that would cross a bound while at least
    ``min_steps`` remain; nearer a bound, the one-sided extrapolation toward the side
    with more room (over the steps that fit, or ``count`` steps from the room down)
    competes with the central one over ``count`` steps from the nearer bound's
    distance down, and the smaller error estimate wins."""
    out, errors = np.empty(X.shape), np.empty(X.shape)
    options = {"ratio": ratio, "levels": levels, "rounding": rounding, "slide": slide, "args": args}
    for i, x in enumerate(X):
        fx = f(x, *args)
        for j in range(x.size):
            x0, lo, hi = x[j], lower[j], upper[j]

            def fitting(s, direction, x0=x0, lo=lo, hi=hi):
                """The tail of the steps s, s * ratio, ... that stay in [lo, hi] (once one fits, the smaller ones do)."""
                dropped = 0
                while dropped < count and not _inside(x0, s, direction, lo, hi):
                    s *= ratio
                    dropped += 1
                return s, count - dropped

            s = taken_step(x0, steps[j], typical[j])
            base, n = fitting(s, 0)
            if n >= min_steps:
                out[i, j], errors[i, j] = _tableau_entry(f, x, j, fx, base, n, 0, **options)
                continue
            down, up = x0 - lo, hi - x0
            direction = 1 if up >= down else -1
            base, n = fitting(s, direction)
            if n < min_steps:
                base, n = fitting(max(down, up), direction)
            best = _tableau_entry(f, x, j, fx, base, n, direction, **options)
            if min(down, up) > 0.0:
                base, n = fitting(min(down, up), 0)
                central = _tableau_entry(f, x, j, fx, base, n, 0, **options)
                if central[1] < best[1]:
                    best = central
            out[i, j], errors[i, j] = best
    return out, errors


# Bounds ------------------------------------------------------------------------


def bounded_central(f, X: np.ndarray, steps: np.ndarray, typical: np.ndarray, order: int, lower: np.ndarray, upper: np.ndarray,
                    args: tuple = ()) -> np.ndarray:
    """Central differences that never evaluate f outside [lower, upper]: where the
    stencil would cross a bound, the forward (or backward) stencil of the same order
    toward the side with more room, its step shrunk to fit."""
    m, c = order // 2, forward_weights(order)
    out = np.empty(X.shape)
    central_rows = central(f, X, steps, typical, order, args)
    for i, x in enumerate(X):
        for j in range(x.size):
            s = steps[j] * max(typical[j], abs(x[j])) if typical[j] >= 0 else steps[j]
            h = (x[j] + s) - x[j]
            if x[j] + m * h <= upper[j] and x[j] - m * h >= lower[j]:
                out[i, j] = central_rows[i, j]
                continue
            down, up = x[j] - lower[j], upper[j] - x[j]
            direction = 1.0 if up >= down else -1.0
            s = min(s, max(up, down) * (1.0 - 1e-12) / order)
            while True:
                h = ((x[j] + direction * s) - x[j])
                if lower[j] <= x[j] + order * h <= upper[j]:
                    break
                s *= 0.5
            out[i, j] = sum(c[k] * _at(f, x, j, x[j] + k * h, args) for k in range(c.size)) / h
    return out


# Second derivatives and vector functions ---------------------------------------


def hessian(f, X: np.ndarray, steps: np.ndarray, typical: np.ndarray, args: tuple = ()) -> np.ndarray:
    """Second differences: (f(x+h) - 2 f(x) + f(x-h)) / h^2 on the diagonal, the
    four-point cross difference / (4 hj hk) off it."""
    n, d = X.shape
    out = np.empty((n, d, d))
    for i, x in enumerate(X):
        fx = f(x, *args)
        h = [taken_step(x[j], steps[j], typical[j]) for j in range(d)]
        for j in range(d):
            for k in range(d):
                if j == k:
                    out[i, j, j] = (_at(f, x, j, x[j] + h[j], args) - 2 * fx + _at(f, x, j, x[j] - h[j], args)) / h[j] ** 2
                    continue
                total = 0.0
                for sj in (1, -1):
                    for sk in (1, -1):
                        y = x.copy()
                        y[j] += sj * h[j]
                        y[k] += sk * h[k]
                        total += sj * sk * f(y, *args)
                out[i, j, k] = total / (4 * h[j] * h[k])
    return out


def jacobian(F, X: np.ndarray, gradient, *args) -> np.ndarray:
    """The Jacobian (N, m, d), one component at a time: ``gradient(f_r, X, *args)`` is
    one of the gradient oracles above, applied to component r of F."""
    columns = []
    for r in range(np.asarray(F(X[0])).size):
        def component(x, r=r):
            return np.asarray(F(x))[r]

        columns.append(gradient(component, X, *args))
    return np.stack(columns, axis=1)


# Every method of gradjit.stencils.METHODS, by name -----------------------------


def _richardson_values(f, X, steps, typical, order, args=()):
    from gradjit.stencils import richardson as parameters  # the method's parameters, not its formulas

    return richardson(f, X, steps, typical, ratio=parameters.RICHARDSON_RATIO, count=parameters.RICHARDSON_STEPS,
                      levels=parameters.RICHARDSON_LEVELS, rounding=parameters.RICHARDSON_ROUNDING,
                      slide=parameters.RICHARDSON_MAX_SLIDE, args=args)[0]


#: ``GRADIENTS[method](f, X, steps, typical, order)``: the oracle of each method. The
#: oracle tests run every method of the table against its entry here, so a new
#: method without a textbook twin fails them.
GRADIENTS = {
    "central": central,
    "forward": lambda f, X, steps, typical, order, args=(): one_sided(f, X, steps, typical, order, 1.0, args),
    "backward": lambda f, X, steps, typical, order, args=(): one_sided(f, X, steps, typical, order, -1.0, args),
    "complex": lambda f, X, steps, typical, order, args=(): complex_step(f, X, steps, typical, args),
    "richardson": _richardson_values,
}
