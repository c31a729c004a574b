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
    # --- numerical_vjp -------------------------------------------------------------------------
    "numerical_vjp: forward difference with h=1e-10": {
        "numerical_vjp": """
        def numerical_vjp(f, x, dldf, h=1e-10):
            x = np.array(x, dtype=np.float64)
            phi0 = np.sum(dldf * f(x))
            dldx = np.zeros(x.shape)
            for j in np.ndindex(x.shape):
                xp = x.copy()
                xp[j] += h
                dldx[j] = (np.sum(dldf * f(xp)) - phi0) / h
            return dldx
        """
    },
    "numerical_vjp builds the whole Jacobian first (2n + 1 calls of f)": {
        "numerical_vjp": """
        def numerical_vjp(f, x, dldf, h=1e-6):
            x = np.array(x, dtype=np.float64)
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
            return np.tensordot(dldf, J, axes=np.ndim(dldf))
        """
    },
    "numerical_vjp perturbs x in place (no copy)": {
        "numerical_vjp": """
        def numerical_vjp(f, x, dldf, h=1e-6):
            x = np.asarray(x, dtype=np.float64)
            dldx = np.zeros(x.shape)
            for j in np.ndindex(x.shape):
                x[j] += h
                phi_plus = np.sum(dldf * f(x))
                x[j] -= 2 * h
                phi_minus = np.sum(dldf * f(x))
                x[j] += h
                dldx[j] = (phi_plus - phi_minus) / (2 * h)
            return dldx
        """
    },
    "numerical_vjp copies x only when it is read-only (np.require), perturbs the caller's array": {
        "numerical_vjp": """
        def numerical_vjp(f, x, dldf, h=1e-6):
            x = np.require(x, dtype=np.float64, requirements=["W"])
            dldx = np.zeros(x.shape)
            for j in np.ndindex(x.shape):
                old = x[j]
                x[j] = old + h
                phi_plus = np.sum(dldf * f(x))
                x[j] = old - h
                phi_minus = np.sum(dldf * f(x))
                x[j] = old
                dldx[j] = (phi_plus - phi_minus) / (2 * h)
            return dldx
        """
    },
    "numerical_vjp ignores dldf (the gradient of sum(f))": {
        "numerical_vjp": """
        def numerical_vjp(f, x, dldf, h=1e-6):
            x = np.array(x, dtype=np.float64)
            dldx = np.zeros(x.shape)
            for j in np.ndindex(x.shape):
                old = x[j]
                x[j] = old + h
                phi_plus = np.sum(f(x))
                x[j] = old - h
                phi_minus = np.sum(f(x))
                x[j] = old
                dldx[j] = (phi_plus - phi_minus) / (2 * h)
            return dldx
        """
    },
    "numerical_vjp divides the central difference by h": {
        "numerical_vjp": """
        def numerical_vjp(f, x, dldf, h=1e-6):
            x = np.array(x, dtype=np.float64)
            dldx = np.zeros(x.shape)
            for j in np.ndindex(x.shape):
                old = x[j]
                x[j] = old + h
                phi_plus = np.sum(dldf * f(x))
                x[j] = old - h
                phi_minus = np.sum(dldf * f(x))
                x[j] = old
                dldx[j] = (phi_plus - phi_minus) / h
            return dldx
        """
    },
    # --- tanh ----------------------------------------------------------------------------------
    "tanh_vjp uses x instead of tanh(x)": {
        "tanh_vjp": """
        def tanh_vjp(dldf, x):
            return (dldf * (1 - x**2),)
        """
    },
    "tanh_vjp forgets the square": {
        "tanh_vjp": """
        def tanh_vjp(dldf, x):
            return (dldf * (1 - np.tanh(x)),)
        """
    },
    "tanh_vjp returns a bare array instead of a tuple": {
        "tanh_vjp": """
        def tanh_vjp(dldf, x):
            return dldf * (1 - np.tanh(x) ** 2)
        """
    },
    "tanh_jvp ignores the tangent": {
        "tanh_jvp": """
        def tanh_jvp(x, dx):
            return 1 - np.tanh(x) ** 2
        """
    },
    "tanh_jvp returns a tuple like a VJP": {
        "tanh_jvp": """
        def tanh_jvp(x, dx):
            return ((1 - np.tanh(x) ** 2) * dx,)
        """
    },
    # --- mean ----------------------------------------------------------------------------------
    "mean_vjp forgets to divide by the count": {
        "mean_vjp": """
        def mean_vjp(dldf, x, axis=None, keepdims=False):
            if axis is None:
                axes = tuple(range(np.ndim(x)))
            elif isinstance(axis, int):
                axes = (axis % np.ndim(x),)
            else:
                axes = tuple(a % np.ndim(x) for a in axis)
            if not keepdims:
                dldf = np.expand_dims(dldf, axes)
            return (np.broadcast_to(dldf, np.shape(x)).copy(),)
        """
    },
    "mean_vjp divides by x.size instead of the count of averaged entries": {
        "mean_vjp": """
        def mean_vjp(dldf, x, axis=None, keepdims=False):
            if axis is None:
                axes = tuple(range(np.ndim(x)))
            elif isinstance(axis, int):
                axes = (axis % np.ndim(x),)
            else:
                axes = tuple(a % np.ndim(x) for a in axis)
            if not keepdims:
                dldf = np.expand_dims(dldf, axes)
            return (np.broadcast_to(dldf / np.size(x), np.shape(x)).copy(),)
        """
    },
    "mean_vjp ignores axis": {
        "mean_vjp": """
        def mean_vjp(dldf, x, axis=None, keepdims=False):
            count = np.size(x) // max(np.size(dldf), 1)
            return (np.broadcast_to(dldf, np.shape(x)) / count,)
        """
    },
    "mean_vjp inserts the reduced axes again when keepdims=True": {
        "mean_vjp": """
        def mean_vjp(dldf, x, axis=None, keepdims=False):
            if axis is None:
                axes = tuple(range(np.ndim(x)))
            elif isinstance(axis, int):
                axes = (axis % np.ndim(x),)
            else:
                axes = tuple(a % np.ndim(x) for a in axis)
            count = np.prod([np.shape(x)[a] for a in axes])
            return (np.broadcast_to(np.expand_dims(dldf, axes) / count, np.shape(x)).copy(),)
        """
    },
    "mean_vjp returns a read-only broadcast view": {
        "mean_vjp": """
        def mean_vjp(dldf, x, axis=None, keepdims=False):
            if axis is None:
                axes = tuple(range(np.ndim(x)))
            elif isinstance(axis, int):
                axes = (axis % np.ndim(x),)
            else:
                axes = tuple(a % np.ndim(x) for a in axis)
            count = np.prod([np.shape(x)[a] for a in axes])
            if not keepdims:
                dldf = np.expand_dims(dldf, axes)
            return (np.broadcast_to(dldf / count, np.shape(x)),)
        """
    },
    "mean_jvp sums instead of averaging": {
        "mean_jvp": """
        def mean_jvp(x, dx, axis=None, keepdims=False):
            return np.sum(dx, axis=axis, keepdims=keepdims)
        """
    },
    "mean_jvp ignores keepdims": {
        "mean_jvp": """
        def mean_jvp(x, dx, axis=None, keepdims=False):
            return np.mean(dx, axis=axis)
        """
    },
    # --- softmax -------------------------------------------------------------------------------
    "softmax_vjp uses only the diagonal s * (1 - s)": {
        "softmax_vjp": """
        def softmax_vjp(dldf, x, axis=-1):
            s = softmax(x, axis=axis)
            return (dldf * s * (1 - s),)
        """
    },
    "softmax_vjp takes the inner product over the whole array": {
        "softmax_vjp": """
        def softmax_vjp(dldf, x, axis=-1):
            s = softmax(x, axis=axis)
            return (s * (dldf - np.sum(dldf * s)),)
        """
    },
    "softmax_vjp takes the inner product along the last axis": {
        "softmax_vjp": """
        def softmax_vjp(dldf, x, axis=-1):
            s = softmax(x, axis=axis)
            return (s * (dldf - np.sum(dldf * s, axis=-1, keepdims=True)),)
        """
    },
    "softmax_vjp computes softmax naively (overflows for large x)": {
        "softmax_vjp": """
        def softmax_vjp(dldf, x, axis=-1):
            e = np.exp(x)
            s = e / np.sum(e, axis=axis, keepdims=True)
            return (s * (dldf - np.sum(dldf * s, axis=axis, keepdims=True)),)
        """
    },
    "softmax_vjp subtracts in place from dldf": {
        "softmax_vjp": """
        def softmax_vjp(dldf, x, axis=-1):
            s = softmax(x, axis=axis)
            g = dldf
            g -= np.sum(dldf * s, axis=axis, keepdims=True)
            return (s * g,)
        """
    },
    "softmax_jvp misses the subtraction term (s * dx)": {
        "softmax_jvp": """
        def softmax_jvp(x, dx, axis=-1):
            return softmax(x, axis=axis) * dx
        """
    },
    "softmax_jvp computes softmax naively (overflows for large x)": {
        "softmax_jvp": """
        def softmax_jvp(x, dx, axis=-1):
            e = np.exp(x)
            s = e / e.sum(axis=axis, keepdims=True)
            return s * (dx - np.sum(s * dx, axis=axis, keepdims=True))
        """
    },
    # --- logsumexp -----------------------------------------------------------------------------
    "logsumexp_vjp copies dldf like a sum (no softmax weights)": {
        "logsumexp_vjp": """
        def logsumexp_vjp(dldf, x, axis=None, keepdims=False):
            kept = np.sum(x, axis=axis, keepdims=True).shape
            return (np.broadcast_to(np.reshape(dldf, kept), np.shape(x)).copy(),)
        """
    },
    "logsumexp_vjp normalises the weights over all entries": {
        "logsumexp_vjp": """
        def logsumexp_vjp(dldf, x, axis=None, keepdims=False):
            kept = np.sum(x, axis=axis, keepdims=True).shape
            weights = np.exp(x - logsumexp(x))
            return (np.reshape(dldf, kept) * weights,)
        """
    },
    "logsumexp_vjp inserts the reduced axes again when keepdims=True": {
        "logsumexp_vjp": """
        def logsumexp_vjp(dldf, x, axis=None, keepdims=False):
            if axis is None:
                axes = tuple(range(np.ndim(x)))
            elif isinstance(axis, int):
                axes = (axis % np.ndim(x),)
            else:
                axes = tuple(a % np.ndim(x) for a in axis)
            weights = np.exp(x - logsumexp(x, axis=axis, keepdims=True))
            return (np.expand_dims(dldf, axes) * weights,)
        """
    },
    "logsumexp_vjp computes exp(x) / sum(exp(x)) naively (overflows for large x)": {
        "logsumexp_vjp": """
        def logsumexp_vjp(dldf, x, axis=None, keepdims=False):
            e = np.exp(x)
            weights = e / np.sum(e, axis=axis, keepdims=True)
            kept = weights.sum(axis=axis, keepdims=True).shape
            return (np.reshape(dldf, kept) * weights,)
        """
    },
    "logsumexp_jvp sums dx without weights": {
        "logsumexp_jvp": """
        def logsumexp_jvp(x, dx, axis=None, keepdims=False):
            return np.sum(dx, axis=axis, keepdims=keepdims)
        """
    },
    "logsumexp_jvp ignores keepdims": {
        "logsumexp_jvp": """
        def logsumexp_jvp(x, dx, axis=None, keepdims=False):
            weights = np.exp(x - logsumexp(x, axis=axis, keepdims=True))
            return np.sum(weights * dx, axis=axis)
        """
    },
}

