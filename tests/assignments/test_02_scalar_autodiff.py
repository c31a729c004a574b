"""Assignment 02 (scalar autodiff): the hidden tests catch common mistakes and accept correct variants.

Each notebook run costs a few seconds, so wrong (or alternative) implementations of different
solution cells are batched into one run, and every run is cached for the whole module. The
exercises are designed to be independent, so a wrong cell may make only its own hidden test fail
(plus the integration test of Exercise 10, which checks everything together).
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

ASSIGNMENT = "02_scalar_autodiff"
TOTAL_POINTS = 34
INTEGRATION = "test_forward_grad_hidden"

# solution cell -> the hidden test cell that grades it
HIDDEN = {
    "forward_mul_div": "test_forward_mul_div_hidden",
    "forward_pow": "test_forward_pow_hidden",
    "forward_exp_log_sigmoid": "test_forward_exp_log_sigmoid_hidden",
    "forward_reflected": "test_forward_reflected_hidden",
    "reverse_mul_div": "test_reverse_mul_div_hidden",
    "reverse_pow": "test_reverse_pow_hidden",
    "reverse_exp_log_sigmoid": "test_reverse_exp_log_sigmoid_hidden",
    "topological_order": "test_topological_order_hidden",
    "backward": "test_backward_hidden",
    "forward_grad": "test_forward_grad_hidden",
}


def src(code):
    return textwrap.dedent(code).strip("\n")


# ---------------------------------------------------------------- correct cells, reused below

FORWARD_MUL_DIV = src("""
    def mul_jvp(a, b, da, db):
        return da * b + a * db


    def div_jvp(a, b, da, db):
        return (da - (a / b) * db) / b
""")

FORWARD_REFLECTED = src("""
    def forward_rsub(self, other):
        return _as_forward(other) - self


    def forward_rtruediv(self, other):
        return _as_forward(other) / self


    def forward_rpow(self, other):
        return _as_forward(other) ** self
""")

FORWARD_EXP_LOG_SIGMOID = src("""
    def exp_jvp(a, da):
        return math.exp(a) * da


    def log_jvp(a, da):
        return da / a


    def sigmoid_jvp(a, da):
        s = sigmoid_float(a)
        return s * (1.0 - s) * da
