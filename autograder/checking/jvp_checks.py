"""Checks for a student's JVP, `jvp(*inputs, *tangents)`, against `f`.

The reference J·t is a directional central difference, one per input so a
missing term can be named ("only the change in a is propagated").
"""

import numpy as np

from .calling import call_student
from .cases import Case
from .diagnostics import fmt_shape, nonfinite_hint
from .numerical import EPS, directional_derivative
from .reference import NOISE_FACTOR, RTOL
from .verdicts import GradingError, Verdict, default_names, item_type_problem, raised_message


def _partial_jvps(f, inputs, tangents):
    out = []
    for i, (x, t) in enumerate(zip(inputs, tangents)):

        def fi(xi, i=i):
            args = list(inputs)
            args[i] = xi
            return f(*args)

        out.append(directional_derivative(fi, x, t))
    return out


def _close(c, e, tol):
    return bool(np.all(np.isfinite(c)) and np.max(np.abs(c - e), initial=0.0) <= tol)


def judge_jvp(outcome, f, case, tangents, fn_name, names):
    """Verdict for `jvp(*inputs, *tangents)` returning J·t (shape of f's output)."""
    header = f"{fn_name} is wrong on {case.describe()}."
    out_shape = np.shape(f(*case.inputs))
    if outcome.raised:
        return Verdict(False, "raised", f"{header}\n  {raised_message(outcome, case)}")
    if outcome.items is not None:
        return Verdict(
            False,
            "type",
            f"{header}\n  it returned a {outcome.container}; a JVP returns ONE array, the "
            f"change of the output (shape {fmt_shape(out_shape)}), summed over all inputs' tangents.",
        )
    problem = item_type_problem(outcome.single, "the output")
    if problem:
        return Verdict(False, "type", f"{header}\n  {problem.replace('gradient for', 'JVP of')}")
    c = outcome.single.array
    if c.shape != out_shape:
        return Verdict(
            False,
            "shape",
            f"{header}\n  the JVP has shape {fmt_shape(c.shape)}; it must have the output's "
            f"shape {fmt_shape(out_shape)} (a JVP maps an input tangent to an output tangent).",
        )
    parts = _partial_jvps(f, case.inputs, tangents)
    expected = sum(parts)
    scale = float(np.max(np.abs(expected), initial=0.0))
    f_scale = max(1.0, float(np.max(np.abs(f(*case.inputs)), initial=0.0)))
    t_scale = sum(float(np.max(np.abs(t), initial=0.0)) for t in tangents)
    tol = RTOL * scale + NOISE_FACTOR * EPS ** (2 / 3) * f_scale * max(1.0, t_scale)
    if _close(c, expected, tol):
        return Verdict(True, "passed", f"{fn_name} passed on {case.describe()}.")
    err = float(np.max(np.abs(c - expected), initial=0.0))
    lines = [f"the JVP has wrong values: max abs error {err:.3g} (tolerance {tol:.1g})."]
    hint = nonfinite_hint(c)
    if hint is None and len(parts) > 1:
        for i, part in enumerate(parts):
            if _close(c, part, tol):
                others = ", ".join(f"d{n}" for j, n in enumerate(names) if j != i)
                hint = (
                    f"it equals the change caused by d{names[i]} alone: the terms for "
                    f"{others} are missing (a JVP sums the contributions of every input)."
                )
    if hint is None and _close(-c, expected, tol):
        hint = "the sign is flipped."
    if hint is None and _close(c, np.zeros_like(c), tol) and scale > tol:
        hint = "it is all zeros: did you ignore the tangent?"
    if hint is None:
        ones = _partial_jvps(f, case.inputs, [np.ones_like(t) for t in tangents])
        if _close(c, sum(ones), tol):
            hint = "it would be right if every tangent were all ones: multiply by the tangent."
    if hint:
        lines.append(f"    Hint: {hint}")
    return Verdict(False, "values", f"{header}\n  " + "\n".join(lines))


def check_jvp(jvp, f, inputs, tangents=None, names=None, seed=0):
    """Is `jvp(*inputs, *tangents)` equal to Σᵢ ∂f/∂inputᵢ · tangentᵢ?"""
    if isinstance(inputs, Case):
        case = inputs
    else:
        inputs = tuple(np.asarray(x, dtype=np.float64) for x in inputs)
        name = " , ".join(str(x.shape) for x in inputs)
        case = Case(name, inputs, None, {}, seed)
    if tangents is None:
        rng = np.random.default_rng(10_000 + case.seed)
        tangents = tuple(rng.standard_normal(np.shape(x)) for x in case.inputs)
    tangents = tuple(np.asarray(t, dtype=np.float64) for t in tangents)
    names = tuple(names or default_names(len(case.inputs)))
    outcome = call_student(jvp, *case.inputs, *tangents)
    with np.errstate(all="ignore"):
        return judge_jvp(outcome, f, case, tangents, getattr(jvp, "__name__", "jvp"), names)


def assert_jvp(jvp, f, inputs, tangents=None, names=None, seed=0):
    verdict = check_jvp(jvp, f, inputs, tangents, names, seed)
    if not verdict.passed:
        raise GradingError(verdict.message)
