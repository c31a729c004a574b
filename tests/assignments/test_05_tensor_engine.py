"""Assignment 05 (tensor engine): the hidden tests catch common mistakes and accept correct variants.

* the source notebook (with solutions) earns full marks, and the untouched release earns zero;
* realistic wrong implementations fail the matching hidden test cell, with a diagnostic that
  says what is wrong, and cost no points in other exercises (partial credit);
* other correct engines (composite operators, Kahn's algorithm, an explicit-stack depth-first
  search with iterators, dictionaries keyed by id, lists instead of tuples) pass every cell.

Each notebook run costs a few seconds, so wrong (or alternative) implementations of different
solution cells are batched into one run, and every run is cached for the whole module. The
exercises are designed to be independent (the hidden tests bring their own topological order and
backward pass), so a wrong cell may make only its own hidden tests fail, plus the integration
test of Exercise 6, which checks the whole engine together.
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

ASSIGNMENT = "05_tensor_engine"
TOTAL_POINTS = 27
INTEGRATION = "test_engine_vjps_hidden"

# solution cell -> the hidden test cells that grade it
HIDDEN = {
    "arithmetic_operators": {"test_arithmetic_operators_hidden"},
    "array_methods": {"test_array_methods_hidden"},
    "topological_order": {"test_topological_order_hidden"},
    "backward": {"test_backward_hidden", "test_backward_repeated_hidden"},
    "zero_grad": {"test_zero_grad_hidden"},
    "engine_vjps": {"test_engine_vjps_hidden"},
}


def src(code):
    return textwrap.dedent(code).strip("\n") + "\n"


# ---------------------------------------------------------------- building solution cells

ARITH_BODIES = {
    "__add__": ("self, other", 'return apply_op("add", self, other)'),
    "__radd__": ("self, other", 'return apply_op("add", other, self)'),
    "__sub__": ("self, other", 'return apply_op("sub", self, other)'),
    "__rsub__": ("self, other", 'return apply_op("sub", other, self)'),
    "__mul__": ("self, other", 'return apply_op("mul", self, other)'),
    "__rmul__": ("self, other", 'return apply_op("mul", other, self)'),
    "__truediv__": ("self, other", 'return apply_op("div", self, other)'),
    "__rtruediv__": ("self, other", 'return apply_op("div", other, self)'),
    "__neg__": ("self", 'return apply_op("neg", self)'),
}

ARRAY_BODIES = {
    "__matmul__": ("self, other", 'return apply_op("matmul", self, other)'),
    "__rmatmul__": ("self, other", 'return apply_op("matmul", other, self)'),
    "__pow__": ("self, p", 'return apply_op("pow", self, p=p)'),
    "exp": ("self", 'return apply_op("exp", self)'),
    "log": ("self", 'return apply_op("log", self)'),
    "sum": (
        "self, axis=None, keepdims=False",
        'return apply_op("sum", self, axis=axis, keepdims=keepdims)',
    ),
    "maximum": ("self, other", 'return apply_op("maximum", self, other)'),
    "relu": ("self", 'return apply_op("relu", self)'),
    "sigmoid": ("self", 'return apply_op("sigmoid", self)'),
}


def methods_cell(class_name, defaults, prefix="", **bodies):
    """An `@attach_to_tensor` class with the default method bodies, some replaced by `bodies`."""
    blocks = []
    for name, (args, body) in defaults.items():
        args, body = bodies.get(name, (args, body))
        blocks.append(f"    def {name}({args}):\n{textwrap.indent(src(body), ' ' * 8)}")
    prefix = f"{prefix.rstrip()}\n\n\n" if prefix else ""
    return f"{prefix}@attach_to_tensor\nclass {class_name}:\n" + "\n".join(blocks)


def arith_cell(prefix="", **bodies):
    return methods_cell("ArithmeticOperators", ARITH_BODIES, prefix, **bodies)


def array_cell(prefix="", **bodies):
    return methods_cell("ArrayMethods", ARRAY_BODIES, prefix, **bodies)


def backward_cell(*pieces):
    """A backward cell whose body is the (dedented) pieces, one after the other."""
    body = "".join(src(p) for p in pieces)
    return (
        "def backward(self, grad=None):\n"
        + textwrap.indent(body, " " * 4)
        + "\n\nTensor.backward = backward\n"
    )


def zero_grad_cell(body):
    return (
        "def zero_grad(self):\n"
        + textwrap.indent(src(body), " " * 4)
        + "\n\nTensor.zero_grad = zero_grad\n"
    )


SEED = """
    if grad is None:
        if self.value.size != 1:
            raise ValueError(f"pass grad for an output of shape {self.shape}")
        grad = np.ones_like(self.value)
    grad = np.asarray(grad, dtype=np.float64)
