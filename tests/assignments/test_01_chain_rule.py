"""Assignment 01 (chain rule): full marks for the solution, zero for the stubs, and the hidden
tests catch realistic mistakes with a diagnostic that names them, while accepting other correct
formulations.

Each notebook run costs a few seconds, so independent mistakes (one per solution cell, none in a
cell that another mistaken cell depends on) share a run ("batch").
"""

import re
import textwrap
from dataclasses import dataclass
from functools import cache

import nbformat
import pytest

from notebook_harness import run_notebook, source_notebook

NOTEBOOK = source_notebook("01_chain_rule")

SIGNATURES = {
    "forward_difference": "f, x, h",
    "central_difference": "f, x, h=1e-6",
    "sigmoid": "x",
    "loss": "x, w",
    "stable_loss": "x, w",
    "dloss_dx": "x, w",
    "dloss_dw": "x, w",
    "total_derivative_example": "x",
}
# Functions whose tests also fail when `sigmoid` is wrong (their solutions call it).
USES_SIGMOID = {"loss", "dloss_dx", "dloss_dw"}
TOTAL_POINTS = 27


def define(name, body):
    """Full source of a solution cell: `def name(<signature>):` plus the body."""
    body = textwrap.indent(textwrap.dedent(body).strip(), "    ")
    return f"def {name}({SIGNATURES[name]}):\n{body}"


def hidden(name):
    return f"test_{name}_hidden"


@dataclass(frozen=True)
class Mistake:
    name: str
    batch: str
    cell: str  # grade_id of the solution cell that is replaced
    body: str  # function body (the def line is added)
    says: tuple  # texts the failing hidden test's message must contain


MISTAKES = [
    # batch a: sigmoid is correct
    Mistake("forward_divides_by_2h", "a", "forward_difference",
            "return (f(x + h) - f(x)) / (2 * h)", ("exactly half", "divide by h, not by 2h")),
    Mistake("central_divides_by_h", "a", "central_difference",
            "return (f(x + h) - f(x - h)) / h", ("exactly twice", "divide by 2h, not by h")),
    Mistake("loss_without_minus", "a", "loss",
            "return np.log(sigmoid(w * x**2))", ("sign is flipped",)),
    Mistake("stable_loss_is_the_direct_formula", "a", "stable_loss",
            "return -np.log(sigmoid(w * x**2))", ("rounds to 1.0", "loses every digit")),
    Mistake("dloss_dw_uses_sigmoid_not_sigmoid_minus_1", "a", "dloss_dw",
            "return sigmoid(w * x**2) * x**2",
            ("used sigmoid(b) where dL/db = sigmoid(b) - 1 is needed",)),
    Mistake("total_derivative_misses_partial_in_x", "a", "total_derivative_example",
            "return np.sin(x) * 2 * x", ("partial derivative df/dx", "is missing")),
    # batch b: sigmoid is correct
    Mistake("forward_is_central", "b", "forward_difference",
            "return (f(x + h) - f(x - h)) / (2 * h)", ("that is the central difference",)),
    Mistake("central_uses_f_x_plus_h_minus_f_x", "b", "central_difference",
            "return (f(x + h) - f(x)) / (2 * h)", ("(f(x+h) - f(x)) / (2h)", "f(x+h) - f(x-h)")),
    Mistake("stable_loss_log_of_1_plus_exp", "b", "stable_loss",
            "return np.log(1 + np.exp(-w * x**2))", ("overflows", "inf")),
    Mistake("dloss_dx_misses_factor_2", "b", "dloss_dx",
            "b = w * x**2\nreturn (sigmoid(b) - 1) * w * x",
            ("exactly half", "factor 2 from da/dx = 2x")),
    Mistake("dloss_dw_uses_x_not_x_squared", "b", "dloss_dw",
            "return (sigmoid(w * x**2) - 1) * x", ("db/dw = a = x**2, not x",)),
    Mistake("total_derivative_misses_path_through_y", "b", "total_derivative_example",
            "return x**2 * np.cos(x)", ("path through y", "is missing")),
    # batch c: sigmoid is wrong, so loss and dloss_* are left correct (their tests fail anyway)
    Mistake("sigmoid_exponent_sign", "c", "sigmoid",
            "return 1 / (1 + np.exp(x))", ("sigmoid(-x) = 1 / (1 + exp(x))",)),
    Mistake("forward_is_backward", "c", "forward_difference",
            "return (f(x) - f(x - h)) / h", ("backward difference",)),
    Mistake("central_default_step_1e_4", "c", "central_difference",
            "return (f(x + h) - f(x - h)) / (2 * h)",
            ("default h = 1e-6", "as if h = 0.0001")),
    Mistake("total_derivative_wrong_sign_of_cos", "c", "total_derivative_example",
            "return 2 * x * np.sin(x) - x**2 * np.cos(x)", ("sign of the df/dx term",)),
    # batch d: a sigmoid that is right for moderate x (nan only at x = 800)
    Mistake("sigmoid_exp_ratio_nan_at_800", "d", "sigmoid",
            "return np.exp(x) / (1 + np.exp(x))", ("sigmoid(800.0) should be 1.0", "nan")),
    Mistake("loss_uses_w_x", "d", "loss",
            "return -np.log(sigmoid(w * x))", ("b = w x**2",)),
    Mistake("dloss_dx_sign_flipped", "d", "dloss_dx",
            "b = w * x**2\nreturn (1 - sigmoid(b)) * 2 * w * x", ("sign is flipped",)),
    Mistake("dloss_dw_is_dloss_dx", "d", "dloss_dw",
            "return (sigmoid(w * x**2) - 1) * 2 * w * x", ("that is dL/dx",)),
]  # fmt: skip

