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

from .. import _chunks, _objective, _progress, _run, structured
from .. import _validation as check
from .._native import NativeFailure
from .._spec import Spec, resolve
from ..backends import numba_cpu
from ..backends._compiled import step_rule
from ..errors import GradjitError, OptionError, ShapeError
from . import _kernels
from .optimizers import Optimizer, get

#: A run diverges when f exceeds its starting value by this factor of max(1, |f0|).
DIVERGENCE_FACTOR = 1e6

#: Status codes, as in scipy.optimize: 0 means success.
_RUNNING, _CONVERGED, _MAX_ITER, _DIVERGED, _CALLBACK = (
    _kernels.RUNNING, _kernels.CONVERGED, _kernels.MAX_ITER, _kernels.DIVERGED, _kernels.CALLBACK)
STATUS = {"converged": _CONVERGED, "max_iter": _MAX_ITER, "diverged": _DIVERGED, "callback": _CALLBACK}
_MESSAGES = {
    _CONVERGED: "the gradient norm fell below gtol",
    _MAX_ITER: "max_iter iterations reached",
    _DIVERGED: "diverged: a non-finite x, f or gradient, or f grew far beyond its start; x is the last finite iterate",
    _CALLBACK: "stopped by the callback",
}
#: The status names by code.
STATUS_NAMES = {code: name for name, code in STATUS.items()}


