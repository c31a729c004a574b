"""Assignment 03 (Jacobians, VJPs and JVPs): realistic mistakes and other correct answers
(see demo/__init__.py)."""

from textwrap import dedent


def _cells(raw):
    """{name: {grade_id: indented source}} -> the same with dedented, stripped sources."""
    return {
        name: {cell: dedent(source).strip() for cell, source in cells.items()}
        for name, cells in raw.items()
    }


_MISTAKES = {
    "forward difference with h=1e-10": {
        "numerical_jacobian": """
        def numerical_jacobian(f, x, h=1e-10):
            x = np.array(x, dtype=np.float64)
            fx = np.array(f(x), dtype=np.float64)
            J = np.zeros(fx.shape + x.shape)
            for j in np.ndindex(x.shape):
                xp = x.copy()
                xp[j] += h
                J[(...,) + j] = (np.array(f(xp), dtype=np.float64) - fx) / h
            return J
        """
    },
    "transposed Jacobian layout x.shape + f.shape": {
        "numerical_jacobian": """
        def numerical_jacobian(f, x, h=1e-6):
            x = np.array(x, dtype=np.float64)
            fx = np.array(f(x), dtype=np.float64)
            J = np.zeros(x.shape + fx.shape)
            for j in np.ndindex(x.shape):
                xp, xm = x.copy(), x.copy()
                xp[j] += h
                xm[j] -= h
                J[j] = (np.array(f(xp), dtype=np.float64) - np.array(f(xm), dtype=np.float64)) / (2 * h)
            return J
        """
    },
    "perturbs x in place (no copy)": {
        "numerical_jacobian": """
        def numerical_jacobian(f, x, h=1e-6):
            x = np.asarray(x, dtype=np.float64)
            fx = np.array(f(x), dtype=np.float64)
            J = np.zeros(fx.shape + x.shape)
            for j in np.ndindex(x.shape):
                x[j] += h
                f_plus = np.array(f(x), dtype=np.float64)
                x[j] -= 2 * h
                f_minus = np.array(f(x), dtype=np.float64)
                x[j] += h
                J[(...,) + j] = (f_plus - f_minus) / (2 * h)
            return J
        """
    },
    "copies x only when it is read-only (np.require), perturbs the caller's array": {
        "numerical_jacobian": """
        def numerical_jacobian(f, x, h=1e-6):
            x = np.require(x, dtype=np.float64, requirements=["W"])
            fx = np.array(f(x), dtype=np.float64)
            J = np.zeros(fx.shape + x.shape)
            for j in np.ndindex(x.shape):
                old = x[j]
                x[j] = old + h
                f_plus = np.array(f(x), dtype=np.float64)
                x[j] = old - h
                f_minus = np.array(f(x), dtype=np.float64)
                x[j] = old
                J[(...,) + j] = (f_plus - f_minus) / (2 * h)
            return J
        """
    },
    "exp_vjp ignores dldf": {
        "exp_vjp": """
        def exp_vjp(dldf, x):
            return (np.exp(x),)
        """
    },
    "exp_vjp returns a bare array instead of a tuple": {
        "exp_vjp": """
        def exp_vjp(dldf, x):
            return dldf * np.exp(x)
        """
    },
    "log_vjp divides by log(x)": {
        "log_vjp": """
        def log_vjp(dldf, x):
            return (dldf / np.log(x),)
        """
    },
    "sigmoid_vjp uses x instead of sigmoid(x)": {
        "sigmoid_vjp": """
        def sigmoid_vjp(dldf, x):
            return (dldf * x * (1 - x),)
        """
    },
    "relu_vjp multiplies by relu(x)": {
        "relu_vjp": """
        def relu_vjp(dldf, x):
            return (dldf * np.maximum(x, 0.0),)
        """
    },
    "relu_vjp passes the gradient at x == 0 (x >= 0 convention)": {
        "relu_vjp": """
        def relu_vjp(dldf, x):
            return (np.where(x >= 0, dldf, 0.0),)
        """
    },
    "sum_vjp ignores axis": {
        "sum_vjp": """
        def sum_vjp(dldf, x, axis=None, keepdims=False):
            return (np.broadcast_to(dldf, x.shape).copy(),)
        """
    },
    "sum_vjp inserts the summed axes again when keepdims=True": {
        "sum_vjp": """
        def sum_vjp(dldf, x, axis=None, keepdims=False):
            if axis is None:
                axes = tuple(range(x.ndim))
            elif isinstance(axis, int):
                axes = (axis % x.ndim,)
            else:
                axes = tuple(a % x.ndim for a in axis)
            return (np.broadcast_to(np.expand_dims(dldf, axes), x.shape).copy(),)
        """
    },
    "sum_vjp returns the gradient of a mean": {
        "sum_vjp": """
        def sum_vjp(dldf, x, axis=None, keepdims=False):
            if axis is None:
                axes = tuple(range(x.ndim))
            elif isinstance(axis, int):
                axes = (axis % x.ndim,)
            else:
                axes = tuple(a % x.ndim for a in axis)
            if not keepdims:
                dldf = np.expand_dims(dldf, axes)
            count = np.prod([x.shape[a] for a in axes])
            return (np.broadcast_to(dldf / count, x.shape).copy(),)
        """
    },
    "mul_vjp returns the two gradients swapped": {
        "mul_vjp": """
        def mul_vjp(dldf, a, b):
            return dldf * a, dldf * b
        """
    },
    "exp_jvp ignores the tangent": {
        "exp_jvp": """
        def exp_jvp(x, dx):
            return np.exp(x)
        """
    },
    "log_jvp returns a tuple like a VJP": {
        "log_jvp": """
        def log_jvp(x, dx):
            return (dx / x,)
        """
    },
    "mul_jvp misses the a * db term": {
        "mul_jvp": """
        def mul_jvp(a, b, da, db):
            return da * b
        """
    },
}

