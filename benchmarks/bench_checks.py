"""Cost of checking a matmul VJP: full numerical Jacobian vs random projections.

Prints, for growing operand sizes, the seconds each check takes, the number of
forward evaluations, and the ratio. A benchmark, not a test: nothing asserts.
Usage: python benchmarks/bench_checks.py
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import autograder as ag  # noqa: E402

from reference_impls import matmul_vjp  # noqa: E402

SIZES = [(4, 3, 2), (8, 6, 4), (16, 12, 8), (25, 20, 15), (50, 40, 30)]


def timed_check(A, B, mode):
    calls = {"n": 0}

    def counted(a, b):
        calls["n"] += 1
        return a @ b

    start = time.perf_counter()
    verdict = ag.check_vjp(matmul_vjp, counted, (A, B), mode=mode)
    elapsed = time.perf_counter() - start
    assert verdict.passed, verdict.message
    return elapsed, calls["n"]


def main():
    rng = np.random.default_rng(0)
    print(
        f"{'A @ B':>22} {'inputs':>7} {'full s':>9} {'full evals':>10} "
        f"{'proj s':>9} {'proj evals':>10} {'ratio':>7}"
    )
    for m, n, p in SIZES:
        A, B = rng.standard_normal((m, n)), rng.standard_normal((n, p))
        full_s, full_n = timed_check(A, B, "full")
        proj_s, proj_n = timed_check(A, B, "projection")
        print(
            f"{f'({m}, {n}) @ ({n}, {p})':>22} {A.size + B.size:>7} {full_s:>9.4f} "
            f"{full_n:>10} {proj_s:>9.4f} {proj_n:>10} {full_s / proj_s:>6.0f}x"
        )
    print(
        "\n'auto' mode uses the full Jacobian up to "
        f"{ag.checking.reference.FULL_MODE_MAX_INPUT_SIZE} input elements, projections above."
    )


if __name__ == "__main__":
    main()
