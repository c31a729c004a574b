"""Autograder for the automatic-differentiation course.

Test cells call the `assert_*` checks; each compares a student's function with
numerical derivatives of the forward function and raises `GradingError` with a
diagnostic written for the student. The package contains no solutions.
"""

from .checking.calling import CallTimeout, call_student
from .checking.cases import (
    Case,
    binary_cases,
    make_case,
    matmul_cases,
    reduction_cases,
    too_close_to_ties,
    too_close_to_zero,
    unary_cases,
)
from .checking.checks import (
    assert_grad,
    assert_vjp,
    assert_vjp_cases,
    check_grad,
    check_vjp,
    check_vjp_cases,
)
from .checking.graphs import nest, walk
from .checking.jacobian_checks import assert_jacobian, check_jacobian
from .checking.jvp_checks import assert_jvp, check_jvp
from .checking.numerical import directional_derivative, numerical_jacobian
from .checking.reference import Reference
from .checking.student import (
    bind,
    call_limited,
    in_student_kernel,
    recursion_limit,
    replaced,
    type_name,
)
from .checking.verdicts import GradingError, Verdict

__version__ = "0.1.0"

__all__ = [
    "CallTimeout",
    "call_limited",
    "recursion_limit",
    "replaced",
    "type_name",
    "Case",
    "GradingError",
    "Reference",
    "Verdict",
    "assert_grad",
    "assert_jacobian",
    "assert_jvp",
    "assert_vjp",
    "assert_vjp_cases",
    "binary_cases",
    "bind",
    "call_student",
    "check_grad",
    "check_jacobian",
    "check_jvp",
    "check_vjp",
    "check_vjp_cases",
    "directional_derivative",
    "in_student_kernel",
    "make_case",
    "nest",
    "matmul_cases",
    "numerical_jacobian",
    "reduction_cases",
    "too_close_to_ties",
    "too_close_to_zero",
    "unary_cases",
    "walk",
]
