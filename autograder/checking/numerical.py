"""Numerical derivatives by central differences, in float64.

Cost: `numerical_jacobian` evaluates `f` 2n times for an input of n elements
and stores n * m numbers for an output of m elements; `directional_derivative`
evaluates `f` twice whatever the sizes, which is what makes projection checks
of large VJPs cheap.
"""

import numpy as np

EPS = np.finfo(np.float64).eps
# Central differences have truncation error O(h^2) and round-off O(eps / h);
# their sum is smallest near h = eps ** (1/3), about 6e-6.
RELATIVE_STEP = EPS ** (1 / 3)


def as_float64(x):
    """A float64 copy of `x` (never a view of the caller's array)."""
    return np.array(x, dtype=np.float64, copy=True)


def step_sizes(x, rel_step=RELATIVE_STEP):
    """Per-element steps h_i = rel_step * max(1, |x_i|), exactly representable.

    Rounding `(x + h) - x` makes the step the one actually taken, so the
    division by 2h does not add representation error.
    """
    x = np.asarray(x, dtype=np.float64)
    h = rel_step * np.maximum(1.0, np.abs(x))
    return (x + h) - x


def numerical_jacobian(f, x, rel_step=RELATIVE_STEP):
    """Generalized Jacobian of `f` at `x`, shape `np.shape(f(x)) + np.shape(x)`.

    J[i..., j...] = d f(x)[i...] / d x[j...], by central differences. `x` is
    copied to float64 and the caller's array is never modified.
    """
    x = as_float64(x)
    f0 = np.asarray(f(x.copy()), dtype=np.float64)
    h = step_sizes(x, rel_step)
    jac = np.empty(f0.shape + (x.size,))
    flat = x.reshape(-1)
    flat_h = h.reshape(-1)
    for j in range(x.size):
        xj = flat[j]
        flat[j] = xj + flat_h[j]
        f_plus = np.asarray(f(x.copy()), dtype=np.float64)
        flat[j] = xj - flat_h[j]
        f_minus = np.asarray(f(x.copy()), dtype=np.float64)
        flat[j] = xj
        jac[..., j] = (f_plus - f_minus) / (2 * flat_h[j])
    return jac.reshape(f0.shape + x.shape)


def directional_derivative(f, x, v, rel_step=RELATIVE_STEP):
    """J(x) @ v, the derivative of `f` at `x` along `v`, shape `np.shape(f(x))`.

    One central difference along `v`, with the step scaled to both `x` and `v`.
    """
    x = as_float64(x)
    v = np.asarray(v, dtype=np.float64)
    v_scale = np.max(np.abs(v)) if v.size else 0.0
    if v_scale == 0:
        return np.zeros(np.shape(f(x.copy())))
    h = rel_step * max(1.0, float(np.max(np.abs(x)) if x.size else 0.0)) / v_scale
    f_plus = np.asarray(f(x + h * v), dtype=np.float64)
    f_minus = np.asarray(f(x - h * v), dtype=np.float64)
    return (f_plus - f_minus) / (2 * h)


def vjp_from_jacobian(g, jac, x_shape):
    """g^T J: contract the cotangent `g` (shape of f) with J over f's axes."""
    g = np.asarray(g, dtype=np.float64)
    flat = jac.reshape(g.size, -1)
    return (g.reshape(-1) @ flat).reshape(x_shape)
