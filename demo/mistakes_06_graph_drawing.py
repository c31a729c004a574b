"""Assignment 06 (reading and drawing computational graphs): realistic mistakes and other
correct answers (see demo/__init__.py)."""

import textwrap


def src(code):
    return textwrap.dedent(code).strip("\n") + "\n"


RIGHT = {
    "A": ("z", "wrong_vjp"),
    "B": ("x2*w2", "wrong_edge"),
    "C": ("b", "wrong_shape"),
    "D": ("u", "missing_accumulation"),
    "E": ("y", "wrong_op"),
}


def findings_cell(**changes):
    answers = {**RIGHT, **changes}
    lines = "".join(f"    {k!r}: {v!r},\n" for k, v in sorted(answers.items()))
    return "FINDINGS = {\n" + lines + "}\n"


def edge_cell(body):
    return "def edge_cotangents(root, grad=None):\n" + textwrap.indent(src(body), " " * 4)


def flow_cell(body):
    return 'def draw_gradient_flow(root, source, rankdir="LR"):\n' + textwrap.indent(
        src(body), " " * 4
    )


GRAD_CHECK = """
if grad is None:
    if root.value.size != 1:
        raise ValueError("grad is needed for a non-scalar root")
    grad = np.ones_like(root.value)
grad = np.asarray(grad, dtype=np.float64)
if grad.shape != root.shape:
    raise ValueError("grad must have the root's shape")
"""

EDGE_SWEEP = """
nodes, edges = trace(root)
first, k = {}, 0
for node in nodes:
    first[node] = k
    k += len(node.parents)
contributions = [None] * len(edges)
cotangents = {root: grad}
for child in reversed(nodes):
    if not child.parents:
        continue
    g = cotangents.pop(child)
    parts = child.op.vjp(g, *(p.value for p in child.parents), **child.kwargs)
    for slot, (parent, part) in enumerate(zip(child.parents, parts)):
        contributions[first[child] + slot] = np.asarray(part, dtype=np.float64)
        cotangents[parent] = cotangents[parent] + part if parent in cotangents else part
return contributions
"""

FLOW = """
nodes, edges = trace(root)
if not any(node is source for node in nodes):
    raise ValueError("source is not in the graph")
children = {node: [] for node in nodes}
for parent, child in edges:
    children[parent].append(child)
on_path, stack = {source}, [source]
while stack:
    for child in children[stack.pop()]:
        if child not in on_path:
            on_path.add(child)
            stack.append(child)
ids = {node: f"n{k}" for k, node in enumerate(nodes)}
dot = graphviz.Digraph(graph_attr={"rankdir": rankdir})
for node in nodes:
    color = "red" if node in on_path else "gray"
    dot.node(ids[node], label=record_label(node, ids[node]), shape="record", color=color)
    if node.parents:
        op_color = "red" if node in on_path and node is not source else "gray"
        dot.node(ids[node] + "_op", label=op_label(node), color=op_color)
        dot.edge(ids[node] + "_op", ids[node], color=op_color)
for parent, child in edges:
    color = "red" if parent in on_path and child in on_path else "gray"
    dot.edge(ids[parent], ids[child] + "_op", color=color)
return dot
"""

# ---------------------------------------------------------------- wrong answers

