"""Assignment 01 (chain rule): realistic mistakes and other correct answers (see demo/__init__.py)."""

import textwrap

SIGNATURES = {
    "five_point_difference": "f, x, h=1e-3",
    "complex_step": "f, x, h=1e-20",
    "log_cosh": "r",
    "dloss_dx": "x, w",
    "dloss_dw": "x, w",
    "total_derivative_example": "x",
}


def define(name, body):
    """Full source of a solution cell: `def name(<signature>):` plus the body."""
    body = textwrap.indent(textwrap.dedent(body).strip(), "    ")
    return f"def {name}({SIGNATURES[name]}):\n{body}"


# (name, solution cell, function body)
_WRONG_BODIES = [
    ("five_point_divides_by_6h", "five_point_difference",
     "return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (6 * h)"),
    ("five_point_outer_signs_flipped", "five_point_difference",
     "return (f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) - f(x - 2 * h)) / (12 * h)"),
    ("five_point_is_central", "five_point_difference", "return (f(x + h) - f(x - h)) / (2 * h)"),
    ("five_point_weights_swapped", "five_point_difference",
     "return (-8 * f(x + 2 * h) + f(x + h) - f(x - h) + 8 * f(x - 2 * h)) / (12 * h)"),
    ("five_point_default_step_1e_6", "five_point_difference",
     "return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)"),
    ("complex_step_returns_complex", "complex_step", "return (f(x + 1j * h) - f(x)) / (1j * h)"),
    ("complex_step_real_part", "complex_step", "return np.real(f(x + 1j * h)) / h"),
    ("complex_step_real_difference", "complex_step", "return (f(x + h) - f(x - h)) / (2 * h)"),
    ("complex_step_default_step_1e_8", "complex_step", "return np.imag(f(x + 1j * h)) / h"),
    ("log_cosh_naive_overflows", "log_cosh", "return np.log(np.cosh(r))"),
    ("log_cosh_forgets_log_2", "log_cosh", "return np.logaddexp(r, -r)"),
    ("log_cosh_asymptote_only", "log_cosh", "return np.abs(r) - np.log(2)"),
    ("log_cosh_abs_missing_in_exp", "log_cosh",
     "return np.abs(r) + np.log1p(np.exp(-2 * r)) - np.log(2)"),
    ("dloss_dx_misses_path_through_sin", "dloss_dx", "return np.tanh(w * x - np.sin(x)) * w"),
    ("dloss_dx_cos_sign", "dloss_dx", "return np.tanh(w * x - np.sin(x)) * (w + np.cos(x))"),
    ("dloss_dx_sinh_over_cosh_nan", "dloss_dx",
     "r = w * x - np.sin(x)\nc = np.cosh(r)\nreturn (1 / c) * np.sinh(r) * (w - np.cos(x))"),
    ("dloss_dw_is_dloss_dx", "dloss_dw", "return np.tanh(w * x - np.sin(x)) * (w - np.cos(x))"),
    ("dloss_dw_factor_w", "dloss_dw", "return np.tanh(w * x - np.sin(x)) * w"),
    ("dloss_dw_sinh_over_cosh_nan", "dloss_dw",
     "r = w * x - np.sin(x)\nreturn np.sinh(r) / np.cosh(r) * x"),
    ("total_derivative_misses_partial_in_x", "total_derivative_example", "return np.sin(x) * 2 * x"),
    ("total_derivative_misses_path_through_y", "total_derivative_example", "return x**2 * np.cos(x)"),
    ("total_derivative_wrong_sign_of_cos", "total_derivative_example",
     "return 2 * x * np.sin(x) - x**2 * np.cos(x)"),
]  # fmt: skip

MISTAKES = {name: {cell: define(cell, body)} for name, cell, body in _WRONG_BODIES}
# The default-step mistakes change the signature, not the body.
for _name, _cell, _old, _new in [
    ("five_point_default_step_1e_6", "five_point_difference", "h=1e-3", "h=1e-6"),
    ("complex_step_default_step_1e_8", "complex_step", "h=1e-20", "h=1e-8"),
]:
    MISTAKES[_name][_cell] = MISTAKES[_name][_cell].replace(_old, _new)

_ALTERNATIVE_BODIES = {
    # the Richardson form, a complex difference quotient, log1p with |r|, node-by-node products
    "richardson_log1p_nodes": {
        "five_point_difference": "def central(step):\n"
        "    return (f(x + step) - f(x - step)) / (2 * step)\n\n"
        "return (4 * central(h) - central(2 * h)) / 3",
        "complex_step": "return ((f(x + 1j * h) - f(x)) / (1j * h)).real",
        "log_cosh": "a = np.abs(r)\nreturn a + np.log1p(np.exp(-2 * a)) - np.log(2)",
        "dloss_dx": "p = w * x\nt = np.sin(x)\nr = p - t\ndldr = np.tanh(r)\n"
        "dldp, dldt = dldr * 1.0, dldr * -1.0\nreturn dldp * w + dldt * np.cos(x)",
        "dloss_dw": "r = w * x - np.sin(x)\ne = np.exp(-2 * np.abs(r))\n"
        "return np.sign(r) * (1 - e) / (1 + e) * x",
        "total_derivative_example": "return 2 * x * np.sin(x) + x**2 * np.cos(x)",
    },
    # plain loops and the math module for floats, a case split for log cosh
    "math_module_case_split": {
        "five_point_difference": "weights = {-2: 1, -1: -8, 1: 8, 2: -1}\n"
        "return sum(c * f(x + k * h) for k, c in weights.items()) / (12 * h)",
        "complex_step": "z = f(x + h * 1j)\nreturn np.imag(z / h)",
        "log_cosh": "a = np.abs(np.asarray(r, dtype=float))\n"
        "small = np.log(np.cosh(np.minimum(a, 20.0)))\n"
        "large = a - np.log(2.0) + np.log1p(np.exp(-2 * a))\n"
        "out = np.where(a < 20.0, small, large)\n"
        "return float(out) if out.ndim == 0 else out",
        "dloss_dx": "import math\n\nr = w * x - math.sin(x)\nreturn math.tanh(r) * (w - math.cos(x))",
        "dloss_dw": "import math\n\nreturn x * math.tanh(w * x - math.sin(x))",
        "total_derivative_example": "import math\n\ny = x * x\n"
        "return math.sin(x) * 2 * x + y * math.cos(x)",
    },
}
ALTERNATIVES = {
    style: {name: define(name, body) for name, body in bodies.items()}
    for style, bodies in _ALTERNATIVE_BODIES.items()
}

COMMON = [
    "five_point_outer_signs_flipped",
    "complex_step_returns_complex",
    "log_cosh_naive_overflows",
    "dloss_dx_misses_path_through_sin",
    "total_derivative_misses_partial_in_x",
]

# every exercise is graded on its own: no test depends on another solution cell
DEPENDS = {}

HOSTILE = {
    "stderr_warning": "log_cosh",  # the tests call log_cosh directly: stderr lands in their output
    "memory_bomb": "total_derivative_example",  # called directly: MemoryError in the test cell
}
