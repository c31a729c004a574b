"""Assignment 07 (training a three-class classifier with the engine): realistic mistakes and other
correct answers (see demo/__init__.py)."""

import textwrap


def src(code):
    return textwrap.dedent(code).strip("\n") + "\n"


def ce_cell(body):
    return "def softmax_cross_entropy(logits, y):\n" + textwrap.indent(src(body), " " * 4)


def grad_cell(body):
    return "def softmax_ce_grad(logits, y):\n" + textwrap.indent(src(body), " " * 4)


def checked_ce_cell(body):
    """softmax_cross_entropy with correct checks of y, then `body`."""
    return ce_cell(CHECKS + textwrap.dedent(body))


def accuracy_cell(body):
    return "def accuracy(logits, y):\n" + textwrap.indent(src(body), " " * 4)


def train_cell(body):
    return "def train(params, loss_fn, lr0, steps):\n" + textwrap.indent(src(body), " " * 4)


CHECKS = """
n, K = logits.shape
y = np.asarray(y)
if y.shape != (n,) or np.any((y < 0) | (y >= K)):
    raise ValueError(f"y must have shape ({n},) with labels in 0 ... {K - 1}")
"""

TRAIN_LOOP = """
losses = []
for t in range(steps):
    lr = {lr}
    for p in params:
        p.zero_grad()
    loss = loss_fn()
    loss.backward()
    for p in params:
        p.value = p.value - lr * p.grad
    losses.append(float(loss.value))
return losses
"""

COSINE = "0.5 * lr0 * (1 + np.cos(np.pi * t / steps))"


# ---------------------------------------------------------------- wrong answers

MISTAKES = {
    "cross-entropy without the minus sign": {
        "softmax_cross_entropy": checked_ce_cell(
            """
            Z = logits - logits.max(axis=1, keepdims=True)
            return (Z[np.arange(n), y] - Z.exp().sum(axis=1).log()).sum() / n
            """
        )
    },
    "cross-entropy summed, not averaged": {
        "softmax_cross_entropy": checked_ce_cell(
            """
            Z = logits - logits.max(axis=1, keepdims=True)
            return (Z.exp().sum(axis=1).log() - Z[np.arange(n), y]).sum()
            """
        )
    },
    "cross-entropy without the max shift (overflows)": {
        "softmax_cross_entropy": checked_ce_cell(
            """
            return (logits.exp().sum(axis=1).log() - logits[np.arange(n), y]).sum() / n
            """
        )
    },
    "cross-entropy shifted by the global max": {
        "softmax_cross_entropy": checked_ce_cell(
            """
            Z = logits - logits.max()
            return (Z.exp().sum(axis=1).log() - Z[np.arange(n), y]).sum() / n
            """
        )
    },
    "cross-entropy as log(softmax) (underflows)": {
        "softmax_cross_entropy": checked_ce_cell(
            """
            E = (logits - logits.max(axis=1, keepdims=True)).exp()
            P = E / E.sum(axis=1, keepdims=True)
            return -P[np.arange(n), y].log().sum() / n
            """
        )
    },
    "softmax over the wrong axis": {
        "softmax_cross_entropy": checked_ce_cell(
            """
            Z = logits - logits.max(axis=0, keepdims=True)
            log_p = Z - Z.exp().sum(axis=0, keepdims=True).log()
            return -log_p[np.arange(n), y].sum() / n
            """
        )
    },
    "cross-entropy computed with numpy and wrapped in a leaf": {
        "softmax_cross_entropy": checked_ce_cell(
            """
            A = logits.value
            m = A.max(axis=1, keepdims=True)
            lse = m[:, 0] + np.log(np.exp(A - m).sum(axis=1))
            return Tensor(np.mean(lse - A[np.arange(n), y]))
            """
        )
    },
    "labels not checked": {
        "softmax_cross_entropy": ce_cell(
            """
            n = logits.shape[0]
            Z = logits - logits.max(axis=1, keepdims=True)
            return (Z.exp().sum(axis=1).log() - Z[np.arange(n), y]).sum() / n
            """
        )
    },
    "gradient not divided by n": {
        "softmax_ce_grad": grad_cell(
            """
            E = np.exp(logits - logits.max(axis=1, keepdims=True))
            P = E / E.sum(axis=1, keepdims=True)
            return P - np.eye(logits.shape[1])[y]
            """
        )
    },
    "gradient Y - P (sign flipped)": {
        "softmax_ce_grad": grad_cell(
            """
            E = np.exp(logits - logits.max(axis=1, keepdims=True))
            P = E / E.sum(axis=1, keepdims=True)
            return (np.eye(logits.shape[1])[y] - P) / len(y)
            """
        )
    },
    "gradient without the max shift (nan)": {
        "softmax_ce_grad": grad_cell(
            """
            E = np.exp(logits)
            P = E / E.sum(axis=1, keepdims=True)
            return (P - np.eye(logits.shape[1])[y]) / len(y)
            """
        )
    },
    "gradient changes the input in place": {
        "softmax_ce_grad": grad_cell(
            """
            logits -= logits.max(axis=1, keepdims=True)
            P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            return (P - np.eye(logits.shape[1])[y]) / len(y)
            """
        )
    },
    "accuracy returns the number of correct predictions": {
        "accuracy": accuracy_cell("return int(np.sum(np.argmax(logits, axis=1) == y))")
    },
    "accuracy counts a tie as correct": {
        "accuracy": accuracy_cell(
            "return float(np.mean(logits[np.arange(len(y)), y] == logits.max(axis=1)))"
        )
    },
    "accuracy with the argmax over the examples": {
        "accuracy": accuracy_cell("return float(np.mean(np.argmax(logits, axis=0) == y))")
    },
    "constant learning rate (no schedule)": {"train": train_cell(TRAIN_LOOP.format(lr="lr0"))},
    "schedule one step ahead (t + 1)": {
        "train": train_cell(
            TRAIN_LOOP.format(lr="0.5 * lr0 * (1 + np.cos(np.pi * (t + 1) / steps))")
        )
    },
    "schedule over steps - 1": {
        "train": train_cell(
            TRAIN_LOOP.format(lr="0.5 * lr0 * (1 + np.cos(np.pi * t / max(steps - 1, 1)))")
        )
    },
    "no zero_grad (gradients accumulate)": {
        "train": train_cell(
            TRAIN_LOOP.format(lr=COSINE).replace(
                "    for p in params:\n        p.zero_grad()\n", ""
            )
        )
    },
    "gradient ascent": {
        "train": train_cell(TRAIN_LOOP.format(lr=COSINE).replace(" - lr", " + lr"))
    },
    "losses kept as Tensors": {
        "train": train_cell(TRAIN_LOOP.format(lr=COSINE).replace("float(loss.value)", "loss"))
    },
}

