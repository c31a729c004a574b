"""Assignment 03 (Jacobians, VJPs and JVPs): the tests grade what they should.

- the source notebook (with solutions) earns full marks;
- realistic wrong answers fail the matching hidden test, whose message names the mistake;
- other correct formulations pass every graded cell.

Each notebook run replaces whole solution cells (by grade_id). Independent mistakes
(at most one per solution cell) share a run, so the file needs only a few runs.
"""

from dataclasses import dataclass
from functools import cache
from textwrap import dedent

import pytest

from notebook_harness import run_notebook, source_notebook

ASSIGNMENT = "03_jacobians_vjps"
TOTAL_POINTS = 37
SOLUTION_CELLS = [
    "numerical_jacobian",
    "exp_vjp",
    "log_vjp",
    "sigmoid_vjp",
    "relu_vjp",
    "sum_vjp",
    "mul_vjp",
    "exp_jvp",
    "log_jvp",
    "mul_jvp",
]


@cache
def run(replacements):
    """Graded-cell results of one notebook run; `replacements` is a tuple of (grade_id, source)."""
    return run_notebook(source_notebook(ASSIGNMENT), dict(replacements))


@dataclass(frozen=True)
class Mistake:
    name: str
    cell: str  # grade_id of the solution cell it replaces
    source: str  # the full wrong cell, `def` line included
    test: str  # grade_id of the hidden test that must fail
    says: tuple  # words the failure message must contain
    batch: int  # mistakes in one batch replace different cells and run together