MISTAKES = {
    "sigmoid's VJP bug reported at p": {"findings": findings_cell(A=("p", "wrong_vjp"))},
    "wrong edge reported at the input it comes from": {
        "findings": findings_cell(B=("w1", "wrong_edge"))
    },
    "shape bug read as a wrong VJP": {"findings": findings_cell(C=("b", "wrong_vjp"))},
    "missing accumulation read as a wrong VJP": {"findings": findings_cell(D=("u", "wrong_vjp"))},
    "wrong axis read as a shape bug": {"findings": findings_cell(E=("y", "wrong_shape"))},
    "cotangents overwritten (no accumulation)": {
        "edge_cotangents": edge_cell(
            GRAD_CHECK
            + EDGE_SWEEP.replace(
                "cotangents[parent] + part if parent in cotangents else part", "part"
            )
        )
    },
    "one contribution per (parent, child) pair": {
        "edge_cotangents": edge_cell(
            GRAD_CHECK
            + """
            nodes, edges = trace(root)
            carried = {}
            cotangents = {root: grad}
            for child in reversed(nodes):
                if not child.parents:
                    continue
                g = cotangents.pop(child)
                parts = child.op.vjp(g, *(p.value for p in child.parents), **child.kwargs)
                for parent, part in zip(child.parents, parts):
                    carried[(parent, child)] = part
                    cotangents[parent] = cotangents[parent] + part if parent in cotangents else part
            return [np.asarray(carried[edge], dtype=np.float64) for edge in edges]
            """.replace("\n            ", "\n")
        )
    },
    "contributions sent on path by path (exponential)": {
        "edge_cotangents": edge_cell(
            GRAD_CHECK
            + """
            nodes, edges = trace(root)
            first, k = {}, 0
            for node in nodes:
                first[node] = k
                k += len(node.parents)
            contributions = [np.zeros_like(p.value) for p, _ in edges]
            stack = [(root, grad)]
            while stack:
                child, g = stack.pop()
                if not child.parents:
                    continue
                parts = child.op.vjp(g, *(p.value for p in child.parents), **child.kwargs)
                for slot, (parent, part) in enumerate(zip(child.parents, parts)):
                    contributions[first[child] + slot] = contributions[first[child] + slot] + part
                    stack.append((parent, part))
            return contributions
            """.replace("\n            ", "\n")
        )
    },
    "edge cotangents read from .grad after backward": {
        "edge_cotangents": edge_cell(
            GRAD_CHECK
            + """
            root.backward(grad)
            contributions = []
            for parent, child in trace(root)[1]:
                parts = child.op.vjp(child.grad, *(p.value for p in child.parents), **child.kwargs)
                slot = [k for k, p in enumerate(child.parents) if p is parent]
                taken = sum(1 for q, c in contributions if c is child and q is parent)
                contributions.append((parent, child, parts[slot[taken]]))
            return [np.asarray(part, dtype=np.float64) for _, _, part in contributions]
            """.replace("\n            ", "\n").replace(
                "sum(1 for q, c in contributions if c is child and q is parent)",
                "sum(1 for q, c, _ in contributions if c is child and q is parent)",
            )
        )
    },
    "grad of ones for a non-scalar root": {
        "edge_cotangents": edge_cell(
            "grad = np.ones_like(root.value) if grad is None else np.asarray(grad, dtype=np.float64)\n"
            + EDGE_SWEEP
        )
    },
    "path walked towards the inputs (ancestors of the source)": {
        "draw_gradient_flow": flow_cell(
            FLOW.replace(
                "    for child in children[stack.pop()]:", "    for child in stack.pop().parents:"
            )
        )
    },
    "op node of the source coloured red": {
        "draw_gradient_flow": flow_cell(
            FLOW.replace(' and node is not source else "gray"', ' else "gray"')
        )
    },
    "no ValueError for a source outside the graph": {
        "draw_gradient_flow": flow_cell(
            FLOW.replace(
                """if not any(node is source for node in nodes):
    raise ValueError("source is not in the graph")
children = {node: [] for node in nodes}""",
                "children = {node: [] for node in nodes}\nchildren[source] = children.get(source, [])",
            )
        )
    },
    "edges out of the path left gray": {
        "draw_gradient_flow": flow_cell(
            FLOW.replace(
                'color = "red" if parent in on_path and child in on_path else "gray"\n    dot.edge',
                'color = "gray"\n    dot.edge',
            )
        )
    },
}

# ---------------------------------------------------------------- other correct answers