MISTAKES = _cells(_MISTAKES)

_ALTERNATIVES = {
    "separate copies, np.stack, list return": {
        "numerical_jacobian": """
            def numerical_jacobian(f, x, h=1e-6):
                x = np.asarray(x, dtype=np.float64).copy()
                out_shape = np.shape(f(x.copy()))
                columns = []
                for k in range(x.size):
                    e = np.zeros(x.size)
                    e[k] = h
                    e = e.reshape(x.shape)
                    f_plus = np.asarray(f(x + e), dtype=np.float64)
                    f_minus = np.asarray(f(x - e), dtype=np.float64)
                    columns.append((f_plus - f_minus) / (2 * h))
                return np.stack(columns, axis=-1).reshape(out_shape + x.shape)
        """,
        "exp_vjp": """
            def exp_vjp(dldf, x):
                y = np.exp(x)  # the output: exp is its own derivative
                return (np.multiply(dldf, y),)
        """,
        "log_vjp": """
            def log_vjp(dldf, x):
                return (dldf * (1.0 / x),)
        """,
        "sigmoid_vjp": """
            def sigmoid_vjp(dldf, x):
                s = 1.0 / (1.0 + np.exp(-x))
                return (dldf * s - dldf * s**2,)
        """,
        "relu_vjp": """
            def relu_vjp(dldf, x):
                return (dldf * (x > 0),)
        """,
        "sum_vjp": """
            def sum_vjp(dldf, x, axis=None, keepdims=False):
                kept_shape = np.sum(x, axis=axis, keepdims=True).shape
                return (np.reshape(dldf, kept_shape) * np.ones_like(x),)
        """,
        "mul_vjp": """
            def mul_vjp(dldf, a, b):
                return [dldf * b, dldf * a]
        """,
        "exp_jvp": """
            def exp_jvp(x, dx):
                return dx * np.exp(x)
        """,
        "log_jvp": """
            def log_jvp(x, dx):
                return np.divide(dx, x)
        """,
        "mul_jvp": """
            def mul_jvp(a, b, da, db):
                return b * da + a * db
        """,
    },
    "flat loop, tanh form, heaviside, axis by axis": {
        "numerical_jacobian": """
            def numerical_jacobian(f, x, h=1e-6):
                x0 = np.array(x, dtype=np.float64)
                flat = x0.ravel()
                fx = np.asarray(f(x0.copy()), dtype=np.float64)
                J = np.empty((fx.size, flat.size))
                for k in range(flat.size):
                    xp, xm = flat.copy(), flat.copy()
                    xp[k] += h
                    xm[k] -= h
                    f_plus = np.asarray(f(xp.reshape(x0.shape)), dtype=np.float64)
                    f_minus = np.asarray(f(xm.reshape(x0.shape)), dtype=np.float64)
                    J[:, k] = (f_plus - f_minus).ravel() / (2 * h)
                return J.reshape(fx.shape + x0.shape)
        """,
        "exp_vjp": """
            def exp_vjp(dldf, x):
                dldx = np.exp(x) * dldf
                return (dldx,)
        """,
        "log_vjp": """
            def log_vjp(dldf, x):
                return (np.true_divide(dldf, x),)
        """,
        "sigmoid_vjp": """
            def sigmoid_vjp(dldf, x):
                t = np.tanh(x / 2)  # sigmoid(x) = (1 + tanh(x / 2)) / 2
                return (dldf * (1 - t**2) / 4,)
        """,
        "relu_vjp": """
            def relu_vjp(dldf, x):
                return (np.heaviside(x, 0.0) * dldf,)
        """,
        "sum_vjp": """
            def sum_vjp(dldf, x, axis=None, keepdims=False):
                if axis is None:
                    axes = range(np.ndim(x))
                elif np.isscalar(axis):
                    axes = [axis]
                else:
                    axes = axis
                g = np.asarray(dldf, dtype=np.float64)
                if not keepdims:
                    for a in sorted(a % np.ndim(x) for a in axes):
                        g = np.expand_dims(g, a)
                return (g + np.zeros(np.shape(x)),)
        """,
        "mul_vjp": """
            def mul_vjp(dldf, a, b):
                return np.multiply(dldf, b), np.multiply(a, dldf)
        """,
        "exp_jvp": """
            def exp_jvp(x, dx):
                return np.multiply(np.exp(x), dx)
        """,
        "log_jvp": """
            def log_jvp(x, dx):
                return dx * x**-1.0
        """,
        "mul_jvp": """
            def mul_jvp(a, b, da, db):
                return np.multiply(da, b) + np.multiply(db, a)
        """,
    },
}

ALTERNATIVES = _cells(_ALTERNATIVES)

COMMON = [
    "exp_vjp ignores dldf",
    "log_vjp divides by log(x)",
    "sigmoid_vjp uses x instead of sigmoid(x)",
    "relu_vjp multiplies by relu(x)",
    "sum_vjp ignores axis",
    "mul_jvp misses the a * db term",
]

# the adjoint-identity cells check exp_vjp with exp_jvp, and mul_vjp with mul_jvp
DEPENDS = {
    "test_adjoint_visible": {"exp_vjp", "exp_jvp"},
    "test_adjoint_hidden": {"exp_vjp", "exp_jvp", "mul_vjp", "mul_jvp"},
}

# The tests call numerical_jacobian only through ag.assert_jacobian, whose time limit stops a
# loop (log_jvp would not do: the adjoint tests call it directly).
HOSTILE = {"infinite_loop": "numerical_jacobian"}
