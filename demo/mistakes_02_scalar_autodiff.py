"""Assignment 02 (scalar forward and reverse mode): realistic mistakes and other correct answers
(see demo/__init__.py)."""

import textwrap


def src(code):
    return textwrap.dedent(code).strip("\n")


# ------------------------------------------------- correct cells that the mistakes start from

FORWARD_UNARY = src("""
    def sin_jvp(a, da):
        return math.cos(a) * da


    def tanh_jvp(a, da):
        t = math.tanh(a)
        return (1.0 - t * t) * da


    def sqrt_jvp(a, da):
        return da / (2.0 * math.sqrt(a))
""")

FORWARD_REFLECTED = src("""
    def forward_rtruediv(self, other):
        q = other / self.value
        return ForwardValue(q, -q / self.value * self.deriv)


    def forward_rpow(self, other):
        v = other ** self.value
        return ForwardValue(v, v * math.log(other) * self.deriv)


    def forward_abs(self):
        if self.value > 0:
            return ForwardValue(self.value, self.deriv)
        if self.value < 0:
            return ForwardValue(-self.value, -self.deriv)
        return ForwardValue(0.0, 0.0)
""")

_UNARY_FUNCS = {"_sin": "math.sin(a)", "_tanh": "math.tanh(a)", "_sqrt": "math.sqrt(a)"}


def reverse_unary(
    _sin="return (math.cos(a),)",
    _tanh="return (1.0 - self.value * self.value,)",
    _sqrt="return (0.5 / self.value,)",
):
    """The cell of Exercise 3 with the given `grads` bodies."""
    blocks = []
    for name, body in (("_sin", _sin), ("_tanh", _tanh), ("_sqrt", _sqrt)):
        body = textwrap.indent(src(body), " " * 8)
        blocks.append(
            f"class {name}(AutogradValue):\n"
            f"    def func(self, a):\n"
            f"        return {_UNARY_FUNCS[name]}\n\n"
            f"    def grads(self, a):\n"
            f"{body}\n"
        )
    return "\n\n".join(blocks)


def reverse_logaddexp(body):
    return (
        "class _logaddexp(AutogradValue):\n"
        "    def func(self, a, b):\n"
        "        return float(np.logaddexp(a, b))\n\n"
        "    def grads(self, a, b):\n" + textwrap.indent(src(body), " " * 8) + "\n"
    )


def define(name, args, body):
    return f"def {name}({args}):\n" + textwrap.indent(src(body), " " * 4) + "\n"


RECURSIVE_ORDER = define(
    "topological_order",
    "root",
    """
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
""",
)

# ---------------------------------------------------------------- the mistakes

