"""``minimize``: a thin loop of gradient steps over the kernels, with stopping rules,
history, many starts at once and minibatches.

Each iteration makes one batched gradient call and one batched evaluation of f
for the rows still running, checks the stopping rules row by row, and lets the
optimizer update those rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _validation as check
from ..api import gradient, values
from ..errors import OptionError, ShapeError
from . import _checks
from .optimizers import Optimizer, get

#: A run diverges when f exceeds its starting value by this factor of max(1, |f0|).
DIVERGENCE_FACTOR = 1e6

#: Status codes, as in scipy.optimize: 0 means success.
STATUS = {"converged": 0, "max_iter": 1, "diverged": 2, "callback": 3}
_CONVERGED, _MAX_ITER, _DIVERGED, _CALLBACK = (STATUS[k] for k in ("converged", "max_iter", "diverged", "callback"))
_RUNNING = -1
_MESSAGES = {
    _CONVERGED: "the gradient norm fell below gtol",
    _MAX_ITER: "max_iter iterations reached",
    _DIVERGED: "diverged: a non-finite x, f or gradient, or f grew far beyond its start; x is the last finite iterate",
    _CALLBACK: "stopped by the callback",
}
_MESSAGE_ARRAY = np.array([_MESSAGES[code] for code in range(4)])


class OptimizeResult(dict):
    """The result of :func:`minimize`, in the conventions of ``scipy.optimize.OptimizeResult``.

    A dict whose keys are also attributes: ``x``, ``fun``, ``grad``, ``nit``,
    ``nfev``, ``success``, ``status`` (0 converged, 1 max_iter, 2 diverged,
    3 callback), ``message`` and, with ``record=True``, ``history`` (``x``,
    ``fun``, ``grad_norm`` and ``lr`` per iteration). For many starts, ``x``,
    ``fun``, ``grad`` have a leading axis N and ``nit``, ``nfev``, ``success``,
    ``status`` and ``message`` are arrays of length N.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    __setattr__ = dict.__setitem__  # type: ignore[assignment]
    __delattr__ = dict.__delitem__  # type: ignore[assignment]

    def __repr__(self) -> str:
        width = max(map(len, self), default=0) + 1
        lines = []
        for key, value in self.items():
            if isinstance(value, dict):
                text = "{" + ", ".join(f"{k}: array{np.shape(v)}" for k, v in value.items()) + "}"
            else:
                text = np.array2string(np.asarray(value), threshold=8, edgeitems=2) if isinstance(value, np.ndarray) else repr(value)
            lines.append(f"{key:>{width}}: " + text.replace("\n", "\n" + " " * (width + 2)))
        return "\n".join(lines)

    def __dir__(self):
        return list(self.keys())


