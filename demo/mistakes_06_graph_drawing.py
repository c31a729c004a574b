"""Assignment 06 (graph drawing): realistic mistakes and other correct answers
(see demo/__init__.py)."""

import textwrap


def src(code):
    return textwrap.dedent(code).strip("\n") + "\n"


FMT = """
def _fmt(a):
    text = np.array2string(np.asarray(a) + 0.0, precision=4, suppress_small=True)
    return text.replace("\\n", r"\\l") + (r"\\l" if "\\n" in text else "")
"""


def draw_dot_cell(
    check='if rankdir not in ("LR", "TB"):\n        raise ValueError("rankdir must be LR or TB")',
    name='f"n{k}"',
    graph_rankdir="rankdir",
    op_nodes=True,
):
    """A draw_dot solution cell with one piece replaced."""
    if op_nodes:
        body = """
    for node in nodes:
        dot.node(ids[node], label=node_label(node, ids[node]), shape="record")
        if node.parents:
            dot.node(ids[node] + "_op", label=op_label(node))
            dot.edge(ids[node] + "_op", ids[node])
    for parent, child in edges:
        dot.edge(ids[parent], ids[child] + "_op")
"""
    else:
        body = """
    for node in nodes:
        dot.node(ids[node], label=node_label(node, ids[node]), shape="record")
    for parent, child in edges:
        dot.edge(ids[parent], ids[child])
"""
    return (
        'def draw_dot(root, format="svg", rankdir="LR"):\n'
        f"    {check}\n"
        "    nodes, edges = trace(root)\n"
        f"    ids = {{node: {name} for k, node in enumerate(nodes)}}\n"
        f'    dot = graphviz.Digraph(format=format, graph_attr={{"rankdir": {graph_rankdir}}})\n'
        + body.lstrip("\n")
        + "    return dot\n"
    )


def label_cell(body):
    return (
        src(FMT)
        + '\n\ndef node_label(node, default_name=""):\n'
        + textwrap.indent(src(body), "    ")
    )


RECURSIVE_TRACE = src("""
    def trace(root):
        nodes, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for p in v.parents:
                    build(p)
                nodes.append(v)

        build(root)
        return nodes, [(p, c) for c in nodes for p in c.parents]
    """)

NO_VISITED_TRACE = src("""
    def trace(root):
        nodes, edges, stack = [], [], [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                nodes.append(node)
                continue
            stack.append((node, True))
            for p in reversed(node.parents):
                edges.append((p, node))
                stack.append((p, False))
        return nodes, edges
    """)

REVERSED_EDGES_TRACE = src("""
    def trace(root):
        nodes, visited, stack = [], set(), [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                nodes.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in reversed(node.parents))
        return nodes, [(child, p) for child in nodes for p in child.parents]
    """)

PREORDER_TRACE = src("""
    def trace(root):
        nodes, visited, stack = [], set(), [root]
        while stack:
            node = stack.pop()
            if node in visited:
                continue
            visited.add(node)
            nodes.append(node)
            stack.extend(node.parents)
        return nodes, [(p, c) for c in nodes for p in c.parents]
    """)


# ---------------------------------------------------------------- wrong answers

MISTAKES = {
    "recursive trace (micrograd's build_topo)": {"trace": RECURSIVE_TRACE},
    "label without the gradient": {
        "node_label": label_cell(
            'name = getattr(node, "name", None) or default_name\n'
            'return f"{{ {name} | v={_fmt(node.value)} }}"'
        )
    },
    "node names from id()": {"draw_dot": draw_dot_cell(name="str(id(node))")},
    "iterative trace without a visited set": {"trace": NO_VISITED_TRACE},
    "label at numpy's default precision": {
        "node_label": label_cell(
            'name = getattr(node, "name", None) or default_name\n'
            'v = np.array2string(node.value).replace("\\n", r"\\l")\n'
            'g = np.array2string(node.grad).replace("\\n", r"\\l")\n'
            'return f"{{ {name} | v={v} | g={g} }}"'
        )
    },
    "draw_dot without op nodes (edges between records)": {
        "draw_dot": draw_dot_cell(op_nodes=False)
    },
    "edges reversed (child, parent)": {"trace": REVERSED_EDGES_TRACE},
    "label ignores the default name": {
        "node_label": label_cell(
            "return f\"{{ {getattr(node, 'name', '')} | v={_fmt(node.value)} | g={_fmt(node.grad)} }}\""
        )
    },
    "rankdir not validated": {"draw_dot": draw_dot_cell(check="pass")},
    "pre-order trace (root first)": {"trace": PREORDER_TRACE},
    "rankdir ignored (always LR)": {"draw_dot": draw_dot_cell(graph_rankdir='"LR"')},
    "rankdir checked with assert (no message)": {
        "draw_dot": draw_dot_cell(check='assert rankdir in ("LR", "TB")')
    },
}