MISTAKES = {
    "tanh rule uses the input instead of tanh(a)": {
        "forward_unary": FORWARD_UNARY.replace(
            "t = math.tanh(a)\n    return (1.0 - t * t) * da", "return (1.0 - a * a) * da"
        )
    },
    "sqrt rule without the factor 1/2": {
        "forward_unary": FORWARD_UNARY.replace(
            "return da / (2.0 * math.sqrt(a))", "return da / math.sqrt(a)"
        )
    },
    "sin rule ignores the tangent": {
        "forward_unary": FORWARD_UNARY.replace("return math.cos(a) * da", "return math.cos(a)")
    },
    "__rtruediv__ computes x / c instead of c / x": {
        "forward_reflected": FORWARD_REFLECTED.replace(
            "q = other / self.value\n    return ForwardValue(q, -q / self.value * self.deriv)",
            "return self / _as_forward(other)",
        )
    },
    "__rpow__ computes x ** c instead of c ** x": {
        "forward_reflected": FORWARD_REFLECTED.replace(
            "v = other ** self.value\n    return ForwardValue(v, v * math.log(other) * self.deriv)",
            "return self ** _as_forward(other)",
        )
    },
    "abs keeps the tangent's sign for negative x": {
        "forward_reflected": FORWARD_REFLECTED.replace(
            "return ForwardValue(-self.value, -self.deriv)",
            "return ForwardValue(-self.value, self.deriv)",
        )
    },
    "abs uses copysign at the kink": {
        "forward_reflected": FORWARD_REFLECTED.replace(
            "return ForwardValue(0.0, 0.0)",
            "return ForwardValue(0.0, math.copysign(1.0, self.value) * self.deriv)",
        )
    },
    "abs changes x in place": {
        "forward_reflected": FORWARD_REFLECTED[: FORWARD_REFLECTED.index("def forward_abs")]
        + src("""
            def forward_abs(self):
                if self.value < 0:
                    self.value, self.deriv = -self.value, -self.deriv
                elif self.value == 0:
                    self.deriv = 0.0
                return self
        """)
    },
    "jacobian_forward returns nested lists": {
        "jacobian_forward": define(
            "jacobian_forward",
            "f, xs",
            """
            columns = []
            for j in range(len(xs)):
                outputs = f([ForwardValue(x, 1.0 if k == j else 0.0) for k, x in enumerate(xs)])
                columns.append([y.deriv if isinstance(y, ForwardValue) else 0.0 for y in outputs])
            return [list(row) for row in zip(*columns)]
            """,
        )
    },
    "reflected operators ignore the input's tangent": {
        "forward_reflected": FORWARD_REFLECTED.replace(
            "return ForwardValue(q, -q / self.value * self.deriv)",
            "return ForwardValue(q, -q / self.value)",
        )
    },
    "_tanh grads uses the input a instead of tanh(a)": {
        "reverse_unary": reverse_unary(_tanh="return (1.0 - a * a,)")
    },
    "_sqrt grads is 1 / (2a)": {"reverse_unary": reverse_unary(_sqrt="return (0.5 / a,)")},
    "_sin grads returns a bare number instead of a 1-tuple": {
        "reverse_unary": reverse_unary(_sin="return math.cos(a)")
    },
    "_sin grads with the wrong sign": {
        "reverse_unary": reverse_unary(_sin="return (-math.cos(a),)")
    },
    "logaddexp partials by the literal softmax (overflow)": {
        "reverse_logaddexp": reverse_logaddexp(
            "ea, eb = math.exp(a), math.exp(b)\nreturn ea / (ea + eb), eb / (ea + eb)"
        )
    },
    "logaddexp partials swapped": {
        "reverse_logaddexp": reverse_logaddexp(
            "v = self.value\nreturn math.exp(b - v), math.exp(a - v)"
        )
    },
    "recursive depth-first topological order (the pseudocode as is)": {
        "topological_order": RECURSIVE_ORDER
    },
    "iterative order that explores the parents last to first": {
        "topological_order": define(
            "topological_order",
            "root",
            """
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
        """,
        )
    },
    "Kahn's algorithm (a valid order, but not the recursive one)": {
        "topological_order": define(
            "topological_order",
            "root",
            """
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
        """,
        )
    },
    "iterative topological order without a visited set (walks every path)": {
        "topological_order": define(
            "topological_order",
            "root",
            """
            order, stack = [], [(root, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    if node not in order:
                        order.append(node)
                    continue
                stack.append((node, True))
                for parent in reversed(node.parents):
                    if isinstance(parent, AutogradValue):
                        stack.append((parent, False))
            return order
        """,
        )
    },
    "topological order = reversed breadth-first order": {
        "topological_order": define(
            "topological_order",
            "root",
            """
            order, seen, k = [root], {root}, 0
            while k < len(order):
                node = order[k]
                k += 1
                for parent in node.parents:
                    if isinstance(parent, AutogradValue) and parent not in seen:
                        seen.add(parent)
                        order.append(parent)
            return order[::-1]
        """,
        )
    },
    "recursive topological order that raises the recursion limit": {
        "topological_order": RECURSIVE_ORDER.replace(
            "order, visited = [], set()",
            "sys.setrecursionlimit(100_000)\n    order, visited = [], set()",
        )
    },
    "jacobian_forward seeds every input at once": {
        "jacobian_forward": define(
            "jacobian_forward",
            "f, xs",
            """
            outputs = f([ForwardValue(x, 1.0) for x in xs])
            row = [y.deriv if isinstance(y, ForwardValue) else 0.0 for y in outputs]
            return np.array([[d] * len(xs) for d in row])
        """,
        )
    },
    "jacobian_forward puts the passes in rows (transposed)": {
        "jacobian_forward": define(
            "jacobian_forward",
            "f, xs",
            """
            rows = []
            for j in range(len(xs)):
                outputs = f([ForwardValue(x, 1.0 if k == j else 0.0) for k, x in enumerate(xs)])
                rows.append([y.deriv if isinstance(y, ForwardValue) else 0.0 for y in outputs])
            return np.array(rows)
        """,
        )
    },
    "jacobian_forward reads .deriv of a constant output": {
        "jacobian_forward": define(
            "jacobian_forward",
            "f, xs",
            """
            columns = []
            for j in range(len(xs)):
                outputs = f([ForwardValue(x, 1.0 if k == j else 0.0) for k, x in enumerate(xs)])
                columns.append([y.deriv for y in outputs])
            return np.array(columns).T
        """,
        )
    },
    "jacobian_forward calls f once more to count the outputs": {
        "jacobian_forward": define(
            "jacobian_forward",
            "f, xs",
            """
            m = len(f(list(xs)))
            jac = np.zeros((m, len(xs)))
            for j in range(len(xs)):
                outputs = f([ForwardValue(x, 1.0 if k == j else 0.0) for k, x in enumerate(xs)])
                for i, y in enumerate(outputs):
                    jac[i, j] = y.deriv if isinstance(y, ForwardValue) else 0.0
            return jac
        """,
        )
    },
    "jacobian_reverse keeps stale grads of leaves outside the graph": {
        "jacobian_reverse": define(
            "jacobian_reverse",
            "f, xs",
            """
            leaves = [AutogradValue(float(x)) for x in xs]
            outputs = f(leaves)
            jac = np.zeros((len(outputs), len(leaves)))
            for i, y in enumerate(outputs):
                if isinstance(y, AutogradValue):
                    y.backward()
                    jac[i] = [leaf.grad for leaf in leaves]
            return jac
        """,
        )
    },
    "jacobian_reverse calls f once per output": {
        "jacobian_reverse": define(
            "jacobian_reverse",
            "f, xs",
            """
            m = len(f([float(x) for x in xs]))
            jac = np.zeros((m, len(xs)))
            for i in range(m):
                leaves = [AutogradValue(float(x)) for x in xs]
                y = f(leaves)[i]
                if isinstance(y, AutogradValue):
                    y.backward()
                    jac[i] = [leaf.grad for leaf in leaves]
            return jac
        """,
        )
    },
    "jacobian_reverse calls backward() on a constant output": {
        "jacobian_reverse": define(
            "jacobian_reverse",
            "f, xs",
            """
            leaves = [AutogradValue(float(x)) for x in xs]
            outputs = f(leaves)
            jac = np.zeros((len(outputs), len(leaves)))
            for i, y in enumerate(outputs):
                for leaf in leaves:
                    leaf.grad = 0.0
                y.backward()
                jac[i] = [leaf.grad for leaf in leaves]
            return jac
        """,
        )
    },
}