ALTERNATIVES = {
    # FINDINGS built with dict() and lists as pairs; edge contributions found with a dict of
    # edge indices per child; the path found by a breadth-first walk with a deque, and the
    # drawing written edge by edge with the op statements after all records.
    "lists_and_bfs": {
        "findings": src("""
            FINDINGS = dict(
                A=["z", "wrong_vjp"],
                B=["x2*w2", "wrong_edge"],
                C=["b", "wrong_shape"],
                D=["u", "missing_accumulation"],
                E=["y", "wrong_op"],
            )
        """),
        "edge_cotangents": edge_cell("""
            nodes, edges = trace(root)
            if grad is None and np.size(root.value) != 1:
                raise ValueError("pass grad for a non-scalar root")
            g0 = np.ones(root.shape) if grad is None else np.array(grad, dtype=float)
            if np.shape(g0) != np.shape(root.value):
                raise ValueError("wrong shape of grad")
            slots = {}
            for k, (parent, child) in enumerate(edges):
                slots.setdefault(child, []).append(k)
            out = [None] * len(edges)
            total = {id(root): g0}
            for child in nodes[::-1]:
                if child.parents:
                    vjps = child.op.vjp(total[id(child)], *[p.value for p in child.parents],
                                        **child.kwargs)
                    for k, parent, part in zip(slots[child], child.parents, vjps):
                        out[k] = np.array(part, dtype=float)
                        total[id(parent)] = total.get(id(parent), 0) + part
            return out
        """),
        "draw_gradient_flow": flow_cell("""
            from collections import deque
            nodes, edges = trace(root)
            index = {node: k for k, node in enumerate(nodes)}
            if source not in index:
                raise ValueError("source must be a node of root's graph")
            kids = {k: [] for k in range(len(nodes))}
            for p, c in edges:
                kids[index[p]].append(index[c])
            reached, queue = {index[source]}, deque([index[source]])
            while queue:
                for c in kids[queue.popleft()]:
                    if c not in reached:
                        reached.add(c)
                        queue.append(c)
            paint = lambda ok: "red" if ok else "gray"
            dot = graphviz.Digraph(graph_attr={"rankdir": rankdir})
            for k, node in enumerate(nodes):
                dot.node(f"n{k}", label=record_label(node, f"n{k}"), shape="record",
                         color=paint(k in reached))
            for k, node in enumerate(nodes):
                if node.parents:
                    on = k in reached and k != index[source]
                    dot.node(f"n{k}_op", label=op_label(node), color=paint(on))
                    dot.edge(f"n{k}_op", f"n{k}", color=paint(on))
            for p, c in edges:
                dot.edge(f"n{index[p]}", f"n{index[c]}_op",
                         color=paint(index[p] in reached and index[c] in reached))
            return dot
        """),
    },
    # FINDINGS as a dict literal in another order; the sweep written over topological_order
    # with edge positions found by counting; the path as the nodes that have source as an
    # ancestor (checked per node, quadratic but fine here), the drawing via attributes dicts.
    "ancestor_test": {
        "findings": src("""
            FINDINGS = {}
            FINDINGS["E"] = ("y", "wrong_op")
            FINDINGS["D"] = ("u", "missing_accumulation")
            FINDINGS["C"] = ("b", "wrong_shape")
            FINDINGS["B"] = ("x2*w2", "wrong_edge")
            FINDINGS["A"] = ("z", "wrong_vjp")
        """),
        "edge_cotangents": edge_cell("""
            if grad is None:
                if root.value.size > 1:
                    raise ValueError("root is not a scalar: grad is required")
                grad = 1.0
            grad = np.broadcast_to(np.asarray(grad, dtype=float), np.shape(grad))
            if grad.shape != root.value.shape:
                if grad.size == 1 and root.value.size == 1:
                    grad = grad.reshape(root.value.shape)
                else:
                    raise ValueError(f"grad shape {grad.shape} != root shape {root.value.shape}")
            nodes, edges = trace(root)
            position = {}
            for k, (p, c) in enumerate(edges):
                position.setdefault(c, k)
            result = [None] * len(edges)
            cot = {root: np.array(grad, dtype=float)}
            for node in reversed(nodes):
                if node.parents:
                    parts = node.op.vjp(cot[node], *(p.value for p in node.parents), **node.kwargs)
                    for i, p in enumerate(node.parents):
                        result[position[node] + i] = np.asarray(parts[i], dtype=float)
                        cot[p] = parts[i] + cot[p] if p in cot else parts[i]
            return result
        """),
        "draw_gradient_flow": flow_cell("""
            nodes, edges = trace(root)
            if all(n is not source for n in nodes):
                raise ValueError("source is not in the graph of root")

            def depends_on_source(node):
                seen, todo = set(), [node]
                while todo:
                    n = todo.pop()
                    if n is source:
                        return True
                    if n not in seen:
                        seen.add(n)
                        todo.extend(n.parents)
                return False

            on = {n for n in nodes if depends_on_source(n)}
            name = {n: "n%d" % k for k, n in enumerate(nodes)}
            g = graphviz.Digraph(graph_attr=dict(rankdir=rankdir))
            for n in nodes:
                g.node(name[n], **{"label": record_label(n, name[n]), "shape": "record",
                                   "color": "red" if n in on else "gray"})
                if n.parents:
                    col = "red" if (n in on and n is not source) else "gray"
                    g.node(name[n] + "_op", **{"label": op_label(n), "color": col})
                    g.edge(name[n] + "_op", name[n], color=col)
            for p, c in edges:
                g.edge(name[p], name[c] + "_op", color="red" if {p, c} <= on else "gray")
            return g
        """),
    },
}

COMMON = [
    "wrong edge reported at the input it comes from",
    "missing accumulation read as a wrong VJP",
    "cotangents overwritten (no accumulation)",
    "path walked towards the inputs (ancestors of the source)",
]

DEPENDS = {}

HOSTILE = {"duplicated_solution_cell": "edge_cotangents"}
