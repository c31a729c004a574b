"""Assignment 01 (chain rule): realistic mistakes and other correct answers (see demo/__init__.py)."""

import textwrap

SIGNATURES = {
    "forward_difference": "f, x, h",
    "central_difference": "f, x, h=1e-6",
    "sigmoid": "x",
    "loss": "x, w",
    "stable_loss": "x, w",
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
    ("forward_divides_by_2h", "forward_difference", "return (f(x + h) - f(x)) / (2 * h)"),
    ("central_divides_by_h", "central_difference", "return (f(x + h) - f(x - h)) / h"),
    ("loss_without_minus", "loss", "return np.log(sigmoid(w * x**2))"),
    ("stable_loss_is_the_direct_formula", "stable_loss", "return -np.log(sigmoid(w * x**2))"),
    ("dloss_dw_uses_sigmoid_not_sigmoid_minus_1", "dloss_dw", "return sigmoid(w * x**2) * x**2"),
    ("total_derivative_misses_partial_in_x", "total_derivative_example", "return np.sin(x) * 2 * x"),
    ("forward_is_central", "forward_difference", "return (f(x + h) - f(x - h)) / (2 * h)"),
    ("central_uses_f_x_plus_h_minus_f_x", "central_difference", "return (f(x + h) - f(x)) / (2 * h)"),
    ("stable_loss_log_of_1_plus_exp", "stable_loss", "return np.log(1 + np.exp(-w * x**2))"),
    ("dloss_dx_misses_factor_2", "dloss_dx", "b = w * x**2\nreturn (sigmoid(b) - 1) * w * x"),
    ("dloss_dw_uses_x_not_x_squared", "dloss_dw", "return (sigmoid(w * x**2) - 1) * x"),
    ("total_derivative_misses_path_through_y", "total_derivative_example", "return x**2 * np.cos(x)"),
    ("sigmoid_exponent_sign", "sigmoid", "return 1 / (1 + np.exp(x))"),
    ("forward_is_backward", "forward_difference", "return (f(x) - f(x - h)) / h"),
    ("central_default_step_1e_4", "central_difference", "return (f(x + h) - f(x - h)) / (2 * h)"),
    ("total_derivative_wrong_sign_of_cos", "total_derivative_example",
     "return 2 * x * np.sin(x) - x**2 * np.cos(x)"),
    ("sigmoid_exp_ratio_nan_at_800", "sigmoid", "return np.exp(x) / (1 + np.exp(x))"),
    ("loss_uses_w_x", "loss", "return -np.log(sigmoid(w * x))"),
    ("dloss_dx_sign_flipped", "dloss_dx", "b = w * x**2\nreturn (1 - sigmoid(b)) * 2 * w * x"),
    ("dloss_dw_is_dloss_dx", "dloss_dw", "return (sigmoid(w * x**2) - 1) * 2 * w * x"),
]  # fmt: skip

MISTAKES = {name: {cell: define(cell, body)} for name, cell, body in _WRONG_BODIES}
# The default-step mistake changes the signature, not the body.
MISTAKES["central_default_step_1e_4"]["central_difference"] = MISTAKES["central_default_step_1e_4"][
    "central_difference"
].replace("h=1e-6", "h=1e-4")

_ALTERNATIVE_BODIES = {
    # other algebra and a sigmoid that is accurate only in absolute terms in the left tail
    "tanh_sigmoid_node_products": {
        "forward_difference": "fx = f(x)\nreturn (f(x + h) - fx) * (1.0 / h)",
        "central_difference": "xp, xm = x + h, x - h  # the steps actually taken\n"
        "return (f(xp) - f(xm)) / (xp - xm)",
        "sigmoid": "return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))",
        "loss": "return -np.log(sigmoid(w * x * x))",
        "stable_loss": "b = w * x**2\nreturn np.maximum(-b, 0.0) + np.log1p(np.exp(-np.abs(b)))",
        "dloss_dx": "a = x**2\nb = w * a\ns = sigmoid(b)\n"
        "dlds = -1 / s\ndsdb = s * (1 - s)\nreturn dlds * dsdb * w * 2 * x",
        "dloss_dw": "return x**2 * (sigmoid(w * x**2) - 1.0)",
        "total_derivative_example": "return 2 * x * np.sin(x) + x**2 * np.cos(x)",
    },
    # the naive sigmoid (overflow warnings at -800), plain floats and the math module
    "naive_sigmoid_math_module": {
        "forward_difference": "x1 = x + h\nreturn (f(x1) - f(x)) / (x1 - x)",
        "central_difference": "return (f(x + h) - f(x - h)) / h / 2",
        "sigmoid": "return 1 / (1 + np.exp(-x))",
        "loss": "import math\n\nreturn -math.log(sigmoid(w * x**2))",
        "stable_loss": "import math\n\nb = w * x**2\nif b >= 0:\n"
        "    return math.log1p(math.exp(-b))\nreturn -b + math.log1p(math.exp(b))",
        "dloss_dx": "return (sigmoid(w * x**2) - 1) * 2 * w * x",
        "dloss_dw": "return -(x**2) / (1 + np.exp(w * x**2))",
        "total_derivative_example": "import math\n\ny = x * x\n"
        "return math.sin(x) * 2 * x + y * math.cos(x)",
    },
}
ALTERNATIVES = {
    style: {name: define(name, body) for name, body in bodies.items()}
    for style, bodies in _ALTERNATIVE_BODIES.items()
}

COMMON = [
    "central_divides_by_h",
    "loss_without_minus",
    "stable_loss_is_the_direct_formula",
    "dloss_dx_misses_factor_2",
    "total_derivative_misses_partial_in_x",
]

# loss, dloss_dx and dloss_dw call the student's sigmoid
DEPENDS = {"loss": {"sigmoid"}, "dloss_dx": {"sigmoid"}, "dloss_dw": {"sigmoid"}}

HOSTILE = {
    "stderr_warning": "sigmoid",  # the tests call sigmoid directly: stderr lands in their output
    "memory_bomb": "total_derivative_example",  # called directly: MemoryError in the test cell
}
