"""Composite hypothesis strategies that build valid objects: rank-r matrices of any shape (m > d
included), vectors with a chosen split between row space and kernel, small rational matrices."""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy
from hypothesis import strategies as st


@dataclasses.dataclass(frozen=True)
class RankedMatrix:
    """L = U diag(s) Vr^T of exact rank r, with orthonormal bases of its row space and kernel."""

    L: np.ndarray
    rank: int
    row_space: np.ndarray  # (d, r)
    kernel: np.ndarray  # (d, d - r)

    @property
    def d(self) -> int:
        return self.L.shape[1]


def _orthonormal(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, max(k, 1))))
    return q[:, :k]


scales = st.sampled_from([1e-8, 1e-3, 1.0, 1.0, 1.0, 1e3, 1e8])


@st.composite
def ranked_matrices(draw, max_dim: int = 7, min_rank: int = 0, full_rank: bool | None = None):
    """An (m, d) float matrix of exact rank r with singular values in [0.1, 10] times an overall
    scale in 1e-8..1e8 (well separated from 0 relative to the largest)."""
    d = draw(st.integers(max(1, min_rank + (full_rank is False)), max_dim))
    m = draw(st.integers(max(1, min_rank), max_dim + 2))
    hi = min(m, d)
    if full_rank is True:
        r = hi
    else:
        lo = min(min_rank, hi)
        r = draw(st.integers(lo, hi if full_rank is None else max(lo, hi - 1)))
        if full_rank is False and r == d:
            r = d - 1
    s = np.asarray(draw(st.lists(st.floats(0.1, 10.0), min_size=r, max_size=r))) * draw(scales)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    basis = _orthonormal(rng, d, d)
    vr, kernel = basis[:, :r], basis[:, r:]
    u = _orthonormal(rng, m, r)
    L = (u * s) @ vr.T if r else np.zeros((m, d))
    return RankedMatrix(L=L, rank=r, row_space=vr, kernel=kernel)


@st.composite
def split_vectors(draw, M: RankedMatrix, row: bool | None = None, ker: bool | None = None):
    """v = a * p + b * k with p a unit vector of the row space and k one of the kernel.

    ``row``/``ker`` force the part to be nonzero (True) or zero (False); None draws either. The two
    parts are within a factor 25 of each other; the whole is scaled by 1e-8..1e8."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def part(basis: np.ndarray, want: bool | None) -> np.ndarray:
        if basis.shape[1] == 0 or want is False:
            return np.zeros(M.d)
        size = draw(st.floats(0.2, 5.0) if want else st.sampled_from([0.0]) | st.floats(0.2, 5.0))
        c = rng.standard_normal(basis.shape[1])
        return size * basis @ (c / np.linalg.norm(c))

    return (part(M.row_space, row) + part(M.kernel, ker)) * draw(scales)


@st.composite
def rational_matrices(draw, max_dim: int = 4):
    """A small integer sympy matrix built as a product (m x r)(r x d), so its rank is at most r."""
    d = draw(st.integers(1, max_dim))
    m = draw(st.integers(1, max_dim + 1))
    r = draw(st.integers(0, min(m, d)))
    ints = st.integers(-3, 3)
    if r == 0:
        return sympy.zeros(m, d)
    A = sympy.Matrix(draw(st.lists(st.lists(ints, min_size=r, max_size=r), min_size=m, max_size=m)))
    B = sympy.Matrix(draw(st.lists(st.lists(ints, min_size=d, max_size=d), min_size=r, max_size=r)))
    return A * B


def rational_vectors(d: int):
    return st.lists(st.integers(-5, 5), min_size=d, max_size=d).map(lambda xs: sympy.Matrix(xs))
