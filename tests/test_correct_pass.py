"""Correct implementations, in several styles, pass every check on 1,000 seeds.

Besides passing, the worst ratio of error to tolerance is measured: a margin
of at least 20x means the tolerance is not tuned to scrape by.
"""

import numpy as np
import pytest

import autograder as ag

import reference_impls as R

N_SEEDS = 1000
MARGIN = 0.05  # worst error / tolerance allowed for a correct implementation


def _worst_ratio(vjp, f, cases):
    worst = 0.0
    for case in cases:
        verdict = ag.check_vjp(vjp, f, case)
        assert verdict.passed, verdict.message
        ref = ag.Reference(f, case.inputs, case.g, case.kwargs, seed=case.seed)
        grads = vjp(case.g, *case.inputs, **case.kwargs)
        for i, grad in enumerate(grads):
            cmp = ref.compare(i, grad)
            worst = max(worst, cmp.max_abs_err / cmp.tolerance)
    return worst


SUITES = {
    "add": (np.add, lambda s: ag.binary_cases(np.add, seed=s), [R.add_vjp, R.add_vjp_reduce]),
    "sub": (np.subtract, lambda s: ag.binary_cases(np.subtract, seed=s), [R.sub_vjp]),
    "mul": (np.multiply, lambda s: ag.binary_cases(np.multiply, seed=s), [R.mul_vjp]),
    "div": (
        np.divide,
        lambda s: ag.binary_cases(np.divide, seed=s, domain=("normal", "nonzero")),
        [R.div_vjp],
    ),
    "maximum": (
        np.maximum,
        lambda s: ag.binary_cases(np.maximum, seed=s, reject=ag.too_close_to_ties()),
        [R.maximum_vjp, R.maximum_vjp_balanced],
    ),
    "exp": (np.exp, lambda s: ag.unary_cases(np.exp, seed=s, domain="bounded"), [R.exp_vjp]),
    "log": (np.log, lambda s: ag.unary_cases(np.log, seed=s, domain="positive"), [R.log_vjp]),
    "sigmoid": (R.sigmoid, lambda s: ag.unary_cases(R.sigmoid, seed=s), [R.sigmoid_vjp]),
    "relu": (
        R.relu,
        lambda s: ag.unary_cases(R.relu, seed=s, reject=ag.too_close_to_zero()),
        [R.relu_vjp],
    ),
    "sum": (np.sum, lambda s: ag.reduction_cases(np.sum, seed=s), [R.sum_vjp, R.sum_vjp_ones]),
    "matmul": (
        np.matmul,
        lambda s: ag.matmul_cases(seed=s),
        [R.matmul_vjp, R.matmul_vjp_einsum, R.matmul_vjp_tensordot],
    ),
}


@pytest.mark.sweep
@pytest.mark.parametrize("op", sorted(SUITES))
def test_correct_vjps_pass_on_every_seed(op):
    f, make_cases, impls = SUITES[op]
    # Every implementation on every seed; the margin is measured on a subset.
    for seed in range(N_SEEDS):
        cases = make_cases(seed)
        for vjp in impls:
            verdicts = ag.check_vjp_cases(vjp, f, cases)
            failed = [v.message for v in verdicts if not v.passed]
            assert not failed, failed[0]
    worst = max(_worst_ratio(vjp, f, make_cases(seed)) for vjp in impls for seed in range(20))
    assert worst < MARGIN, f"{op}: a correct answer used {worst:.2%} of the tolerance"


@pytest.mark.sweep
def test_correct_jvps_and_jacobians_pass_on_every_seed():
    for seed in range(N_SEEDS):
        rng = np.random.default_rng(seed)
        shape = [(), (4,), (3, 4)][seed % 3]
        for jvp, f, n, domain in [
            (R.exp_jvp, np.exp, 1, "bounded"),
            (R.log_jvp, np.log, 1, "positive"),
            (R.mul_jvp, np.multiply, 2, "normal"),
        ]:
            case = ag.make_case(f, [shape] * n, seed, domain=domain)
            verdict = ag.check_jvp(jvp, f, case)
            assert verdict.passed, verdict.message
        x = rng.uniform(-1.5, 1.5, (3,) if seed % 2 else (2, 2))
        verdict = ag.check_jacobian(
            R.central_jacobian, lambda x: np.sin(x) * np.cumsum(x, axis=-1), x
        )
        assert verdict.passed, verdict.message


@pytest.mark.sweep
def test_engine_gradients_pass_on_every_seed():
    def f(x, w):
        return np.sum(np.tanh(x @ w) ** 2)

    def grad(x, w):
        t = np.tanh(x @ w)
        dz = 2 * t * (1 - t**2)
        return dz @ w.T, x.T @ dz

    for seed in range(N_SEEDS):
        rng = np.random.default_rng(seed)
        x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
        verdict = ag.check_grad(grad, f, (x, w))
        assert verdict.passed, verdict.message


LARGE = [
    (np.matmul, R.matmul_vjp, [(20, 30), (30, 25)], "normal"),
    (np.matmul, R.matmul_vjp_einsum, [(4, 1, 8, 9), (3, 9, 7)], "normal"),
    (np.multiply, R.mul_vjp, [(30, 1), (30, 40)], "normal"),
    (np.log, R.log_vjp, [(40, 40)], "positive"),
    (np.exp, R.exp_vjp, [(40, 40)], "bounded"),
]


@pytest.mark.sweep
@pytest.mark.parametrize("f, vjp, shapes, domain", LARGE, ids=lambda x: getattr(x, "__name__", ""))
def test_projection_checks_pass_correct_answers_with_margin(f, vjp, shapes, domain):
    worst = 0.0
    for seed in range(200):
        case = ag.make_case(f, shapes, seed, domain=domain)
        verdict = ag.check_vjp(vjp, f, case)
        assert verdict.passed, verdict.message
        ref = ag.Reference(f, case.inputs, case.g, seed=case.seed)
        assert ref.mode == "projection"
        for i, grad in enumerate(vjp(case.g, *case.inputs)):
            cmp = ref.compare(i, grad)
            worst = max(worst, cmp.max_abs_err / cmp.tolerance)
    assert worst < MARGIN, f"a correct answer used {worst:.2%} of the tolerance"
