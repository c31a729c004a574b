"""Assignment 07 (training): the hidden tests catch common mistakes and accept correct variants.

* the source notebook (with solutions) earns full marks, and the untouched release earns zero;
* realistic wrong implementations fail the matching hidden test cell, with a diagnostic that
  says what is wrong, and cost no points in other exercises (partial credit);
* other correct formulations (the cross-entropy form of the loss, the residual form of the
  gradient, loops, `loss.zero_grad()`, in-place updates, a numpy array of losses) pass every cell.

Each notebook run costs a few seconds, so wrong (or alternative) implementations of different
solution cells are batched into one run, and every run is cached for the whole module. The
exercises are independent (the tests of `train` bring their own losses and accuracy), so a wrong
cell may make only its own hidden tests fail.
"""

import textwrap
from dataclasses import dataclass
from functools import cache

import nbformat
import pytest

from notebook_harness import (
    notebook_cells,
    run_notebook,
    source_notebook,
    strip_hidden,
    stub_source,
)

ASSIGNMENT = "07_training"
TOTAL_POINTS = 20

# solution cell -> the hidden test cells that grade it
HIDDEN = {
    "nll_logistic": {"test_nll_logistic_hidden"},
    "nll_gradient": {"test_nll_gradient_hidden"},
    "accuracy": {"test_accuracy_hidden"},
    "mlp_forward": {"test_mlp_forward_hidden"},
    "train": {"test_train_hidden", "test_train_fits_hidden"},
}


def src(code):
    return textwrap.dedent(code).strip("\n") + "\n"


def nll_cell(body):
    return "def nll_logistic(w, Phi, y):\n" + textwrap.indent(src(body), " " * 4)


def gradient_cell(body):
    return "def nll_gradient(w, Phi, y):\n" + textwrap.indent(src(body), " " * 4)


def accuracy_cell(body):
    return "def accuracy(logits, y):\n" + textwrap.indent(src(body), " " * 4)


def mlp_cell(body):
    return "def mlp_forward(params, X):\n" + textwrap.indent(src(body), " " * 4)


def train_cell(body):
    return "def train(params, loss_fn, lr, steps):\n" + textwrap.indent(src(body), " " * 4)


SIGNS = "s = 2 * np.asarray(y, dtype=np.float64) - 1\n"

# ---------------------------------------------------------------- wrong answers


@dataclass(frozen=True)
class Mistake:
    name: str
    cell: str  # the solution cell it replaces
    source: str
    fails: str  # the hidden test cell that must fail
    says: tuple  # words the failure message must contain
    batch: int


