"""Assignment 05 (tensor engine): realistic mistakes and other correct answers
(see demo/__init__.py)."""

import textwrap


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

MISTAKES = {
    "__rsub__ computes x - c instead of c - x": {
        "arithmetic_operators": arith_cell(
            __rsub__=("self, other", 'return apply_op("sub", self, other)')
        )
    },
    "sum ignores keepdims": {
        "array_methods": array_cell(
            sum=("self, axis=None, keepdims=False", 'return apply_op("sum", self, axis=axis)')
        )
    },
    "topological order by breadth-first search": {
        "topological_order": src("""
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
        """)
    },
    "backward overwrites the cotangents of reused nodes": {
        "backward": backward_cell(
            SEED,
            "order = topological_order(self)",
            SWEEP.replace("cotangents[parent] + pg if parent in cotangents else pg", "pg"),
        )
    },
    "zero_grad does nothing": {"zero_grad": zero_grad_cell("pass")},
    "__rtruediv__ computes x / c instead of c / x": {
        "arithmetic_operators": arith_cell(
            __rtruediv__=("self, other", 'return apply_op("div", self, other)')
        )
    },
    "__rmatmul__ computes x @ A instead of A @ x": {
        "array_methods": array_cell(
            __rmatmul__=("self, other", 'return apply_op("matmul", self, other)')
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
                    visit(parent)
                order.append(node)

            visit(root)
            return order
        """)
    },
    "backward sends a contribution along every path (iteratively)": {
        "backward": backward_cell(
            SEED,
            """
                stack = [(self, grad)]
                while stack:
                    node, g = stack.pop()
                    node.grad = node.grad + g
                    if node.parents:
                        grads = node.op.vjp(g, *(p.value for p in node.parents), **node.kwargs)
                        stack.extend(zip(node.parents, grads))
                """,
        )
    },
    "zero_grad resets only the root": {
        "zero_grad": zero_grad_cell("self.grad = np.zeros_like(self.value)")
    },
    "operators return leaves (no graph recorded)": {
        "arithmetic_operators": arith_cell(
            __add__=("self, other", "return Tensor(self.value + as_tensor(other).value)"),
            __sub__=("self, other", "return Tensor(self.value - as_tensor(other).value)"),
            __rsub__=("self, other", "return Tensor(as_tensor(other).value - self.value)"),
        )
    },
    "maximum swaps its operands (ties go to self)": {
        "array_methods": array_cell(
            maximum=("self, other", 'return apply_op("maximum", other, self)')
        )
    },
    "topological order that walks every path (no visited set)": {
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
                    stack.append((parent, False))
            return order
        """)
    },
    "the seed's recursive backward (one VJP call per path)": {
        "backward": backward_cell(
            SEED,
            """
        self.grad = self.grad + grad
        if self.parents:
            grads = self.op.vjp(grad, *(p.value for p in self.parents), **self.kwargs)
            for parent, pg in zip(self.parents, grads):
                parent.backward(pg)
        """,
        )
    },
    "power as exp(p log x) (the seed's __pow__)": {
        "array_methods": array_cell(__pow__=("self, p", "return (self.log() * p).exp()"))
    },
    "topological order: depth-first, appending a node when first reached": {
        "topological_order": src("""
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
        """)
    },
    "backward with a recursive micrograd-style build_topo": {
        "backward": backward_cell(
            SEED,
            """
        order, visited = [], set()

        def build(node):
            if node not in visited:
                visited.add(node)
                for parent in node.parents:
                    build(parent)
                order.append(node)

        build(self)
        """,
            SWEEP,
        )
    },
    "backward without a default cotangent": {
        "backward": backward_cell("order = topological_order(self)", SWEEP)
    },
    "backward silently uses ones for a non-scalar output": {
        "backward": backward_cell(
            """
        if grad is None:
            grad = np.ones_like(self.value)
        order = topological_order(self)
        """,
            SWEEP,
        )
    },
    "backward resets the gradients first (Lecture 02's semantics)": {
        "backward": backward_cell(
            SEED,
            """
                order = topological_order(self)
                for node in order:
                    node.grad = np.zeros_like(node.value)
                """,
            SWEEP,
        )
    },
    "engine_vjps ignores dldf (cotangent of ones)": {
        "engine_vjps": src("""
        def engine_vjps(f, dldf, *inputs):
            leaves = [Tensor(x) for x in inputs]
            out = f(*leaves)
            out.backward(np.ones_like(out.value))
            return tuple(leaf.grad for leaf in leaves)
        """)
    },
    "backward propagates the accumulated node.grad": {
        "backward": backward_cell(
            SEED,
            """
        self.grad = self.grad + grad
        for node in reversed(topological_order(self)):
            if node.parents:
                grads = node.op.vjp(node.grad, *(p.value for p in node.parents), **node.kwargs)
                for parent, pg in zip(node.parents, grads):
                    parent.grad = parent.grad + pg
        """,
        )
    },
}

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

COMMON = [
    "__rsub__ computes x - c instead of c - x",
    "topological order by breadth-first search",
    "backward overwrites the cotangents of reused nodes",
    "zero_grad resets only the root",
    "backward resets the gradients first (Lecture 02's semantics)",
]

# Solution cells that call others (the source's and the alternatives'); the integration test
# runs the whole engine.
DEPENDS = {
    "backward": {"topological_order"},
    "zero_grad": {"topological_order"},
    "engine_vjps": {"backward", "zero_grad", "topological_order"},
    "test_engine_vjps_hidden": {
        "arithmetic_operators",
        "array_methods",
        "topological_order",
        "backward",
        "zero_grad",
    },
}

HOSTILE = {"kernel_crash": "zero_grad"}
