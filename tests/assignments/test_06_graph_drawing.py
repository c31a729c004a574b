"""Assignment 06 (graph drawing): the hidden tests catch common mistakes and accept correct variants.

* the source notebook (with solutions) earns full marks, and the untouched release earns zero;
* realistic wrong implementations of trace, node_label and draw_dot fail the matching hidden test
  cell with a diagnostic that says what is wrong;
* other correct implementations (Kahn's algorithm, a depth-first search with a stack of iterators,
  other formatting code, rankdir set with dot.attr, another statement order) pass every cell.

Each notebook run costs a few seconds, so one wrong implementation per solution cell is batched
into a run, and every run is cached for the whole module.
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

ASSIGNMENT = "06_graph_drawing"
TOTAL_POINTS = 15

HIDDEN = {
    "trace": {"test_trace_hidden", "test_trace_deep_hidden"},
    "node_label": {"test_node_label_hidden"},
    "draw_dot": {"test_draw_dot_hidden", "test_draw_dot_rankdir_hidden"},
}


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


@dataclass(frozen=True)
class Mistake:
    name: str
    cell: str
    source: str
    fails: str
    says: tuple
    batch: int


# fmt: off
MISTAKES = [
    Mistake("recursive trace (micrograd's build_topo)", "trace", RECURSIVE_TRACE,
            "test_trace_deep_hidden", ("RecursionError", "explicit stack"), 1),
    Mistake("label without the gradient", "node_label",
            label_cell('name = getattr(node, "name", None) or default_name\n'
                       'return f"{{ {name} | v={_fmt(node.value)} }}"'),
            "test_node_label_hidden", ("no gradient field",), 1),
    Mistake("node names from id()", "draw_dot", draw_dot_cell(name="str(id(node))"),
            "test_draw_dot_hidden", ("n0", "never id(node)"), 1),
    Mistake("iterative trace without a visited set", "trace", NO_VISITED_TRACE,
            "test_trace_hidden", ("appears 2 times", "visited set"), 2),
    Mistake("label at numpy's default precision", "node_label",
            label_cell('name = getattr(node, "name", None) or default_name\n'
                       'v = np.array2string(node.value).replace("\\n", r"\\l")\n'
                       'g = np.array2string(node.grad).replace("\\n", r"\\l")\n'
                       'return f"{{ {name} | v={v} | g={g} }}"'),
            "test_node_label_hidden", ("precision=4", "3.1416"), 2),
    Mistake("draw_dot without op nodes (edges between records)", "draw_dot", draw_dot_cell(op_nodes=False),
            "test_draw_dot_hidden", ("no op nodes", "parent -> n<k>_op -> n<k>"), 5),
    Mistake("edges reversed (child, parent)", "trace", REVERSED_EDGES_TRACE,
            "test_trace_hidden", ("edges are reversed", "(parent, child)"), 3),
    Mistake("label ignores the default name", "node_label",
            label_cell('return f"{{ {getattr(node, \'name\', \'\')} | v={_fmt(node.value)} | g={_fmt(node.grad)} }}"'),
            "test_node_label_hidden", ("{ n4 |",), 3),
    Mistake("rankdir not validated", "draw_dot", draw_dot_cell(check="pass"),
            "test_draw_dot_rankdir_hidden", ("must raise ValueError", "'LR' and 'TB'"), 3),
    Mistake("pre-order trace (root first)", "trace", PREORDER_TRACE,
            "test_trace_hidden", ("root must come last",), 4),
    Mistake("rankdir ignored (always LR)", "draw_dot", draw_dot_cell(graph_rankdir='"LR"'),
            "test_draw_dot_rankdir_hidden", ("rankdir='TB'", "found ['LR']"), 4),
    Mistake("rankdir checked with assert (no message)", "draw_dot",
            draw_dot_cell(check='assert rankdir in ("LR", "TB")'),
            "test_draw_dot_rankdir_hidden", ("raised AssertionError", "must raise ValueError", "not an assert"), 2),
]
# fmt: on

BATCHES = sorted({m.batch for m in MISTAKES})

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


def cells(kind):
    return notebook_cells(ASSIGNMENT, kind)


@cache
def run(key):
    """One notebook run, cached: "source", "stubs", "release", "batchN", "alt:<name>"."""
    if key == "source":
        replacements = {}
    elif key == "stubs":
        replacements = {gid: stub_source(s) for gid, s in cells("solution").items()}
    elif key == "release":
        replacements = {gid: stub_source(s) for gid, s in cells("solution").items()}
        replacements.update({gid: strip_hidden(s) for gid, s in cells("grade").items()})
    elif key.startswith("alt:"):
        replacements = ALTERNATIVES[key[4:]]
    else:
        replacements = {m.cell: m.source for m in MISTAKES if f"batch{m.batch}" == key}
    return run_notebook(source_notebook(ASSIGNMENT), replacements)


def failures(results):
    return {gid: r.error for gid, r in results.items() if not r.passed}


def test_every_solution_cell_is_graded_by_a_hidden_test():
    assert set(cells("solution")) == set(HIDDEN)
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
    passing = [gid for gid, r in run(key).items() if r.passed]
    assert not passing, f"graded cells pass with every solution stubbed out: {passing}"


def test_release_keeps_a_visible_call_in_every_hidden_cell():
    for gid, source in cells("grade").items():
        assert "HIDDEN" not in strip_hidden(source), gid
        if gid.endswith("_hidden"):
            visible = [
                ln for ln in strip_hidden(source).splitlines() if ln and not ln.startswith("#")
            ]
            assert visible, f"{gid} keeps only comments in the release"


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_mistake_is_caught_with_a_diagnostic(mistake):
    result = run(f"batch{mistake.batch}")[mistake.fails]
    assert not result.passed, f"{mistake.fails} passes the wrong implementation '{mistake.name}'"
    for words in mistake.says:
        assert words in result.error, (
            f"{mistake.fails}: the message lacks {words!r}:\n{result.error}"
        )


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_mistake_costs_nothing_in_the_other_exercises(mistake):
    """A wrong node_label or draw_dot keeps the points of trace; a wrong trace keeps node_label's."""
    results = run(f"batch{mistake.batch}")
    cells_in_batch = {m.cell for m in MISTAKES if m.batch == mistake.batch}
    untouched = {"trace", "node_label", "draw_dot"} - cells_in_batch
    if "trace" in cells_in_batch:  # draw_dot uses the student's trace
        untouched.discard("draw_dot")
    for cell in untouched:
        for gid in HIDDEN[cell]:
            assert results[gid].passed, (
                f"{gid} fails although {cell} is correct: {results[gid].error}"
            )


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(name):
    results = run(f"alt:{name}")
    assert not failures(results), failures(results)