# fmt: off
MISTAKES = [
    # ---- nll_logistic
    Mistake("NLL without the minus sign", "nll_logistic",
            nll_cell(SIGNS + "return (s * (Phi @ w)).log_sigmoid().sum()"),
            "test_nll_logistic_hidden", ("minus sign in front",), 1),
    Mistake("labels used as signs (y instead of 2y - 1)", "nll_logistic",
            nll_cell("return -(y * (Phi @ w)).log_sigmoid().sum()"),
            "test_nll_logistic_hidden", ("in place of 2 y_i - 1", "sign s_i = 2 y_i - 1"), 2),
    Mistake("unstable log(sigmoid(z))", "nll_logistic",
            nll_cell(SIGNS + "return -(s * (Phi @ w)).sigmoid().log().sum()"),
            "test_nll_logistic_hidden", ("margins (-1000", "inf", "z.log_sigmoid()"), 3),
    Mistake("mean instead of sum", "nll_logistic",
            nll_cell(SIGNS + "return -(s * (Phi @ w)).log_sigmoid().sum() / len(y)"),
            "test_nll_logistic_hidden", ("mean over the examples", "sum"), 4),
    Mistake("loss computed with numpy and wrapped in a leaf", "nll_logistic",
            nll_cell(SIGNS + "return Tensor(np.logaddexp(0.0, -s * (Phi @ w.value)).sum())"),
            "test_nll_logistic_hidden", ("leaf Tensor", "cannot reach"), 5),
    # ---- nll_gradient
    Mistake("gradient missing the transpose", "nll_gradient",
            gradient_cell(SIGNS + "z = s * (Phi @ w)\nreturn -Phi @ (s * sigmoid(-z))"),
            "test_nll_gradient_hidden", ("raised ValueError", "-Phi.T @"), 1),
    Mistake("gradient with y instead of 2y - 1", "nll_gradient",
            gradient_cell("y = np.asarray(y, dtype=np.float64)\nreturn -Phi.T @ (y * sigmoid(-y * (Phi @ w)))"),
            "test_nll_gradient_hidden", ("y_i in place of s_i",), 2),
    Mistake("gradient with sigma(z) instead of sigma(-z)", "nll_gradient",
            gradient_cell(SIGNS + "z = s * (Phi @ w)\nreturn -Phi.T @ (s * sigmoid(z))"),
            "test_nll_gradient_hidden", ("sigma(z) in place of sigma(-z)",), 3),
    Mistake("gradient with the wrong sign", "nll_gradient",
            gradient_cell(SIGNS + "z = s * (Phi @ w)\nreturn Phi.T @ (s * sigmoid(-z))"),
            "test_nll_gradient_hidden", ("sign is flipped",), 4),
    # ---- accuracy
    Mistake("accuracy thresholds the logits at 0.5", "accuracy",
            accuracy_cell("return float(np.mean((logits > 0.5) == (y == 1)))"),
            "test_accuracy_hidden", ("threshold 0.5", "logits are log-odds"), 1),
    Mistake("accuracy returns the number of correct predictions", "accuracy",
            accuracy_cell("return int(np.sum((logits > 0) == (y == 1)))"),
            "test_accuracy_hidden", ("NUMBER of correct", "fraction"), 2),
    Mistake("accuracy compares np.sign with 0/1 labels", "accuracy",
            accuracy_cell("return float(np.mean(np.sign(logits) == y))"),
            "test_accuracy_hidden", ("np.sign(logits)", "2 y - 1"), 3),
    # ---- mlp_forward
    Mistake("network without the ReLU", "mlp_forward",
            mlp_cell("W1, b1, w2, b2 = params\nreturn (X @ W1 + b1) @ w2 + b2"),
            "test_mlp_forward_hidden", ("WITHOUT the ReLU",), 1),
    Mistake("ReLU on the output too", "mlp_forward",
            mlp_cell("W1, b1, w2, b2 = params\nreturn ((X @ W1 + b1).relu() @ w2 + b2).relu()"),
            "test_mlp_forward_hidden", ("applied to the output",), 2),
    Mistake("network returns probabilities", "mlp_forward",
            mlp_cell("W1, b1, w2, b2 = params\nreturn ((X @ W1 + b1).relu() @ w2 + b2).sigmoid()"),
            "test_mlp_forward_hidden", ("probabilities", "without a sigmoid"), 3),
    Mistake("network computed with numpy and wrapped in a leaf", "mlp_forward",
            mlp_cell("W1, b1, w2, b2 = (p.value for p in params)\n"
                     "return Tensor(np.maximum(X @ W1 + b1, 0.0) @ w2 + b2)"),
            "test_mlp_forward_hidden", ("leaf Tensor",), 4),
    # ---- train
    Mistake("gradient ascent", "train", train_cell("""
        losses = []
        for _ in range(steps):
            for p in params:
                p.zero_grad()
            loss = loss_fn()
            loss.backward()
            for p in params:
                p.value = p.value + lr * p.grad
            losses.append(float(loss.value))
        return losses
        """), "test_train_hidden", ("gradient ASCENT", "p.value - lr * p.grad"), 1),
    Mistake("no zero_grad (gradients accumulate)", "train", train_cell("""
        losses = []
        for _ in range(steps):
            loss = loss_fn()
            loss.backward()
            for p in params:
                p.value = p.value - lr * p.grad
            losses.append(float(loss.value))
        return losses
        """), "test_train_hidden", ("WITHOUT resetting", "zero_grad()"), 2),
    Mistake("update before backward", "train", train_cell("""
        losses = []
        for _ in range(steps):
            for p in params:
                p.zero_grad()
            loss = loss_fn()
            for p in params:
                p.value = p.value - lr * p.grad
            loss.backward()
            losses.append(float(loss.value))
        return losses
        """), "test_train_hidden", ("all your losses are equal", "after loss.backward()"), 3),
    Mistake("update rebinds a local name (p = p - lr * p.grad)", "train", train_cell("""
        losses = []
        for _ in range(steps):
            for p in params:
                p.zero_grad()
            loss = loss_fn()
            loss.backward()
            for p in params:
                p = p - lr * p.grad
            losses.append(float(loss.value))
        return losses
        """), "test_train_hidden", ("all your losses are equal", "only rebinds a local name"), 4),
    Mistake("losses recorded after the update", "train", train_cell("""
        losses = []
        for _ in range(steps):
            for p in params:
                p.zero_grad()
            loss = loss_fn()
            loss.backward()
            for p in params:
                p.value = p.value - lr * p.grad
            losses.append(float(loss_fn().value))
        return losses
        """), "test_train_hidden", ("shifted by one step", "BEFORE update t"), 5),
    Mistake("losses kept as Tensors", "train", train_cell("""
        losses = []
        for _ in range(steps):
            for p in params:
                p.zero_grad()
            loss = loss_fn()
            loss.backward()
            for p in params:
                p.value = p.value - lr * p.grad
            losses.append(loss)
        return losses
        """), "test_train_hidden", ("float(loss.value)", "a Tensor is not a float"), 6),
]
# fmt: on
BATCHES = sorted({m.batch for m in MISTAKES})

