"""Assignment 05 (tensor engine): realistic mistakes and other correct answers
(see demo/__init__.py)."""

import textwrap


def src(code):
    return textwrap.dedent(code).strip("\n") + "\n"


# ---------------------------------------------------------------- building solution cells


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


GETITEM_VJP = """
    dldx = np.zeros(np.shape(x))
    np.add.at(dldx, index, dldf)
    return (dldx,)
"""
GETITEM_METHOD = 'return apply_op("getitem", self, index=index)'


def getitem_cell(vjp=GETITEM_VJP, method=GETITEM_METHOD):
    return (
        "def getitem_vjp(dldf, x, index):\n"
        + textwrap.indent(src(vjp), " " * 4)
        + '\n\nTABLE["getitem"] = Op(apply=getitem, vjp=getitem_vjp, name="[]", nargs=1)\n\n\n'
        + "@attach_to_tensor\nclass Indexing:\n    def __getitem__(self, index):\n"
        + textwrap.indent(src(method), " " * 8)
    )


CONCAT_VJP = """
    ends = np.cumsum([np.shape(x)[axis] for x in xs])
    return tuple(np.split(np.asarray(dldf), ends[:-1], axis=axis))
"""
CONCAT_FUNCTION = 'return apply_op("concatenate", *tensors, axis=axis)'


def concatenate_cell(vjp=CONCAT_VJP, function=CONCAT_FUNCTION):
    return (
        "def concatenate_vjp(dldf, *xs, axis=0):\n"
        + textwrap.indent(src(vjp), " " * 4)
        + '\n\nTABLE["concatenate"] = Op(apply=concatenate_arrays, vjp=concatenate_vjp, '
        + 'name="concat", nargs=None)\n\n\n'
        + "def concatenate(tensors, axis=0):\n"
        + textwrap.indent(src(function), " " * 4)
    )


RESHAPE_VJP = "return (np.reshape(dldf, np.shape(x)),)"
TRANSPOSE_VJP = """
    ndim = np.ndim(x)
    axes = tuple(reversed(range(ndim))) if axes is None else tuple(a % ndim for a in axes)
    return (np.transpose(dldf, np.argsort(axes)),)
"""
RESHAPE_METHOD = 'return apply_op("reshape", self, shape=shape)'
TRANSPOSE_METHOD = 'return apply_op("transpose", self, axes=axes)'


def shapes_cell(
    reshape_vjp=RESHAPE_VJP,
    transpose_vjp=TRANSPOSE_VJP,
    reshape=RESHAPE_METHOD,
    transpose=TRANSPOSE_METHOD,
):
    return (
        "def reshape_vjp(dldf, x, shape):\n"
        + textwrap.indent(src(reshape_vjp), " " * 4)
        + "\n\ndef transpose_vjp(dldf, x, axes=None):\n"
        + textwrap.indent(src(transpose_vjp), " " * 4)
        + '\n\nTABLE["reshape"] = Op(apply=np.reshape, vjp=reshape_vjp, name="reshape", nargs=1)\n'
        + 'TABLE["transpose"] = Op(apply=np.transpose, vjp=transpose_vjp, name="transpose", '
        + "nargs=1)\n\n\n"
        + "@attach_to_tensor\nclass ShapeMethods:\n    def reshape(self, shape):\n"
        + textwrap.indent(src(reshape), " " * 8)
        + "\n    def transpose(self, axes=None):\n"
        + textwrap.indent(src(transpose), " " * 8)
    )


MAX_VJP = """
    axes = normalize_axes(axis, np.ndim(x))
    dldf = np.asarray(dldf)
    if not keepdims:
        dldf = np.expand_dims(dldf, axes)
    winners = x == np.max(x, axis=axes, keepdims=True)
    return (winners * dldf / winners.sum(axis=axes, keepdims=True),)
"""
MAX_METHOD = 'return apply_op("max", self, axis=axis, keepdims=keepdims)'


def max_cell(vjp=MAX_VJP, method=MAX_METHOD):
    return (
        "def max_vjp(dldf, x, axis=None, keepdims=False):\n"
        + textwrap.indent(src(vjp), " " * 4)
        + '\n\nTABLE["max"] = Op(apply=np.max, vjp=max_vjp, name="max", nargs=1)\n\n\n'
        + "@attach_to_tensor\nclass MaxReduction:\n"
        + "    def max(self, axis=None, keepdims=False):\n"
        + textwrap.indent(src(method), " " * 8)
    )


