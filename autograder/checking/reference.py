"""Step 3a of a check: the correct answer, from the forward function alone.

For small inputs the reference holds the exact-to-rounding gᵀJ from the full
numerical Jacobian. For large inputs it holds random probes instead: for a
probe u, the correct gradient v satisfies ⟨u, v⟩ = ⟨g, J u⟩, and J u costs
one directional central difference. A candidate array is compared either way
through `compare`, so diagnostics work in both modes.
"""

from dataclasses import dataclass

import numpy as np

from .numerical import EPS, directional_derivative, numerical_jacobian, vjp_from_jacobian

# Relative tolerance on the gradient, and a multiple of the expected
# finite-difference noise (about eps^(2/3) per Jacobian entry) as absolute slack.
RTOL = 1e-6
NOISE_FACTOR = 1e3
FULL_MODE_MAX_INPUT_SIZE = 256
FULL_MODE_MAX_JACOBIAN_SIZE = 200_000


@dataclass(frozen=True)
class Comparison:
    ok: bool
    max_abs_err: float
    tolerance: float
    max_rel_err: float
    worst_index: tuple | None = None
    expected_at_worst: float | None = None
    got_at_worst: float | None = None
    n_wrong: int | None = None
    n_total: int | None = None


def _partial(f, inputs, i, kwargs):
    """f as a function of input i alone."""

    def fi(xi):
        args = list(inputs)
        args[i] = xi
        return f(*args, **kwargs)

    return fi


class Reference:
    """gᵀ ∂f/∂inputs[i] for every input of `f`, by full Jacobians or probes."""

    def __init__(self, f, inputs, g, kwargs=None, mode="auto", probes=4, seed=0):
        self.inputs = tuple(np.asarray(x, dtype=np.float64) for x in inputs)
        self.g = np.asarray(g, dtype=np.float64)
        kwargs = dict(kwargs or {})
        out = np.asarray(f(*self.inputs, **kwargs), dtype=np.float64)
        self.f_scale = max(1.0, float(np.max(np.abs(out), initial=0.0)))
        if mode == "auto":
            n_in = sum(x.size for x in self.inputs)
            small = (
                n_in <= FULL_MODE_MAX_INPUT_SIZE and n_in * out.size <= FULL_MODE_MAX_JACOBIAN_SIZE
            )
            mode = "full" if small else "projection"
        self.mode = mode
        self.cotangents = {"g": self.g, "ones": np.ones_like(self.g)}
        if mode == "full":
            self._jacobians = [
                numerical_jacobian(_partial(f, self.inputs, i, kwargs), x)
                for i, x in enumerate(self.inputs)
            ]
        else:
            rng = np.random.default_rng(seed)
            self._probes = []
            for i, x in enumerate(self.inputs):
                fi = _partial(f, self.inputs, i, kwargs)
                us = [rng.standard_normal(x.shape) for _ in range(probes)]
                self._probes.append([(u, directional_derivative(fi, x, u)) for u in us])

    def expected(self, i, cotangent="g"):
        """The full correct gradient of input i (full mode only)."""
        g = self.cotangents[cotangent]
        return vjp_from_jacobian(g, self._jacobians[i], self.inputs[i].shape)

    def noise(self, cotangent="g"):
        """Absolute slack for finite-difference error in one gradient entry."""
        g1 = float(np.sum(np.abs(self.cotangents[cotangent])))
        return NOISE_FACTOR * EPS ** (2 / 3) * max(1.0, g1) * self.f_scale

    def compare(self, i, candidate, cotangent="g", rtol=RTOL):
        """Does `candidate` (shape of input i) equal the correct gradient?"""
        candidate = np.asarray(candidate, dtype=np.float64)
        if self.mode == "full":
            return self._compare_full(i, candidate, cotangent, rtol)
        return self._compare_probes(i, candidate, cotangent, rtol)

    def _compare_full(self, i, c, cotangent, rtol):
        e = self.expected(i, cotangent)
        scale = float(np.max(np.abs(e), initial=0.0))
        tol = rtol * scale + self.noise(cotangent)
        diff = np.abs(c - e)
        if not np.all(np.isfinite(c)):
            diff = np.where(np.isfinite(c), diff, np.inf)
        err = float(np.max(diff, initial=0.0))
        worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
        worst = tuple(int(k) for k in worst)
        return Comparison(
            ok=bool(err <= tol),
            max_abs_err=err,
            tolerance=tol,
            max_rel_err=err / scale if scale > 0 else float("inf") if err > 0 else 0.0,
            worst_index=worst,
            expected_at_worst=float(e[worst]) if e.size else None,
            got_at_worst=float(c[worst]) if c.size else None,
            n_wrong=int(np.sum(diff > tol)),
            n_total=int(diff.size),
        )

    def _compare_probes(self, i, c, cotangent, rtol):
        g = self.cotangents[cotangent]
        got = np.array([np.sum(u * c) for u, _ in self._probes[i]])
        want = np.array([np.sum(g * d) for _, d in self._probes[i]])
        # ⟨u, v⟩ with Gaussian u has standard deviation ‖v‖, so the RMS of the
        # expected projections estimates the size of the true gradient.
        scale = float(np.sqrt(np.mean(want**2)))
        n = self.inputs[i].size
        tol = rtol * scale + self.noise(cotangent) * np.sqrt(max(n, 1))
        err = float(np.max(np.abs(got - want), initial=0.0))
        if not np.all(np.isfinite(got)):
            err = float("inf")
        return Comparison(
            ok=bool(err <= tol),
            max_abs_err=err,
            tolerance=tol,
            max_rel_err=err / scale if scale > 0 else float("inf") if err > 0 else 0.0,
        )
