"""Test cases for VJP checks: inputs, a cotangent and keyword arguments.

Every case is generated from its own integer seed, so a failing case can be
rebuilt exactly with `make_case(f, shapes, seed, ...)`. Cotangents are random
Gaussians kept away from all-ones, so a VJP that ignores its cotangent fails.
"""

from dataclasses import dataclass, field
from itertools import product

import numpy as np

# Shapes from the course's broadcasting suite: scalars, size-1 axes, missing
# leading axes and a 3-D array.
BROADCAST_SHAPES = [(), (4,), (1, 4), (3, 1), (3, 4), (2, 3, 4)]
SQUARE_BROADCAST_PAIRS = [((3, 3), (3,)), ((3,), (3, 3))]

MATMUL_PAIRS = [
    ((3,), (3,)),  # 1-D . 1-D -> 0-d
    ((3, 4), (4, 2)),  # rectangular
    ((2, 5), (5, 3)),
    ((4, 3), (3, 4)),  # rectangular operands, square result
    ((3, 3), (3, 3)),  # square: a missing transpose keeps the shape
    ((1, 3), (3, 1)),  # size-1 result
    ((3, 1), (1, 3)),  # outer product
    ((4,), (4, 3)),  # 1-D @ 2-D
    ((3,), (3, 3)),
    ((3, 4), (4,)),  # 2-D @ 1-D
    ((3, 3), (3,)),
    ((2, 3, 4), (4, 5)),  # batched @ 2-D
    ((3, 4), (2, 4, 5)),  # 2-D @ batched
    ((2, 3, 4), (2, 4, 3)),
    ((2, 3, 3), (3, 3)),  # batched square
    ((1, 3, 3), (2, 3, 3)),  # size-1 batch axis broadcast
    ((2, 1, 2, 3), (5, 3, 4)),  # broadcast batch axes on both sides
    ((4,), (2, 4, 3)),  # 1-D @ batched
    ((2, 3, 4), (4,)),  # batched @ 1-D
]

REDUCTION_SHAPES = [(5,), (3, 4), (4, 4), (1, 4), (2, 3, 4)]
UNARY_SHAPES = [(), (1,), (5,), (3, 4), (4, 4), (2, 3, 4)]


