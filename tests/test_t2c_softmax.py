"""T2c: in the probs channel of z = W(h + v) + b the class is v + {u : W u in span(1_V)}, of
dimension d - rank W + [1_V in range W]; witnesses are re-run through the softmax."""

import numpy as np
import scipy.special
import sympy
from hypothesis import given
from hypothesis import strategies as st

from theory.certificate import Verdict
from theory.linear import equivalence_class
from theory.softmax_shift import check_t2c, ones_in_range, probs_class, probs_class_certificate


@st.composite
def readouts_with_ones(draw, ones: bool):
    """(V, d) readout of exact rank r whose range does (or does not) contain the all-ones vector:
    W = U diag(s) Vt with U's columns an orthonormal set that starts with 1/sqrt(V) (in range) or
    lies in the complement of 1 (not in range)."""
    V = draw(st.integers(1 if ones else 2, 7))
    d = draw(st.integers(1, 6))
    r = draw(st.integers(1, min(d, V if ones else V - 1)))
    s = np.asarray(draw(st.lists(st.floats(0.1, 10.0), min_size=r, max_size=r)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    Q, _ = np.linalg.qr(np.column_stack([np.ones(V), rng.standard_normal((V, V - 1))]))
    U = Q[:, :r] if ones else Q[:, 1 : r + 1]
    Vt, _ = np.linalg.qr(rng.standard_normal((d, r)))
    return (U * s) @ Vt.T


def _probs(W, H, b, w):
    return scipy.special.softmax((H + w) @ W.T + b, axis=-1)


@given(st.data())
def test_dimension_formula_and_softmax_witness(data):
    ones = data.draw(st.booleans())
    W = data.draw(readouts_with_ones(ones))
    V, d = W.shape
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    v = rng.standard_normal(d)
    H = rng.standard_normal((4, d))
    b = rng.standard_normal(V)
    rank = np.linalg.matrix_rank(W)
    in_range = np.linalg.matrix_rank(np.column_stack([W, np.ones(V)])) == rank
    cls = probs_class(W, v)
    assert cls.dim == d - rank + int(in_range)
    assert ones_in_range(W)[0] == in_range
    for _ in range(3):
        w = cls.member(rng.standard_normal(cls.dim) * 3) if cls.dim else v
        assert np.allclose(_probs(W, H, b, w), _probs(W, H, b, v), atol=1e-12)
    cert = check_t2c(W, v, H, b)
    assert cert.verdict is Verdict.HOLDS and cert.dim == cls.dim and cert.margin >= 1
    if cls.dim:  # the witness, re-run here: logits move by a constant, nonzero iff 1 in range W
        w = cert.witness["member"]
        assert np.allclose(_probs(W, H, b, w), _probs(W, H, b, v), atol=1e-12)
        delta = W @ (w - v)
        assert np.allclose(delta, delta.mean(), atol=1e-10 * max(1.0, np.linalg.norm(delta)))
        if in_range:
            assert abs(delta.mean()) > 1e-6 * np.linalg.norm(W, 2) * np.linalg.norm(w - v)
        else:
            assert np.allclose(delta, 0, atol=1e-10 * np.linalg.norm(W, 2) * np.linalg.norm(w - v))


@given(st.data())
def test_a_planted_member_that_does_not_shift_the_logits_is_not_accepted(data):
    """With 1 in range W and ker W != {0}, a member of v + ker W leaves the softmax unchanged but
    moves no logit: it does not show the constant shift T2c promises, so the verdict is undecided;
    a vector outside the class changes the softmax and the verdict is violated."""
    W = data.draw(readouts_with_ones(True).filter(lambda W: np.linalg.matrix_rank(W) < W.shape[1]))
    V, d = W.shape
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    v, H, b = rng.standard_normal(d), rng.standard_normal((4, d)), rng.standard_normal(V)
    assert check_t2c(W, v, H, b).verdict is Verdict.HOLDS
    kernel = equivalence_class(W, v).basis  # ker W: no logit moves
    flat = v + kernel @ rng.standard_normal(kernel.shape[1])
    cert = check_t2c(W, v, H, b, member=flat)
    assert cert.verdict is Verdict.UNDECIDED and "logit shift nonzero" in cert.reason
    assert cert.margin < 1
    row = equivalence_class(W, v).row_basis
    outside = v + row @ rng.standard_normal(row.shape[1])
    bad = check_t2c(W, v, H, b, member=outside)
    if not np.allclose(_probs(W, H, b, outside), _probs(W, H, b, v), atol=1e-8):
        assert bad.verdict is Verdict.VIOLATED and "softmax unchanged" in bad.reason


def test_witness_moves_logits_by_a_constant_when_one_is_in_range():
    W = np.array(
        [[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [1.0, 0.0, -1.0]]
    )  # column 0 = 1
    v = np.array([0.3, -0.2, 0.5])
    cls = probs_class(W, v)
    assert cls.dim == 3 - 3 + 1
    w = cls.member([2.0])
    shift = W @ (w - v)
    assert np.allclose(shift, shift[0]) and abs(shift[0]) > 1.0  # logits moved, probs did not


def test_probs_class_is_larger_than_logits_class_exactly_by_the_ones_term():
    W = sympy.Matrix([[1, 2], [1, 3], [1, 5]])
    v = sympy.Matrix([1, 1])
    assert probs_class(W, v).dim == 1  # 1 = column 0: logits class is {v}, probs class a line
    W2 = sympy.Matrix([[1, -1], [0, 1], [-1, 0]])  # rows sum to 0
    assert probs_class(W2, v).dim == 0


def test_probs_witness_moves_the_logits_but_not_the_probabilities():
    """The extra probs-class direction is invisible only through the softmax: the logits move."""
    W = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    v = np.array([1.0, 1.0])
    cls = probs_class(W, v)
    w = cls.member([1.0])
    assert not np.allclose(W @ w, W @ v)  # logits differ ...
    H = np.zeros((1, 2))
    assert np.allclose(_probs(W, H, 0, w), _probs(W, H, 0, v))  # ... the softmax does not see it


def test_planted_members_of_a_fixed_readout():
    """W has 1 as its first column and rank 2 (column 2 = column 0 + column 1): ker W = span(u)
    with u = (1, 1, -1); the probs class is 2-dimensional."""
    W = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 3.0], [1.0, 3.0, 4.0]])
    v, H, b = np.array([0.3, -0.2, 0.5]), np.eye(3), np.zeros(4)
    good = check_t2c(W, v, H, b)
    assert good.verdict is Verdict.HOLDS and good.dim == 2
    shift = W @ (good.witness["member"] - v)
    assert np.allclose(shift, shift[0]) and abs(shift[0]) > 0.1
    flat = check_t2c(W, v, H, b, member=v + np.array([1.0, 1.0, -1.0]))
    assert flat.verdict is Verdict.UNDECIDED and "logit shift nonzero" in flat.reason
    outside = check_t2c(W, v, H, b, member=v + np.array([0.0, 1.0, 0.0]))
    assert outside.verdict is Verdict.VIOLATED
    assert "softmax unchanged" in outside.reason and "logits move by a constant" in outside.reason


def test_probs_class_certificate_has_typed_fields():
    W = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 3.0], [1.0, 3.0, 4.0]])
    v = np.array([0.3, -0.2, 0.5])
    cert = probs_class_certificate(W, v)
    cls = probs_class(W, v)
    assert cert.theorem == "T2c" and cert.verdict is Verdict.HOLDS
    assert cert.d == 3 and cert.dim == cls.dim == 2 and cert.rank == cls.rank
    assert np.array_equal(cert.singular_values, cls.decision.singular_values)
    assert cert.ambiguous.size == 0
    assert cert.cosine_range is not None and cert.cosine_range.sup == 1.0
    assert set(cert.witness) == {"point", "basis", "orthogonal_twin"}
    assert abs(cert.cosine) < 1e-12
