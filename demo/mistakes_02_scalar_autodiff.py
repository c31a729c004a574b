"""Assignment 02 (scalar forward and reverse mode): realistic mistakes and other correct answers
(see demo/__init__.py)."""

import textwrap


def src(code):
    return textwrap.dedent(code).strip("\n")


# ------------------------------------------------- correct cells that the mistakes start from

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

MISTAKES = {
    "product rule missing a term": {
        "forward_mul_div": FORWARD_MUL_DIV.replace("return da * b + a * db", "return da * b")
    },
    "forward pow ignores a varying exponent": {
        "forward_pow": src("""
            def pow_jvp(a, b, da, db):
                return b * a ** (b - 1) * da
        """)
    },
    "forward sigmoid rule uses the input instead of sigma(a)": {
        "forward_exp_log_sigmoid": FORWARD_EXP_LOG_SIGMOID.replace(
            "s = sigmoid_float(a)\n    return s * (1.0 - s) * da", "return a * (1.0 - a) * da"
        )
    },
    "__rsub__ computes x - c instead of c - x": {
        "forward_reflected": FORWARD_REFLECTED.replace(
            "return _as_forward(other) - self", "return self - _as_forward(other)"
        )
    },
    "_div partial for the denominator with the wrong sign": {
        "reverse_mul_div": reverse_cell(_mul="return b, a", _div="return 1.0 / b, a / b ** 2")
    },
    "_pow ignores the exponent's partial": {
        "reverse_pow": reverse_cell(_pow="return b * a ** (b - 1), 0.0")
    },
    "_sigmoid grads uses the input a instead of sigma(a)": {
        "reverse_exp_log_sigmoid": reverse_cell(
            _exp="return (self.value,)",
            _log="return (1.0 / a,)",
            _sigmoid="return (a * (1.0 - a),)",
        )
    },
    "topological order = reversed breadth-first order": {
        "topological_order": src("""
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
        """)
    },
    "backward overwrites instead of accumulating": {
        "backward": backward_cell("""
            order = topological_order(self)
            for node in order:
                node.grad = 0.0
            self.grad = 1.0
            for node in reversed(order):
                for parent, d in zip(node.parents, node.grads(*node.args)):
                    if isinstance(parent, AutogradValue):
                        parent.grad = node.grad * d
        """)
    },
    "quotient rule with the wrong sign": {
        "forward_mul_div": FORWARD_MUL_DIV.replace(
            "return (da - (a / b) * db) / b", "return (da + (a / b) * db) / b"
        )
    },
    "forward pow takes log(a) even for a constant exponent": {
        "forward_pow": src("""
            def pow_jvp(a, b, da, db):
                return b * a ** (b - 1) * da + a ** b * math.log(a) * db
        """)
    },
    "exp rule ignores the tangent": {
        "forward_exp_log_sigmoid": FORWARD_EXP_LOG_SIGMOID.replace(
            "return math.exp(a) * da", "return math.exp(a)"
        )
    },
    "__rtruediv__ computes x / c instead of c / x": {
        "forward_reflected": FORWARD_REFLECTED.replace(
            "return _as_forward(other) / self", "return self / _as_forward(other)"
        )
    },
    "_mul partials in the wrong order": {
        "reverse_mul_div": reverse_cell(_mul="return a, b", _div="return 1.0 / b, -a / b ** 2")
    },
    "_pow takes log(a) of a negative base": {
        "reverse_pow": reverse_cell(_pow="return b * a ** (b - 1), a ** b * math.log(a)")
    },
    "_exp grads returns a bare number instead of a 1-tuple": {
        "reverse_exp_log_sigmoid": reverse_cell(
            _exp="return self.value",
            _log="return (1.0 / a,)",
            _sigmoid="return (self.value * (1.0 - self.value),)",
        )
    },
    "recursive depth-first topological order": {
        "topological_order": src("""
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
        """)
    },
    "naive recursive backward (one call per path)": {
        "backward": backward_cell("""
            def push(node, upstream):
                node.grad += upstream
                for parent, d in zip(node.parents, node.grads(*node.args)):
                    if isinstance(parent, AutogradValue):
                        push(parent, upstream * d)

            for node in topological_order(self):
                node.grad = 0.0
            push(self, 1.0)
        """)
    },
    "forward_grad seeds every input at once": {
        "forward_grad": src("""
            def forward_grad(f, *xs):
                out = f(*[ForwardValue(x, 1.0) for x in xs])
                return tuple(out.deriv for _ in xs)
        """)
    },
    "__rpow__ computes x ** c instead of c ** x": {
        "forward_reflected": FORWARD_REFLECTED.replace(
            "return _as_forward(other) ** self", "return self ** _as_forward(other)"
        )
    },
    "iterative topological order without a visited set (walks every path)": {
        "topological_order": src("""
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
        """)
    },
    "backward in breadth-first order": {
        "backward": backward_cell("""
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
        """)
    },
    "reflected operators ignore the input's tangent": {
        "forward_reflected": src("""
            def forward_rsub(self, other):
                return ForwardValue(other - self.value, -1.0)


            def forward_rtruediv(self, other):
                return ForwardValue(other / self.value, -other / self.value ** 2)


            def forward_rpow(self, other):
                return ForwardValue(other ** self.value, other ** self.value * math.log(other))
        """)
    },
    "topological order with the root first": {
        "topological_order": TOPOLOGICAL_ORDER.replace("return order", "return order[::-1]")
    },
    "backward does not reset the gradients": {
        "backward": backward_cell("""
            order = topological_order(self)
            self.grad = 1.0
            for node in reversed(order):
                for parent, d in zip(node.parents, node.grads(*node.args)):
                    if isinstance(parent, AutogradValue):
                        parent.grad += node.grad * d
        """)
    },
    "backward seeds the output before resetting (the seed is lost)": {
        "backward": backward_cell("""
            order = topological_order(self)
            self.grad = 1.0
            for node in order:
                node.grad = 0.0
            for node in reversed(order):
                for parent, d in zip(node.parents, node.grads(*node.args)):
                    if isinstance(parent, AutogradValue):
                        parent.grad += node.grad * d
        """)
    },
    "recursive topological order that raises the recursion limit": {
        "topological_order": src("""
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
        """)
    },
}

# ---------------------------------------------------------------- alternative correct answers

ALTERNATIVES = {
    # reordered terms, Kahn's algorithm, adjoints in a dictionary
    "kahn_adjoint_dict": {
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
    # float casts, composite reflected operators, depth-first search with iterators
    "dfs_iterators_consumer_counts": {
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

COMMON = [
    "product rule missing a term",
    "_div partial for the denominator with the wrong sign",
    "topological order = reversed breadth-first order",
    "backward overwrites instead of accumulating",
    "backward does not reset the gradients",
    "__rsub__ computes x - c instead of c - x",
]

# backward calls the student's topological_order; the integration test checks every exercise
DEPENDS = {
    "backward": {"topological_order"},
    "test_forward_grad_hidden": {
        "forward_mul_div",
        "forward_pow",
        "forward_exp_log_sigmoid",
        "forward_reflected",
        "reverse_mul_div",
        "reverse_pow",
        "reverse_exp_log_sigmoid",
        "topological_order",
        "backward",
    },
}

HOSTILE = {"deleted_test_cell": "backward"}