""")


def reverse_cell(**grads):
    """The reverse-mode operation classes with the given `grads` bodies (one line each)."""
    funcs = {
        "_mul": ("a, b", "a * b"),
        "_div": ("a, b", "a / b"),
        "_pow": ("a, b", "a ** b"),
        "_exp": ("a", "math.exp(a)"),
        "_log": ("a", "math.log(a)"),
        "_sigmoid": ("a", "sigmoid_float(a)"),
    }
    blocks = []
    for name, body in grads.items():
        args, func = funcs[name]
        body = textwrap.indent(src(body), " " * 8)
        blocks.append(
            f"class {name}(AutogradValue):\n"
            f"    def func(self, {args}):\n"
            f"        return {func}\n\n"
            f"    def grads(self, {args}):\n"
            f"{body}\n"
        )
    return "\n\n".join(blocks)


REVERSE_MUL_DIV = reverse_cell(_mul="return b, a", _div="return 1.0 / b, -a / b ** 2")
REVERSE_POW = reverse_cell(_pow="return b * a ** (b - 1), (a ** b * math.log(a) if a > 0 else 0.0)")
REVERSE_EXP_LOG_SIGMOID = reverse_cell(
    _exp="return (self.value,)",
    _log="return (1.0 / a,)",
    _sigmoid="return (self.value * (1.0 - self.value),)",
)

TOPOLOGICAL_ORDER = src("""
    def topological_order(root):
        order, visited = [], set()
        stack = [(root, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for parent in node.parents:
                if isinstance(parent, AutogradValue) and parent not in visited:
                    stack.append((parent, False))
        return order
""")


def backward_cell(body):
    return (
        "def backward(self):\n"
        + textwrap.indent(src(body), " " * 4)
        + "\n\n\nAutogradValue.backward = backward\n"
    )


# ---------------------------------------------------------------- the mistakes


@dataclass(frozen=True)
class Mistake:
    name: str
    cell: str  # grade_id of the replaced solution cell
    source: str
    says: tuple  # words the failing hidden test's message must contain
    batch: int


MISTAKES = [
    # ---- batch 1
    Mistake(
        "product rule missing a term",
        "forward_mul_div",
        FORWARD_MUL_DIV.replace("return da * b + a * db", "return da * b"),
        ("mul_jvp", "terms for db are missing"),
        1,
    ),
    Mistake(
        "forward pow ignores a varying exponent",
        "forward_pow",
        src("""
            def pow_jvp(a, b, da, db):
                return b * a ** (b - 1) * da
        """),
        ("pow_jvp", "terms for db are missing"),
        1,
    ),
    Mistake(
        "forward sigmoid rule uses the input instead of sigma(a)",
        "forward_exp_log_sigmoid",
        FORWARD_EXP_LOG_SIGMOID.replace(
            "s = sigmoid_float(a)\n    return s * (1.0 - s) * da", "return a * (1.0 - a) * da"
        ),
        ("sigmoid_jvp", "a * (1 - a)", "sigmoid_float(a)"),
        1,
    ),
    Mistake(
        "__rsub__ computes x - c instead of c - x",
        "forward_reflected",
        FORWARD_REFLECTED.replace(
            "return _as_forward(other) - self", "return self - _as_forward(other)"
        ),
        ("forward_rsub computes self - other", "return other - self"),
        1,
    ),
    Mistake(
        "_div partial for the denominator with the wrong sign",
        "reverse_mul_div",
        reverse_cell(_mul="return b, a", _div="return 1.0 / b, a / b ** 2"),
        ("_div.grads", "gradient for b", "sign is flipped"),
        1,
    ),
    Mistake(
        "_pow ignores the exponent's partial",
        "reverse_pow",
        reverse_cell(_pow="return b * a ** (b - 1), 0.0"),
        ("2 ** x", "exponent's partial is 0"),
        1,
    ),
    Mistake(
        "_sigmoid grads uses the input a instead of sigma(a)",
        "reverse_exp_log_sigmoid",
        reverse_cell(
            _exp="return (self.value,)",
            _log="return (1.0 / a,)",
            _sigmoid="return (a * (1.0 - a),)",
        ),
        ("_sigmoid.grads", "a * (1 - a)", "self.value"),
        1,
    ),
    Mistake(
        "topological order = reversed breadth-first order",
        "topological_order",
        src("""
            def topological_order(root):
                order, seen, k = [root], {root}, 0
                while k < len(order):
                    node = order[k]
                    k += 1
                    for parent in node.parents:
                        if isinstance(parent, AutogradValue) and parent not in seen:
                            seen.add(parent)
                            order.append(parent)
                return order[::-1]
        """),
        ("before its", "parent", "breadth-first"),
        1,
    ),
    Mistake(
        "backward overwrites instead of accumulating",
        "backward",
        backward_cell("""
            order = topological_order(self)
            for node in order:
                node.grad = 0.0
            self.grad = 1.0
            for node in reversed(order):
                for parent, d in zip(node.parents, node.grads(*node.args)):
                    if isinstance(parent, AutogradValue):
                        parent.grad = node.grad * d
        """),
        ("a.grad = dc/da", "overwrote", "accumulate", "+="),
        1,
    ),
    # ---- batch 2
    Mistake(
        "quotient rule with the wrong sign",
        "forward_mul_div",
        FORWARD_MUL_DIV.replace("return (da - (a / b) * db) / b", "return (da + (a / b) * db) / b"),
        ("div_jvp", "wrong values"),
        2,
    ),
    Mistake(
        "forward pow takes log(a) even for a constant exponent",
        "forward_pow",
        src("""
            def pow_jvp(a, b, da, db):
                return b * a ** (b - 1) * da + a ** b * math.log(a) * db
        """),
        ("x ** 2 at x = -1.5", "ValueError", "db == 0"),
        2,
    ),
    Mistake(
        "exp rule ignores the tangent",
        "forward_exp_log_sigmoid",
        FORWARD_EXP_LOG_SIGMOID.replace("return math.exp(a) * da", "return math.exp(a)"),
        ("exp_jvp", "multiply by the tangent"),
        2,
    ),
    Mistake(
        "__rtruediv__ computes x / c instead of c / x",
        "forward_reflected",
        FORWARD_REFLECTED.replace(
            "return _as_forward(other) / self", "return self / _as_forward(other)"
        ),
        ("forward_rtruediv computes self / other", "return other / self"),
        2,
    ),
    Mistake(
        "_mul partials in the wrong order",
        "reverse_mul_div",
        reverse_cell(_mul="return a, b", _div="return 1.0 / b, -a / b ** 2"),
        ("_mul.grads", "swapped"),
        2,
    ),
    Mistake(
        "_pow takes log(a) of a negative base",
        "reverse_pow",
        reverse_cell(_pow="return b * a ** (b - 1), a ** b * math.log(a)"),
        ("x ** 2 at x = -1.5", "raised ValueError", "a <= 0"),
        2,
    ),
    Mistake(
        "_exp grads returns a bare number instead of a 1-tuple",
        "reverse_exp_log_sigmoid",
        reverse_cell(
            _exp="return self.value",
            _log="return (1.0 / a,)",
            _sigmoid="return (self.value * (1.0 - self.value),)",
        ),
        ("_exp.grads", "1-tuple", "comma"),
        2,
    ),
    Mistake(
        "recursive depth-first topological order",
        "topological_order",
        src("""
            def topological_order(root):
                order, visited = [], set()

                def visit(node):
                    if node in visited:
                        return
                    visited.add(node)
                    for parent in node.parents:
                        if isinstance(parent, AutogradValue):
                            visit(parent)
                    order.append(node)

                visit(root)
                return order
        """),
        ("RecursionError", "5000 nodes", "explicit stack"),
        2,
    ),
    Mistake(
        "naive recursive backward (one call per path)",
        "backward",
        backward_cell("""
            def push(node, upstream):
                node.grad += upstream
                for parent, d in zip(node.parents, node.grads(*node.args)):
                    if isinstance(parent, AutogradValue):
                        push(parent, upstream * d)

            for node in topological_order(self):
                node.grad = 0.0
            push(self, 1.0)
        """),
        ("y = y + y repeated 60 times", "was stopped", "every path"),
        2,
    ),
    Mistake(
        "forward_grad seeds every input at once",
        "forward_grad",
        src("""
            def forward_grad(f, *xs):
                out = f(*[ForwardValue(x, 1.0) for x in xs])
                return tuple(out.deriv for _ in xs)
        """),
        ("df/dx", "seed input i with tangent 1.0"),
        2,
    ),
    # ---- batch 3
    Mistake(
        "__rpow__ computes x ** c instead of c ** x",
        "forward_reflected",
        FORWARD_REFLECTED.replace(
            "return _as_forward(other) ** self", "return self ** _as_forward(other)"
        ),
        ("forward_rpow computes self ** other", "return other ** self"),
        3,
    ),
    Mistake(
        "iterative topological order without a visited set (walks every path)",
        "topological_order",
        src("""
            def topological_order(root):
                order, stack = [], [(root, False)]
                while stack:
                    node, done = stack.pop()
                    if done:
                        if node not in order:
                            order.append(node)
                        continue
                    stack.append((node, True))
                    for parent in node.parents:
                        if isinstance(parent, AutogradValue):
                            stack.append((parent, False))
                return order
        """),
        ("read node.parents more than", "every path", "visited"),
        3,
    ),
    Mistake(
        "backward in breadth-first order",
        "backward",
        backward_cell("""
            order, seen, k = [self], {self}, 0
            while k < len(order):
                node = order[k]
                k += 1
                for parent in node.parents:
                    if isinstance(parent, AutogradValue) and parent not in seen:
                        seen.add(parent)
                        order.append(parent)
            for node in order:
                node.grad = 0.0
            self.grad = 1.0
            for node in order:
                for parent, d in zip(node.parents, node.grads(*node.args)):
                    if isinstance(parent, AutogradValue):
                        parent.grad += node.grad * d
        """),
        ("x.grad = dc/dx", "before all of its consumers", "reversed(topological_order"),
        3,
    ),
    # ---- batch 4
    Mistake(
        "reflected operators ignore the input's tangent",
        "forward_reflected",
        src("""
            def forward_rsub(self, other):
                return ForwardValue(other - self.value, -1.0)


            def forward_rtruediv(self, other):
                return ForwardValue(other / self.value, -other / self.value ** 2)


            def forward_rpow(self, other):
                return ForwardValue(other ** self.value, other ** self.value * math.log(other))
        """),
        ("tangent of", "ignores dx"),
        4,
    ),
    Mistake(
        "topological order with the root first",
        "topological_order",
        TOPOLOGICAL_ORDER.replace("return order", "return order[::-1]"),
        ("before its parent", "starts with the root"),
        4,
    ),
    Mistake(
        "backward does not reset the gradients",
        "backward",
        backward_cell("""
            order = topological_order(self)
            self.grad = 1.0
            for node in reversed(order):
                for parent, d in zip(node.parents, node.grads(*node.args)):
                    if isinstance(parent, AutogradValue):
                        parent.grad += node.grad * d
        """),
        ("backward() twice", "reset grad = 0.0"),
        4,
    ),
    # ---- batch 5
    Mistake(
        "backward seeds the output before resetting (the seed is lost)",
        "backward",
        backward_cell("""
            order = topological_order(self)
            self.grad = 1.0
            for node in order:
                node.grad = 0.0
            for node in reversed(order):
                for parent, d in zip(node.parents, node.grads(*node.args)):
                    if isinstance(parent, AutogradValue):
                        parent.grad += node.grad * d
        """),
        ("the seed", "self.grad = 1.0"),
        5,
    ),
    Mistake(
        "recursive topological order that raises the recursion limit",
        "topological_order",
        src("""
            def topological_order(root):
                sys.setrecursionlimit(100_000)
                order, visited = [], set()

                def visit(node):
                    if node in visited:
                        return
                    visited.add(node)
                    for parent in node.parents:
                        if isinstance(parent, AutogradValue):
                            visit(parent)
                    order.append(node)

                visit(root)
                return order
        """),
        ("changed Python's recursion limit", "explicit stack"),
        5,
    ),
]

BATCHES = sorted({m.batch for m in MISTAKES})

# ---------------------------------------------------------------- alternative correct answers

ALTERNATIVES = {
    "A": {
        "forward_mul_div": src("""
            def mul_jvp(a, b, da, db):
                return a * db + b * da


            def div_jvp(a, b, da, db):
                return da / b - a * db / b ** 2
        """),
        "forward_pow": src("""
            def pow_jvp(a, b, da, db):
                result = b * a ** (b - 1) * da
                if a > 0:
                    result = result + a ** b * np.log(a) * db
                return result
        """),
        "forward_exp_log_sigmoid": src("""
            def exp_jvp(a, da):
                return da * exp(a)


            def log_jvp(a, da):
                return da * a ** -1


            def sigmoid_jvp(a, da):
                e = math.exp(-abs(a))
                return e / (1 + e) ** 2 * da
        """),
        "forward_reflected": src("""
            def forward_rsub(self, other):
                return ForwardValue(other - self.value, -self.deriv)


            def forward_rtruediv(self, other):
                return ForwardValue(other / self.value, -other * self.deriv / self.value ** 2)


            def forward_rpow(self, other):
                v = other ** self.value
                return ForwardValue(v, v * math.log(other) * self.deriv)
        """),
        "reverse_mul_div": reverse_cell(
            _mul="return [b, a]", _div="return [1 / b, -self.value / b]"
        ),
        "reverse_pow": reverse_cell(
            _pow="return b * a ** (b - 1), (self.value * float(np.log(a)) if a > 0 else 0.0)"
        ),
        "reverse_exp_log_sigmoid": reverse_cell(
            _exp="return (math.exp(a),)",
            _log="return (a ** -1,)",
            _sigmoid="return (sigmoid_float(a) * sigmoid_float(-a),)",
        ),
        # Kahn's algorithm: count consumers, emit the root first, reverse at the end
        "topological_order": src("""
            def topological_order(root):
                consumers, stack = {root: 0}, [root]
                while stack:
                    node = stack.pop()
                    for parent in node.parents:
                        if isinstance(parent, AutogradValue):
                            if parent not in consumers:
                                consumers[parent] = 0
                                stack.append(parent)
                            consumers[parent] += 1
                order, ready = [], [root]
                while ready:
                    node = ready.pop()
                    order.append(node)
                    for parent in node.parents:
                        if isinstance(parent, AutogradValue):
                            consumers[parent] -= 1
                            if consumers[parent] == 0:
                                ready.append(parent)
                return order[::-1]
        """),
        # adjoints in a dict, written back at the end
        "backward": backward_cell("""
            order = topological_order(self)
            adjoint = {node: 0.0 for node in order}
            adjoint[self] = 1.0
            for node in order[::-1]:
                partials = node.grads(*node.args)
                for parent, d in zip(node.parents, partials):
                    if isinstance(parent, AutogradValue):
                        adjoint[parent] = adjoint[parent] + adjoint[node] * d
            for node in order:
                node.grad = adjoint[node]
        """),
        "forward_grad": src("""
            def forward_grad(f, *xs):
                n = len(xs)
                return [f(*[ForwardValue(xs[j], float(i == j)) for j in range(n)]).deriv
                        for i in range(n)]
        """),
    },
    "B": {
        "forward_mul_div": src("""
            def mul_jvp(a, b, da, db):
                return float(da) * float(b) + float(a) * float(db)


            def div_jvp(a, b, da, db):
                return (da * b - a * db) / (b * b)
        """),
        "forward_pow": src("""
            def pow_jvp(a, b, da, db):
                terms = [b * a ** (b - 1) * da]
                if db:
                    terms.append(math.exp(b * math.log(a)) * math.log(a) * db)
                return sum(terms)
        """),
        "forward_exp_log_sigmoid": src("""
            def exp_jvp(a, da):
                return np.exp(a) * da


            def log_jvp(a, da):
                return 1 / a * da


            def sigmoid_jvp(a, da):
                s = 1 / (1 + math.exp(-a))
                return da * (s - s * s)
        """),
        # through other operators: -x + c, c * x ** -1, exp(x log c)
        "forward_reflected": src("""
            def forward_rsub(self, other):
                return -self + other


            def forward_rtruediv(self, other):
                return other * self ** -1


            def forward_rpow(self, other):
                return exp(self * math.log(other))
        """),
        "reverse_mul_div": reverse_cell(
            _mul="return (b, a)", _div="inv = 1.0 / b\nreturn inv, -a * inv * inv"
        ),
        "reverse_pow": reverse_cell(
            _pow="""
                if a > 0:
                    return b * self.value / a, self.value * math.log(a)
                return b * a ** (b - 1), 0.0
            """
        ),
        "reverse_exp_log_sigmoid": reverse_cell(
            _exp="return (math.exp(a),)",
            _log="return [1 / a]",
            _sigmoid="s = self.value\nreturn (s - s * s,)",
        ),
        # depth-first search with an explicit stack of parent iterators
        "topological_order": src("""
            def topological_order(root):
                order, visited = [], {root}
                stack = [(root, iter(root.parents))]
                while stack:
                    node, parents = stack[-1]
                    for parent in parents:
                        if isinstance(parent, AutogradValue) and parent not in visited:
                            visited.add(parent)
                            stack.append((parent, iter(parent.parents)))
                            break
                    else:
                        stack.pop()
                        order.append(node)
                return order
        """),
        # no topological_order at all: release a node once all of its consumers are done
        "backward": backward_cell("""
            pending, nodes, stack = {id(self): 0}, [self], [self]
            while stack:
                node = stack.pop()
                for parent in node.parents:
                    if isinstance(parent, AutogradValue):
                        if id(parent) not in pending:
                            pending[id(parent)] = 0
                            nodes.append(parent)
                            stack.append(parent)
                        pending[id(parent)] += 1
            for node in nodes:
                node.grad = 0.0
            self.grad = 1.0
            ready = [self]
            while ready:
                node = ready.pop()
                for parent, d in zip(node.parents, node.grads(*node.args)):
                    if isinstance(parent, AutogradValue):
                        parent.grad += node.grad * d
                        pending[id(parent)] -= 1
                        if pending[id(parent)] == 0:
                            ready.append(parent)
        """),
        "forward_grad": src("""
            def forward_grad(f, *xs):
                gradient = ()
                for i, _ in enumerate(xs):
                    tangents = [0.0] * len(xs)
                    tangents[i] = 1.0
                    out = f(*map(ForwardValue, xs, tangents))
                    gradient += (out.deriv,)
                return gradient
        """),
    },
}


# ---------------------------------------------------------------- running the notebook


def cells(kind):
    return notebook_cells(ASSIGNMENT, kind)


def solution_cells():
    return cells("solution")


@cache
def run(key):
    """One notebook run, cached: "source", "stubs", "release", "partial", "batchN", "altX"."""
    if key == "source":
        replacements = {}
    elif key == "stubs":  # as autograded: the hidden tests are back in place
        replacements = {gid: stub_source(s) for gid, s in solution_cells().items()}
    elif key == "release":  # as the students get it: stubs, and no hidden tests
        replacements = {gid: stub_source(s) for gid, s in solution_cells().items()}
        replacements.update({gid: strip_hidden(s) for gid, s in cells("grade").items()})
    elif key == "partial":
        keep = {"forward_reflected", "backward"}
        replacements = {
            gid: stub_source(s) for gid, s in solution_cells().items() if gid not in keep
        }
    elif key.startswith("alt"):
        replacements = ALTERNATIVES[key[3:]]
    else:
        replacements = {m.cell: m.source for m in MISTAKES if f"batch{m.batch}" == key}
    return run_notebook(source_notebook(ASSIGNMENT), replacements)


def failures(results):
    return {gid: r.error for gid, r in results.items() if not r.passed}


# ---------------------------------------------------------------- tests


def test_every_solution_cell_is_graded_by_a_hidden_test():
    assert set(solution_cells()) == set(HIDDEN)


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


def test_exercises_are_independent_of_unfinished_ones():
    """Only Exercises 4 and 9 done: their hidden tests pass (they use their own helpers)."""
    results = run("partial")
    for gid in ("test_forward_reflected_hidden", "test_backward_hidden"):
        assert results[gid].passed, results[gid].error
    for gid in ("test_forward_mul_div_hidden", "test_topological_order_hidden", INTEGRATION):
        assert not results[gid].passed


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name.replace(" ", "_"))
def test_mistake_is_caught_with_a_diagnostic(mistake):
    result = run(f"batch{mistake.batch}")[HIDDEN[mistake.cell]]
    assert not result.passed, f"the hidden test accepted: {mistake.name}"
    for word in mistake.says:
        assert word in result.error, f"{word!r} not in the message:\n{result.error}"


@pytest.mark.parametrize("batch", BATCHES)
def test_a_mistake_costs_points_only_in_its_own_exercise(batch):
    targeted = {HIDDEN[m.cell] for m in MISTAKES if m.batch == batch}
    failed_hidden = {gid for gid in failures(run(f"batch{batch}")) if gid.endswith("_hidden")}
    assert failed_hidden - {INTEGRATION} == targeted - {INTEGRATION}


@pytest.mark.parametrize("alternative", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(alternative):
    results = run(f"alt{alternative}")
    assert not failures(results), failures(results)