assert "p.zero_grad()" not in MISTAKES["no zero_grad (gradients accumulate)"]["train"]

# ---------------------------------------------------------------- other correct answers

ALTERNATIVES = {
    # A one-hot matrix in place of indexing with a constant numpy shift, a gradient assembled
    # with np.add.at, a Python loop for the accuracy, and a train that resets with
    # loss.zero_grad(), updates in place and returns a numpy array.
    "one_hot_inplace": {
        "softmax_cross_entropy": ce_cell("""
            n, K = logits.shape
            y = np.asarray(y)
            if y.shape != (n,):
                raise ValueError("y needs one label per row")
            if y.min() < 0 or y.max() > K - 1:
                raise ValueError("label out of range")
            Y = np.eye(K)[y]
            Z = logits - logits.value.max(axis=1, keepdims=True)
            log_p = Z - Z.exp().sum(axis=1, keepdims=True).log()
            return -(log_p * Y).sum() * (1.0 / n)
        """),
        "softmax_ce_grad": grad_cell("""
            A = np.array(logits, dtype=float)
            A = A - A.max(axis=1)[:, None]
            P = np.exp(A)
            P = P / P.sum(axis=1)[:, None]
            np.add.at(P, (np.arange(len(y)), y), -1.0)
            return P / len(y)
        """),
        "accuracy": accuracy_cell("""
            right = 0
            for row, label in zip(logits, y):
                best = 0
                for k in range(1, len(row)):
                    if row[k] > row[best]:
                        best = k
                right += best == label
            return right / len(y)
        """),
        "train": train_cell("""
            losses = np.zeros(steps)
            for t in range(steps):
                loss = loss_fn()
                loss.zero_grad()
                loss.backward()
                for p in params:
                    p.value -= lr0 * (1 + np.cos(np.pi * t / steps)) / 2 * p.grad
                losses[t] = loss.value
            return losses
        """),
    },
    # log-sum-exp written with the max added back (m + log sum exp(a - m)), the gradient via
    # softmax of the shifted logits with a where, argmax with keepdims, and a train that
    # resets .grad by hand, precomputes the schedule and counts with while.
    "logsumexp_while": {
        "softmax_cross_entropy": ce_cell("""
            labels = np.asarray(y)
            rows, K = logits.shape
            if labels.ndim != 1 or len(labels) != rows:
                raise ValueError(f"y has shape {labels.shape}, expected ({rows},)")
            if not np.all((0 <= labels) & (labels < K)):
                raise ValueError(f"labels must lie in 0..{K - 1}")
            m = logits.max(axis=-1, keepdims=True)
            lse = m.sum(axis=-1) + (logits - m).exp().sum(axis=-1).log()
            picked = logits[np.arange(rows), labels]
            return (lse - picked).sum() / rows
        """),
        "softmax_ce_grad": grad_cell("""
            n, K = np.shape(logits)
            z = logits - np.max(logits, axis=-1, keepdims=True)
            p = np.exp(z) / np.sum(np.exp(z), axis=-1, keepdims=True)
            onehot = np.where(np.arange(K)[None, :] == np.asarray(y)[:, None], 1.0, 0.0)
            return (p - onehot) / n
        """),
        "accuracy": accuracy_cell("""
            pred = np.argmax(logits, axis=1, keepdims=True)[:, 0]
            return np.count_nonzero(pred == y) / y.size
        """),
        "train": train_cell("""
            rates = [lr0 / 2 * (1 + np.cos(np.pi * t / steps)) for t in range(steps)]
            history = []
            t = 0
            while t < steps:
                for p in params:
                    p.grad = np.zeros_like(p.value)
                loss = loss_fn()
                loss.backward()
                for p in params:
                    p.value = p.value - p.grad * rates[t]
                history.append(loss.value.item())
                t += 1
            return history
        """),
    },
}

COMMON = [
    "cross-entropy without the max shift (overflows)",
    "cross-entropy summed, not averaged",
    "gradient not divided by n",
    "accuracy counts a tie as correct",
    "constant learning rate (no schedule)",
    "no zero_grad (gradients accumulate)",
]

DEPENDS = {}

HOSTILE = {"writes_outside": "softmax_cross_entropy"}