ALTERNATIVES = {
    # Kahn's algorithm from the inputs, formatting with splitlines, rankdir via dot.attr,
    # op nodes declared after all records, and edges emitted per child.
    "kahn": {
        "trace": src("""
            def trace(root):
                # discover the nodes (order of discovery is deterministic), count each node's parents
                found, seen, stack = [], {root}, [root]
                while stack:
                    node = stack.pop()
                    found.append(node)
                    for p in node.parents:
                        if p not in seen:
                            seen.add(p)
                            stack.append(p)
                waiting = {node: len(set(node.parents)) for node in found}
                children = {node: [] for node in found}
                for node in found:
                    for p in dict.fromkeys(node.parents):
                        children[p].append(node)
                ready = [n for n in reversed(found) if waiting[n] == 0]
                nodes = []
                while ready:
                    node = ready.pop(0)
                    nodes.append(node)
                    for c in children[node]:
                        waiting[c] -= 1
                        if waiting[c] == 0:
                            ready.append(c)
                edges = [(p, c) for c in nodes for p in c.parents]
                return nodes, edges
        """),
        "node_label": src("""
            def node_label(node, default_name=""):
                def fmt(a):
                    lines = np.array2string(np.asarray(a, dtype=float) + 0.0, precision=4,
                                            suppress_small=True).splitlines()
                    return lines[0] if len(lines) == 1 else "".join(line + "\\\\l" for line in lines)
                name = node.name if getattr(node, "name", "") else default_name
                return "{ %s | v=%s | g=%s }" % (name, fmt(node.value), fmt(node.grad))
        """),
        "draw_dot": src("""
            def draw_dot(root, format="svg", rankdir="LR"):
                valid = {"LR", "TB"}
                if not isinstance(rankdir, str) or rankdir not in valid:
                    raise ValueError(f"invalid rankdir {rankdir!r}: use 'LR' or 'TB'")
                nodes, edges = trace(root)
                name = {node: "n%d" % k for k, node in enumerate(nodes)}
                dot = graphviz.Digraph(format=format)
                dot.attr(rankdir=rankdir)
                for node in nodes:
                    dot.node(name[node], node_label(node, name[node]), shape="record", fontsize="9")
                for node in nodes:
                    if node.parents:
                        dot.node(name[node] + "_op", op_label(node), shape="circle")
                for node in nodes:
                    for parent in node.parents:
                        dot.edge(name[parent], name[node] + "_op")
                    if node.parents:
                        dot.edge(name[node] + "_op", name[node])
                return dot
        """),
    },
    # Depth-first search with a stack of iterators (last operand first), node_label via str.format
    # and a dict, draw_dot through graph_attr.update and a list of edges.
    "dfs_iterators": {
        "trace": src("""
            def trace(root):
                nodes, visited = [], {id(root)}
                stack = [(root, iter(root.parents[::-1]))]
                while stack:
                    node, parents = stack[-1]
                    for parent in parents:
                        if id(parent) not in visited:
                            visited.add(id(parent))
                            stack.append((parent, iter(parent.parents[::-1])))
                            break
                    else:
                        stack.pop()
                        nodes.append(node)
                edges = []
                for child in nodes:
                    edges.extend((p, child) for p in child.parents)
                return nodes, edges
        """),
        "node_label": label_cell("""
            fields = {"v": _fmt(node.value), "g": _fmt(node.grad)}
            name = getattr(node, "name", None)
            return "{{ {} | v={v} | g={g} }}".format(name if name else default_name, **fields)
        """),
        "draw_dot": src("""
            def draw_dot(root, format="svg", rankdir="LR"):
                if rankdir != "LR" and rankdir != "TB":
                    raise ValueError("rankdir: expected 'LR' or 'TB', got " + repr(rankdir))
                nodes, edges = trace(root)
                index = {id(node): k for k, node in enumerate(nodes)}
                dot = graphviz.Digraph(format=format)
                dot.graph_attr.update(rankdir=rankdir)
                for k, node in enumerate(nodes):
                    dot.node(f"n{k}", label=node_label(node, f"n{k}"), shape="record")
                    if node.parents:
                        dot.node(f"n{k}_op", label=op_label(node), shape="box")
                dot.edges([(f"n{index[id(p)]}", f"n{index[id(c)]}_op") for p, c in edges])
                dot.edges([(f"n{k}_op", f"n{k}") for k, node in enumerate(nodes) if node.parents])
                return dot
        """),
    },
}

COMMON = [
    "recursive trace (micrograd's build_topo)",
    "label without the gradient",
    "node names from id()",
    "rankdir not validated",
]

# draw_dot calls the student's trace and node_label
DEPENDS = {"draw_dot": {"trace", "node_label"}}

HOSTILE = {"duplicated_solution_cell": "node_label"}