MISTAKES = [
    # --- numerical_jacobian --------------------------------------------------------------
    Mistake(
        "forward difference with h=1e-10",
        "numerical_jacobian",
        """
        def numerical_jacobian(f, x, h=1e-10):
            x = np.array(x, dtype=np.float64)
            fx = np.array(f(x), dtype=np.float64)
            J = np.zeros(fx.shape + x.shape)
            for j in np.ndindex(x.shape):
                xp = x.copy()
                xp[j] += h
                J[(...,) + j] = (np.array(f(xp), dtype=np.float64) - fx) / h
            return J
        """,
        "test_numerical_jacobian_hidden",
        ("not accurate enough", "central differences"),
        1,
    ),
    Mistake(
        "transposed Jacobian layout x.shape + f.shape",
        "numerical_jacobian",
        """
        def numerical_jacobian(f, x, h=1e-6):
            x = np.array(x, dtype=np.float64)
            fx = np.array(f(x), dtype=np.float64)
            J = np.zeros(x.shape + fx.shape)
            for j in np.ndindex(x.shape):
                xp, xm = x.copy(), x.copy()
                xp[j] += h
                xm[j] -= h
                J[j] = (np.array(f(xp), dtype=np.float64) - np.array(f(xm), dtype=np.float64)) / (2 * h)
            return J
        """,
        "test_numerical_jacobian_hidden",
        ("transposed layout", "f(x).shape + x.shape"),
        2,
    ),
    Mistake(
        "perturbs x in place (no copy)",
        "numerical_jacobian",
        """
        def numerical_jacobian(f, x, h=1e-6):
            x = np.asarray(x, dtype=np.float64)
            fx = np.array(f(x), dtype=np.float64)
            J = np.zeros(fx.shape + x.shape)
            for j in np.ndindex(x.shape):
                x[j] += h
                f_plus = np.array(f(x), dtype=np.float64)
                x[j] -= 2 * h
                f_minus = np.array(f(x), dtype=np.float64)
                x[j] += h
                J[(...,) + j] = (f_plus - f_minus) / (2 * h)
            return J
        """,
        "test_numerical_jacobian_hidden",
        ("in place",),
        3,
    ),
    Mistake(
        "copies x only when it is read-only (np.require), perturbs the caller's array",
        "numerical_jacobian",
        """
        def numerical_jacobian(f, x, h=1e-6):
            x = np.require(x, dtype=np.float64, requirements=["W"])
            fx = np.array(f(x), dtype=np.float64)
            J = np.zeros(fx.shape + x.shape)
            for j in np.ndindex(x.shape):
                old = x[j]
                x[j] = old + h
                f_plus = np.array(f(x), dtype=np.float64)
                x[j] = old - h
                f_minus = np.array(f(x), dtype=np.float64)
                x[j] = old
                J[(...,) + j] = (f_plus - f_minus) / (2 * h)
            return J
        """,
        "test_numerical_jacobian_hidden",
        ("perturbs the caller's x in place", "private float64 copy"),
        4,
    ),
    # --- elementwise VJPs -----------------------------------------------------------------
    Mistake(
        "exp_vjp ignores dldf",
        "exp_vjp",
        """
        def exp_vjp(dldf, x):
            return (np.exp(x),)
        """,
        "test_exp_vjp_hidden",
        ("ignores dldf",),
        1,
    ),
    Mistake(
        "exp_vjp returns a bare array instead of a tuple",
        "exp_vjp",
        """
        def exp_vjp(dldf, x):
            return dldf * np.exp(x)
        """,
        "test_exp_vjp_hidden",
        ("instead of a tuple", "one gradient per input", "return (dldx,)"),
        2,
    ),
    Mistake(
        "log_vjp divides by log(x)",
        "log_vjp",
        """
        def log_vjp(dldf, x):
            return (dldf / np.log(x),)
        """,
        "test_log_vjp_hidden",
        ("dldf / log(x)", "1/x"),
        1,
    ),
    Mistake(
        "sigmoid_vjp uses x instead of sigmoid(x)",
        "sigmoid_vjp",
        """
        def sigmoid_vjp(dldf, x):
            return (dldf * x * (1 - x),)
        """,
        "test_sigmoid_vjp_hidden",
        ("uses x where s = sigmoid(x) belongs",),
        1,
    ),
    Mistake(
        "relu_vjp multiplies by relu(x)",
        "relu_vjp",
        """
        def relu_vjp(dldf, x):
            return (dldf * np.maximum(x, 0.0),)
        """,
        "test_relu_vjp_hidden",
        ("dldf * relu(x)", "OUTPUT of relu"),
        1,
    ),
    Mistake(
        "relu_vjp passes the gradient at x == 0 (x >= 0 convention)",
        "relu_vjp",
        """
        def relu_vjp(dldf, x):
            return (np.where(x >= 0, dldf, 0.0),)
        """,
        "test_relu_vjp_hidden",
        ("at the kink", "derivative 0 at x == 0"),
        2,
    ),
    # --- sum_vjp ----------------------------------------------------------------------------
    Mistake(
        "sum_vjp ignores axis",
        "sum_vjp",
        """
        def sum_vjp(dldf, x, axis=None, keepdims=False):
            return (np.broadcast_to(dldf, x.shape).copy(),)
        """,
        "test_sum_vjp_hidden",
        ("ignores `axis`", "only cases with keepdims=False fail"),
        1,
    ),
    Mistake(
        "sum_vjp inserts the summed axes again when keepdims=True",
        "sum_vjp",
        """
        def sum_vjp(dldf, x, axis=None, keepdims=False):
            if axis is None:
                axes = tuple(range(x.ndim))
            elif isinstance(axis, int):
                axes = (axis % x.ndim,)
            else:
                axes = tuple(a % x.ndim for a in axis)
            return (np.broadcast_to(np.expand_dims(dldf, axes), x.shape).copy(),)
        """,
        "test_sum_vjp_hidden",
        ("only cases with keepdims=True fail", "do not insert them again"),
        2,
    ),
    Mistake(
        "sum_vjp returns the gradient of a mean",
        "sum_vjp",
        """
        def sum_vjp(dldf, x, axis=None, keepdims=False):
            if axis is None:
                axes = tuple(range(x.ndim))
            elif isinstance(axis, int):
                axes = (axis % x.ndim,)
            else:
                axes = tuple(a % x.ndim for a in axis)
            if not keepdims:
                dldf = np.expand_dims(dldf, axes)
            count = np.prod([x.shape[a] for a in axes])
            return (np.broadcast_to(dldf / count, x.shape).copy(),)
        """,
        "test_sum_vjp_hidden",
        ("a mean instead of a sum",),
        3,
    ),
    # --- mul_vjp and the adjoint identity --------------------------------------------------
    Mistake(
        "mul_vjp returns the two gradients swapped",
        "mul_vjp",
        """
        def mul_vjp(dldf, a, b):
            return dldf * a, dldf * b
        """,
        "test_mul_vjp_hidden",
        ("swapped",),
        3,
    ),
    # --- JVPs ---------------------------------------------------------------------------------
    Mistake(
        "exp_jvp ignores the tangent",
        "exp_jvp",
        """
        def exp_jvp(x, dx):
            return np.exp(x)
        """,
        "test_exp_jvp_hidden",
        ("multiply by the tangent",),
        1,
    ),
    Mistake(
        "log_jvp returns a tuple like a VJP",
        "log_jvp",
        """
        def log_jvp(x, dx):
            return (dx / x,)
        """,
        "test_log_jvp_hidden",
        ("a JVP returns ONE array",),
        2,
    ),
    Mistake(
        "mul_jvp misses the a * db term",
        "mul_jvp",
        """
        def mul_jvp(a, b, da, db):
            return da * b
        """,
        "test_mul_jvp_hidden",
        ("change caused by da alone", "terms for db are missing"),
        1,
    ),
]

