"""Assignment 07 (training with the engine): realistic mistakes and other correct answers
(see demo/__init__.py)."""

import textwrap


def src(code):
    return textwrap.dedent(code).strip("\n") + "\n"


def nll_cell(body):
    return "def nll_logistic(w, Phi, y):\n" + textwrap.indent(src(body), " " * 4)


def gradient_cell(body):
    return "def nll_gradient(w, Phi, y):\n" + textwrap.indent(src(body), " " * 4)


def accuracy_cell(body):
    return "def accuracy(logits, y):\n" + textwrap.indent(src(body), " " * 4)


def mlp_cell(body):
    return "def mlp_forward(params, X):\n" + textwrap.indent(src(body), " " * 4)


def train_cell(body):
    return "def train(params, loss_fn, lr, steps):\n" + textwrap.indent(src(body), " " * 4)


SIGNS = "s = 2 * np.asarray(y, dtype=np.float64) - 1\n"


# ---------------------------------------------------------------- wrong answers

MISTAKES = {
    "NLL without the minus sign": {
        "nll_logistic": nll_cell(SIGNS + "return (s * (Phi @ w)).log_sigmoid().sum()")
    },
    "labels used as signs (y instead of 2y - 1)": {
        "nll_logistic": nll_cell("return -(y * (Phi @ w)).log_sigmoid().sum()")
    },
    "unstable log(sigmoid(z))": {
        "nll_logistic": nll_cell(SIGNS + "return -(s * (Phi @ w)).sigmoid().log().sum()")
    },
    "mean instead of sum": {
        "nll_logistic": nll_cell(SIGNS + "return -(s * (Phi @ w)).log_sigmoid().sum() / len(y)")
    },
    "loss computed with numpy and wrapped in a leaf": {
        "nll_logistic": nll_cell(
            SIGNS + "return Tensor(np.logaddexp(0.0, -s * (Phi @ w.value)).sum())"
        )
    },
    "gradient missing the transpose": {
        "nll_gradient": gradient_cell(SIGNS + "z = s * (Phi @ w)\nreturn -Phi @ (s * sigmoid(-z))")
    },
    "gradient with y instead of 2y - 1": {
        "nll_gradient": gradient_cell(
            "y = np.asarray(y, dtype=np.float64)\nreturn -Phi.T @ (y * sigmoid(-y * (Phi @ w)))"
        )
    },
    "gradient with sigma(z) instead of sigma(-z)": {
        "nll_gradient": gradient_cell(SIGNS + "z = s * (Phi @ w)\nreturn -Phi.T @ (s * sigmoid(z))")
    },
    "gradient with the wrong sign": {
        "nll_gradient": gradient_cell(SIGNS + "z = s * (Phi @ w)\nreturn Phi.T @ (s * sigmoid(-z))")
    },
    "accuracy thresholds the logits at 0.5": {
        "accuracy": accuracy_cell("return float(np.mean((logits > 0.5) == (y == 1)))")
    },
    "accuracy returns the number of correct predictions": {
        "accuracy": accuracy_cell("return int(np.sum((logits > 0) == (y == 1)))")
    },
    "accuracy compares np.sign with 0/1 labels": {
        "accuracy": accuracy_cell("return float(np.mean(np.sign(logits) == y))")
    },
    "network without the ReLU": {
        "mlp_forward": mlp_cell("W1, b1, w2, b2 = params\nreturn (X @ W1 + b1) @ w2 + b2")
    },
    "ReLU on the output too": {
        "mlp_forward": mlp_cell(
            "W1, b1, w2, b2 = params\nreturn ((X @ W1 + b1).relu() @ w2 + b2).relu()"
        )
    },
    "network returns probabilities": {
        "mlp_forward": mlp_cell(
            "W1, b1, w2, b2 = params\nreturn ((X @ W1 + b1).relu() @ w2 + b2).sigmoid()"
        )
    },
    "network computed with numpy and wrapped in a leaf": {
        "mlp_forward": mlp_cell(
            "W1, b1, w2, b2 = (p.value for p in params)\n"
            "return Tensor(np.maximum(X @ W1 + b1, 0.0) @ w2 + b2)"
        )
    },
    "gradient ascent": {
        "train": train_cell("""
        losses = []
        for _ in range(steps):
            for p in params:
                p.zero_grad()
            loss = loss_fn()
            loss.backward()
            for p in params:
                p.value = p.value + lr * p.grad
            losses.append(float(loss.value))
        return losses
        """)
    },
    "no zero_grad (gradients accumulate)": {
        "train": train_cell("""
        losses = []
        for _ in range(steps):
            loss = loss_fn()
            loss.backward()
            for p in params:
                p.value = p.value - lr * p.grad
            losses.append(float(loss.value))
        return losses
        """)
    },
    "update before backward": {
        "train": train_cell("""
        losses = []
        for _ in range(steps):
            for p in params:
                p.zero_grad()
            loss = loss_fn()
            for p in params:
                p.value = p.value - lr * p.grad
            loss.backward()
            losses.append(float(loss.value))
        return losses
        """)
    },
    "update rebinds a local name (p = p - lr * p.grad)": {
        "train": train_cell("""
        losses = []
        for _ in range(steps):
            for p in params:
                p.zero_grad()
            loss = loss_fn()
            loss.backward()
            for p in params:
                p = p - lr * p.grad
            losses.append(float(loss.value))
        return losses
        """)
    },
    "losses recorded after the update": {
        "train": train_cell("""
        losses = []
        for _ in range(steps):
            for p in params:
                p.zero_grad()
            loss = loss_fn()
            loss.backward()
            for p in params:
                p.value = p.value - lr * p.grad
            losses.append(float(loss_fn().value))
        return losses
        """)
    },
    "losses kept as Tensors": {
        "train": train_cell("""
        losses = []
        for _ in range(steps):
            for p in params:
                p.zero_grad()
            loss = loss_fn()
            loss.backward()
            for p in params:
                p.value = p.value - lr * p.grad
            losses.append(loss)
        return losses
        """)
    },
}

