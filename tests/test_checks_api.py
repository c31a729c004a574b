"""Behaviour of the check API: read-only inputs, warnings, projections, separability."""

import multiprocessing
import pickle
import warnings

import numpy as np
import pytest

import autograder as ag
from autograder.checking.calling import call_student
from autograder.checking.checks import _reference
from autograder.checking.verdicts import judge_gradients

import reference_impls as R


def test_inputs_handed_to_students_are_read_only_copies():
    x = np.array([1.0, 2.0])
    seen = {}

    def spy(dldf, x_in):
        seen["x"] = x_in
        return (dldf * 1.0,)

    ag.check_vjp(spy, lambda z: z * 1.0, (x,))
    assert seen["x"] is not x
    assert not seen["x"].flags.writeable
    assert x.flags.writeable


def test_warnings_from_a_correct_answer_do_not_fail_or_leak():
    def noisy_log_vjp(dldf, x):
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero
        warnings.warn("a harmless warning", UserWarning)
        return (dldf / x,)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any leaked warning would raise here
        verdict = ag.check_vjp(noisy_log_vjp, np.log, (np.array([0.5, 1.5]),))
    assert verdict.passed, verdict.message


def test_exception_is_reported_with_the_students_line():
    def broken(dldf, x):
        return (dldf @ np.ones((7, 7)),)

    verdict = ag.check_vjp(broken, np.exp, (np.ones(3),))
    assert verdict.stage == "raised"
    assert "ValueError" in verdict.message and "dldf @ np.ones((7, 7))" in verdict.message
    assert "input shapes (3,)" in verdict.message


def test_message_names_seed_and_shapes_so_a_student_can_reproduce():
    case = ag.make_case(np.multiply, [(3, 1), (3, 4)], seed=1234)
    verdict = ag.check_vjp(lambda g, a, b: (g, g), np.multiply, case)
    assert "seed 1234" in verdict.message and "(3, 1), (3, 4)" in verdict.message
    again = ag.make_case(np.multiply, [(3, 1), (3, 4)], seed=1234)
    for x, y in zip(case.inputs + (case.g,), again.inputs + (again.g,)):
        np.testing.assert_array_equal(x, y)


def test_cotangents_are_never_all_ones():
    for seed in range(200):
        for case in ag.binary_cases(np.add, seed=seed)[:8]:
            assert np.max(np.abs(case.g - 1)) > 0.5


def test_kinks_are_avoided():
    for seed in range(50):
        for case in ag.binary_cases(np.maximum, seed=seed, reject=ag.too_close_to_ties()):
            a, b = case.inputs
            assert np.min(np.abs(np.subtract(a, b))) >= 0.05
        for case in ag.unary_cases(R.relu, seed=seed, reject=ag.too_close_to_zero()):
            assert np.min(np.abs(case.inputs[0])) >= 0.05


def test_domains_keep_log_and_division_valid():
    for seed in range(50):
        for case in ag.unary_cases(np.log, seed=seed, domain="positive"):
            assert np.all(case.inputs[0] >= 0.5)
        for case in ag.binary_cases(np.divide, seed=seed, domain=("normal", "nonzero")):
            assert np.all(np.abs(case.inputs[1]) >= 0.5)


def test_suites_cover_the_required_shapes():
    pairs = {c.shapes for c in ag.binary_cases(np.add)}
    shapes = [(), (4,), (1, 4), (3, 1), (3, 4), (2, 3, 4)]
    assert all((a, b) in pairs for a in shapes for b in shapes)
    assert ((3, 3), (3,)) in pairs
    mm = {c.shapes for c in ag.matmul_cases()}
    assert {((3,), (3,)), ((3, 3), (3, 3)), ((3, 4), (4, 2)), ((4,), (4, 3)), ((3, 4), (4,))} <= mm
    assert ((2, 1, 2, 3), (5, 3, 4)) in mm
    red = ag.reduction_cases()
    kws = {(c.kwargs["axis"], c.kwargs["keepdims"]) for c in red}
    assert {(None, False), (0, True), (1, False), (-1, True), ((0, 1), False)} <= kws
    assert any(c.shapes == ((4, 4),) for c in red) and any(c.shapes == ((3, 4),) for c in red)


def test_projection_mode_checks_a_large_matmul_cheaply():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((50, 40)), rng.standard_normal((40, 30))
    calls = {"n": 0}

    def counted_matmul(a, b):
        calls["n"] += 1
        return a @ b

    verdict = ag.check_vjp(R.matmul_vjp, counted_matmul, (A, B))
    assert verdict.passed, verdict.message
    assert calls["n"] <= 1 + 2 * 4 * 2 + 2  # forward, 4 probes x 2 inputs x 2 sides, case
    wrong = ag.check_vjp(lambda g, a, b: (g @ b.T, a.T @ g * 1.001), np.matmul, (A, B))
    assert wrong.stage == "values" and "random projections" in wrong.message


def test_projection_and_full_modes_agree():
    for seed in range(30):
        for case in ag.matmul_cases(seed=seed):
            for impl in (R.matmul_vjp, lambda g, a, b: R.matmul_vjp(-g, a, b)):
                full = ag.check_vjp(impl, np.matmul, case, mode="full")
                proj = ag.check_vjp(impl, np.matmul, case, mode="projection")
                assert full.passed == proj.passed, (case.name, full.message, proj.message)