"""

SWEEP = """
    cotangents = {self: grad}
    for node in reversed(order):
        g = cotangents.pop(node)
        node.grad = node.grad + g
        if node.parents:
            grads = node.op.vjp(g, *(p.value for p in node.parents), **node.kwargs)
            for parent, pg in zip(node.parents, grads):
                cotangents[parent] = cotangents[parent] + pg if parent in cotangents else pg
"""

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
    # ---- batch 1
    Mistake("__rsub__ computes x - c instead of c - x", "arithmetic_operators",
            arith_cell(__rsub__=("self, other", 'return apply_op("sub", self, other)')),
            "test_arithmetic_operators_hidden", ("`1.5 - x`", "minus the expected", "x.__rsub__(c)",
                                                 "other - self"), 1),
    Mistake("sum ignores keepdims", "array_methods",
            array_cell(sum=("self, axis=None, keepdims=False", 'return apply_op("sum", self, axis=axis)')),
            "test_array_methods_hidden", ("keepdims=True", "is keepdims passed on"), 1),
    Mistake("topological order by breadth-first search", "topological_order", src("""
        def topological_order(root):
            order, seen, k = [root], {root}, 0
            while k < len(order):
                node = order[k]
                k += 1
                for parent in node.parents:
                    if parent not in seen:
                        seen.add(parent)
                        order.append(parent)
            return order[::-1]
        """), "test_topological_order_hidden", ("before its parent", "breadth-first"), 1),
    Mistake("backward overwrites the cotangents of reused nodes", "backward",
            backward_cell(SEED, "order = topological_order(self)", SWEEP.replace(
                "cotangents[parent] + pg if parent in cotangents else pg", "pg")),
            "test_backward_hidden", ("x.grad = 2x", "exactly half", "overwritten instead of added"), 1),
    Mistake("zero_grad does nothing", "zero_grad", zero_grad_cell("pass"),
            "test_zero_grad_hidden", ("expected an array of zeros", "EVERY node"), 1),
    # ---- batch 2
    Mistake("__rtruediv__ computes x / c instead of c / x", "arithmetic_operators",
            arith_cell(__rtruediv__=("self, other", 'return apply_op("div", self, other)')),
            "test_arithmetic_operators_hidden", ("`2 / x`", "reciprocal", "x.__rtruediv__(c)",
                                                 "other / self"), 2),
    Mistake("__rmatmul__ computes x @ A instead of A @ x", "array_methods",
            array_cell(__rmatmul__=("self, other", 'return apply_op("matmul", self, other)')),
            "test_array_methods_hidden", ("`A @ x", "raised ValueError", "x.__rmatmul__(A)",
                                          "other @ self"), 2),
    Mistake("recursive depth-first topological order", "topological_order", src("""
        def topological_order(root):
            order, visited = [], set()

            def visit(node):
                if node in visited:
                    return
                visited.add(node)
                for parent in node.parents:
                    visit(parent)
                order.append(node)

            visit(root)
            return order
        """), "test_topological_order_hidden", ("RecursionError", "5000 nodes", "explicit stack"), 2),
    Mistake("backward sends a contribution along every path (iteratively)", "backward",
            backward_cell(SEED, """
                stack = [(self, grad)]
                while stack:
                    node, g = stack.pop()
                    node.grad = node.grad + g
                    if node.parents:
                        grads = node.op.vjp(g, *(p.value for p in node.parents), **node.kwargs)
                        stack.extend(zip(node.parents, grads))
                """), "test_backward_hidden", ("random graph", "every path"), 2),
    Mistake("zero_grad resets only the root", "zero_grad",
            zero_grad_cell("self.grad = np.zeros_like(self.value)"),
            "test_zero_grad_hidden", ("the leaf of shape", "not only root"), 2),
    # ---- batch 3
    Mistake("operators return leaves (no graph recorded)", "arithmetic_operators", arith_cell(
        __add__=("self, other", "return Tensor(self.value + as_tensor(other).value)"),
        __sub__=("self, other", "return Tensor(self.value - as_tensor(other).value)"),
        __rsub__=("self, other", "return Tensor(as_tensor(other).value - self.value)"),
    ), "test_arithmetic_operators_hidden", ("returned a leaf", "apply_op"), 3),
    Mistake("maximum swaps its operands (ties go to self)", "array_methods",
            array_cell(maximum=("self, other", 'return apply_op("maximum", other, self)')),
            "test_array_methods_hidden", ("a kink at 0", "SECOND operand", "self first"), 3),
    Mistake("topological order that walks every path (no visited set)", "topological_order", src("""
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
                    stack.append((parent, False))
            return order
        """), "test_topological_order_hidden", ("read node.parents more than", "every path",
                                                "visited"), 3),
    Mistake("the seed's recursive backward (one VJP call per path)", "backward", backward_cell(SEED, """
        self.grad = self.grad + grad
        if self.parents:
            grads = self.op.vjp(grad, *(p.value for p in self.parents), **self.kwargs)
            for parent, pg in zip(self.parents, grads):
                parent.backward(pg)
        """), "test_backward_hidden", ("was stopped", "every path"), 3),
    # ---- batch 4
    Mistake("power as exp(p log x) (the seed's __pow__)", "array_methods",
            array_cell(__pow__=("self, p", "return (self.log() * p).exp()")),
            "test_array_methods_hidden", ("x ** 2", "nan", "apply_op(\"pow\", self, p=p)"), 4),
    Mistake("topological order: depth-first, appending a node when first reached", "topological_order",
            src("""
        def topological_order(root):
            order, visited, stack = [], set(), [root]
            while stack:
                node = stack.pop()
                if node in visited:
                    continue
                visited.add(node)
                order.append(node)
                stack.extend(node.parents)
            return order[::-1]
        """), "test_topological_order_hidden", ("before its parent", "first reached"), 4),
    Mistake("backward with a recursive micrograd-style build_topo", "backward", backward_cell(SEED, """
        order, visited = [], set()

        def build(node):
            if node not in visited:
                visited.add(node)
                for parent in node.parents:
                    build(parent)
                order.append(node)

        build(self)
        """, SWEEP), "test_backward_hidden", ("RecursionError", "micrograd"), 4),
    # ---- batch 5
    Mistake("backward without a default cotangent", "backward",
            backward_cell("order = topological_order(self)", SWEEP),
            "test_backward_hidden", ("x.backward()", "raised TypeError", "cotangent 1"), 5),
    # ---- batch 6
    Mistake("backward silently uses ones for a non-scalar output", "backward", backward_cell("""
        if grad is None:
            grad = np.ones_like(self.value)
        order = topological_order(self)
        """, SWEEP), "test_backward_hidden", ("returned normally", "shape (3,)", "y.sum()"), 6),
    # ---- batch 7
    Mistake("backward resets the gradients first (Lecture 02's semantics)", "backward",
            backward_cell(SEED, """
                order = topological_order(self)
                for node in order:
                    node.grad = np.zeros_like(node.value)
                """, SWEEP), "test_backward_repeated_hidden", ("expected 12, got 6", "must not reset"), 7),
    Mistake("engine_vjps ignores dldf (cotangent of ones)", "engine_vjps", src("""
        def engine_vjps(f, dldf, *inputs):
            leaves = [Tensor(x) for x in inputs]
            out = f(*leaves)
            out.backward(np.ones_like(out.value))
            return tuple(leaf.grad for leaf in leaves)
        """), INTEGRATION, ("ignores dldf",), 7),
    # ---- batch 8
    Mistake("backward propagates the accumulated node.grad", "backward", backward_cell(SEED, """
        self.grad = self.grad + grad
        for node in reversed(topological_order(self)):
            if node.parents:
                grads = node.op.vjp(node.grad, *(p.value for p in node.parents), **node.kwargs)
                for parent, pg in zip(node.parents, grads):
                    parent.grad = parent.grad + pg
        """), "test_backward_repeated_hidden", ("expected 12", "got 24", "THIS pass"), 8),
]
# fmt: on

BATCHES = sorted({m.batch for m in MISTAKES})


def _no_two_mistakes_share_a_cell_in_a_batch():
    seen = set()
    for m in MISTAKES:
        assert (m.batch, m.cell) not in seen, (m.batch, m.cell)
        seen.add((m.batch, m.cell))


_no_two_mistakes_share_a_cell_in_a_batch()

# ---------------------------------------------------------------- alternative correct answers

ALTERNATIVES = {
    # Composite operators, Kahn's algorithm, cotangents keyed by id() and accumulated in place
    # (on private copies), a RuntimeError for a non-scalar output, zero_grad with its own
    # traversal, and a list as the result of engine_vjps.
    "composites_kahn": {
        "arithmetic_operators": arith_cell(
            __radd__=("self, other", "return self + other"),
            __sub__=("self, other", "return self + (-as_tensor(other))"),
            __rsub__=("self, other", "return (-self) + other"),
            __rmul__=("self, other", "return self * other"),
            __truediv__=("self, other", 'return self * apply_op("div", 1.0, other)'),
            __neg__=("self", 'return apply_op("mul", self, -1.0)'),
        ),
        "array_methods": array_cell(
            __rmatmul__=("self, other", "return as_tensor(other) @ self"),
            __pow__=("self, p", 'return apply_op("pow", self, p=float(p))'),
            sum=(
                "self, axis=None, keepdims=False",
                """
                if axis is None:
                    axis = tuple(range(self.ndim))
                return apply_op("sum", self, axis=axis, keepdims=keepdims)
                """,
            ),
            relu=("self", "return self.maximum(0.0)"),
            sigmoid=("self", "return 1 / (1 + (-self).exp())"),
        ),
        "topological_order": src("""
            def topological_order(root):
                # count the consumers of every node (an edge per use, x * x counts twice)
                consumers, stack = {root: 0}, [root]
                while stack:
                    node = stack.pop()
                    for parent in node.parents:
                        if parent not in consumers:
                            consumers[parent] = 0
                            stack.append(parent)
                        consumers[parent] += 1
                # Kahn: emit a node once all its consumers are emitted (children first), then reverse
                ready, emitted = [root], []
                while ready:
                    node = ready.pop()
                    emitted.append(node)
                    for parent in node.parents:
                        consumers[parent] -= 1
                        if consumers[parent] == 0:
                            ready.append(parent)
                return emitted[::-1]
        """),
        "backward": backward_cell("""
            if grad is None:
                if np.ndim(self.value) != 0:
                    raise RuntimeError("grad can be created implicitly only for scalar outputs")
                grad = np.ones(())
            cot = {id(self): np.array(grad, dtype=np.float64)}
            for node in topological_order(self)[::-1]:
                g = cot.pop(id(node), None)
                if g is None:
                    continue
                node.grad = node.grad + g
                if node.op is not NoOp:
                    vjps = node.op.vjp(g, *[p.value for p in node.parents], **node.kwargs)
                    for parent, pg in zip(node.parents, vjps):
                        if id(parent) in cot:
                            cot[id(parent)] += pg
                        else:
                            cot[id(parent)] = np.array(pg, dtype=np.float64)
        """),
        "zero_grad": zero_grad_cell("""
            seen, stack = {id(self)}, [self]
            while stack:
                node = stack.pop()
                node.grad = np.zeros(node.shape)
                for parent in node.parents:
                    if id(parent) not in seen:
                        seen.add(id(parent))
                        stack.append(parent)
        """),
        "engine_vjps": src("""
            def engine_vjps(f, dldf, *inputs):
                leaves = list(map(Tensor, inputs))
                out = f(*leaves)
                out.zero_grad()
                out.backward(None if dldf is None else np.asarray(dldf))
                return [leaf.grad.copy() for leaf in leaves]
        """),
    },
    # Nodes built with the Tensor constructor directly, a depth-first search with a stack of
    # iterators, dict.get accumulation with a broadcast seed, a TypeError for a non-scalar
    # output, zero_grad through topological_order, and explicit float64 conversions.
    "direct_nodes_dfs": {
        "arithmetic_operators": arith_cell(
            prefix=src("""
                def _record(key, *args, **kwargs):
                    parents = [a if isinstance(a, Tensor) else Tensor(a) for a in args]
                    op = TABLE[key]
                    value = op.apply(*[p.value for p in parents], **kwargs)
                    return Tensor(value, parents=parents, op=op, kwargs=kwargs)


            """),
            **{
                name: (args, body.replace("apply_op(", "_record("))
                for name, (args, body) in ARITH_BODIES.items()
            },
        ),
        "array_methods": array_cell(
            prefix=src("""
                def _record(key, *args, **kwargs):
                    parents = [a if isinstance(a, Tensor) else Tensor(a) for a in args]
                    op = TABLE[key]
                    value = op.apply(*[p.value for p in parents], **kwargs)
                    return Tensor(value, parents=parents, op=op, kwargs=kwargs)


            """),
            **{
                name: (args, body.replace("apply_op(", "_record("))
                for name, (args, body) in ARRAY_BODIES.items()
                if name not in ("__pow__", "sum")
            },
            __pow__=(
                "self, p",
                """
                if isinstance(p, Tensor):
                    raise TypeError("constant exponents only")
                return _record("pow", self, p=p)
                """,
            ),
            sum=(
                "self, axis=None, keepdims=False",
                """
                kwargs = {}
                if axis is not None:
                    kwargs["axis"] = axis
                if keepdims:
                    kwargs["keepdims"] = True
                return _record("sum", self, **kwargs)
                """,
            ),
        ),
        "topological_order": src("""
            def topological_order(root):
                order, visited = [], {id(root)}
                stack = [(root, iter(root.parents))]
                while stack:
                    node, parents = stack[-1]
                    for parent in parents:
                        if id(parent) not in visited:
                            visited.add(id(parent))
                            stack.append((parent, iter(parent.parents)))
                            break
                    else:
                        stack.pop()
                        order.append(node)
                return order
        """),
        "backward": backward_cell("""
            if grad is None:
                if self.value.size > 1:
                    raise TypeError(f"pass grad: the output has shape {self.shape}")
                grad = 1.0
            order = topological_order(self)
            adjoint = {self: np.broadcast_to(np.asarray(grad, dtype=np.float64), self.shape)}
            for node in reversed(order):
                g = adjoint.pop(node)
                node.grad = node.grad + g
                if not node.parents:
                    continue
                grads = node.op.vjp(g, *(p.value for p in node.parents), **node.kwargs)
                for parent, pg in zip(node.parents, grads):
                    adjoint[parent] = adjoint.get(parent, 0.0) + pg
        """),
        "zero_grad": zero_grad_cell("""
            for node in topological_order(self):
                node.grad = np.zeros(node.value.shape)
        """),
        "engine_vjps": src("""
            def engine_vjps(f, dldf, *inputs):
                leaves = tuple(Tensor(np.array(x, dtype=float)) for x in inputs)
                output = f(*leaves)
                if dldf is None:
                    output.backward()
                else:
                    output.backward(dldf)
                return tuple(np.asarray(leaf.grad, dtype=np.float64) for leaf in leaves)
        """),
    },
}

# ---------------------------------------------------------------- running the notebook


def cells(kind):
    return notebook_cells(ASSIGNMENT, kind)


def solution_cells():
    return cells("solution")


PARTIAL_DONE = {"array_methods", "backward", "zero_grad"}


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
        if gid.endswith(
            "_hidden"
        ):  # a visible line calls the student's code before the hidden block
            visible = [
                ln for ln in strip_hidden(source).splitlines() if ln and not ln.startswith("#")
            ]
            assert visible, f"{gid} keeps only comments in the release"


def test_exercises_are_independent_of_unfinished_ones():
    """Only Exercises 2, 4 and 5 done: their hidden tests pass (they bring their own helpers)."""
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
    """Partial credit: a wrong cell fails only the hidden tests of its own exercise (and the
    integration test); the other backward cell may pass (e.g. single-call tests of a backward
    that resets the gradients)."""
    mistakes = [m for m in MISTAKES if m.batch == batch]
    allowed = set().union(*(HIDDEN[m.cell] for m in mistakes)) | {INTEGRATION}
    failed_hidden = {gid for gid in failures(run(f"batch{batch}")) if gid.endswith("_hidden")}
    assert failed_hidden <= allowed, failed_hidden - allowed
    assert {m.fails for m in mistakes} <= failed_hidden


@pytest.mark.parametrize("alternative", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(alternative):
    results = run(f"alt:{alternative}")
    assert not failures(results), failures(results)
