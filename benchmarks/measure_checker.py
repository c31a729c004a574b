"""How far correct answers are from failing, and wrong ones from passing.

For each op: the worst error/tolerance ratio of correct implementations over
many seeds (must stay far below 1), and for each wrong implementation in the
test catalog: the fraction of cases it fails and, for wrong values, the
smallest error/tolerance ratio among failing cases (must stay far above 1).
Usage: python benchmarks/measure_checker.py [n_seeds]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import autograder as ag  # noqa: E402

from test_correct_pass import SUITES  # noqa: E402
from wrong_impls import MISTAKES  # noqa: E402


def ratios(vjp, f, case):
    ref = ag.Reference(f, case.inputs, case.g, case.kwargs, seed=case.seed)
    out = []
    for i, grad in enumerate(vjp(case.g, *case.inputs, **case.kwargs)):
        if np.shape(grad) == case.inputs[i].shape:
            cmp = ref.compare(i, grad)
            out.append(cmp.max_abs_err / cmp.tolerance)
    return out


def main(n_seeds=100):
    print(f"correct implementations, {n_seeds} seeds each: worst error / tolerance")
    for op, (f, make_cases, impls) in sorted(SUITES.items()):
        worst = max(
            r
            for seed in range(n_seeds)
            for case in make_cases(seed)
            for vjp in impls
            for r in ratios(vjp, f, case)
        )
        print(f"  {op:<8} {worst:9.2e}")
    print("\nwrong implementations, seed 0: cases failed, smallest error / tolerance when values")
    for m in MISTAKES:
        cases = m.cases(0)
        verdicts = ag.check_vjp_cases(m.fn, m.f, cases, time_limit_s=1.0)
        failed = sum(not v.passed for v in verdicts)
        value_ratios = []
        for v, case in zip(verdicts, cases):
            if v.stage == "values":
                value_ratios.append(max(ratios(m.fn, m.f, case)))
        smallest = f"{min(value_ratios):9.2e}" if value_ratios else "        -"
        print(f"  {m.name:<55} {failed:>3}/{len(cases):<3} {smallest}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