def test_projection_mode_names_a_sign_error():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 30))
    verdict = ag.check_vjp(lambda g, x: (-g * np.exp(x),), np.exp, (x,), mode="projection")
    assert "sign is flipped" in verdict.message


def _judge_elsewhere(payload):
    outcome, case = pickle.loads(payload)
    ref = _reference(np.multiply, case, "auto")
    return judge_gradients(outcome, ref, case, "mul_vjp", ("a", "b"))


def test_judging_runs_in_another_process():
    """Make inputs and call here; judge in a fresh process from pickled copies."""
    case = ag.make_case(np.multiply, [(3, 1), (3, 4)], seed=7)
    good = call_student(R.mul_vjp, case.g, *case.inputs)
    bad = call_student(lambda g, a, b: (g * b, g * a), case.g, *case.inputs)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        v_good, v_bad = pool.map(
            _judge_elsewhere, [pickle.dumps((good, case)), pickle.dumps((bad, case))]
        )
    assert v_good.passed
    assert v_bad.stage == "shape" and "unbroadcast" in v_bad.message


def test_check_grad_accepts_a_bare_array_for_one_input():
    x = np.random.default_rng(0).standard_normal(5)
    assert ag.check_grad(lambda x: 2 * x, lambda x: np.sum(x * x), (x,)).passed
    with pytest.raises(ValueError, match="scalar-valued"):
        ag.check_grad(lambda x: x, lambda x: x * x, (x,))


def test_assert_helpers_raise_grading_error_with_the_message():
    with pytest.raises(ag.GradingError, match="sign is flipped"):
        ag.assert_vjp(lambda g, x: (-g * np.exp(x),), np.exp, (np.ones((2, 3)),))
    with pytest.raises(AssertionError):  # GradingError is an AssertionError for nbgrader
        ag.assert_jvp(lambda x, dx: np.exp(x), np.exp, (np.ones(3),))
    # Passing checks display nothing: nbgrader would read a number as partial credit.
    assert ag.assert_vjp_cases(R.exp_vjp, np.exp, ag.unary_cases(np.exp, domain="bounded")) is None
    assert ag.assert_vjp(R.exp_vjp, np.exp, (np.ones(2),)) is None
    assert ag.assert_grad(lambda x: 2 * x, lambda x: np.sum(x * x), (np.ones(2),)) is None
    assert ag.assert_jvp(R.exp_jvp, np.exp, (np.ones(3),)) is None
    assert ag.assert_jacobian(R.central_jacobian, np.sin, np.ones(2)) is None


def test_a_failed_check_shows_its_message_and_the_test_cell_line_not_package_internals():
    """What IPython shows a student (GradingError._render_traceback_): the course message
    first, then the failing line of the test cell; no frames of autograder, numpy or IPython."""
    import linecache

    cell = (
        "x = np.array([0.0, 1.0])\n\nag.assert_vjp(bad_vjp, np.exp, (x,), g=np.array([2.0, 3.0]))\n"
    )
    name = "/tmp/ipykernel_1/123.py"  # how ipykernel names a cell's code
    linecache.cache[name] = (len(cell), None, cell.splitlines(True), name)

    def bad_vjp(g, x):
        return (np.exp(x),)

    try:
        exec(compile(cell, name, "exec"), {"np": np, "ag": ag, "bad_vjp": bad_vjp})
    except ag.GradingError as err:
        err.__traceback__ = err.__traceback__.tb_next  # from the cell on, as IPython's exec sees it
        lines = err._render_traceback_()
    else:
        raise AssertionError("the wrong VJP passed")
    text = "\n".join(lines)
    assert lines[0].startswith("\x1b[0;31mGradingError\x1b[0m: bad_vjp is wrong")
    assert "ignores dldf" in text
    assert "line 3: ag.assert_vjp(bad_vjp, np.exp, (x,), g=np.array([2.0, 3.0]))" in lines[-1]
    assert "autograder" not in text.replace("ag.assert_vjp", "") and "site-packages" not in text


def test_a_gradient_check_talks_of_gradients_not_of_a_cotangent():
    """check_grad seeds the scalar's cotangent 1 itself: the student never passed one, so the
    message shows the inputs but no 'cotangent shape ()' or 'dldf = 1.'."""
    x = np.array([0.5, -1.0])
    verdict = ag.check_grad(lambda x: 3 * x, lambda x: np.sum(x * x), (x,))
    assert not verdict.passed and "wrong values" in verdict.message
    assert "x = [ 0.5, -1. ]" in verdict.message
    assert "cotangent" not in verdict.message and "dldf" not in verdict.message


def test_call_limited_hides_its_own_frame_from_the_students_traceback():
    """IPython leaves frames whose locals set __tracebackhide__ out of a traceback: an error in
    the student's function, raised through ag.call_limited, shows the test cell and the student's
    code only."""
    import inspect

    def stub(x):
        raise NotImplementedError()

    try:
        ag.call_limited(stub, 1.0, time_limit_s=5)
    except NotImplementedError as err:
        frames = [f.frame for f in inspect.getinnerframes(err.__traceback__)]
    hidden = [f.f_code.co_name for f in frames if f.f_locals.get("__tracebackhide__")]
    assert hidden == ["call_limited"]