# Failures that follow from a mistake in another cell: (mistake name, test, words).
KNOCK_ON = [
    (
        "mul_vjp returns the two gradients swapped",
        "test_adjoint_hidden",
        ("adjoint identity fails",),
    ),
    (
        "relu_vjp passes the gradient at x == 0 (x >= 0 convention)",
        "test_relu_vjp_at_zero",
        ("at x == 0",),
    ),
    ("sum_vjp ignores axis", "test_sum_vjp_visible", ("ignores `axis`",)),
]


def batch_replacements(batch):
    chosen = [m for m in MISTAKES if m.batch == batch]
    cells = [m.cell for m in chosen]
    assert len(cells) == len(set(cells)), f"batch {batch} replaces a cell twice"
    return tuple((m.cell, dedent(m.source).strip()) for m in chosen)


def results_for(mistake):
    return run(batch_replacements(mistake.batch))


def by_name(name):
    return next(m for m in MISTAKES if m.name == name)


def test_source_earns_full_marks():
    results = run(())
    failed = {gid: r.error for gid, r in results.items() if not r.passed}
    assert not failed, f"the solution fails graded cells: {failed}"
    assert sum(r.points for r in results.values()) == TOTAL_POINTS
    hidden = [gid for gid in results if gid.endswith("_hidden")]
    assert len(hidden) == len(SOLUTION_CELLS) + 1  # one per function, plus the adjoint identity


def test_at_least_eight_mistakes_over_every_vjp_exercise():
    assert len(MISTAKES) >= 8
    assert {m.cell for m in MISTAKES} >= {
        "numerical_jacobian",
        "exp_vjp",
        "log_vjp",
        "sigmoid_vjp",
        "relu_vjp",
        "sum_vjp",
        "mul_jvp",
    }


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_hidden_test_catches_and_names_the_mistake(mistake):
    result = results_for(mistake)[mistake.test]
    assert not result.passed, f"{mistake.test} passed the wrong answer '{mistake.name}'"
    assert result.error.startswith(("GradingError", "AssertionError")), result.error
    for words in mistake.says:
        assert words in result.error, f"message lacks {words!r}:\n{result.error}"


@pytest.mark.parametrize("name, test, says", KNOCK_ON, ids=[k[1] for k in KNOCK_ON])
def test_other_cells_also_catch_it(name, test, says):
    result = results_for(by_name(name))[test]
    assert not result.passed, f"{test} passed the wrong answer '{name}'"
    for words in says:
        assert words in result.error, f"message lacks {words!r}:\n{result.error}"


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_a_mistake_costs_only_its_own_exercise(mistake):
    """The cells of functions that were not replaced in this run still pass."""
    results = results_for(mistake)
    replaced = {cell for cell, _ in batch_replacements(mistake.batch)}
    for gid, result in results.items():
        if gid.startswith("test_adjoint"):
            continue  # depends on six functions at once
        function = gid.removeprefix("test_").rsplit("_", 1)[0]
        if gid == "test_relu_vjp_at_zero":
            function = "relu_vjp"
        if function not in replaced:
            assert result.passed, f"{gid} fails although {function} is correct:\n{result.error}"


