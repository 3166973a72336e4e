"""Structured problems: sparse Jacobians, gradients and Hessians of sums of terms.

With a correct pattern every term sees only its own perturbed coordinate, so the
grouped results equal the dense ones for the same steps bit for bit; the tests
check that on banded, block, arrow and random patterns, every method and order,
against the independent formulas of ``tests/naive.py``, and the errors a wrong
pattern must raise.
"""

import naive
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import gradjit
from gradjit import problems
from gradjit._detect import detect
from gradjit._spec import resolve
from gradjit.errors import DTypeError, ObjectiveError, OptionError, PatternError
from gradjit.stencils.weights import default_step


def patterned(x, row_ptr, col_idx, coef):
    """Component r depends on exactly the coordinates col_idx[row_ptr[r]:row_ptr[r + 1]]
    (nonlinearly: a sine and a cubic of their weighted sum); analytic for the complex step."""
    m = row_ptr.size - 1
    out = np.empty(m, dtype=x.dtype)
    zero = np.zeros(1, dtype=x.dtype)[0]  # not 0 * x[0], which a NaN probe of x[0] would reach
    for r in range(m):
        s = zero
        q = zero
        for p in range(row_ptr[r], row_ptr[r + 1]):
            v = coef[p] * x[col_idx[p]]
            s += v
            q += v * x[col_idx[p]]
        out[r] = np.sin(s) + 0.5 * q * s
    return out


def _args(pattern: np.ndarray, seed: int = 0) -> tuple:
    rows, cols = np.nonzero(pattern)
    row_ptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=pattern.shape[0])))).astype(np.int64)
    coef = np.random.default_rng(seed).uniform(0.5, 1.5, rows.size)
    return row_ptr, cols.astype(np.int64), coef


def banded(m: int, d: int, below: int, above: int) -> np.ndarray:
    r, c = np.indices((m, d))
    return (c - r >= -below) & (c - r <= above)