def no_grad_cell(body):
    return "@contextmanager\ndef no_grad():\n" + textwrap.indent(src(body), " " * 4)


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
    # -- Exercise 1: topological_order
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
    # -- Exercise 2: backward
    "backward overwrites the cotangents of reused nodes": {
        "backward": backward_cell(
            SEED,
            "order = topological_order(self)",
            SWEEP.replace("cotangents[parent] + pg if parent in cotangents else pg", "pg"),
        )
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
    "the lecture's recursive backward (one VJP call per path)": {
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
    "backward raises TypeError for a non-scalar output": {
        "backward": backward_cell(
            SEED.replace("raise ValueError", "raise TypeError"),
            "order = topological_order(self)",
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
    # -- Exercise 3: zero_grad
    "zero_grad does nothing": {"zero_grad": zero_grad_cell("pass")},
    "zero_grad resets only the root": {
        "zero_grad": zero_grad_cell("self.grad = np.zeros_like(self.value)")
    },
    # -- Exercise 4: indexing
    "getitem_vjp with dldx[index] += dldf (repeated indices lost)": {
        "getitem": getitem_cell(
            vjp="""
            dldx = np.zeros(np.shape(x))
            dldx[index] += dldf
            return (dldx,)
            """
        )
    },
    "getitem_vjp returns the bare array": {
        "getitem": getitem_cell(
            vjp="""
            dldx = np.zeros(np.shape(x))
            np.add.at(dldx, index, dldf)
            return dldx
            """
        )
    },
    "__getitem__ passes the index as a parent": {
        "getitem": getitem_cell(method='return apply_op("getitem", self, index)')
    },
    # -- Exercise 5: concatenate
    "concatenate_vjp splits dldf into equal parts": {
        "concatenate": concatenate_cell(
            vjp="return tuple(np.split(np.asarray(dldf), len(xs), axis=axis))"
        )
    },
    "concatenate_vjp cuts at the sizes instead of the offsets": {
        "concatenate": concatenate_cell(
            vjp="""
            sizes = [np.shape(x)[axis] for x in xs]
            return tuple(np.split(np.asarray(dldf), sizes[:-1], axis=axis))
            """
        )
    },
    # -- Exercise 6: reshape and transpose
    "reshape_vjp returns dldf without reshaping it back": {
        "shapes": shapes_cell(reshape_vjp="return (np.asarray(dldf),)")
    },
    "transpose_vjp applies the permutation again instead of its inverse": {
        "shapes": shapes_cell(transpose_vjp="return (np.transpose(dldf, axes),)")
    },
    "transpose_vjp: argsort of negative axes": {
        "shapes": shapes_cell(
            transpose_vjp="""
            if axes is None:
                axes = tuple(reversed(range(np.ndim(x))))
            return (np.transpose(dldf, np.argsort(axes)),)
            """
        )
    },
    # -- Exercise 7: max
    "max_vjp gives every tied entry the whole cotangent": {
        "max": max_cell(
            vjp="""
            axes = normalize_axes(axis, np.ndim(x))
            dldf = np.asarray(dldf)
            if not keepdims:
                dldf = np.expand_dims(dldf, axes)
            return (np.where(x == np.max(x, axis=axes, keepdims=True), dldf, 0.0),)
            """
        )
    },
    "max_vjp sends the cotangent to the first maximum only (argmax)": {
        "max": max_cell(
            vjp="""
            x = np.asarray(x)
            dldx = np.zeros(x.shape)
            if axis is None:
                dldx.flat[np.argmax(x)] = dldf
                return (dldx,)
            where = np.expand_dims(np.argmax(x, axis=axis), axis)
            g = dldf if keepdims else np.expand_dims(dldf, axis)
            np.put_along_axis(dldx, where, g, axis=axis)
            return (dldx,)
            """
        )
    },
    "max_vjp does not re-insert the reduced axes": {
        "max": max_cell(
            vjp="""
            axes = normalize_axes(axis, np.ndim(x))
            winners = x == np.max(x, axis=axes, keepdims=True)
            return (winners * dldf / winners.sum(axis=axes, keepdims=True),)
            """
        )
    },
    "Tensor.max ignores keepdims": {
        "max": max_cell(method='return apply_op("max", self, axis=axis)')
    },
    # -- Exercise 8: no_grad
    "no_grad restores True instead of the previous state": {
        "no_grad": no_grad_cell("""
            Tensor.grad_enabled = False
            try:
                yield
            finally:
                Tensor.grad_enabled = True
        """)
    },
    "no_grad without try/finally": {
        "no_grad": no_grad_cell("""
            previous = Tensor.grad_enabled
            Tensor.grad_enabled = False
            yield
            Tensor.grad_enabled = previous
        """)
    },
    "no_grad swallows the exception": {
        "no_grad": no_grad_cell("""
            previous = Tensor.grad_enabled
            Tensor.grad_enabled = False
            try:
                yield
            except Exception:
                pass
            finally:
                Tensor.grad_enabled = previous
        """)
    },
    "no_grad never switches recording off": {"no_grad": no_grad_cell("yield")},
}

# ---------------------------------------------------------------- alternative correct answers

ALTERNATIVES = {
    # Kahn's algorithm, cotangents keyed by id() and accumulated in place (on private copies),
    # zero_grad with its own traversal; getitem by np.bincount over flat positions, concatenate
    # by slicing, an explicit inverse permutation, a max through counts, and no_grad as a class.
    "kahn_bincount_class": {
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
                if np.ndim(self.value) != 0 and self.value.size != 1:
                    raise ValueError("grad can be created implicitly only for scalar outputs")
                grad = np.ones(self.shape)
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
        "getitem": getitem_cell(
            vjp="""
            size = int(np.prod(np.shape(x)))
            positions = np.arange(size).reshape(np.shape(x))[index]      # where each output entry came from
            flat = np.bincount(np.ravel(positions), weights=np.ravel(dldf), minlength=size)
            return (flat.reshape(np.shape(x)),)
            """
        ),
        "concatenate": concatenate_cell(
            vjp="""
            grads, start = [], 0
            for x in xs:
                stop = start + np.shape(x)[axis]
                where = [slice(None)] * np.ndim(dldf)
                where[axis] = slice(start, stop)
                grads.append(np.asarray(dldf)[tuple(where)])
                start = stop
            return tuple(grads)
            """
        ),
        "shapes": shapes_cell(
            reshape_vjp="return (np.asarray(dldf).reshape(np.shape(x)),)",
            transpose_vjp="""
            ndim = np.ndim(x)
            if axes is None:
                return (np.asarray(dldf).T,)
            inverse = [0] * ndim
            for position, axis in enumerate(axes):
                inverse[axis % ndim] = position
            return (np.transpose(dldf, inverse),)
            """,
        ),
        "max": max_cell(
            vjp="""
            x = np.asarray(x)
            m = np.max(x, axis=axis, keepdims=True)
            winners = (x == m).astype(float)
            count = np.sum(winners, axis=axis, keepdims=True)
            g = np.asarray(dldf, dtype=float)
            if not keepdims:
                g = g.reshape(m.shape)
            return (winners / count * g,)
            """
        ),
        "no_grad": src("""
            class no_grad:
                \"\"\"A context manager class: a stack of saved states, so blocks nest.\"\"\"

                def __enter__(self):
                    self.saved = Tensor.grad_enabled
                    Tensor.grad_enabled = False
                    return self

                def __exit__(self, kind, error, traceback):
                    Tensor.grad_enabled = self.saved
                    return False
        """),
    },
    # A depth-first search with a stack of iterators, dict.get accumulation with a broadcast
    # starting cotangent, zero_grad through topological_order, np.add.at on flat positions,
    # np.split at offsets built by a loop, np.moveaxis-free argsort, a max through argmax-free
    # masks with np.count_nonzero, and no_grad with an explicit generator and try/finally.
    "iterators_split_generator": {
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
                    raise ValueError(f"pass grad: the output has shape {self.shape}")
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
        "getitem": getitem_cell(
            vjp="""
            flat = np.zeros(np.size(x))
            positions = np.arange(np.size(x)).reshape(np.shape(x))[index]
            np.add.at(flat, positions, dldf)
            return (flat.reshape(np.shape(x)),)
            """,
            method="""
            if isinstance(index, list):
                index = np.array(index)
            return apply_op("getitem", self, index=index)
            """,
        ),
        "concatenate": concatenate_cell(
            vjp="""
            offsets, total = [], 0
            for x in xs[:-1]:
                total += np.shape(x)[axis]
                offsets.append(total)
            return tuple(np.split(dldf, offsets, axis=axis))
            """,
            function="""
            tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
            return apply_op("concatenate", *tensors, axis=axis)
            """,
        ),
        "shapes": shapes_cell(
            transpose_vjp="""
            ndim = np.ndim(x)
            order = np.arange(ndim)[::-1] if axes is None else np.arange(ndim)[list(axes)]
            return (np.transpose(dldf, np.argsort(order)),)
            """,
            reshape="""
            shape = tuple(shape) if not isinstance(shape, int) else (shape,)
            return apply_op("reshape", self, shape=shape)
            """,
        ),
        "max": max_cell(
            vjp="""
            axes = tuple(range(np.ndim(x))) if axis is None else np.atleast_1d(axis).tolist()
            axes = tuple(a % np.ndim(x) for a in axes)
            m = np.max(x, axis=axes, keepdims=True)
            winners = np.equal(x, m)
            k = np.count_nonzero(winners, axis=axes, keepdims=True)
            g = np.asarray(dldf)
            for a in sorted(axes):
                if not keepdims:
                    g = np.expand_dims(g, a)
            return (np.where(winners, g / k, 0.0),)
            """
        ),
        "no_grad": no_grad_cell("""
            saved = Tensor.grad_enabled
            Tensor.grad_enabled = False
            try:
                yield None
            finally:
                Tensor.grad_enabled = saved
        """),
    },
}

COMMON = [
    "topological order by breadth-first search",
    "backward overwrites the cotangents of reused nodes",
    "backward resets the gradients first (Lecture 02's semantics)",
    "zero_grad resets only the root",
    "getitem_vjp with dldx[index] += dldf (repeated indices lost)",
    "transpose_vjp applies the permutation again instead of its inverse",
    "max_vjp gives every tied entry the whole cotangent",
    "no_grad without try/finally",
]

# Solution cells that call others (the source's and the alternatives').
DEPENDS = {
    "backward": {"topological_order"},
    "zero_grad": {"topological_order"},
}

HOSTILE = {"kernel_crash": "zero_grad"}