# ---------------------------------------------------------------- other correct answers

ALTERNATIVES = {
    # The cross-entropy form of the loss with `w @ Phi.T`, the residual form of the gradient,
    # sign comparison in accuracy, maximum(0.0) as the ReLU, and a train that calls
    # loss.zero_grad() after the forward pass, updates in place and returns a numpy array.
    "cross_entropy_inplace": {
        "nll_logistic": nll_cell("""
            y = np.asarray(y)
            a = w @ Phi.T
            return -(y * a.log_sigmoid() + (1 - y) * (-a).log_sigmoid()).sum()
        """),
        "nll_gradient": gradient_cell("""
            return Phi.T @ (sigmoid(Phi @ w) - y)
        """),
        "accuracy": accuracy_cell("""
            return np.mean(np.sign(logits) == 2 * np.asarray(y) - 1)
        """),
        "mlp_forward": mlp_cell("""
            W1, b1, w2, b2 = params[0], params[1], params[2], params[3]
            H = (X @ W1 + b1).maximum(0.0)
            return H @ w2 + b2
        """),
        "train": train_cell("""
            losses = np.zeros(steps)
            for t in range(steps):
                loss = loss_fn()
                loss.zero_grad()
                loss.backward()
                for p in params:
                    p.value -= lr * p.grad
                losses[t] = loss.value
            return losses
        """),
    },
    # Signs with np.where and a multiplication by -1, the gradient as a sum of rows with a naive
    # (overflowing but correct) logistic function, a Python loop for the accuracy, the output
    # layer as a row-wise sum, and a train that resets .grad by hand and counts with while.
    "loops_and_rows": {
        "nll_logistic": nll_cell("""
            s = np.where(np.asarray(y) == 1, 1.0, -1.0)
            margins = (Phi @ w) * s
            return margins.log_sigmoid().sum() * -1.0
        """),
        "nll_gradient": gradient_cell("""
            s = np.where(np.asarray(y) == 1, 1.0, -1.0)
            z = s * (Phi @ w)
            with np.errstate(over="ignore"):
                weights = s / (1.0 + np.exp(z))          # s * sigma(-z); exp(z) = inf gives 0
            return -(Phi * weights[:, None]).sum(axis=0)
        """),
        "accuracy": accuracy_cell("""
            correct = 0
            for a, label in zip(logits, y):
                correct += int((a > 0) == (label == 1))
            return correct / len(y)
        """),
        "mlp_forward": mlp_cell("""
            hidden = (X @ params[0] + params[1]).relu()
            return (hidden * params[2]).sum(axis=1) + params[3]
        """),
        "train": train_cell("""
            history = []
            t = 0
            while t < steps:
                for p in params:
                    p.grad = np.zeros_like(p.value)
                loss = loss_fn()
                loss.backward()
                for p in params:
                    p.value = p.value - p.grad * lr
                history.append(loss.value.item())
                t += 1
            return history
        """),
    },
}

COMMON = [
    "NLL without the minus sign",
    "unstable log(sigmoid(z))",
    "gradient missing the transpose",
    "accuracy thresholds the logits at 0.5",
    "no zero_grad (gradients accumulate)",
]

DEPENDS = {}

HOSTILE = {"writes_outside": "nll_logistic"}