def minimize(
    f: Callable[..., float],
    x0: Any,
    *,
    method: str | Optimizer = "gd",
    lr: float | None = None,
    schedule: Callable[[int], float] | None = None,
    max_iter: int = 1000,
    gtol: float = 1e-6,
    args: tuple = (),
    data: tuple[np.ndarray, np.ndarray] | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    callback: Callable[[OptimizeResult], bool | None] | None = None,
    record: bool = True,
    progress: bool = False,
    h: float | np.ndarray | None = None,
    order: int = 2,
    backend: str = "numba",
) -> OptimizeResult:
    """Minimise ``f`` by gradient descent (or momentum, Nesterov, AdaGrad, RMSprop, Adam).

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float``; with ``data`` and ``batch_size``,
        ``f(x, X_batch, y_batch, *args)``.
    x0 : array_like, shape (d,) or (N, d)
        The start, or N starts optimised independently in lockstep (one batched
        gradient call per step; each row stops on its own).
    method : str or Optimizer, optional
        ``"gd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``,
        ``"adam"``, or an object from :mod:`gradjit.optim` with its own
        hyper-parameters.
    lr : float, optional
        Learning rate. Default: the optimizer's own (0.01, or 0.001 for Adam,
        or the ``lr`` of an optimizer object). Ignored when ``schedule`` is given.
    schedule : callable, optional
        ``schedule(step) -> lr`` for steps 0, 1, ...: see
        :func:`~gradjit.optim.step_decay` and its siblings.
    max_iter : int, optional
        The most steps per row.
    gtol : float, optional
        A row converges when the Euclidean norm of its gradient is at most
        ``gtol``. A gradient that is not finite never counts as converged.
    args : tuple, optional
        Extra arguments for ``f``.
    data : (X, y), optional
        Training data with the same first dimension; with ``batch_size`` each
        step uses a minibatch drawn in epochs without replacement.
    batch_size : int, optional
        Minibatch size (default with ``data``: all of it).
    seed : int, optional
        Seed of the minibatch order (reproducible runs).
    callback : callable, optional
        ``callback(state)`` after each iteration, with ``state`` an
        :class:`OptimizeResult` of the current iterate (``x``, ``fun``,
        ``grad``, ``nit``); returning True stops with status ``"callback"``.
    record : bool, optional
        Keep the history of ``x``, ``fun``, the gradient norm and ``lr``
        (memory: ``max_iter * N * d`` floats).
    progress : bool, optional
        Show a progress bar (requires ``tqdm``).
    h, order, backend
        As in :func:`gradjit.gradient`.

    Returns
    -------
    OptimizeResult

    Notes
    -----
    A row stops when its gradient norm is at most ``gtol`` (``"converged"``),
    after ``max_iter`` steps (``"max_iter"``), when ``x``, ``f`` or the gradient
    becomes non-finite or ``f`` exceeds its starting value by
    ``DIVERGENCE_FACTOR * max(1, |f0|)`` (``"diverged"``, keeping the last
    finite iterate), or when the callback returns True (``"callback"``).
    gradjit measures the step it actually takes, so where ``x + h == x`` (say
    ``|x| > 1e13`` with ``h = 1e-4``) the gradient is NaN, not a fake zero: such
    a run diverges instead of reporting convergence.

    Examples
    --------
    >>> import numpy as np, gradjit
    >>> def f(x):
    ...     return x[0] ** 2 + x[1] ** 2
    >>> result = gradjit.minimize(f, [-3.0, 4.0], lr=0.1, max_iter=100)
    >>> bool(result.success), result.status, bool(np.allclose(result.x, 0, atol=1e-6))
    (True, 0, True)
    >>> many = gradjit.minimize(f, np.random.default_rng(0).normal(size=(5, 2)), method="adam", lr=0.1)
    >>> many.x.shape, many.nit.shape
    ((5, 2), (5,))
    """
    check.objective(f)
    optimizer = get(method, None if lr is None else _checks.positive("lr", lr))
    if schedule is not None and not callable(schedule):
        raise OptionError(f"schedule must be None or a callable step -> lr; got {type(schedule).__name__}.")
    max_iter = _checks.count("max_iter", max_iter)
    gtol = _checks.non_negative("gtol", gtol)
    args = check.arguments(args)
    start = check.as_float_array(x0, "x0")
    if start.ndim not in (1, 2) or start.shape[-1] == 0:
        raise ShapeError(f"x0 must have shape (d,) or (N, d) with d >= 1; got {start.shape}.")
    batches = _Minibatches(data, batch_size, seed) if data is not None else None
    if batches is None and (batch_size is not None or seed is not None):
        raise OptionError("batch_size and seed apply to minibatches: give data=(X, y) too.")
    options = {"h": h, "order": order, "backend": backend}
    return _Run(f, start, optimizer, schedule, max_iter, gtol, args, batches, callback, record, progress, options).result()


class _Minibatches:
    """Minibatch index sets: epochs without replacement, shuffled by a seeded generator."""

    def __init__(self, data, batch_size, seed):
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise OptionError("data must be a pair (X, y) of arrays with the same first dimension.")
        X, y = (np.asarray(a) for a in data)
        if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
            raise ShapeError(f"data=(X, y) must have the same, non-zero first dimension; got {X.shape} and {y.shape}.")
        self.X, self.y = X, y
        self.size = X.shape[0] if batch_size is None else _checks.count("batch_size", batch_size)
        if self.size > X.shape[0]:
            raise OptionError(f"batch_size must be at most the number of samples ({X.shape[0]}); got {self.size}.")
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(0)
        self.position = 0

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        if self.position + self.size > self.order.size:
            self.order = self.rng.permutation(self.X.shape[0])
            self.position = 0
        rows = self.order[self.position:self.position + self.size]
        self.position += self.size
        return np.ascontiguousarray(self.X[rows]), np.ascontiguousarray(self.y[rows])


