"""Checks that test cells call: a student's VJP or gradient against `f`.

Each check runs three separable steps: make the case (`cases`), call the
student's function (`calling.call_student`), judge the outcome against a
numerical reference (`judge`). `check_*` return a `Verdict`; `assert_*`
raise `GradingError` with the student-facing message.
"""

import warnings

import numpy as np

from .calling import DEFAULT_TIME_LIMIT, call_student
from .cases import Case, sample_cotangent
from .reference import Reference
from .verdicts import GradingError, Verdict, default_names, judge_gradients


def _fn_name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _reference(f, case, mode):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return Reference(f, case.inputs, case.g, case.kwargs, mode=mode, seed=case.seed)


def _as_case(f, inputs, g, kwargs, seed):
    if isinstance(inputs, Case):
        return inputs
    inputs = tuple(np.asarray(x, dtype=np.float64) for x in inputs)
    if g is None:
        with np.errstate(all="ignore"):
            out_shape = np.shape(f(*inputs, **dict(kwargs or {})))
        g = sample_cotangent(np.random.default_rng(seed), out_shape)
    name = " , ".join(str(x.shape) for x in inputs)
    return Case(name, inputs, np.asarray(g, dtype=np.float64), dict(kwargs or {}), seed)


def check_vjp(
    vjp,
    f,
    inputs,
    g=None,
    kwargs=None,
    names=None,
    seed=0,
    mode="auto",
    time_limit_s=DEFAULT_TIME_LIMIT,
):
    """Is `vjp(g, *inputs, **kwargs)` equal to gᵀ ∂f/∂inputs?

    `inputs` is a tuple of arrays (or a `Case`); `g` defaults to a random
    Gaussian cotangent of f's output shape. Returns a `Verdict`.
    """
    case = _as_case(f, inputs, g, kwargs, seed)
    names = tuple(names or default_names(len(case.inputs)))
    outcome = call_student(vjp, case.g, *case.inputs, time_limit_s=time_limit_s, **case.kwargs)
    ref = _reference(f, case, mode)
    return judge_gradients(outcome, ref, case, _fn_name(vjp), names)


def check_grad(grad_fn, f, inputs, names=None, seed=0, mode="auto"):
    """Is `grad_fn(*inputs)` the gradient of the scalar function `f`?

    `grad_fn` returns one gradient per input (a bare array is accepted when
    there is a single input), e.g. computed with the student's engine.
    """
    inputs = tuple(np.asarray(x, dtype=np.float64) for x in inputs)
    if np.ndim(f(*inputs)) != 0:
        raise ValueError("check_grad needs a scalar-valued f; use check_vjp for other outputs")
    name = " , ".join(str(x.shape) for x in inputs)
    case = Case(name, inputs, np.asarray(1.0), {}, seed, scalar_gradient=True)
    names = tuple(names or default_names(len(inputs)))
    outcome = call_student(grad_fn, *inputs)
    ref = _reference(f, case, mode)
    return judge_gradients(outcome, ref, case, _fn_name(grad_fn), names, allow_bare=True)


def check_vjp_cases(vjp, f, cases, names=None, mode="auto", time_limit_s=DEFAULT_TIME_LIMIT):
    """Verdicts of `check_vjp` over a list of cases.

    After a time-out the remaining cases are not run (stage "skipped"), so an
    infinite loop costs one time limit, not one per case.
    """
    verdicts = []
    for case in cases:
        if any(v.stage == "timeout" for v in verdicts):
            verdicts.append(Verdict(False, "skipped", "not run: an earlier case timed out"))
            continue
        verdicts.append(check_vjp(vjp, f, case, names=names, mode=mode, time_limit_s=time_limit_s))
    return verdicts


def summarize(verdicts, cases, label):
    """One message for a suite: the first failure in full, the others by name."""
    failed = [(v, c) for v, c in zip(verdicts, cases) if not v.passed]
    if not failed:
        return None
    first = next((vc for vc in failed if _informative(*vc)), failed[0])
    others = [vc for vc in failed if vc is not first]
    lines = [f"{label}: {len(failed)} of {len(cases)} cases failed.", "", first[0].message]
    if others:
        lines += ["", "Also failing:"] + [f"  - {c.name} ({v.stage})" for v, c in others[:10]]
        if len(others) > 10:
            lines.append(f"  ... and {len(others) - 10} more")
    wrong_values = [c for v, c in failed if v.stage == "values"]
    if wrong_values and all(_is_square_case(c) for c in wrong_values):
        lines += [
            "",
            "Hint: wrong values only in cases with square matrices. With rectangular "
            "ones, mixing up two axes raises a shape error; with square ones it silently "
            "gives wrong values. Check every transpose, and the axis you sum or expand along.",
        ]
    return "\n".join(lines)


def _informative(verdict, case):
    """Wrong values on single numbers say little; prefer a case with arrays."""
    return verdict.stage != "values" or all(np.size(x) > 1 for x in case.inputs)


def _is_square_case(case):
    return any(np.ndim(x) >= 2 and np.shape(x)[-1] == np.shape(x)[-2] for x in case.inputs)


def assert_vjp(vjp, f, inputs, g=None, kwargs=None, names=None, seed=0, mode="auto"):
    """`check_vjp`, raising `GradingError` with the diagnostic on failure."""
    verdict = check_vjp(vjp, f, inputs, g, kwargs, names, seed, mode)
    if not verdict.passed:
        raise GradingError(verdict.message)


def assert_grad(grad_fn, f, inputs, names=None, seed=0, mode="auto"):
    """`check_grad`, raising `GradingError` with the diagnostic on failure."""
    verdict = check_grad(grad_fn, f, inputs, names, seed, mode)
    if not verdict.passed:
        raise GradingError(verdict.message)


def assert_vjp_cases(
    vjp, f, cases, names=None, label=None, mode="auto", time_limit_s=DEFAULT_TIME_LIMIT
):
    """Check every case; on failure raise one message summarising the suite.

    Returns None on purpose: nbgrader reads a number displayed by the last
    line of a test cell as partial credit.
    """
    verdicts = check_vjp_cases(vjp, f, cases, names, mode, time_limit_s)
    message = summarize(verdicts, cases, label or _fn_name(vjp))
    if message:
        raise GradingError(message)


__all__ = [
    "Verdict",
    "GradingError",
    "check_vjp",
    "check_grad",
    "check_vjp_cases",
    "assert_vjp",
    "assert_grad",
    "assert_vjp_cases",
    "summarize",
]
