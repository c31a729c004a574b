"""Step 3b of a check: turn an `Outcome` and a `Reference` into a `Verdict`.

Stages, first failure wins: the call raised -> wrong type -> wrong shape ->
wrong values. Judging needs no student code, only copies of what it returned.
"""

import linecache
import os
import traceback
from dataclasses import dataclass

import numpy as np

from .diagnostics import fmt_shape, shape_hint, value_hints


@dataclass(frozen=True)
class Verdict:
    passed: bool
    stage: str  # "passed", "raised", "type", "shape" or "values"
    message: str


class GradingError(AssertionError):
    """A failed check; its message is written for the student.

    In a notebook, IPython shows `_render_traceback_()` instead of the usual
    traceback: the message first, then the line of the test cell that failed,
    without the frames of this package, IPython or numpy (noise to a student).
    """

    def _render_traceback_(self):
        lines = [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]
        where = _test_cell_line(self.__traceback__)
        if where:
            lines.append(f"\x1b[0;36m(in the test cell, line {where[0]}: {where[1]})\x1b[0m")
        return lines


_NOISE = tuple(
    os.path.dirname(os.path.dirname(m.__file__)) + os.sep
    for m in (np, traceback)  # numpy's folder, the standard library
) + (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,)


def _test_cell_line(tb):
    """(line number, source line) of the outermost frame that is notebook code, or None."""
    for frame in traceback.extract_tb(tb):
        name = frame.filename
        if name.startswith(_NOISE) or f"{os.sep}IPython{os.sep}" in name:
            continue
        text = (frame.line or linecache.getline(name, frame.lineno)).strip()
        return frame.lineno, text
    return None


def default_names(n):
    return ("x",) if n == 1 else ("a", "b") if n == 2 else tuple(f"x{k}" for k in range(n))


def _inputs_text(case, names, limit=12):
    if sum(np.size(x) for x in case.inputs) + np.size(case.g) > limit:
        return ""
    lines = [f"    {n} = {_arr(x)}" for n, x in zip(names, case.inputs)]
    if not case.scalar_gradient:
        lines.append(f"    dldf = {_arr(case.g)}")
    return "\n  Inputs:\n" + "\n".join(lines)


def _arr(x):
    return np.array2string(np.asarray(x), precision=4, separator=", ")


def raised_message(outcome, case):
    lines = [f"it raised {outcome.error_type}: {outcome.error}"]
    if outcome.student_traceback:
        lines.append("  In your code:\n" + outcome.student_traceback.rstrip())
    if outcome.mutated:
        lines.append(
            "  Hint: your function modified one of its input arrays in place "
            "(e.g. `dldf *= b`, `x += h` or `x[i] = ...`). Inputs are read-only while "
            "grading: build a new array instead (`dldf * b`, `x.copy()`)."
        )
    elif "broadcast" in outcome.error or "mismatch" in outcome.error or "shape" in outcome.error:
        shapes = ", ".join(fmt_shape(s) for s in case.shapes)
        cot = (
            "" if case.g is None else f" and the cotangent has shape {fmt_shape(np.shape(case.g))}"
        )
        lines.append(
            f"  Hint: a shape mismatch. The inputs have shapes {shapes}{cot}; "
            "check which of them meet on that line."
        )
    return "\n".join(lines)


def item_type_problem(item, name):
    """Why a returned gradient is not a float64 array (or None if it is)."""
    if item.array is None:
        if item.type_name == "NoneType":
            return f"the gradient for {name} is None: a missing `return`, or a stub left in?"
        return f"the gradient for {name} is a {item.type_name}, not a numpy array."
    kind = item.array.dtype.kind
    if kind in "biu":
        return (
            f"the gradient for {name} has integer dtype {item.array.dtype}: gradients are "
            "float64 (did you return a 0/1 mask without multiplying by the cotangent?)."
        )
    if kind == "c":
        return f"the gradient for {name} is complex; gradients of real inputs are real float64."
    if kind != "f":
        return f"the gradient for {name} has dtype {item.array.dtype}, not float64."
    if item.array.dtype != np.float64:
        return (
            f"the gradient for {name} has dtype {item.array.dtype}: use float64 "
            "(lower precision fails the numerical check)."
        )
    return None


def gradients_type_problem(outcome, names, allow_bare=False):
    """Returns (problem text or None, list of Items in input order)."""
    n = len(names)
    if outcome.items is None:
        if allow_bare and n == 1:
            return item_type_problem(outcome.single, names[0]), [outcome.single]
        example = "return (dldx,)" if n == 1 else "return " + ", ".join(f"dld{m}" for m in names)
        got = outcome.single.type_name
        extra = " (a missing `return`?)" if got == "NoneType" else ""
        return (
            f"it returned a {got}{extra} instead of a tuple with one gradient per input "
            f"({n}): `{example}`.",
            [],
        )
    if len(outcome.items) != n:
        return (
            f"it returned {len(outcome.items)} gradient(s) for {n} input(s) "
            f"({', '.join(names)}): return one gradient per input, in the inputs' order.",
            [],
        )
    for item, name in zip(outcome.items, names):
        problem = item_type_problem(item, name)
        if problem:
            return problem, []
    return None, list(outcome.items)


def shape_problems(items, case, names):
    lines = []
    for item, x, name in zip(items, case.inputs, names):
        got, want = item.array.shape, np.shape(x)
        if got != want:
            line = f"the gradient for {name} has shape {fmt_shape(got)}; it must have {name}'s shape {fmt_shape(want)}."
            hint = shape_hint(got, want)
            lines.append(line + (f"\n    Hint: {hint}" if hint else ""))
    return lines


def value_problems(items, ref, names):
    lines = []
    for i, (item, name) in enumerate(zip(items, names)):
        cmp = ref.compare(i, item.array)
        if cmp.ok:
            continue
        block = f"the gradient for {name} has wrong values: {describe_error(cmp, ref.mode)}"
        for hint in value_hints(ref, i, item.array, names):
            block += f"\n    Hint: {hint}"
        lines.append(block)
    return lines


def describe_error(cmp, mode):
    if mode == "full":
        idx = cmp.worst_index
        where = f" at index {idx}" if idx else ""
        return (
            f"max abs error {cmp.max_abs_err:.3g}{where} (expected {cmp.expected_at_worst:.6g}, "
            f"got {cmp.got_at_worst:.6g}); {cmp.n_wrong} of {cmp.n_total} entries wrong; "
            f"max rel error {cmp.max_rel_err:.3g}."
        )
    return (
        f"checked through random projections ⟨u, gradient⟩ (the input is large): "
        f"max error {cmp.max_abs_err:.3g}, relative {cmp.max_rel_err:.3g}."
    )


def judge_gradients(outcome, ref, case, fn_name, names, allow_bare=False):
    """Verdict for a function that returns one gradient per input of `case`."""
    header = f"{fn_name} is wrong on {case.describe()}."
    inputs = _inputs_text(case, names)

    def fail(stage, body):
        return Verdict(False, stage, f"{header}\n  {body}{inputs}")

    if outcome.raised:
        stage = "timeout" if outcome.error_type == "Timeout" else "raised"
        return fail(stage, raised_message(outcome, case))
    problem, items = gradients_type_problem(outcome, names, allow_bare)
    if problem:
        return fail("type", problem)
    lines = shape_problems(items, case, names)
    if lines:
        return fail("shape", "\n  ".join(lines))
    lines = value_problems(items, ref, names)
    if lines:
        return fail("values", "\n  ".join(lines))
    return Verdict(True, "passed", f"{fn_name} passed on {case.describe()}.")