# ---------------------------------------------------------------- alternative correct answers

ALTERNATIVES = {
    # other formulas, operators reused, a stack of parent iterators, columns stacked
    "operators_iterators": {
        "forward_unary": src("""
            def sin_jvp(a, da):
                return da * math.sin(a + math.pi / 2)


            def tanh_jvp(a, da):
                return da / math.cosh(a) ** 2


            def sqrt_jvp(a, da):
                return 0.5 * a ** -0.5 * da
        """),
        "forward_reflected": src("""
            def forward_rtruediv(self, other):
                return other * self ** -1


            def forward_rpow(self, other):
                return exp(self * math.log(other))


            def forward_abs(self):
                if self.value == 0:
                    return ForwardValue(0.0, 0.0)
                return self * (1.0 if self.value > 0 else -1.0)
        """),
        "reverse_unary": reverse_unary(
            _sin="return [math.cos(a)]",
            _tanh="return (1 / math.cosh(a) ** 2,)",
            _sqrt="return (1 / (2 * math.sqrt(a)),)",
        ),
        "reverse_logaddexp": reverse_logaddexp("return sigmoid_float(a - b), sigmoid_float(b - a)"),
        "topological_order": define(
            "topological_order",
            "root",
            """
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
        """,
        ),
        "jacobian_forward": define(
            "jacobian_forward",
            "f, xs",
            """
            def column(j):
                outputs = f([ForwardValue(x, float(k == j)) for k, x in enumerate(xs)])
                return [getattr(y, "deriv", 0.0) for y in outputs]

            return np.column_stack([column(j) for j in range(len(xs))])
        """,
        ),
        "jacobian_reverse": define(
            "jacobian_reverse",
            "f, xs",
            """
            leaves = [AutogradValue(x) for x in xs]
            rows = []
            for y in f(leaves):
                if not isinstance(y, AutogradValue):
                    rows.append([0.0] * len(leaves))
                    continue
                y.backward()
                below = {id(node) for node in topological_order(y)}
                rows.append([leaf.grad if id(leaf) in below else 0.0 for leaf in leaves])
            return np.array(rows, dtype=float).reshape(-1, len(leaves))
        """,
        ),
    },
    # values built directly, an explicit stack with an "emit" mark and reversed parents
    "direct_values_emit_marks": {
        "forward_unary": src("""
            def sin_jvp(a, da):
                return float(np.cos(a)) * da


            def tanh_jvp(a, da):
                return (1 - math.tanh(a) ** 2) * da


            def sqrt_jvp(a, da):
                return da / 2 / math.sqrt(a)
        """),
        "forward_reflected": src("""
            def forward_rtruediv(self, other):
                return ForwardValue(other / self.value, -other * self.deriv / self.value ** 2)


            def forward_rpow(self, other):
                v = math.pow(other, self.value)
                return ForwardValue(v, v * math.log(other) * self.deriv)


            def forward_abs(self):
                sign = (self.value > 0) - (self.value < 0)
                return ForwardValue(abs(self.value), sign * self.deriv)
        """),
        "reverse_unary": reverse_unary(
            _sin="return (math.cos(a),)",
            _tanh="t = self.value\nreturn (1 - t ** 2,)",
            _sqrt="return (1 / (2 * self.value),)",
        ),
        "reverse_logaddexp": reverse_logaddexp(
            "m = max(a, b)\nea, eb = math.exp(a - m), math.exp(b - m)\nreturn ea / (ea + eb), eb / (ea + eb)"
        ),
        "topological_order": define(
            "topological_order",
            "root",
            """
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
                for parent in reversed(node.parents):  # the first parent on top
                    if isinstance(parent, AutogradValue) and parent not in visited:
                        stack.append((parent, False))
            return order
        """,
        ),
        "jacobian_forward": define(
            "jacobian_forward",
            "f, xs",
            """
            n = len(xs)
            passes = []
            for j in range(n):
                tangents = [0.0] * n
                tangents[j] = 1.0
                outputs = f(list(map(ForwardValue, xs, tangents)))
                passes.append([y.deriv if isinstance(y, ForwardValue) else 0.0 for y in outputs])
            return np.array(passes, dtype=float).reshape(n, -1).T
        """,
        ),
        "jacobian_reverse": define(
            "jacobian_reverse",
            "f, xs",
            """
            leaves = [AutogradValue(float(x)) for x in xs]
            outputs = list(f(leaves))
            jac = np.zeros((len(outputs), len(leaves)))
            for i, y in enumerate(outputs):
                if isinstance(y, AutogradValue):
                    for leaf in leaves:
                        leaf.grad = 0.0
                    y.backward()
                    for j, leaf in enumerate(leaves):
                        jac[i, j] = leaf.grad
            return jac
        """,
        ),
    },
}

COMMON = [
    "tanh rule uses the input instead of tanh(a)",
    "__rtruediv__ computes x / c instead of c / x",
    "logaddexp partials by the literal softmax (overflow)",
    "iterative order that explores the parents last to first",
    "jacobian_reverse keeps stale grads of leaves outside the graph",
    "jacobian_forward puts the passes in rows (transposed)",
]

# every exercise is graded on its own (the tests bring their own topological order where needed)
DEPENDS = {}

HOSTILE = {"deleted_test_cell": "jacobian_reverse"}