def _normal(rng, shape):
    return rng.standard_normal(shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _bounded(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def _nonzero(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, shape)


# Input domains per op: log and division stay away from 0, exp stays bounded.
DOMAINS = {
    "normal": _normal,
    "positive": _positive,
    "bounded": _bounded,
    "nonzero": _nonzero,
}


@dataclass(frozen=True)
class Case:
    """One check: `f(*inputs, **kwargs)` with cotangent `g` of f's output shape."""

    name: str
    inputs: tuple
    g: np.ndarray | None  # None for checks without a cotangent (JVPs)
    kwargs: dict = field(default_factory=dict)
    seed: int = 0
    domain: tuple = ("normal",)
    scalar_gradient: bool = False  # g = 1 for a gradient check: no cotangent to tell the student

    @property
    def shapes(self):
        return tuple(np.shape(x) for x in self.inputs)

    def describe(self):
        """How to rebuild this case, for the student's message."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        shown = self.g is not None and not self.scalar_gradient
        cot = f", cotangent shape {np.shape(self.g)}" if shown else ""
        return (
            f"case '{self.name}': input shapes {_fmt_shapes(self.shapes)}"
            f"{', ' + args if args else ''}{cot}, seed {self.seed}"
        )


def _fmt_shapes(shapes):
    return ", ".join(str(tuple(s)) for s in shapes)


def too_close_to_ties(min_gap=0.05):
    """Rejects inputs where max/min-type ops are within `min_gap` of a tie."""

    def reject(inputs):
        a, b = inputs[:2]
        return bool(np.min(np.abs(np.subtract(a, b)), initial=np.inf) < min_gap)

    return reject


def too_close_to_zero(min_gap=0.05):
    """Rejects inputs with an element within `min_gap` of 0 (ReLU, abs kinks)."""

    def reject(inputs):
        return any(np.min(np.abs(x), initial=np.inf) < min_gap for x in inputs)

    return reject


def sample_cotangent(rng, shape):
    """Gaussian cotangent, never close to all ones (or to zero when 0-d)."""
    while True:
        g = np.asarray(rng.standard_normal(shape), dtype=np.float64)
        far_from_ones = np.max(np.abs(g - 1.0), initial=0.0) > 0.5
        if far_from_ones and (g.size > 1 or abs(g.item()) > 0.25):
            return g


def make_case(f, shapes, seed, domain="normal", kwargs=None, reject=None, name=None):
    """Sample inputs of `shapes` from `domain` with `seed`, and a cotangent.

    `domain` is one name from DOMAINS or one per input; `reject(inputs)`
    returning True resamples (to avoid kinks such as ties in maximum).
    """
    kwargs = dict(kwargs or {})
    domains = (domain,) * len(shapes) if isinstance(domain, str) else tuple(domain)
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        inputs = tuple(
            np.asarray(DOMAINS[d](rng, s), dtype=np.float64) for d, s in zip(domains, shapes)
        )
        if reject is None or not reject(inputs):
            break
    else:
        raise RuntimeError(f"could not sample inputs away from kinks for shapes {shapes}")
    out_shape = np.shape(f(*inputs, **kwargs))
    g = sample_cotangent(rng, out_shape)
    if name is None:
        name = _default_name(shapes, kwargs)
    return Case(name, inputs, g, kwargs, seed, domains)


def _default_name(shapes, kwargs, joiner=","):
    name = f" {joiner} ".join(str(tuple(s)) for s in shapes)
    if kwargs:
        name += " " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return name


def _cases(f, specs, seed, domain, reject, joiner):
    return [
        make_case(
            f,
            shapes,
            1000 * seed + i,
            domain,
            kwargs,
            reject,
            _default_name(shapes, kwargs, joiner),
        )
        for i, (shapes, kwargs) in enumerate(specs)
    ]


def broadcast_pairs():
    """Every ordered pair of BROADCAST_SHAPES, plus square-with-vector pairs."""
    return list(product(BROADCAST_SHAPES, repeat=2)) + SQUARE_BROADCAST_PAIRS


def binary_cases(f, seed=0, domain="normal", reject=None, pairs=None):
    """Cases for an elementwise binary op over the broadcasting suite."""
    specs = [(pair, {}) for pair in (pairs or broadcast_pairs())]
    return _cases(f, specs, seed, domain, reject, "with")


def unary_cases(f, seed=0, domain="normal", reject=None, shapes=None):
    """Cases for an elementwise unary op: 0-d, size-1, vector, matrix, 3-D."""
    specs = [((s,), {}) for s in (shapes or UNARY_SHAPES)]
    return _cases(f, specs, seed, domain, reject, "")


def matmul_cases(f=np.matmul, seed=0, pairs=None):
    """Cases for `np.matmul` semantics: every ndim combination, square and not."""
    specs = [(pair, {}) for pair in (pairs or MATMUL_PAIRS)]
    return _cases(f, specs, seed, "normal", None, "@")


def reduction_specs(shapes=None):
    """(shape, kwargs) for axis None/0/1/-1/tuples with keepdims both ways."""
    specs = []
    for shape in shapes or REDUCTION_SHAPES:
        ndim = len(shape)
        axes = [None, 0, -1]
        if ndim >= 2:
            axes += [1, (0, 1), (0, -1)]
        if ndim >= 3:
            axes += [(1, 2), 2]
        for axis, keepdims in product(axes, (False, True)):
            specs.append(((shape,), {"axis": axis, "keepdims": keepdims}))
    return specs


def reduction_cases(f=np.sum, seed=0, domain="normal", shapes=None):
    """Cases for a reduction `f(x, axis=..., keepdims=...)`."""
    return _cases(f, reduction_specs(shapes), seed, domain, None, "")
