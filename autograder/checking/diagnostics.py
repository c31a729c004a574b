"""Explanations of wrong answers: what a student's shape or values suggest.

Each function returns a hint string (or None); they look for the mistakes
students actually make, so the message says *what* is wrong.
"""

from fractions import Fraction

import numpy as np


def fmt_shape(shape):
    return str(tuple(int(d) for d in shape))


def _broadcasts_to(small, big):
    try:
        return np.broadcast_shapes(tuple(small), tuple(big)) == tuple(big)
    except ValueError:
        return False


def shape_hint(got, want):
    """Why a gradient of shape `got` was returned where `want` was needed."""
    got, want = tuple(got), tuple(want)
    if not want and got:
        return (
            f"the input is a scalar (shape ()), but the gradient has shape {fmt_shape(got)}: "
            "sum the cotangent over all its axes. Did you unbroadcast?"
        )
    if want and not got:
        return (
            f"got a scalar instead of an array of shape {fmt_shape(want)}: "
            "did you sum over every axis (or lose the array with float())?"
        )
    if len(got) >= 2 and got[:-2] + (got[-1], got[-2]) == want:
        return f"got {fmt_shape(got)} instead of {fmt_shape(want)}: transposed?"
    if len(got) >= 2 and got[::-1] == want:
        return (
            f"got {fmt_shape(got)} instead of {fmt_shape(want)}: all axes reversed. "
            "`.T` reverses every axis of a batched array; use swapaxes(-1, -2)."
        )
    squeezed_want = tuple(d for d in want if d != 1)
    if tuple(d for d in got if d != 1) == squeezed_want and len(got) > len(want):
        return (
            f"got {fmt_shape(got)} instead of {fmt_shape(want)}: extra size-1 axes. "
            "Check np.expand_dims and keepdims."
        )
    if _broadcasts_to(want, got):
        extra = len(got) - len(want)
        unsummed_size1 = [
            k for k, (gd, wd) in enumerate(zip(got[extra:], want)) if wd == 1 and gd != 1
        ]
        if extra and not unsummed_size1:
            return (
                f"got {fmt_shape(got)} instead of {fmt_shape(want)}: "
                f"{'the leading broadcast axis was' if extra == 1 else f'the {extra} leading broadcast axes were'} "
                "not summed away. "
                "Did you unbroadcast?"
            )
        if not extra:
            axes = ", ".join(str(k) for k in unsummed_size1)
            return (
                f"still has the broadcast shape {fmt_shape(got)} instead of {fmt_shape(want)}: "
                f"sum over ax{'is' if len(unsummed_size1) == 1 else 'es'} {axes} "
                "where the input has size 1, with keepdims=True. Did you unbroadcast?"
            )
        return (
            f"still has the broadcast shape {fmt_shape(got)} instead of {fmt_shape(want)}: "
            "sum over the leading axes and over the axes where the input has size 1 "
            "(keepdims=True). Did you unbroadcast?"
        )
    if got == squeezed_want and got != want:
        return (
            f"got {fmt_shape(got)} instead of {fmt_shape(want)}: the size-1 axes were lost. "
            "Sum with keepdims=True (or reshape to the input's shape)."
        )
    if np.prod(got, dtype=int) == np.prod(want, dtype=int):
        return (
            f"got {fmt_shape(got)} instead of {fmt_shape(want)}: same number of elements "
            "in a different layout; transposed or reshaped?"
        )
    return None


def _name_factor(alpha):
    """Words for a constant factor between the student's and the right answer."""
    if abs(alpha + 1) < 1e-6:
        return "the sign is flipped (your result is minus the correct gradient)."
    frac = Fraction(alpha).limit_denominator(64)
    if abs(float(frac) - alpha) > 1e-6 * max(1.0, abs(alpha)):
        return f"it is the correct gradient times a constant {alpha:.6g}."
    if frac == 2:
        return "it is exactly twice the correct gradient: a term counted twice, or a missing 1/2?"
    if frac == Fraction(1, 2):
        return (
            "it is exactly half the correct gradient: a contribution lost, e.g. a reused "
            "value's gradient overwritten instead of accumulated (+=)?"
        )
    if frac.numerator == 1 and frac.denominator > 2:
        return f"it is the correct gradient divided by {frac.denominator}: a mean instead of a sum?"
    if frac.denominator == 1 and frac.numerator > 2:
        return f"it is {frac.numerator} times the correct gradient: summed copies too many times?"
    return f"it is the correct gradient times {frac}."


def constant_factor_hint(ref, i, c):
    """The student's gradient is a constant multiple (≠ 1) of the correct one."""
    alpha = _best_factor(ref, i, c)
    if alpha is None or abs(alpha) < 1e-9 or abs(alpha - 1) < 1e-6:
        return None
    if np.size(c) == 1 and not any(abs(alpha - k) < 1e-6 for k in (-1.0, 2.0, 0.5)):
        return None  # any single number is a multiple of another
    if ref.compare(i, c / alpha).ok:
        return _name_factor(alpha)
    return None


def _best_factor(ref, i, c):
    if ref.mode == "full":
        e = ref.expected(i).reshape(-1)
        cc = np.asarray(c, dtype=np.float64).reshape(-1)
        den = float(e @ e)
        return float(cc @ e) / den if den > 0 else None
    got = np.array([np.sum(u * c) for u, _ in ref._probes[i]])
    want = np.array([np.sum(ref.g * d) for _, d in ref._probes[i]])
    den = float(want @ want)
    return float(got @ want) / den if den > 0 else None


def transpose_hint(ref, i, c):
    c = np.asarray(c)
    if c.ndim >= 2 and c.shape[-1] == c.shape[-2]:
        if ref.compare(i, np.swapaxes(c, -1, -2)).ok:
            return (
                "it equals the transpose of the correct gradient "
                "(a missing or extra transpose; with square matrices the shape cannot tell)."
            )
    return None


def ignored_cotangent_hint(ref, i, c):
    if ref.compare(i, c, cotangent="ones").ok:
        return (
            "it would be right if the cotangent dldf were all ones: your gradient "
            "ignores dldf. Multiply by dldf (the chain rule's upstream factor)."
        )
    return None


def swapped_hint(ref, i, c, names):
    for j, x in enumerate(ref.inputs):
        if j != i and x.shape == ref.inputs[i].shape and ref.compare(j, c).ok:
            return (
                f"it is the correct gradient for {names[j]}, not for {names[i]}: "
                "arguments or return values swapped?"
            )
    return None


def zero_hint(ref, i, c):
    if np.all(np.asarray(c) == 0) and not ref.compare(i, c).ok:
        return "it is all zeros, but the correct gradient is not."
    return None


def nonfinite_hint(c):
    c = np.asarray(c, dtype=np.float64)
    if not np.all(np.isfinite(c)):
        return "it contains nan or inf: division by zero, or log of a non-positive number?"
    return None


def value_hints(ref, i, c, names):
    """All recognisable patterns for a wrong gradient of input i."""
    nonfinite = nonfinite_hint(c)
    if nonfinite:
        return [nonfinite]
    factor = constant_factor_hint(ref, i, c)
    if factor and factor.startswith(("the sign", "it is exactly")):
        return [factor]  # a named factor explains the whole array
    specific = [
        zero_hint(ref, i, c),
        transpose_hint(ref, i, c),
        ignored_cotangent_hint(ref, i, c),
        swapped_hint(ref, i, c, names),
    ]
    specific = [h for h in specific if h]
    return specific or ([factor] if factor else [])
