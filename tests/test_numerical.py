"""numerical_jacobian: accuracy, layout, and that the caller's array is safe."""

import numpy as np
import pytest

import autograder as ag
from autograder.checking.numerical import step_sizes


def _analytic_cases():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 4))
    S = rng.standard_normal((4, 4))
    return [
        (
            "sin*exp elementwise",
            lambda x: np.sin(x) * np.exp(0.5 * x),
            (5,),
            lambda x: np.diag(np.cos(x) * np.exp(0.5 * x) + 0.5 * np.sin(x) * np.exp(0.5 * x)),
        ),
        ("A @ tanh(x)", lambda x: A @ np.tanh(x), (4,), lambda x: A * (1 - np.tanh(x) ** 2)),
        ("x^T S x", lambda x: x @ S @ x, (4,), lambda x: x @ (S + S.T)),
        (
            "log(1 + x^2) scaled",
            lambda x: 100 * np.log1p(x**2),
            (6,),
            lambda x: np.diag(200 * x / (1 + x**2)),
        ),
        (
            "large inputs",
            lambda x: np.sin(x / 50.0),
            (4,),
            lambda x: np.diag(np.cos(x / 50.0) / 50.0),
        ),
    ]


@pytest.mark.parametrize(
    "name, f, shape, jac", _analytic_cases(), ids=lambda c: c if isinstance(c, str) else ""
)
def test_accuracy_on_smooth_functions(name, f, shape, jac):
    rng = np.random.default_rng(1)
    for _ in range(20):
        x = rng.uniform(-2, 2, shape) * (100 if name == "large inputs" else 1)
        want = jac(x)
        got = ag.numerical_jacobian(f, x)
        rel = np.max(np.abs(got - want)) / np.max(np.abs(want))
        assert rel <= 1e-8, (name, rel)


def test_layout_is_output_shape_then_input_shape():
    x = np.arange(6.0).reshape(2, 3)
    assert ag.numerical_jacobian(lambda x: x.sum(axis=0), x).shape == (3, 2, 3)
    assert ag.numerical_jacobian(lambda x: x.sum(), x).shape == (2, 3)
    assert ag.numerical_jacobian(lambda x: x * 2, np.float64(3.0)).shape == ()
    assert ag.numerical_jacobian(lambda x: np.stack([x, x]), np.ones(4)).shape == (2, 4, 4)
    J = ag.numerical_jacobian(lambda x: x.sum(axis=1), x)
    np.testing.assert_allclose(J[1], [[0, 0, 0], [1, 1, 1]], atol=1e-9)


def test_caller_array_is_never_perturbed():
    x = np.array([0.1, 0.2, 0.3])
    before = x.copy()
    seen = []
    ag.numerical_jacobian(lambda z: seen.append(z) or z**2, x)
    np.testing.assert_array_equal(x, before)
    assert all(z is not x for z in seen)
    xi = np.array([1, 2, 3])  # an integer array is differentiated as float64
    J = ag.numerical_jacobian(lambda z: z**2, xi)
    np.testing.assert_allclose(J, np.diag([2.0, 4.0, 6.0]), rtol=1e-9)
    assert xi.dtype.kind == "i"


def test_function_that_mutates_its_argument_cannot_corrupt_the_result():
    def nasty(z):
        out = z**2
        z[...] = 1e6
        return out

    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(ag.numerical_jacobian(nasty, x), np.diag(2 * x), rtol=1e-8)


def test_steps_scale_with_the_input_and_are_exact():
    x = np.array([1e-3, 1.0, 1e4])
    h = step_sizes(x)
    assert h[0] == pytest.approx(h[1], rel=1e-12)
    assert h[2] == pytest.approx(1e4 * h[1], rel=1e-3)
    np.testing.assert_array_equal((x + h) - x, h)


def test_directional_derivative_is_jacobian_times_v():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((5, 4))
    f = lambda x: np.tanh(A @ x)  # noqa: E731
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    J = ag.numerical_jacobian(f, x)
    np.testing.assert_allclose(ag.directional_derivative(f, x, v), J @ v, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(ag.directional_derivative(f, x, np.zeros(4)), np.zeros(5))


def test_forward_difference_with_tiny_step_is_measurably_worse():
    """Why the course does not use the seed's h = 1e-10 forward difference."""
    x = np.linspace(0.1, 2.0, 50)
    exact = np.cos(x)
    central = np.diag(ag.numerical_jacobian(np.sin, x))
    forward = (np.sin(x + 1e-10) - np.sin(x)) / 1e-10
    assert np.max(np.abs(central - exact)) < 1e-9
    assert np.max(np.abs(forward - exact)) > 1e-7
