"""Every mistake in the catalog is caught, with the diagnostic it deserves."""

import numpy as np
import pytest

import autograder as ag

from wrong_impls import GRAD_MISTAKES, JACOBIAN_MISTAKES, JVP_MISTAKES, MISTAKES, SMOOTH

SEEDS = [0, 1, 2]
# Correct code answers in milliseconds; the infinite loop in the catalog stops here.
TIME_LIMIT = 1.0


def test_catalog_is_large_enough():
    total = len(MISTAKES) + len(JVP_MISTAKES) + len(GRAD_MISTAKES) + len(JACOBIAN_MISTAKES)
    assert total >= 30


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
@pytest.mark.parametrize("seed", SEEDS)
def test_vjp_mistake_is_caught(mistake, seed):
    cases = mistake.cases(seed)
    with pytest.raises(ag.GradingError) as info:
        ag.assert_vjp_cases(mistake.fn, mistake.f, cases, time_limit_s=TIME_LIMIT)
    message = str(info.value)
    assert mistake.says in message, message
    verdicts = ag.check_vjp_cases(mistake.fn, mistake.f, cases, time_limit_s=TIME_LIMIT)
    stages = {v.stage for v in verdicts if not v.passed}
    assert mistake.stage in stages, (stages, message)


@pytest.mark.parametrize(
    "name, jvp, f, n_inputs, says", JVP_MISTAKES, ids=[m[0] for m in JVP_MISTAKES]
)
def test_jvp_mistake_is_caught(name, jvp, f, n_inputs, says):
    domain = "positive" if f is np.log else "normal"
    for seed in SEEDS:
        case = ag.make_case(f, [(3, 4)] * n_inputs, seed, domain=domain)
        verdict = ag.check_jvp(jvp, f, case)
        assert not verdict.passed
        assert says in verdict.message, verdict.message


@pytest.mark.parametrize("name, grad_fn, says", GRAD_MISTAKES, ids=[m[0] for m in GRAD_MISTAKES])
def test_engine_gradient_mistake_is_caught(name, grad_fn, says):
    x = np.random.default_rng(0).standard_normal((3, 4))
    verdict = ag.check_grad(grad_fn, lambda x: np.sum(x * x), (x,))
    assert not verdict.passed
    assert says in verdict.message, verdict.message


@pytest.mark.parametrize(
    "name, jac_fn, stage, says", JACOBIAN_MISTAKES, ids=[m[0] for m in JACOBIAN_MISTAKES]
)
@pytest.mark.parametrize("f_index", range(len(SMOOTH)))
@pytest.mark.parametrize("shape", [(3,), (4,)])
def test_jacobian_mistake_is_caught(name, jac_fn, stage, says, f_index, shape):
    f = SMOOTH[f_index]
    x = np.random.default_rng(f_index).uniform(-1, 1, shape)
    verdict = ag.check_jacobian(jac_fn, f, x)
    if stage == "shape" and np.ndim(f(x)) == 0:
        # With a scalar output both layouts are the same array: nothing to catch.
        assert verdict.passed, verdict.message
        return
    if stage == "shape" and np.shape(f(x)) == x.shape:
        # A square layout cannot be told by shape; the (non-symmetric) values tell.
        assert verdict.stage == "values", verdict.message
        assert "transpose of the Jacobian" in verdict.message, verdict.message
        return
    assert verdict.stage == stage, verdict.message
    assert says in verdict.message, verdict.message
