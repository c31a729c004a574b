"""Check a student's `numerical_jacobian(f, x)` against an accurate one.

A central difference with h ≈ 1e-6 is accurate to about 1e-9 relative; a
forward difference, or a step far from the optimum, is off by 1e-7 to 1e-5.
The tolerance sits between, so poor numerics are caught and named.
"""

import numpy as np

from .calling import call_student
from .cases import Case
from .diagnostics import fmt_shape, nonfinite_hint
from .numerical import numerical_jacobian
from .verdicts import GradingError, Verdict, item_type_problem, raised_message

JACOBIAN_RTOL = 1e-7


def judge_jacobian(outcome, f, x, fn_name):
    x = np.asarray(x, dtype=np.float64)
    case = Case("jacobian", (x,), None, {}, 0)
    out_shape = np.shape(f(x))
    want = out_shape + x.shape
    header = f"{fn_name} is wrong for an input of shape {fmt_shape(x.shape)} (output shape {fmt_shape(out_shape)})."
    if outcome.raised:
        return Verdict(False, "raised", f"{header}\n  {raised_message(outcome, case)}")
    item = outcome.single if outcome.items is None else None
    if item is None:
        return Verdict(
            False, "type", f"{header}\n  it returned a {outcome.container}, not one numpy array."
        )
    problem = item_type_problem(item, "the Jacobian")
    if problem:
        return Verdict(False, "type", f"{header}\n  {problem.replace('gradient for the', 'the')}")
    c = item.array
    if c.shape != want:
        hint = ""
        if c.shape == x.shape + out_shape:
            hint = (
                "\n    Hint: transposed layout: the output's axes come first, J[i, j] = "
                "d f[i] / d x[j], so the shape is f(x).shape + x.shape."
            )
        return Verdict(
            False,
            "shape",
            f"{header}\n  the Jacobian has shape {fmt_shape(c.shape)}; it must be "
            f"f(x).shape + x.shape = {fmt_shape(want)}.{hint}",
        )
    expected = numerical_jacobian(f, x)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    f_scale = max(1.0, float(np.max(np.abs(f(x)), initial=0.0)))
    tol = JACOBIAN_RTOL * max(scale, f_scale)
    err = float(np.max(np.abs(c - expected), initial=0.0)) if np.all(np.isfinite(c)) else np.inf
    if err <= tol:
        return Verdict(True, "passed", f"{fn_name} passed.")
    rel = err / scale
    line = f"max abs error {err:.3g} against an accurate Jacobian (relative {rel:.2g}, tolerance {tol:.1g})."
    hint = nonfinite_hint(c)
    if hint is None and rel < 1e-3:
        hint = (
            "close, but not accurate enough: typical of a forward difference "
            "(f(x + h) - f(x)) / h or of a step h far from 1e-6. Use central differences "
            "(f(x + h) - f(x - h)) / (2h) with h = 1e-6."
        )
    if hint is None and np.allclose(c, 2 * expected, rtol=1e-4, atol=1e-6):
        hint = "exactly twice the right values: divide the central difference by 2h, not h."
    if hint is None and np.allclose(c, expected / 2, rtol=1e-4, atol=1e-6):
        hint = "exactly half the right values: divide the central difference by 2h, not 4h."
    if (
        hint is None
        and c.ndim == 2
        and c.shape[0] == c.shape[1]
        and np.allclose(c.T, expected, rtol=1e-4, atol=1e-6)
    ):
        hint = "it is the transpose of the Jacobian: rows are outputs, columns are inputs."
    return Verdict(False, "values", f"{header}\n  {line}" + (f"\n    Hint: {hint}" if hint else ""))


def check_jacobian(jac_fn, f, x):
    """Is `jac_fn(f, x)` an accurate Jacobian of `f` at `x`?"""
    outcome = call_student(jac_fn, f, np.asarray(x, dtype=np.float64))
    with np.errstate(all="ignore"):
        return judge_jacobian(outcome, f, x, getattr(jac_fn, "__name__", "jacobian"))


def assert_jacobian(jac_fn, f, x):
    verdict = check_jacobian(jac_fn, f, x)
    if not verdict.passed:
        raise GradingError(verdict.message)