# The default-step mistake changes the signature, not the body.
SOURCES = {m.name: define(m.cell, m.body) for m in MISTAKES}
SOURCES["central_default_step_1e_4"] = SOURCES["central_default_step_1e_4"].replace(
    "h=1e-6", "h=1e-4"
)

ALTERNATIVES = {
    # other algebra and a sigmoid that is accurate only in absolute terms in the left tail
    "tanh_sigmoid_node_products": {
        "forward_difference": "fx = f(x)\nreturn (f(x + h) - fx) * (1.0 / h)",
        "central_difference": "xp, xm = x + h, x - h  # the steps actually taken\n"
        "return (f(xp) - f(xm)) / (xp - xm)",
        "sigmoid": "return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))",
        "loss": "return -np.log(sigmoid(w * x * x))",
        "stable_loss": "b = w * x**2\nreturn np.maximum(-b, 0.0) + np.log1p(np.exp(-np.abs(b)))",
        "dloss_dx": "a = x**2\nb = w * a\ns = sigmoid(b)\n"
        "dlds = -1 / s\ndsdb = s * (1 - s)\nreturn dlds * dsdb * w * 2 * x",
        "dloss_dw": "return x**2 * (sigmoid(w * x**2) - 1.0)",
        "total_derivative_example": "return 2 * x * np.sin(x) + x**2 * np.cos(x)",
    },
    # the naive sigmoid (overflow warnings at -800), plain floats and the math module
    "naive_sigmoid_math_module": {
        "forward_difference": "x1 = x + h\nreturn (f(x1) - f(x)) / (x1 - x)",
        "central_difference": "return (f(x + h) - f(x - h)) / h / 2",
        "sigmoid": "return 1 / (1 + np.exp(-x))",
        "loss": "import math\n\nreturn -math.log(sigmoid(w * x**2))",
        "stable_loss": "import math\n\nb = w * x**2\nif b >= 0:\n"
        "    return math.log1p(math.exp(-b))\nreturn -b + math.log1p(math.exp(b))",
        "dloss_dx": "return (sigmoid(w * x**2) - 1) * 2 * w * x",
        "dloss_dw": "return -(x**2) / (1 + np.exp(w * x**2))",
        "total_derivative_example": "import math\n\ny = x * x\n"
        "return math.sin(x) * 2 * x + y * math.cos(x)",
    },
}


@cache
def run_batch(batch):
    if batch == "solution":
        return run_notebook(NOTEBOOK)
    if batch == "stubs":
        stub = "# YOUR CODE HERE\nraise NotImplementedError()"
        return run_notebook(NOTEBOOK, {name: define(name, stub) for name in SIGNATURES})
    if batch in ALTERNATIVES:
        bodies = ALTERNATIVES[batch]
        return run_notebook(NOTEBOOK, {name: define(name, bodies[name]) for name in SIGNATURES})
    replacements = {m.cell: SOURCES[m.name] for m in MISTAKES if m.batch == batch}
    return run_notebook(NOTEBOOK, replacements)


def failing(results):
    return {gid: r.error for gid, r in results.items() if not r.passed}


def test_solution_earns_full_marks():
    results = run_batch("solution")
    assert failing(results) == {}
    assert len(results) == 2 * len(SIGNATURES)
    for name in SIGNATURES:
        assert f"test_{name}_visible" in results and hidden(name) in results
    assert sum(r.points for r in results.values()) == TOTAL_POINTS


def test_header_states_the_total_and_every_exercise_points():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    header = nb.cells[0].source
    assert f"**Total: {TOTAL_POINTS} points.**" in header
    points = {}
    for cell in nb.cells:
        meta = cell.metadata["nbgrader"]
        if meta["grade"]:
            name = re.fullmatch(r"test_(\w+)_(visible|hidden)", meta["grade_id"]).group(1)
            points[name] = points.get(name, 0) + meta["points"]
    for name, total in points.items():
        assert re.search(rf"\| `{name}` \| \d \| \d \| {total} \|", header), name
    assert sum(points.values()) == TOTAL_POINTS


def test_stubs_earn_zero():
    results = run_batch("stubs")
    assert all(not r.passed for r in results.values()), [
        gid for gid, r in results.items() if r.passed
    ]
    assert all("NotImplementedError" in r.error for r in results.values())


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_mistake_is_caught_with_a_diagnostic(mistake):
    results = run_batch(mistake.batch)
    result = results[hidden(mistake.cell)]
    assert not result.passed, f"{mistake.name} passed {hidden(mistake.cell)}"
    for text in mistake.says:
        assert text in result.error, result.error


@pytest.mark.parametrize("batch", sorted({m.batch for m in MISTAKES}))
def test_mistakes_fail_only_their_own_tests(batch):
    """A mistake costs the points of its function (and of functions that call sigmoid)."""
    mutated = {m.cell for m in MISTAKES if m.batch == batch}
    affected = set(mutated)
    if batch == "c":  # sigmoid wrong for every x
        affected |= USES_SIGMOID
    results = run_batch(batch)
    for name in SIGNATURES:
        if name not in affected:
            assert results[f"test_{name}_visible"].passed, results[f"test_{name}_visible"].error
            assert results[hidden(name)].passed, results[hidden(name)].error


@pytest.mark.parametrize("batch", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(batch):
    assert failing(run_batch(batch)) == {}