# ---------------------------------------------------------------- other correct answers

ALTERNATIVES = {
    # The cross-entropy form of the loss with `w @ Phi.T`, the residual form of the gradient,
    # sign comparison in accuracy, maximum(0.0) as the ReLU, and a train that calls
    # loss.zero_grad() after the forward pass, updates in place and returns a numpy array.
    "cross_entropy_inplace": {
        "nll_logistic": nll_cell("""
            y = np.asarray(y)
            a = w @ Phi.T
            return -(y * a.log_sigmoid() + (1 - y) * (-a).log_sigmoid()).sum()
        """),
        "nll_gradient": gradient_cell("""
            return Phi.T @ (sigmoid(Phi @ w) - y)
        """),
        "accuracy": accuracy_cell("""
            return np.mean(np.sign(logits) == 2 * np.asarray(y) - 1)
        """),
        "mlp_forward": mlp_cell("""
            W1, b1, w2, b2 = params[0], params[1], params[2], params[3]
            H = (X @ W1 + b1).maximum(0.0)
            return H @ w2 + b2
        """),
        "train": train_cell("""
            losses = np.zeros(steps)
            for t in range(steps):
                loss = loss_fn()
                loss.zero_grad()
                loss.backward()
                for p in params:
                    p.value -= lr * p.grad
                losses[t] = loss.value
            return losses
        """),
    },
    # Signs with np.where and a multiplication by -1, the gradient as a sum of rows with a naive
    # (overflowing but correct) logistic function, a Python loop for the accuracy, the output
    # layer as a row-wise sum, and a train that resets .grad by hand and counts with while.
    "loops_and_rows": {
        "nll_logistic": nll_cell("""
            s = np.where(np.asarray(y) == 1, 1.0, -1.0)
            margins = (Phi @ w) * s
            return margins.log_sigmoid().sum() * -1.0
        """),
        "nll_gradient": gradient_cell("""
            s = np.where(np.asarray(y) == 1, 1.0, -1.0)
            z = s * (Phi @ w)
            with np.errstate(over="ignore"):
                weights = s / (1.0 + np.exp(z))          # s * sigma(-z); exp(z) = inf gives 0
            return -(Phi * weights[:, None]).sum(axis=0)
        """),
        "accuracy": accuracy_cell("""
            correct = 0
            for a, label in zip(logits, y):
                correct += int((a > 0) == (label == 1))
            return correct / len(y)
        """),
        "mlp_forward": mlp_cell("""
            hidden = (X @ params[0] + params[1]).relu()
            return (hidden * params[2]).sum(axis=1) + params[3]
        """),
        "train": train_cell("""
            history = []
            t = 0
            while t < steps:
                for p in params:
                    p.grad = np.zeros_like(p.value)
                loss = loss_fn()
                loss.backward()
                for p in params:
                    p.value = p.value - p.grad * lr
                history.append(loss.value.item())
                t += 1
            return history
        """),
    },
}

# ---------------------------------------------------------------- running the notebook


def cells(kind):
    return notebook_cells(ASSIGNMENT, kind)


def solution_cells():
    return cells("solution")


PARTIAL_DONE = {"nll_gradient", "train"}