ALTERNATIVES = {
    "separate copies, np.stack, list return": {
        "numerical_jacobian": """
            def numerical_jacobian(f, x, h=1e-6):
                x = np.asarray(x, dtype=np.float64).copy()
                out_shape = np.shape(f(x.copy()))
                columns = []
                for k in range(x.size):
                    e = np.zeros(x.size)
                    e[k] = h
                    e = e.reshape(x.shape)
                    f_plus = np.asarray(f(x + e), dtype=np.float64)
                    f_minus = np.asarray(f(x - e), dtype=np.float64)
                    columns.append((f_plus - f_minus) / (2 * h))
                return np.stack(columns, axis=-1).reshape(out_shape + x.shape)
        """,
        "exp_vjp": """
            def exp_vjp(dldf, x):
                y = np.exp(x)  # the output: exp is its own derivative
                return (np.multiply(dldf, y),)
        """,
        "log_vjp": """
            def log_vjp(dldf, x):
                return (dldf * (1.0 / x),)
        """,
        "sigmoid_vjp": """
            def sigmoid_vjp(dldf, x):
                s = 1.0 / (1.0 + np.exp(-x))
                return (dldf * s - dldf * s**2,)
        """,
        "relu_vjp": """
            def relu_vjp(dldf, x):
                return (dldf * (x > 0),)
        """,
        "sum_vjp": """
            def sum_vjp(dldf, x, axis=None, keepdims=False):
                kept_shape = np.sum(x, axis=axis, keepdims=True).shape
                return (np.reshape(dldf, kept_shape) * np.ones_like(x),)
        """,
        "mul_vjp": """
            def mul_vjp(dldf, a, b):
                return [dldf * b, dldf * a]
        """,
        "exp_jvp": """
            def exp_jvp(x, dx):
                return dx * np.exp(x)
        """,
        "log_jvp": """
            def log_jvp(x, dx):
                return np.divide(dx, x)
        """,
        "mul_jvp": """
            def mul_jvp(a, b, da, db):
                return b * da + a * db
        """,
    },
    "flat loop, tanh form, heaviside, axis by axis": {
        "numerical_jacobian": """
            def numerical_jacobian(f, x, h=1e-6):
                x0 = np.array(x, dtype=np.float64)
                flat = x0.ravel()
                fx = np.asarray(f(x0.copy()), dtype=np.float64)
                J = np.empty((fx.size, flat.size))
                for k in range(flat.size):
                    xp, xm = flat.copy(), flat.copy()
                    xp[k] += h
                    xm[k] -= h
                    f_plus = np.asarray(f(xp.reshape(x0.shape)), dtype=np.float64)
                    f_minus = np.asarray(f(xm.reshape(x0.shape)), dtype=np.float64)
                    J[:, k] = (f_plus - f_minus).ravel() / (2 * h)
                return J.reshape(fx.shape + x0.shape)
        """,
        "exp_vjp": """
            def exp_vjp(dldf, x):
                dldx = np.exp(x) * dldf
                return (dldx,)
        """,
        "log_vjp": """
            def log_vjp(dldf, x):
                return (np.true_divide(dldf, x),)
        """,
        "sigmoid_vjp": """
            def sigmoid_vjp(dldf, x):
                t = np.tanh(x / 2)  # sigmoid(x) = (1 + tanh(x / 2)) / 2
                return (dldf * (1 - t**2) / 4,)
        """,
        "relu_vjp": """
            def relu_vjp(dldf, x):
                return (np.heaviside(x, 0.0) * dldf,)
        """,
        "sum_vjp": """
            def sum_vjp(dldf, x, axis=None, keepdims=False):
                if axis is None:
                    axes = range(np.ndim(x))
                elif np.isscalar(axis):
                    axes = [axis]
                else:
                    axes = axis
                g = np.asarray(dldf, dtype=np.float64)
                if not keepdims:
                    for a in sorted(a % np.ndim(x) for a in axes):
                        g = np.expand_dims(g, a)
                return (g + np.zeros(np.shape(x)),)
        """,
        "mul_vjp": """
            def mul_vjp(dldf, a, b):
                return np.multiply(dldf, b), np.multiply(a, dldf)
        """,
        "exp_jvp": """
            def exp_jvp(x, dx):
                return np.multiply(np.exp(x), dx)
        """,
        "log_jvp": """
            def log_jvp(x, dx):
                return dx * x**-1.0
        """,
        "mul_jvp": """
            def mul_jvp(a, b, da, db):
                return np.multiply(da, b) + np.multiply(db, a)
        """,
    },
}


@pytest.mark.parametrize("style", ALTERNATIVES)
def test_alternative_correct_answers_earn_full_marks(style):
    cells = ALTERNATIVES[style]
    assert set(cells) == set(SOLUTION_CELLS)
    results = run(tuple((cell, dedent(src).strip()) for cell, src in cells.items()))
    failed = {gid: r.error for gid, r in results.items() if not r.passed}
    assert not failed, f"a correct answer ({style}) fails: {failed}"