class OptimizeResult(dict):
    """The result of :func:`minimize`, in the conventions of ``scipy.optimize.OptimizeResult``.

    A dict whose keys are also attributes: ``x``, ``fun``, ``grad``, ``nit``,
    ``nfev``, ``success``, ``status`` (0 converged, 1 max_iter, 2 diverged,
    3 callback), ``message`` and, with ``record=True``, ``history`` (``x``,
    ``fun``, ``grad_norm`` and ``lr`` per iteration). For many starts, ``x``,
    ``fun``, ``grad`` have a leading axis N, ``nit``, ``nfev``, ``success`` and
    ``status`` are arrays of length N, and ``message`` counts the starts per
    status (``"100 starts: 97 converged, 3 max_iter"``).
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
    difference: str = "central",
    box: Any = None,
    jit: str | None = None,
    x_scale: Any = None,
    terms: bool = False,
    sparsity: Any = None,
    workers: Any = None,
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
        Show a progress bar (tqdm).
    h, order, backend, jit, x_scale
        As in :func:`gradjit.gradient` (``jit`` also chooses the kernel of the
        compiled descent step; ``x_scale="auto"`` reads the scale from the
        starting points).
    difference : str, optional
        The gradient's difference method, ``method=`` of
        :func:`gradjit.gradient` (``method`` here is the optimizer):
        ``"central"`` (default), ``"richardson"``, ``"forward"``,
        ``"backward"`` or ``"complex"``.
    box : (lower, upper), optional
        ``bounds=`` of :func:`gradjit.gradient`: f is never evaluated outside
        ``[lower, upper]`` (numbers or arrays of shape ``(d,)``), and every
        iterate is projected into the box after its step (projected gradient
        descent). The starts must lie inside.
    terms, sparsity : optional
        f given as its vector of terms, ``F(x, *args) -> (m,)`` with
        ``f = sum(F)``, and F's pattern, as in :func:`gradjit.gradient`: each
        step costs ``order * n_groups`` evaluations of F for the gradient and
        one for f, whatever d is (large-d descent). The pattern is found (or
        coloured) once, before the first step. Differences ``"central"``,
        ``"forward"``, ``"backward"``, ``"complex"``; no ``box``.
    workers : int or callable, optional
        With ``backend="numpy"``: a thread pool of this size or a map-like
        callable (``multiprocessing.Pool(4).map``) to spread the evaluations of f
        over, as in :func:`gradjit.gradient`.

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

    With the Numba backend and d <= 64 each step is one compiled pass (f, the
    gradient, the verdict and the update of every row, in place; see
    :mod:`gradjit.optim._kernels`). Rows are evaluated in spans of a few
    thousand, and a span is skipped once all its rows have stopped; a stopped
    row inside a running span is evaluated at its final point again but never
    moved or recorded again. Otherwise (d > 64, a few rows with much work each,
    or ``backend="numpy"``) only the running rows are evaluated. With
    ``backend="cuda"`` and central differences without a box, each step is one
    kernel on the GPU, one thread per row, and the run's state stays on the device.

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
    optimizer = get(method, None if lr is None else check.positive("lr", lr))
    check.callable_or_none("schedule", schedule, "step -> lr")
    check.callable_or_none("callback", callback, "callback(state) -> bool | None")
    seed = check.seed(seed)
    max_iter = check.count("max_iter", max_iter)
    gtol = check.non_negative("gtol", gtol)
    args = check.arguments(args)
    start = check.as_float_array(x0, "x0")
    if start.ndim not in (1, 2) or start.shape[-1] == 0:
        raise ShapeError(f"x0 must have shape (d,) or (N, d) with d >= 1; got {start.shape}.")
    batches = _Minibatches(data, batch_size, seed) if data is not None else None
    if batches is None and (batch_size is not None or seed is not None):
        raise OptionError("batch_size and seed apply to minibatches: give data=(X, y) too.")
    points = np.atleast_2d(start)
    spec = resolve(points.shape[1], kind="terms" if terms else "gradient", method=difference, order=order, h=h,
                   bounds=box, points=points, backend=backend, args=args, jit=jit,
                   names={"method": "difference", "bounds": "box"}, x_scale=x_scale, workers=workers)
    if terms:
        probe_spec = spec if batches is None else spec._replace(args=(*batches.peek(), *args))
        spec = spec._replace(terms=structured.pattern_of(f, points, probe_spec, sparsity))
    elif sparsity is not None:
        raise OptionError("sparsity= applies to f given as its terms (terms=True).")
    run = _Run(f, points, single=start.ndim == 1, optimizer=optimizer, spec=spec, schedule=schedule, max_iter=max_iter,
               gtol=gtol, batches=batches, callback=callback, record=record, progress=progress)
    return run.result()


class _Minibatches:
    """Minibatch index sets: epochs without replacement, shuffled by a seeded generator."""

    def __init__(self, data, batch_size, seed):
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise OptionError("data must be a pair (X, y) of arrays with the same first dimension.")
        X, y = (np.asarray(a) for a in data)
        if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
            raise ShapeError(f"data=(X, y) must have the same, non-zero first dimension; got {X.shape} and {y.shape}.")
        self.X, self.y = X, y
        self.size = X.shape[0] if batch_size is None else check.count("batch_size", batch_size)
        if self.size > X.shape[0]:
            raise OptionError(f"batch_size must be at most the number of samples ({X.shape[0]}); got {self.size}.")
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(0)
        self.position = 0

    def peek(self) -> tuple[np.ndarray, np.ndarray]:
        """A batch of the first ``size`` samples, without moving on (for probing F's pattern)."""
        return np.ascontiguousarray(self.X[:self.size]), np.ascontiguousarray(self.y[:self.size])

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        if self.position + self.size > self.order.size:
            self.order = self.rng.permutation(self.X.shape[0])
            self.position = 0
        rows = self.order[self.position:self.position + self.size]
        self.position += self.size
        return np.ascontiguousarray(self.X[rows]), np.ascontiguousarray(self.y[rows])


class _Run:
    """The state of one call of :func:`minimize`.

    The points, gradients, moments and per-row bookkeeping live in
    :class:`~gradjit.optim._kernels.Buffers`, which the compiled step updates
    in place. Each iteration is one launch of the fused kernel (f, gradient,
    verdict and update of every running row), or, where that kernel does not
    apply (d > STACK_D, fewer rows than threads with much work per row, or the
    NumPy backend), a gradient call and an evaluation of f for the running
    rows followed by the compiled verdict-and-update pass. With ``backend="cuda"``
    each step is one kernel on the device, where the buffers stay
    (:class:`gradjit.backends.cuda.DeviceDescent`).
    """

    def __init__(self, f: Callable, points: np.ndarray, *, single: bool, optimizer: Optimizer, spec: Spec,
                 schedule: Callable | None, max_iter: int, gtol: float, batches: _Minibatches | None,
                 callback: Callable | None, record: bool, progress: bool):
        self.f, self.optimizer, self.schedule, self.spec = f, optimizer, schedule, spec
        self.max_iter, self.gtol, self.batches = max_iter, gtol, batches
        self.callback, self.single = callback, single
        n, d = points.shape
        self.buffers = _kernels.new_buffers(points, optimizer.n_moments)
        self.fused = (spec.backend.NAME == "numba" and spec.formula == "central" and not spec.bounded
                      and spec.terms is None and numba_cpu.uses_row_kernel(n, d, spec))
        # On the GPU the whole step is one kernel and the run's state stays there
        # (spec.backend.DeviceDescent); other methods take the gradient-then-settle path.
        self.on_device = (spec.backend.NAME == "cuda" and spec.formula == "central" and not spec.bounded
                          and spec.terms is None)
        self.device = None  # the state on the device, made at the first step
        self._coefficients = None  # this step's coefficients of the optimizer's rule
        self.compiled = None
        # One gradient and f (of F, for f given as its terms).
        groups = d if spec.terms is None else spec.terms.n_groups
        self.evaluations_per_step = spec.evaluations * groups + 1
        if record:  # x, f and the gradient norm of every row at every iteration
            _chunks.check_memory(
                8 * (max_iter + 1) * n * (d + 2),
                f"record=True keeps the history of {n} start(s) in {d} dimensions over up to {max_iter + 1} iterations: {{needed}}",
                ["record=False (the result still has x, fun, grad, nit and status)", "fewer starts or a smaller max_iter",
                 "a callback that keeps what you need"])
        self.history = {"x": [], "fun": [], "grad_norm": [], "lr": []} if record else None
        self.bar = _progress.bar(max_iter + 1, "step") if progress else None

    def _extra_args(self) -> tuple:
        return self.spec.args if self.batches is None else (*self.batches.next(), *self.spec.args)

    def result(self) -> OptimizeResult:
        b = self.buffers
        watched = self.history is not None or self.callback is not None or self.bar is not None
        for step in range(self.max_iter + 1):
            lr = self.optimizer.lr if self.schedule is None else _scheduled_lr(self.schedule, step)
            self._coefficients = self.optimizer.coefficients(lr, step + 1)
            descent = _kernels.inputs(b, steps=self.spec.steps, typical=self.spec.typical,
                                      coefficients=self._coefficients, gtol=self.gtol,
                                      factor=DIVERGENCE_FACTOR, step=step, last_step=self.max_iter, watch=watched)
            # The history and the callback see the points f was evaluated at, before the move.
            x_before = b.x.copy() if watched else None
            self._advance(descent, self._extra_args())
            if self.device is not None:  # the host needs the verdicts each step, and the rest when watching
                self.device.pull(b, self.device.NAMES if watched else ("status",))
            running = b.status == _RUNNING
            if self.history is not None:
                self._record(x_before, lr)
            if self.bar is not None:
                self.bar.update(1)
                self.bar.set_postfix(f=float(np.nanmin(b.fun)), grad_norm=float(np.nanmin(b.norm)), running=int(running.sum()))
            if self.callback is not None and self.callback(self._snapshot(x_before, running, step)):
                b.x[...] = x_before  # undo this iteration's moves
                b.status[running], b.nit[running] = _CALLBACK, step
                break
            if not running.any():
                break
        if self.bar is not None:
            self.bar.close()
        if self.device is not None and not watched:
            self.device.pull(b)
        return self._result()

    def _advance(self, descent: _kernels.Descent, args: tuple) -> None:
        """f, gradient, verdict and move of every running row."""
        b, spec = self.buffers, self.spec
        if self.on_device:
            if self.device is None:
                self.device = spec.backend.DeviceDescent(b)
            self.device.step(self.f, spec, self.optimizer, self._coefficients, gtol=descent.gtol, factor=descent.factor,
                             step=descent.step, last_step=descent.last_step, watch=descent.watch, args=args)
            return
        if self.fused:
            if self.compiled is None:  # minibatches are new arrays each step, but of the same types
                self.compiled = _objective.compiled_call(self.f, args, points=b.x)
            try:
                _kernels.fused_step(self.compiled, self.optimizer, descent, weights=spec.weights, args=args,
                                    threads=spec.threads, jit=spec.jit, step_rule=step_rule(spec))
            except NativeFailure:
                self._raise_objective_error(args)
            return
        if args is not spec.args:
            spec = spec._replace(args=check.arguments(args))
        active = np.flatnonzero(b.status == _RUNNING)
        everyone = active.size == b.status.size
        x = b.x if everyone else np.ascontiguousarray(b.x[active])
        if everyone:
            _run.differentiate(self.f, x, spec, x.shape, out=b.grad)
            b.fun[...] = _run.evaluate(self.f, x, spec)
        else:
            b.grad[active] = _run.differentiate(self.f, x, spec, x.shape)
            b.fun[active] = _run.evaluate(self.f, x, spec)
        _kernels.settle_step(self.optimizer, descent, spec.threads)
        if spec.bounded:
            np.clip(b.x, spec.lower, spec.upper, out=b.x)  # projected: every iterate stays in the box

    def _raise_objective_error(self, args: tuple) -> None:
        """f raised in the fast-start step: evaluate f and the gradient at the current
        rows on the inlined tier, where f's own exception surfaces with its message."""
        spec = self.spec._replace(jit="inline", args=check.arguments(args))
        _run.differentiate(self.f, self.buffers.x, spec, self.buffers.x.shape)
        _run.evaluate(self.f, self.buffers.x, spec)
        raise GradjitError("f raised an exception in compiled code that did not recur when re-evaluated.")

    def _record(self, x_before: np.ndarray, lr: float) -> None:
        b = self.buffers
        self.history["x"].append(x_before)
        self.history["fun"].append(b.fun.copy())
        self.history["grad_norm"].append(b.norm.copy())
        self.history["lr"].append(lr)

    def _snapshot(self, x_before: np.ndarray, running: np.ndarray, step: int) -> OptimizeResult:
        b = self.buffers
        nit = np.where(running, step, b.nit)  # a row's steps are recorded when it stops
        pick = (lambda a: a[0].copy()) if self.single else (lambda a: a.copy())
        return OptimizeResult(x=pick(x_before), fun=pick(b.fun), grad=pick(b.grad), nit=nit[0] if self.single else nit)

    def _result(self) -> OptimizeResult:
        b = self.buffers
        status = b.status.astype(np.int64)
        nfev = (b.nit + 1) * self.evaluations_per_step
        if self.single:
            result = OptimizeResult(
                x=b.x[0], fun=float(b.fun[0]), grad=b.grad[0], nit=int(b.nit[0]), nfev=int(nfev[0]),
                success=bool(status[0] == 0), status=int(status[0]), message=_MESSAGES[int(status[0])],
            )
        else:
            result = OptimizeResult(
                x=b.x, fun=b.fun, grad=b.grad, nit=b.nit, nfev=nfev,
                success=status == 0, status=status, message=_summary(status),
            )
        if self.history is not None:
            stack = {key: np.array(value) for key, value in self.history.items()}
            if self.single:
                stack = {key: (v[:, 0] if key != "lr" else v) for key, v in stack.items()}
            result["history"] = OptimizeResult(stack)
        return result


def _scheduled_lr(schedule: Callable[[int], float], step: int) -> float:
    """The schedule's learning rate at ``step``: a finite number >= 0 (0 at the end of a
    cosine decay), or an error: a negative rate would silently climb f instead of descending."""
    lr = schedule(step)
    try:
        return check.non_negative("lr", lr)
    except OptionError:
        raise OptionError(f"the schedule returned lr={lr!r} at step {step}; a learning rate must be a finite number >= 0.") from None


def _summary(status: np.ndarray) -> str:
    counts = np.bincount(status, minlength=len(_MESSAGES))
    parts = [f"{counts[code]} {STATUS_NAMES[code]}" for code in sorted(_MESSAGES) if counts[code]]
    return f"{status.size} starts: " + ", ".join(parts)