@cache
def run(key):
    """One notebook run, cached: "source", "stubs", "release", "partial", "batchN", "alt:<name>"."""
    if key == "source":
        replacements = {}
    elif key == "stubs":  # as autograded: the hidden tests are back in place
        replacements = {gid: stub_source(s) for gid, s in solution_cells().items()}
    elif key == "release":  # as the students get it: stubs, and no hidden tests
        replacements = {gid: stub_source(s) for gid, s in solution_cells().items()}
        replacements.update({gid: strip_hidden(s) for gid, s in cells("grade").items()})
    elif key == "partial":  # only some exercises done
        replacements = {
            gid: stub_source(s) for gid, s in solution_cells().items() if gid not in PARTIAL_DONE
        }
    elif key.startswith("alt:"):
        replacements = ALTERNATIVES[key[4:]]
    else:
        replacements = {m.cell: m.source for m in MISTAKES if f"batch{m.batch}" == key}
    return run_notebook(source_notebook(ASSIGNMENT), replacements)


def failures(results):
    return {gid: r.error for gid, r in results.items() if not r.passed}


# ---------------------------------------------------------------- tests


def test_batches_replace_each_solution_cell_at_most_once():
    for batch in BATCHES:
        replaced = [m.cell for m in MISTAKES if m.batch == batch]
        assert len(replaced) == len(set(replaced)), (batch, replaced)


def test_every_solution_cell_is_graded_by_a_hidden_test():
    assert set(solution_cells()) == set(HIDDEN)
    hidden = {gid for gid in cells("grade") if gid.endswith("_hidden")}
    assert hidden == set().union(*HIDDEN.values())


def test_points_add_up_to_the_total_in_the_header():
    nb = nbformat.read(str(source_notebook(ASSIGNMENT)), as_version=4)
    points = [
        c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]
    assert sum(points) == TOTAL_POINTS
    assert f"**{TOTAL_POINTS}**" in nb.cells[0].source


def test_source_earns_full_marks():
    results = run("source")
    assert not failures(results), failures(results)
    assert sum(r.points for r in results.values()) == TOTAL_POINTS


@pytest.mark.parametrize("key", ["stubs", "release"])
def test_untouched_release_earns_zero(key):
    """No test cell passes on the stubs: neither when autograded nor in the student's copy."""
    results = run(key)
    passing = [gid for gid, r in results.items() if r.passed]
    assert not passing, f"graded cells pass with every solution stubbed out: {passing}"


def test_release_has_no_hidden_tests_left():
    for gid, source in cells("grade").items():
        assert "HIDDEN" not in strip_hidden(source), gid
        # a visible line calls the student's code before the hidden block
        if gid.endswith("_hidden"):
            visible = [
                ln for ln in strip_hidden(source).splitlines() if ln and not ln.startswith("#")
            ]
            assert visible, f"{gid} keeps only comments in the release"


def test_exercises_are_independent_of_unfinished_ones():
    """Only nll_gradient and train done: their hidden tests pass (they bring their own helpers)."""
    results = run("partial")
    done = set().union(*(HIDDEN[c] for c in PARTIAL_DONE))
    for gid in done:
        assert results[gid].passed, (gid, results[gid].error)
    for gid in set().union(*HIDDEN.values()) - done:
        assert not results[gid].passed, gid


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name.replace(" ", "_"))
def test_mistake_is_caught_with_a_diagnostic(mistake):
    assert mistake.fails in HIDDEN[mistake.cell]
    result = run(f"batch{mistake.batch}")[mistake.fails]
    assert not result.passed, f"the hidden test accepted: {mistake.name}"
    for word in mistake.says:
        assert word in result.error, f"{word!r} not in the message:\n{result.error}"


@pytest.mark.parametrize("batch", BATCHES)
def test_a_mistake_costs_points_only_in_its_own_exercise(batch):
    """Partial credit: a wrong cell fails only the hidden tests of its own exercise."""
    mistakes = [m for m in MISTAKES if m.batch == batch]
    allowed = set().union(*(HIDDEN[m.cell] for m in mistakes))
    failed_hidden = {gid for gid in failures(run(f"batch{batch}")) if gid.endswith("_hidden")}
    assert failed_hidden <= allowed, failed_hidden - allowed
    assert {m.fails for m in mistakes} <= failed_hidden


@pytest.mark.parametrize("alternative", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(alternative):
    results = run(f"alt:{alternative}")
    assert not failures(results), failures(results)