def block(m: int, d: int, blocks: int) -> np.ndarray:
    r, c = np.indices((m, d))
    return (r * blocks // m) == (c * blocks // d)


def arrow(d: int) -> np.ndarray:
    S = np.eye(d, dtype=bool)
    S[0, :] = S[:, 0] = True
    return S


def random_pattern(m: int, d: int, density: float, seed: int) -> np.ndarray:
    S = np.random.default_rng(seed).random((m, d)) < density
    S[np.arange(m), np.arange(m) % d] = True  # no empty rows
    return S


PATTERNS = {
    "banded": banded(12, 10, 1, 2),
    "block": block(12, 9, 3),
    "arrow": arrow(9),
    "random": random_pattern(11, 10, 0.2, 3),
}


def _points(d: int, n: int = 3, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (n, d))


# The pattern and its colouring ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_no_two_columns_of_a_group_share_a_component(name):
    S = PATTERNS[name]
    pattern = gradjit.Sparsity(S)
    for g in range(pattern.n_groups):
        columns = np.flatnonzero(pattern.groups == g)
        assert np.all(S[:, columns].sum(axis=1) <= 1)
    assert pattern.n_groups >= S.sum(axis=1).max()  # at least the busiest row's coordinates
    assert np.array_equal(pattern.toarray(), S)


def test_banded_patterns_need_the_bandwidth_in_groups():
    assert gradjit.Sparsity(banded(50, 51, 0, 1)).n_groups == 2  # Rosenbrock's terms
    assert gradjit.Sparsity(banded(60, 60, 1, 1)).n_groups == 3  # tridiagonal
    assert gradjit.Sparsity(banded(60, 60, 2, 2)).n_groups == 5
    assert problems.band_pattern(99, 100, (0, 1)).n_groups == 2


def test_patterns_are_read_from_arrays_scipy_and_columns_alike():
    S = PATTERNS["random"]
    dense = gradjit.Sparsity(S.astype(np.int8))
    for other in (gradjit.Sparsity(sp.csr_array(S)), gradjit.Sparsity(sp.coo_matrix(S)), gradjit.Sparsity(dense)):
        assert np.array_equal(other.toarray(), S)
        assert np.array_equal(other.groups, dense.groups)
    explicit_zero = sp.csr_array((np.array([1.0, 0.0]), np.array([0, 1]), np.array([0, 2])), shape=(1, 2))
    assert gradjit.Sparsity(explicit_zero).nnz == 1  # stored zeros are not dependencies
    data = np.arange(1.0, dense.nnz + 1)
    expected = np.zeros(S.shape)
    expected[S] = data  # CSR order is row-major
    assert np.array_equal(dense.csr(data).toarray(), expected)


def test_bad_patterns_get_clear_errors():
    with pytest.raises(PatternError, match="2-D"):
        gradjit.Sparsity(np.ones(4, dtype=bool))
    with pytest.raises(DTypeError, match="booleans"):
        gradjit.Sparsity(np.ones((2, 2), dtype=complex))
    with pytest.raises(PatternError, match="must be"):
        gradjit.Sparsity([[1, 0], [1]])
    x = _points(10, 1)[0]
    S = PATTERNS["banded"]
    with pytest.raises(PatternError, match=r"shape \(12, 10\).*\(12, 9\)"):
        gradjit.jacobian(patterned, x[:9], args=_args(S), sparsity=S)
    with pytest.raises(PatternError, match=r"must be \(12, 10\)"):
        gradjit.jacobian(patterned, x, args=_args(S), sparsity=S[:, :9])


# Sparse Jacobians: equal to the dense ones --------------------------------------------

METHOD_ORDERS = [("central", 2), ("central", 4), ("central", 8), ("forward", 1), ("forward", 3), ("backward", 2),
                 ("complex", 2)]


@pytest.mark.parametrize("method,order", METHOD_ORDERS)
@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_grouped_jacobian_equals_the_dense_one_bit_for_bit(name, method, order):
    S = PATTERNS[name]
    args = _args(S)
    X = _points(S.shape[1])
    dense = gradjit.jacobian(patterned, X, args=args, method=method, order=order, backend="numpy")
    grouped = gradjit.jacobian(patterned, X, args=args, method=method, order=order, sparsity=S, backend="numpy")
    on = np.broadcast_to(S, dense.shape)
    assert np.array_equal(grouped[on], dense[on])
    assert np.all(grouped[~on] == 0.0)
    if method != "forward" and method != "backward":  # one-sided sums of equal values leave rounding off the pattern
        assert np.array_equal(grouped, dense)


# Each (method, order, layout) is one kernel to compile: the layouts are spread over the methods.
KERNEL_CASES = [("central", 2, "dense"), ("central", 2, "sparse"), ("central", 2, "terms"), ("central", 4, "dense"),
                ("backward", 2, "terms"), ("complex", 2, "sparse")]


@pytest.mark.parametrize("method,order,layout", KERNEL_CASES)
def test_the_kernels_equal_the_reference_bit_for_bit(method, order, layout):
    S = PATTERNS["random"]
    args = _args(S)
    X = _points(S.shape[1], 5)
    options = {"args": args, "method": method, "order": order, "sparsity": S}
    if layout == "terms":
        found = gradjit.gradient(patterned, X, terms=True, **options)
        expected = gradjit.gradient(patterned, X, terms=True, backend="numpy", **options)
    else:
        found = gradjit.jacobian(patterned, X, sparse=layout == "sparse", **options)
        expected = gradjit.jacobian(patterned, X, sparse=layout == "sparse", backend="numpy", **options)
        if layout == "sparse":
            found, expected = np.array([a.toarray() for a in found]), np.array([a.toarray() for a in expected])
    assert np.array_equal(found, expected)


def test_grouped_jacobian_agrees_with_the_textbook_formulas():
    S = PATTERNS["block"]
    args = _args(S)
    X = _points(S.shape[1], 2)
    d = S.shape[1]
    grouped = gradjit.jacobian(patterned, X, args=args, order=4, sparsity=S)
    steps, typical = np.full(d, default_step(4)), np.ones(d)
    oracle = naive.jacobian(lambda x: patterned(x, *args), X, lambda f, Y: naive.central(f, Y, steps, typical, 4))
    assert np.allclose(grouped, oracle, rtol=1e-12, atol=1e-12)


def test_sparse_output_is_one_csr_array_per_point():
    S = PATTERNS["banded"]
    args = _args(S)
    X = _points(S.shape[1], 2)
    dense = gradjit.jacobian(patterned, X, args=args, sparsity=S)
    many = gradjit.jacobian(patterned, X, args=args, sparsity=S, sparse=True)
    assert isinstance(many, list) and len(many) == 2
    one = gradjit.jacobian(patterned, X[1], args=args, sparsity=S, sparse=True)
    assert isinstance(one, sp.csr_array) and one.shape == S.shape and one.nnz == S.sum()
    assert np.array_equal(one.toarray(), dense[1]) and np.array_equal(many[0].toarray(), dense[0])
    assert gradjit.jacobian(patterned, X, args=args, sparsity=S, dtype=np.float32).dtype == np.float32


def test_a_tridiagonal_jacobian_is_exact_to_the_stencil_order():
    x = np.random.default_rng(4).uniform(-2, 2, 200)
    J = gradjit.jacobian(problems.broyden_tridiagonal, x, sparsity=problems.band_pattern(200, 200, (-1, 0, 1)))
    exact = problems.broyden_tridiagonal_jacobian(x)
    # F is quadratic: central differences are exact up to rounding, eps |F| / h.
    assert np.max(np.abs(J - exact)) <= 1e-9


# Gradients of sums of terms --------------------------------------------------------------


@pytest.mark.parametrize("method,order", METHOD_ORDERS)
def test_the_gradient_of_terms_equals_every_column_evaluated_alone(method, order):
    S = PATTERNS["arrow"]
    backend = "numpy"  # the kernels equal the reference (above)
    args = _args(S)
    X = _points(S.shape[1])
    pattern = gradjit.Sparsity(S)
    grouped = gradjit.gradient(patterned, X, args=args, method=method, order=order, terms=True, sparsity=pattern,
                               backend=backend)
    alone = gradjit.gradient(patterned, X, args=args, method=method, order=order, terms=True,
                             sparsity=pattern.ungrouped(), backend=backend)
    assert np.array_equal(grouped, alone)
    J = gradjit.jacobian(patterned, X, args=args, method=method, order=order, backend=backend)
    column_sums = np.where(S, J, 0.0).sum(axis=1)
    assert np.allclose(grouped, column_sums, rtol=1e-12, atol=1e-12 * np.abs(J).max())


@pytest.mark.parametrize("order,tolerance", [(2, 1e-6), (4, 1e-9)])
def test_the_gradient_of_rosenbrock_terms_is_accurate_to_its_order(order, tolerance):
    X = problems.get("rosenbrock").sample(20, 30, seed=2)
    found = gradjit.gradient(problems.rosenbrock_terms, X, terms=True, order=order, backend="numpy")
    exact = problems.rosenbrock_gradient(X)
    # Central differences of order p: truncation ~ h^p f^(p+1) with h ~ eps^(1/(p+1)).
    assert np.max(np.abs(found - exact) / np.maximum(1.0, np.abs(exact))) <= tolerance


def test_terms_cost_a_fixed_number_of_evaluations_whatever_d():
    calls = []

    def counted(x):
        calls.append(1)
        return problems.rosenbrock_terms(x)

    for d in (10, 200):
        x = np.linspace(-1, 1, d)
        pattern = problems.band_pattern(d - 1, d, (0, 1))
        gradjit.gradient(counted, x, terms=True, sparsity=pattern, backend="numpy")  # finds m once
        calls.clear()
        gradjit.gradient(counted, x, terms=True, sparsity=pattern, backend="numpy")
        assert len(calls) == 4  # 2 groups x (f(x + H), f(x - H))
        calls.clear()
        gradjit.gradient(counted, x, terms=True, sparsity=pattern, order=4, backend="numpy")
        assert len(calls) == 8
        calls.clear()
        gradjit.hessian(counted, x, terms=True, sparsity=pattern, backend="numpy")
        assert len(calls) == pattern.hessian.evaluations(2) == 9


def test_minimize_descends_on_terms_to_the_minimum():
    x0 = np.zeros(40)
    pattern = problems.band_pattern(39, 40, (0, 1))
    result = gradjit.minimize(problems.rosenbrock_terms, x0, terms=True, sparsity=pattern, method="momentum", lr=1e-3,
                              max_iter=20000, record=False, jit="fast-start")
    assert result.success and np.linalg.norm(result.grad) <= 1e-6
    assert np.allclose(result.x, 1.0, atol=1e-5)
    assert result.fun == pytest.approx(0.0, abs=1e-10)
    assert result.nfev == (result.nit + 1) * 5  # 4 evaluations of the terms per gradient, 1 for f
    with pytest.raises(OptionError, match="terms=True"):
        gradjit.minimize(problems.rosenbrock, x0, sparsity=problems.band_pattern(39, 40, (0, 1)))


# Hessians -----------------------------------------------------------------------------------


def test_the_hessian_of_terms_equals_every_pair_evaluated_alone(backend):
    d = 12
    pattern = problems.band_pattern(d - 2, d, (0, 1, 2))
    X = _points(d, 2, seed=8)
    grouped = gradjit.hessian(problems.chain_terms, X, terms=True, sparsity=pattern, backend=backend)
    alone = gradjit.hessian(problems.chain_terms, X, terms=True, sparsity=pattern.ungrouped(), backend=backend)
    assert np.array_equal(grouped, alone)
    assert np.array_equal(grouped, np.swapaxes(grouped, -1, -2))
    dense = gradjit.hessian(problems.chain, X, backend="numpy")
    assert np.allclose(grouped, dense, rtol=1e-6, atol=1e-6)
    S = gradjit.hessian(problems.chain_terms, X[0], terms=True, sparsity=pattern, sparse=True, backend="numpy")
    assert isinstance(S, sp.csr_array) and np.array_equal(S.toarray(), grouped[0])
    assert S.nnz == pattern.hessian.nnz == d + 2 * (d - 1) + 2 * (d - 2)


def test_the_hessian_of_rosenbrock_terms_is_accurate_and_cheap():
    x = problems.get("rosenbrock").sample(1, 300, seed=3)[0]
    H = gradjit.hessian(problems.rosenbrock_terms, x, terms=True, sparse=True, backend="numpy")
    exact = problems.rosenbrock_hessian(x)
    assert np.max(np.abs(H.toarray() - exact)) <= 1e-5 * np.abs(exact).max()
    assert gradjit.Sparsity(problems.band_pattern(299, 300, (0, 1))).hessian.evaluations(2) == 9


@pytest.mark.parametrize("method,backend", [("central", "numba"), ("richardson", "numpy")])
def test_a_scalar_hessian_with_a_pattern_computes_only_its_entries(method, backend):
    d = 8
    x = problems.get("rosenbrock").sample(2, d, seed=4)
    pattern = banded(d, d, 1, 1)
    dense = gradjit.hessian(problems.rosenbrock, x, method=method, backend=backend)
    found = gradjit.hessian(problems.rosenbrock, x, method=method, sparsity=pattern, check=True, backend=backend)
    on = np.broadcast_to(pattern, dense.shape)
    assert np.array_equal(found[on], dense[on]) and np.all(found[~on] == 0.0)
    one = gradjit.hessian(problems.rosenbrock, x[0], sparsity=np.triu(pattern), sparse=True)
    assert np.array_equal(one.toarray(), gradjit.hessian(problems.rosenbrock, x[0], sparsity=pattern))
    with pytest.raises(PatternError, match="misses a coupling"):
        gradjit.hessian(problems.rosenbrock, x, sparsity=np.eye(d, dtype=bool), check=True)
    with pytest.raises(OptionError, match="terms=True"):
        gradjit.hessian(problems.rosenbrock, x, sparsity="auto")
    with pytest.raises(PatternError, match=r"must be \(8, 8\)"):
        gradjit.hessian(problems.rosenbrock, x, sparsity=pattern[:, :7])


# Detection ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_auto_detects_the_pattern(backend, name):
    S = PATTERNS[name]
    args = _args(S, seed=5)
    X = _points(S.shape[1], 2, seed=6)
    J = gradjit.jacobian(patterned, X, args=args, sparsity="auto", backend=backend)
    assert np.array_equal(J, gradjit.jacobian(patterned, X, args=args, sparsity=S, backend=backend))
    spec = resolve(S.shape[1], args=args, backend=backend)
    assert np.array_equal(detect(patterned, X, spec, S.shape[0]).toarray(), S)


def test_detection_is_cached_per_function():
    calls = []

    def counted(x):
        calls.append(1)
        return problems.chain_terms(x)

    x = np.linspace(-1, 1, 9)
    gradjit.gradient(counted, x, terms=True, backend="numpy")
    first = len(calls)
    calls.clear()
    gradjit.gradient(counted, x, terms=True, backend="numpy")
    assert first > 6 * 9 and len(calls) == 2 * 3  # 3 groups, no probing the second time


def test_a_pattern_detected_for_other_args_values_is_caught_by_check():
    # The detected pattern is cached per (F, d, m, argument types and shapes): args of the
    # same types and shapes whose values change the structure reuse it (documented); here
    # the stale pattern is caught (by check=True where a missed dependency shares a group).
    first, second = banded(6, 6, 0, 1), banded(6, 6, 1, 0)  # upper, then lower bidiagonal: 11 entries each
    x = _points(6, 1, seed=9)
    gradjit.jacobian(patterned, x, args=_args(first), sparsity="auto", backend="numpy")
    with pytest.raises(PatternError, match="changed"):
        gradjit.jacobian(patterned, x, args=_args(second), sparsity="auto", check=True, backend="numpy")
    longer = banded(6, 6, 0, 2)  # more entries: other shapes of args, so a fresh detection
    assert np.array_equal(gradjit.jacobian(patterned, x, args=_args(longer), sparsity="auto", backend="numpy"),
                          gradjit.jacobian(patterned, x, args=_args(longer), backend="numpy"))


def branchy(x):
    """x[3] enters F_0 only beyond 10: no probe near 0 takes that branch."""
    out = np.empty(3)
    out[0] = x[0] * x[0] + (x[3] if x[0] > 10.0 else 0.0)
    out[1] = x[1] * x[2]
    out[2] = x[2] + x[3]
    return out


def test_a_dependency_detection_misses_is_caught_when_it_moves_F():
    x = np.zeros(4)
    pattern = gradjit.jacobian(branchy, x, sparsity="auto", sparse=True, backend="numpy")
    assert pattern.toarray()[0, 3] == 0  # missed: documented (a branch no probe takes)
    far = np.array([20.0, 0.0, 0.0, 0.0])
    with pytest.raises(PatternError, match="component 0 changed"):
        gradjit.jacobian(branchy, np.stack([x, far]), sparsity="auto", backend="numpy")


# A wrong pattern is never used silently -------------------------------------------------


def test_a_missing_dependency_outside_the_group_raises():
    S = PATTERNS["banded"].copy()
    args = _args(S)
    wrong = S.copy()
    wrong[4, 5] = False  # F_4 still depends on x_5
    for backend in ("numpy", "numba"):
        with pytest.raises(PatternError, match="component 4 changed"):
            gradjit.jacobian(patterned, _points(10), args=args, sparsity=wrong, backend=backend)


def test_a_row_the_pattern_leaves_empty_while_F_changes_raises():
    S = PATTERNS["banded"].copy()
    args = _args(S)
    wrong = S.copy()
    wrong[7] = False
    with pytest.raises(PatternError, match="component 7 changed"):
        gradjit.gradient(patterned, _points(10), args=args, terms=True, sparsity=wrong)


def test_check_catches_a_dependency_hidden_in_the_same_group():
    d = 6
    S = banded(d, d, 0, 0)  # F_r = f(x_r): diagonal, one group
    full = S.copy()
    full[0, 3] = True  # the true F_0 also depends on x_3, which is in the same (only) group
    args = _args(full)
    x = _points(d, 2)
    quiet = gradjit.jacobian(patterned, x, args=args, sparsity=S)  # no other group sees it
    assert quiet.shape == (2, d, d)
    with pytest.raises(PatternError, match="check=True"):
        gradjit.jacobian(patterned, x, args=args, sparsity=S, check=True)
    with pytest.raises(PatternError, match="check=True"):
        gradjit.gradient(patterned, x, args=args, terms=True, sparsity=S, check=True)
    assert np.array_equal(gradjit.jacobian(patterned, x, args=args, sparsity=full, check=True),
                          gradjit.jacobian(patterned, x, args=args))


def test_check_catches_a_wrong_pattern_of_terms_for_their_hessian(backend):
    d = 9
    x = _points(d, 2, seed=10)
    wrong = problems.band_pattern(d - 2, d, (0, 2))  # the terms depend on x[i + 1] too
    with pytest.raises(PatternError, match="changed"):
        gradjit.hessian(problems.chain_terms, x, terms=True, sparsity=wrong, check=True, backend=backend)


def test_bad_options_get_clear_errors():
    S = PATTERNS["banded"]
    args = _args(S)
    x = _points(10, 1)
    with pytest.raises(OptionError, match="terms=True"):
        gradjit.gradient(problems.rosenbrock, x, sparsity=S)
    with pytest.raises(OptionError, match="sparsity="):
        gradjit.jacobian(patterned, x, args=args, sparse=True)
    with pytest.raises(OptionError, match="richardson"):
        gradjit.jacobian(patterned, x, args=args, sparsity=S, method="richardson")
    with pytest.raises(OptionError, match="bounds"):
        gradjit.jacobian(patterned, x, args=args, sparsity=S, bounds=(-2, 2))
    with pytest.raises(OptionError, match="sparsity must be"):
        gradjit.jacobian(patterned, x, args=args, sparsity="dense")
    with pytest.raises(OptionError, match="vectorized"):
        gradjit.gradient(patterned, x, args=args, terms=True, vectorized=True, backend="numpy")


def growing(x):
    return np.ones(3 if x[0] > 0.5 else 2) * x[1]


def test_F_whose_length_changes_is_refused(backend):
    pattern = np.ones((2, 2), dtype=bool)
    with pytest.raises(ObjectiveError, match="length"):
        gradjit.jacobian(growing, np.array([0.5 - 1e-9, 1.0]), sparsity=pattern, h=1e-3, backend=backend)


def test_the_caller_arrays_are_never_written():
    S = PATTERNS["random"]
    args = _args(S)
    X = _points(S.shape[1])
    keep_x, keep_s, keep_args = X.copy(), S.copy(), tuple(a.copy() for a in args)
    gradjit.jacobian(patterned, X, args=args, sparsity=S, check=True)
    gradjit.gradient(patterned, X, args=args, terms=True, sparsity=S, check=True)
    assert np.array_equal(X, keep_x) and np.array_equal(S, keep_s)
    assert all(np.array_equal(a, b) for a, b in zip(args, keep_args))


@given(st.integers(0, 10_000), st.integers(3, 9), st.integers(3, 9), st.floats(0.1, 0.5))
def test_any_pattern_gives_the_dense_jacobian(seed, m, d, density):
    S = random_pattern(m, d, density, seed)
    args = _args(S, seed)
    X = _points(d, 2, seed)
    dense = gradjit.jacobian(patterned, X, args=args, backend="numpy")
    assert np.array_equal(gradjit.jacobian(patterned, X, args=args, sparsity=S, backend="numpy"), dense)