MISTAKES = _cells(_MISTAKES)

_ALTERNATIVES = {
    "flat loop, cosh, reshape to the kept shape, max trick": {
        "numerical_vjp": """
            def numerical_vjp(f, x, dldf, h=1e-6):
                x0 = np.array(x, dtype=np.float64)
                g = np.asarray(dldf, dtype=np.float64).ravel()
                flat = x0.ravel().copy()
                out = np.empty(flat.size)
                for k in range(flat.size):
                    step = np.zeros(flat.size)
                    step[k] = h
                    up = np.asarray(f((flat + step).reshape(x0.shape)), dtype=np.float64).ravel()
                    down = np.asarray(f((flat - step).reshape(x0.shape)), dtype=np.float64).ravel()
                    out[k] = np.dot(g, up - down) / (2 * h)
                return out.reshape(x0.shape)
        """,
        "tanh_vjp": """
            def tanh_vjp(dldf, x):
                return (dldf / np.cosh(x) ** 2,)
        """,
        "tanh_jvp": """
            def tanh_jvp(x, dx):
                return dx * (1 - np.tanh(x) ** 2)
        """,
        "mean_vjp": """
            def mean_vjp(dldf, x, axis=None, keepdims=False):
                kept_shape = np.mean(x, axis=axis, keepdims=True).shape
                count = np.size(x) // int(np.prod(kept_shape))
                return (np.reshape(dldf, kept_shape) / count * np.ones(np.shape(x)),)
        """,
        "mean_jvp": """
            def mean_jvp(x, dx, axis=None, keepdims=False):
                count = np.size(x) / np.size(np.mean(x, axis=axis))
                return np.sum(dx, axis=axis, keepdims=keepdims) / count
        """,
        "softmax_vjp": """
            def softmax_vjp(dldf, x, axis=-1):
                s = softmax(x, axis)
                sg = s * dldf
                return (sg - s * sg.sum(axis=axis, keepdims=True),)
        """,
        "softmax_jvp": """
            def softmax_jvp(x, dx, axis=-1):
                s = softmax(x, axis)
                sdx = s * dx
                return sdx - s * np.sum(sdx, axis=axis, keepdims=True)
        """,
        "logsumexp_vjp": """
            def logsumexp_vjp(dldf, x, axis=None, keepdims=False):
                lse_kept = logsumexp(x, axis=axis, keepdims=True)
                g = np.reshape(dldf, lse_kept.shape)
                return (g * np.exp(x - lse_kept),)
        """,
        "logsumexp_jvp": """
            def logsumexp_jvp(x, dx, axis=None, keepdims=False):
                m = np.max(x, axis=axis, keepdims=True)
                e = np.exp(x - m)
                return np.sum(e * dx, axis=axis, keepdims=keepdims) / np.sum(e, axis=axis, keepdims=keepdims)
        """,
    },
    "copies per entry, vdot, moveaxis and einsum, axis by axis": {
        "numerical_vjp": """
            def numerical_vjp(f, x, dldf, h=1e-6):
                base = np.asarray(x, dtype=np.float64)
                g = np.asarray(dldf, dtype=np.float64)
                grad = np.zeros(base.shape)
                for idx in np.ndindex(*base.shape):
                    xp = base.copy()
                    xm = base.copy()
                    xp[idx] += h
                    xm[idx] -= h
                    diff = np.asarray(f(xp), dtype=np.float64) - np.asarray(f(xm), dtype=np.float64)
                    grad[idx] = np.vdot(g, diff) / (2 * h)
                return grad
        """,
        "tanh_vjp": """
            def tanh_vjp(dldf, x):
                t = np.tanh(x)
                return (dldf - dldf * t**2,)
        """,
        "tanh_jvp": """
            def tanh_jvp(x, dx):
                return dx * (1 - np.tanh(x)) * (1 + np.tanh(x))
        """,
        "mean_vjp": """
            def mean_vjp(dldf, x, axis=None, keepdims=False):
                x = np.asarray(x)
                if axis is None:
                    axes = list(range(x.ndim))
                elif np.isscalar(axis):
                    axes = [axis]
                else:
                    axes = list(axis)
                axes = sorted(a % x.ndim for a in axes)
                g = np.asarray(dldf, dtype=np.float64)
                if not keepdims:
                    for a in axes:
                        g = np.expand_dims(g, a)
                n = 1
                for a in axes:
                    n *= x.shape[a]
                return (np.zeros(x.shape) + g / n,)
        """,
        "mean_jvp": """
            def mean_jvp(x, dx, axis=None, keepdims=False):
                total = np.sum(dx, axis=axis, keepdims=keepdims)
                return total * (np.size(np.sum(dx, axis=axis)) / np.size(dx))
        """,
        "softmax_vjp": """
            def softmax_vjp(dldf, x, axis=-1):
                s = np.moveaxis(softmax(x, axis), axis, -1)
                g = np.moveaxis(dldf, axis, -1)
                inner = np.einsum("...i,...i->...", g, s)[..., None]
                return (np.moveaxis(s * (g - inner), -1, axis),)
        """,
        "softmax_jvp": """
            def softmax_jvp(x, dx, axis=-1):
                s = np.moveaxis(softmax(x, axis), axis, -1)
                v = np.moveaxis(dx, axis, -1)
                inner = np.einsum("...i,...i->...", s, v)[..., None]
                return np.moveaxis(s * v - s * inner, -1, axis)
        """,
        "logsumexp_vjp": """
            def logsumexp_vjp(dldf, x, axis=None, keepdims=False):
                x = np.asarray(x, dtype=np.float64)
                m = np.max(x, axis=axis, keepdims=True)
                e = np.exp(x - m)
                w = e / np.sum(e, axis=axis, keepdims=True)
                g = np.asarray(dldf, dtype=np.float64)
                if not keepdims:
                    g = g.reshape(m.shape)
                return (w * g,)
        """,
        "logsumexp_jvp": """
            def logsumexp_jvp(x, dx, axis=None, keepdims=False):
                lse = logsumexp(x, axis=axis, keepdims=True)
                return np.sum(dx * np.exp(x - lse), axis=axis, keepdims=keepdims)
        """,
    },
}

ALTERNATIVES = _cells(_ALTERNATIVES)

COMMON = [
    "numerical_vjp: forward difference with h=1e-10",
    "tanh_vjp uses x instead of tanh(x)",
    "mean_vjp forgets to divide by the count",
    "mean_vjp ignores axis",
    "softmax_vjp uses only the diagonal s * (1 - s)",
    "logsumexp_vjp copies dldf like a sum (no softmax weights)",
]

# the adjoint-identity cells check each VJP with its JVP
DEPENDS = {
    "test_adjoint_visible": {"tanh_vjp", "tanh_jvp"},
    "test_adjoint_hidden": {
        "tanh_vjp",
        "tanh_jvp",
        "mean_vjp",
        "mean_jvp",
        "softmax_vjp",
        "softmax_jvp",
        "logsumexp_vjp",
        "logsumexp_jvp",
    },
}

# The tests call numerical_vjp only through ag.call_student and ag.call_limited, whose time
# limits stop a loop.
HOSTILE = {"infinite_loop": "numerical_vjp"}