class _Run:
    """The state of one call of :func:`minimize`."""

    def __init__(self, f, start, optimizer, schedule, max_iter, gtol, args, batches, callback, record, progress, options):
        self.f, self.optimizer, self.schedule = f, optimizer, schedule
        self.max_iter, self.gtol, self.args, self.batches = max_iter, gtol, args, batches
        self.callback, self.options = callback, options
        self.single = start.ndim == 1
        self.x = np.atleast_2d(start).copy()
        n, d = self.x.shape
        self.state = optimizer.init(self.x)
        self.fun = np.full(n, np.nan)
        self.grad = np.full((n, d), np.nan)
        self.nit = np.zeros(n, dtype=np.int64)
        self.status = np.full(n, _RUNNING, dtype=np.int8)
        self.evaluations_per_step = options["order"] * d + 1  # one gradient (order * d evaluations) and f
        self.history = {"x": [], "fun": [], "grad_norm": [], "lr": []} if record else None
        self.bar = _progress_bar(max_iter) if progress else None
        self.f0 = None

    def _extra_args(self) -> tuple:
        return self.args if self.batches is None else (*self.batches.next(), *self.args)

    def result(self) -> OptimizeResult:
        n = self.x.shape[0]
        for step in range(self.max_iter + 1):
            active = np.flatnonzero(self.status == _RUNNING)
            if active.size == 0:
                break
            everyone = active.size == n  # then views instead of copies
            lr = self.optimizer.lr if self.schedule is None else float(self.schedule(step))
            args = self._extra_args()
            x = self.x if everyone else self.x[active]
            g = gradient(self.f, x, args=args, **self.options)
            fun = values(self.f, x, args=args, backend=self.options["backend"])
            if everyone:
                self.grad, self.fun = g, fun
            else:
                self.grad[active], self.fun[active] = g, fun
            if self.f0 is None:
                self.f0 = fun.copy()
            norm = np.sqrt(np.einsum("ij,ij->i", g, g))
            verdict = self._judge(active, fun, g, norm, step)
            if self.history is not None:
                self._record(lr)
            if self.bar is not None:
                self.bar.update(1)
                self.bar.set_postfix(f=float(np.nanmin(self.fun)), grad_norm=float(np.nanmin(norm)), running=int(active.size))
            if self.callback is not None and self.callback(self._snapshot()):
                self.status[self.status == _RUNNING] = _CALLBACK
                break
            if step < self.max_iter:
                moving = verdict == _RUNNING
                if moving.all():
                    self._step(active, g, lr, everyone)
                elif moving.any():
                    self._step(active[moving], g[moving], lr, False)
        self.status[self.status == _RUNNING] = _MAX_ITER
        if self.bar is not None:
            self.bar.close()
        return self._result()

    def _judge(self, active, fun, g, norm, step) -> np.ndarray:
        """Stop the rows that converged or diverged; returns the verdict of each active row."""
        f0 = self.f0 if active.size == self.f0.size else self.f0[active]  # every row was evaluated at step 0
        finite = np.isfinite(fun) & np.isfinite(norm)
        exploded = fun > f0 + DIVERGENCE_FACTOR * np.maximum(1.0, np.abs(f0))
        verdict = np.full(active.size, _RUNNING, dtype=np.int8)
        verdict[norm <= self.gtol] = _CONVERGED
        verdict[~finite | exploded] = _DIVERGED
        if step == self.max_iter:
            verdict[verdict == _RUNNING] = _MAX_ITER
        if (verdict != _RUNNING).any():
            self.status[active] = verdict
        return verdict

    def _step(self, rows, g, lr, everyone) -> None:
        state = self.state if everyone else _take(self.state, rows)
        x = self.x if everyone else self.x[rows]
        x_new, state_new = self.optimizer.step(x, g, state, lr)
        bad = np.zeros(rows.size if not everyone else x.shape[0], dtype=bool)
        if not np.isfinite(x_new).all():
            bad = ~np.isfinite(x_new).all(axis=1)
        if bad.any():  # keep the last finite iterate
            self.status[rows[bad]] = _DIVERGED
            x_new[bad] = x[bad]
        if everyone:
            self.x = x_new
            self.state = state_new
        else:
            self.x[rows] = x_new
            self.state = _put(self.state, rows, state_new)
        if everyone:
            self.nit[~bad] += 1
        else:
            self.nit[rows[~bad]] += 1

    def _record(self, lr) -> None:
        self.history["x"].append(self.x.copy())
        self.history["fun"].append(self.fun.copy())
        self.history["grad_norm"].append(np.linalg.norm(self.grad, axis=1))
        self.history["lr"].append(lr)

    def _snapshot(self) -> OptimizeResult:
        pick = (lambda a: a[0]) if self.single else (lambda a: a.copy())
        return OptimizeResult(x=pick(self.x), fun=pick(self.fun), grad=pick(self.grad), nit=pick(self.nit))

    def _result(self) -> OptimizeResult:
        pick = (lambda a: a[0]) if self.single else (lambda a: a)
        status = self.status.astype(np.int64)
        result = OptimizeResult(
            x=pick(self.x),
            fun=pick(self.fun) if not self.single else float(self.fun[0]),
            grad=pick(self.grad),
            nit=int(self.nit[0]) if self.single else self.nit,
            nfev=pick((self.nit + 1) * self.evaluations_per_step) if not self.single else int((self.nit[0] + 1) * self.evaluations_per_step),
            success=bool(status[0] == 0) if self.single else status == 0,
            status=int(status[0]) if self.single else status,
            message=_MESSAGES[int(status[0])] if self.single else _MESSAGE_ARRAY[status],
        )
        if self.history is not None:
            stack = {key: np.array(value) for key, value in self.history.items()}
            if self.single:
                stack = {key: (v[:, 0] if key != "lr" else v) for key, v in stack.items()}
            result["history"] = OptimizeResult(stack)
        return result


def _take(state: tuple, rows: np.ndarray) -> tuple:
    return type(state)(*(field[rows] if isinstance(field, np.ndarray) else field for field in state))


def _put(state: tuple, rows: np.ndarray, part: tuple) -> tuple:
    fields = []
    for whole, new in zip(state, part):
        if isinstance(whole, np.ndarray):
            whole = whole.copy()
            whole[rows] = new
            fields.append(whole)
        else:
            fields.append(new)  # a shared step count: the running rows move in lockstep
    return type(state)(*fields)


def _progress_bar(total: int):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        raise OptionError("progress=True needs tqdm: pip install tqdm") from None
    return tqdm(total=total + 1, unit="step", leave=False)
