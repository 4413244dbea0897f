"""Statistical independence (THEORY.md T8): ICA identifiability and its Gaussian counterexample.

Model: ``h = A s`` with A (d x k) of full column rank and s in R^k with independent components.
Samples are rows: H (n, d) with ``H = S A^T``.

- Comon (1994) / Darmois-Skitovich: if at most one component of s is Gaussian, the law of h fixes A
  up to a permutation and a scaling of its columns; FastICA's estimate then converges, with Amari
  index ``O(n^{-1/2})``.
- If g >= 2 components are Gaussian, then for every orthogonal R acting on the Gaussian block only,
  ``A R s`` has exactly the law of ``A s`` (the standard Gaussian density ``exp(-|x|^2/2)`` is
  rotation invariant), so the columns of A on that block are identified only as a subspace:
  the unidentified set is the group O(g), of dimension ``g (g - 1) / 2``.

This module takes data, masks and samplers as arguments; the source laws and data generators live in
``synthetic.sources``. ICA is scikit-learn's FastICA (whiten="unit-variance", logcosh contrast,
fixed random_state); a ConvergenceWarning is recorded in the result, never silently dropped.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.stats
import sympy
from sklearn.decomposition import FastICA
from sklearn.exceptions import ConvergenceWarning

from .certificate import Certificate, Verdict
from .rank import decide_rank
from .validation import as_matrix

# The held-out Gaussianity statistic (D'Agostino-Pearson K^2) runs on half of the samples; its
# chi^2_2 approximation and the kurtosis z-test need about 100 observations to be trusted.
MIN_SAMPLES = 200
MIN_TEST_SAMPLES = MIN_SAMPLES // 2

DEFAULT_MAX_ITER = 1000
DEFAULT_ICA_TOL = 1e-7


class NoGaussianPairError(ValueError):
    """Fewer than two Gaussian components: no rotation of a Gaussian block exists (T8 holds)."""


# --------------------------------------------------------------------------------------------
# Input checks


def _as_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be an int {rng}, got {value}")
    return int(value)


def _as_level(name: str, value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}") from None
    if not (0.0 < x < 1.0):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return x


def _as_positive(name: str, value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}") from None
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return x


def as_samples(name: str, X: Any, min_rows: int = MIN_SAMPLES) -> np.ndarray:
    """A finite float64 (n, d) sample matrix with at least ``min_rows`` rows."""
    X = as_matrix(name, X)
    if X.shape[0] < min_rows:
        raise ValueError(
            f"{name} must have at least {min_rows} rows (samples) for the statistic, "
            f"got {X.shape[0]}"
        )
    return X


def as_mixing(A: Any, name: str = "A", k: int | None = None, d: int | None = None) -> np.ndarray:
    """A (d, k) float64 matrix of certified full column rank k (``theory.rank.decide_rank``)."""
    A = as_matrix(name, A)
    rows, cols = A.shape
    if k is not None and cols != k:
        raise ValueError(f"{name} must have {k} columns (one per source), got shape {A.shape}")
    if d is not None and rows != d:
        raise ValueError(f"{name} must have {d} rows (the dimension of h), got shape {A.shape}")
    if rows < cols:
        raise ValueError(
            f"{name} must have at least as many rows as columns (d >= k), got shape {A.shape}"
        )
    dec = decide_rank(A, name=name)
    if not dec.certified or dec.rank != cols:
        raise ValueError(
            f"{name} must have full column rank {cols}, got rank {dec.rank} "
            f"({'certified' if dec.certified else 'undecided'}; singular values "
            f"{np.array2string(dec.singular_values, precision=3)})"
        )
    return A


def as_gaussian_mask(gaussian: Any, k: int | None = None, name: str = "gaussian") -> np.ndarray:
    """A boolean (k,) mask: True where the source is Gaussian (bool or 0/1 entries)."""
    if gaussian is None:
        raise ValueError(f"{name} is required, got None")
    arr = np.asarray(gaussian)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d mask, got shape {arr.shape}")
    if arr.dtype.kind == "b":
        mask = arr.astype(bool)
    elif arr.dtype.kind in "iu" and np.all((arr == 0) | (arr == 1)):
        mask = arr.astype(bool)
    else:
        raise ValueError(f"{name} must be a boolean mask (or 0/1 entries), got {gaussian!r}")
    if k is not None and mask.size != k:
        raise ValueError(f"{name} must have one entry per column of A ({k}), got {mask.size}")
    return mask


# --------------------------------------------------------------------------------------------
# Amari index and column alignment


def amari_index(P: Any) -> float:
    """Amari index of a square P = W A (n x n), in [0, 1], 0 iff P is a scaled permutation:

    ``Amari(P) = 1/(2n(n-1)) [ sum_i (sum_j |p_ij| / max_j |p_ij| - 1)
                              + sum_j (sum_i |p_ij| / max_i |p_ij| - 1) ]``.

    Invariant under row and column permutations, sign flips and a global scale of P; the zero set
    (scaled permutations) is invariant under any row and column scaling, but the value is not (a
    row scaling changes the column term and vice versa). For P = W A from unit-variance ICA of
    unit-variance sources the scales are +-1 near the solution. For a 2 x 2 plane rotation by
    theta in [0, pi/4] it equals ``tan(theta)``. n = 1 gives 0 (every nonzero scalar is a scaled
    permutation). A zero row or column (the ratio is undefined) raises ValueError naming P.
    """
    P = np.abs(as_matrix("P", P))
    n = P.shape[0]
    if P.shape[1] != n:
        raise ValueError(f"P must be square (P = W A with W (k, d), A (d, k)), got shape {P.shape}")
    row_max, col_max = P.max(axis=1), P.max(axis=0)
    if np.any(row_max == 0) or np.any(col_max == 0):
        raise ValueError("P must have no zero row or column (the Amari index is undefined there)")
    if n == 1:
        return 0.0
    rows = float(np.sum(P.sum(axis=1) / row_max - 1.0))
    cols = float(np.sum(P.sum(axis=0) / col_max - 1.0))
    return (rows + cols) / (2.0 * n * (n - 1))


def match_rows(P: Any) -> np.ndarray:
    """``perm`` with row ``perm[j]`` of P matched to column j: the assignment maximising
    ``sum_j |p_{perm[j], j}| / max_l |p_{perm[j], l}|`` (scipy.optimize.linear_sum_assignment)."""
    P = np.abs(as_matrix("P", P))
    if P.shape[0] != P.shape[1]:
        raise ValueError(f"P must be square, got shape {P.shape}")
    Q = P / np.maximum(P.max(axis=1, keepdims=True), np.finfo(np.float64).tiny)
    rows, cols = scipy.optimize.linear_sum_assignment(-Q)
    perm = np.empty_like(rows)
    perm[cols] = rows
    return perm


def block_amari_index(P: Any, block: Sequence[int]) -> float:
    """Amari index of the sub-block of P = W A on the source columns ``block`` and the estimated
    rows matched to them (``match_rows``). On a Gaussian block it measures how far ICA is from
    recovering those columns; with independent Gaussians it does not fall with n."""
    P = as_matrix("P", P)
    idx = np.asarray(block, dtype=int).ravel()
    if (
        idx.size == 0
        or len(set(idx.tolist())) != idx.size
        or idx.min() < 0
        or idx.max() >= P.shape[1]
    ):
        raise ValueError(
            f"block must be distinct column indices of P in [0, {P.shape[1]}), got {list(block)}"
        )
    perm = match_rows(P)
    return amari_index(P[np.ix_(perm[idx], idx)])


@dataclasses.dataclass(frozen=True)
class Alignment:
    """Estimated columns matched to planted ones up to permutation and sign.

    permutation : estimated column ``permutation[j]`` is matched to planted column j.
    signs       : +-1 per planted column.
    cosines     : |cos| between each planted column and its match (1 = recovered up to scale).
    aligned     : (d, k) the estimated columns, permuted and sign-flipped onto the planted order.
    """

    permutation: np.ndarray
    signs: np.ndarray
    cosines: np.ndarray
    aligned: np.ndarray

    @property
    def errors(self) -> np.ndarray:
        """Per-column recovery error ``1 - |cos|`` up to sign and scale."""
        return 1.0 - self.cosines


def align_columns(estimated: Any, planted: Any) -> Alignment:
    """Best permutation/sign matching of estimated mixing columns to planted ones, maximising the
    summed |cos| (scipy.optimize.linear_sum_assignment)."""
    E = as_matrix("estimated", estimated)
    A = as_matrix("planted", planted)
    if E.shape != A.shape:
        raise ValueError(f"estimated must have the shape of planted {A.shape}, got {E.shape}")
    ne, na = np.linalg.norm(E, axis=0), np.linalg.norm(A, axis=0)
    if np.any(ne == 0) or np.any(na == 0):
        raise ValueError("estimated and planted must have no zero column")
    C = (E / ne).T @ (A / na)  # C[i, j] = cos(estimated_i, planted_j)
    rows, cols = scipy.optimize.linear_sum_assignment(-np.abs(C))
    perm = np.empty_like(rows)
    perm[cols] = rows
    cos = C[perm, np.arange(A.shape[1])]
    signs = np.where(cos < 0, -1.0, 1.0)
    aligned = E[:, perm] * signs
    return Alignment(
        permutation=perm, signs=signs, cosines=np.minimum(np.abs(cos), 1.0), aligned=aligned
    )


# --------------------------------------------------------------------------------------------
# ICA


@dataclasses.dataclass(frozen=True)
class IcaFit:
    """FastICA estimate: sources ``y = unmixing (h - mean)``, ``h ~ mean + mixing y``.

    converged is False when FastICA raised a ConvergenceWarning or used all ``max_iter`` iterations;
    the warning texts are kept in ``warnings``.
    """

    unmixing: np.ndarray  # (k, d)
    mixing: np.ndarray  # (d, k)
    mean: np.ndarray  # (d,)
    n_iter: int
    max_iter: int
    tol: float
    converged: bool
    warnings: tuple[str, ...]

    def sources(self, H: Any) -> np.ndarray:
        H = as_matrix("H", H)
        if H.shape[1] != self.mean.shape[0]:
            raise ValueError(f"H must have {self.mean.shape[0]} columns, got shape {H.shape}")
        return (H - self.mean) @ self.unmixing.T

    def summary(self) -> dict[str, Any]:
        return {
            "converged": self.converged,
            "n_iter": self.n_iter,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "warnings": list(self.warnings),
        }


def _n_components_from_data(H: np.ndarray) -> int:
    dec = decide_rank(H - H.mean(axis=0), name="H")
    if not dec.certified:
        raise ValueError("n_components: the rank of the centred H is undecided; pass n_components")
    if dec.rank == 0:
        raise ValueError("H has no variance (all rows equal); there is nothing to unmix")
    return dec.rank


def fit_ica(
    H: Any,
    n_components: int | None = None,
    seed: int = 0,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_ICA_TOL,
) -> IcaFit:
    """FastICA on the rows of H (whiten="unit-variance", fun="logcosh", parallel, random_state=seed).

    ``n_components`` defaults to the certified rank of the centred H. A ConvergenceWarning is caught
    and recorded in the fit (``converged=False``); other warnings are re-emitted.
    """
    H = as_samples("H", H, min_rows=MIN_TEST_SAMPLES)
    k = (
        _n_components_from_data(H)
        if n_components is None
        else _as_int("n_components", n_components, 1, H.shape[1])
    )
    seed = _as_int("seed", seed, 0, 2**32 - 1)
    max_iter = _as_int("max_iter", max_iter, 1)
    tol = _as_positive("tol", tol)
    # Reduce to the top-k principal subspace first (eigh of the d x d covariance), so FastICA's
    # whitening can use the fast eigh solver (about 10x faster than svd for n >> d) on a full-rank
    # covariance even when d > k. The basis is turned by a fixed Haar rotation: sklearn's eigh
    # whitening flips signs by ``np.sign(u[0])``, which zeroes eigenvectors of an exactly diagonal
    # covariance (as principal components would have).
    mean = H.mean(axis=0)
    Hc = H - mean
    _, vecs = scipy.linalg.eigh(Hc.T @ Hc)
    turn, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((k, k)))
    U = vecs[:, ::-1][:, :k] @ turn
    ica = FastICA(
        n_components=k,
        algorithm="parallel",
        whiten="unit-variance",
        whiten_solver="eigh",
        fun="logcosh",
        max_iter=max_iter,
        tol=tol,
        random_state=seed,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ica.fit(Hc @ U)
    convergence = []
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            convergence.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    n_iter = int(ica.n_iter_)
    unmixing = np.asarray(ica.components_, dtype=np.float64) @ U.T
    mixing = U @ np.asarray(ica.mixing_, dtype=np.float64)
    mean = mean + U @ np.asarray(ica.mean_, dtype=np.float64)
    for arr in (unmixing, mixing, mean):
        arr.setflags(write=False)
    return IcaFit(
        unmixing=unmixing,
        mixing=mixing,
        mean=mean,
        n_iter=n_iter,
        max_iter=max_iter,
        tol=tol,
        converged=not convergence and n_iter < max_iter,
        warnings=tuple(convergence),
    )


# --------------------------------------------------------------------------------------------
# Gaussianity of recovered sources


@dataclasses.dataclass(frozen=True)
class ComponentGaussianity:
    """Evidence on one recovered source y (n held-out samples).

    skew g1, excess kurtosis g2 (biased moment estimators), their standard errors under normality
    ``se1^2 = 6(n-2)/((n+1)(n+3))``, ``se2^2 = 24n(n-2)(n-3)/((n+1)^2(n+3)(n+5))``,
    negentropy approximation ``J = g1^2/12 + g2^2/48``, D'Agostino-Pearson K^2 and its p-value.
    kind: "non-gaussian" (p < alpha/k), "gaussian" (both equivalence intervals
    ``|g| + z_{1-alpha/k} se`` inside the resolution band), or "inconclusive".
    """

    skew: float
    excess_kurtosis: float
    negentropy: float
    k2: float
    p_value: float
    skew_bound: float
    kurtosis_bound: float
    kind: str


@dataclasses.dataclass(frozen=True)
class GaussianityReport:
    components: tuple[ComponentGaussianity, ...]
    alpha: float
    k2_critical: float
    z: float
    max_skew: float
    max_excess_kurtosis: float
    n: int

    def count(self, kind: str) -> int:
        return sum(c.kind == kind for c in self.components)

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "alpha": self.alpha,
            "k2_critical": self.k2_critical,
            "z": self.z,
            "max_skew": self.max_skew,
            "max_excess_kurtosis": self.max_excess_kurtosis,
            "components": [dataclasses.asdict(c) for c in self.components],
        }


def gaussianity(
    Y: Any, alpha: float = 0.01, max_skew: float = 0.25, max_excess_kurtosis: float = 0.5
) -> GaussianityReport:
    """Classify each column of Y (n, k) as non-Gaussian / Gaussian within resolution / inconclusive.

    Bonferroni over the k columns at family level alpha: non-Gaussian iff the D'Agostino-Pearson
    K^2 (scipy.stats.normaltest, ~chi^2_2 under normality) has p < alpha/k; Gaussian iff, by two
    one-sided tests, ``|g1| + z se1 <= max_skew`` and ``|g2| + z se2 <= max_excess_kurtosis`` with
    ``z = Phi^{-1}(1 - alpha/k)``. No finite sample proves exact Gaussianity: "gaussian" means
    indistinguishable from it at the stated resolution.
    """
    Y = as_samples("Y", Y, min_rows=MIN_TEST_SAMPLES)
    alpha = _as_level("alpha", alpha)
    max_skew = _as_positive("max_skew", max_skew)
    max_kurt = _as_positive("max_excess_kurtosis", max_excess_kurtosis)
    n, k = Y.shape
    level = alpha / k
    z = float(scipy.stats.norm.ppf(1.0 - level))
    crit = float(scipy.stats.chi2.ppf(1.0 - level, 2))
    se1 = math.sqrt(6.0 * (n - 2) / ((n + 1) * (n + 3)))
    se2 = math.sqrt(24.0 * n * (n - 2) * (n - 3) / ((n + 1) ** 2 * (n + 3) * (n + 5)))
    comps = []
    for j in range(k):
        y = Y[:, j]
        g1 = float(scipy.stats.skew(y))
        g2 = float(scipy.stats.kurtosis(y, fisher=True))
        k2, p = scipy.stats.normaltest(y)
        b1, b2 = abs(g1) + z * se1, abs(g2) + z * se2
        if p < level:
            kind = "non-gaussian"
        elif b1 <= max_skew and b2 <= max_kurt:
            kind = "gaussian"
        else:
            kind = "inconclusive"
        comps.append(
            ComponentGaussianity(
                skew=g1,
                excess_kurtosis=g2,
                negentropy=g1**2 / 12 + g2**2 / 48,
                k2=float(k2),
                p_value=float(p),
                skew_bound=b1,
                kurtosis_bound=b2,
                kind=kind,
            )
        )
    return GaussianityReport(
        components=tuple(comps),
        alpha=alpha,
        k2_critical=crit,
        z=z,
        max_skew=max_skew,
        max_excess_kurtosis=max_kurt,
        n=n,
    )


# --------------------------------------------------------------------------------------------
# The rotated twin (>= 2 Gaussian components)


def plane_rotation(angle: float) -> np.ndarray:
    """[[cos a, -sin a], [sin a, cos a]]."""
    a = float(angle)
    if not math.isfinite(a):
        raise ValueError(f"angle must be finite, got {angle!r}")
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def embed_block_rotation(gaussian: Any, block: Any) -> Any:
    """R (k x k): the orthogonal ``block`` (g x g) on the Gaussian indices, identity elsewhere.

    ``block`` may be a float array (orthogonality checked to 1e-12) or a sympy Matrix (checked
    exactly); the result has the same kind.
    """
    mask = as_gaussian_mask(gaussian)
    idx = np.flatnonzero(mask)
    g, k = idx.size, mask.size
    if g < 2:
        raise NoGaussianPairError(
            f"gaussian: a block rotation needs at least two Gaussian components, got {g}"
        )
    if isinstance(block, sympy.MatrixBase):
        Q = sympy.Matrix(block)
        if Q.shape != (g, g):
            raise ValueError(
                f"block must be {g} x {g} (one row per Gaussian component), got {Q.shape}"
            )
        if not (Q.T * Q - sympy.eye(g)).applyfunc(sympy.simplify).is_zero_matrix:
            raise ValueError("block must be exactly orthogonal (block^T block == I)")
        R = sympy.eye(k)
        for a, i in enumerate(idx):
            for b, j in enumerate(idx):
                R[int(i), int(j)] = Q[a, b]
        return R
    Q = as_matrix("block", block)
    if Q.shape != (g, g):
        raise ValueError(f"block must be {g} x {g} (one row per Gaussian component), got {Q.shape}")
    if np.max(np.abs(Q.T @ Q - np.eye(g))) > 1e-12:
        raise ValueError("block must be orthogonal (block^T block == I to 1e-12)")
    R = np.eye(k)
    R[np.ix_(idx, idx)] = Q
    return R


def gaussian_block_rotation(gaussian: Any, angle: float = math.pi / 4) -> np.ndarray:
    """R: rotation by ``angle`` in the plane of the first two Gaussian components, identity elsewhere."""
    mask = as_gaussian_mask(gaussian)
    g = int(mask.sum())
    if g < 2:
        raise NoGaussianPairError(
            f"gaussian: a block rotation needs at least two Gaussian components, got {g}"
        )
    Q = np.eye(g)
    Q[:2, :2] = plane_rotation(angle)
    return embed_block_rotation(mask, Q)


def rotated_twin(A: Any, gaussian: Any, block: Any = None, angle: float = math.pi / 4):
    """``(A R, R)``: the twin mixing matrix that generates exactly the law of ``A s`` when the
    Gaussian components of s are i.i.d. N(0, 1) (R orthogonal on that block, identity elsewhere).

    Float A: R from ``block`` (g x g orthogonal) or else a plane rotation by ``angle``. sympy A:
    ``block`` must be a sympy Matrix, and ``A A^T == (A R)(A R)^T`` holds exactly.
    """
    if isinstance(A, sympy.MatrixBase):
        if not isinstance(block, sympy.MatrixBase):
            raise ValueError("block must be a sympy Matrix when A is exact (sympy)")
        Ax = sympy.Matrix(A)
        mask = as_gaussian_mask(gaussian, Ax.cols)
        R = embed_block_rotation(mask, block)
        return Ax * R, R
    A = as_mixing(A)
    mask = as_gaussian_mask(gaussian, A.shape[1])
    R = gaussian_block_rotation(mask, angle) if block is None else embed_block_rotation(mask, block)
    return A @ R, R


# --------------------------------------------------------------------------------------------
# Two-sample test on projections


@dataclasses.dataclass(frozen=True)
class TwoSampleTest:
    """Per-projection KS tests with Bonferroni: ``p_value = min(1, m * min_j p_j)`` over m directions."""

    p_value: float
    statistic: float  # largest KS distance over the directions
    p_values: np.ndarray  # per direction, unadjusted
    statistics: np.ndarray
    directions: np.ndarray  # (m, d) unit rows

    def rejects(self, alpha: float) -> bool:
        return self.p_value < alpha

    def summary(self) -> dict[str, Any]:
        return {
            "test": "two-sample Kolmogorov-Smirnov (scipy.stats.ks_2samp) on each of m unit "
            "projections, Bonferroni-adjusted min p-value",
            "p_value": self.p_value,
            "max_ks_distance": self.statistic,
            "m": int(self.p_values.size),
            "p_values": self.p_values,
            "ks_distances": self.statistics,
        }


def projection_ks_test(
    X: Any, Y: Any, directions: Any = None, n_random: int = 8, seed: int = 0
) -> TwoSampleTest:
    """Do X (n, d) and Y (m, d) come from one law? Two-sample KS test of ``X u`` against ``Y u`` for
    each unit u among the rows of ``directions`` plus ``n_random`` seeded random directions;
    Bonferroni-adjusted p-value ``min(1, m * min p)``. Valid for independent samples only."""
    X = as_samples("X", X, MIN_TEST_SAMPLES)
    Y = as_samples("Y", Y, MIN_TEST_SAMPLES)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"Y must have the {X.shape[1]} columns of X, got shape {Y.shape}")
    d = X.shape[1]
    n_random = _as_int("n_random", n_random, 0)
    rows = []
    if directions is not None:
        D = as_matrix("directions", directions)
        if D.shape[1] != d:
            raise ValueError(f"directions must have {d} columns, got shape {D.shape}")
        rows.append(D)
    if n_random:
        rows.append(
            np.random.default_rng(_as_int("seed", seed, 0, 2**32 - 1)).standard_normal(
                (n_random, d)
            )
        )
    if not rows:
        raise ValueError("directions: give directions or n_random >= 1")
    U = np.vstack(rows)
    norms = np.linalg.norm(U, axis=1)
    if np.any(norms == 0):
        raise ValueError("directions must have no zero row")
    U = U / norms[:, None]
    stats, pvals = [], []
    for u in U:
        res = scipy.stats.ks_2samp(X @ u, Y @ u)
        stats.append(float(res.statistic))
        pvals.append(float(res.pvalue))
    pvals_arr = np.array(pvals)
    return TwoSampleTest(
        p_value=float(min(1.0, U.shape[0] * pvals_arr.min())),
        statistic=float(max(stats)),
        p_values=pvals_arr,
        statistics=np.array(stats),
        directions=U,
    )


# --------------------------------------------------------------------------------------------
# Amari index against sample size


@dataclasses.dataclass(frozen=True)
class AmariCurve:
    """Amari index (full, or on ``block``) of FastICA at each sample size, per seed, with the fitted
    log-log slope of the median: ``log median = intercept + slope log n`` (about -1/2 when the
    block is identifiable, about 0 on a Gaussian block)."""

    n: np.ndarray  # (m,) sample sizes
    values: np.ndarray  # (seeds, m)
    median: np.ndarray  # (m,)
    slope: float
    intercept: float
    not_converged: int  # fits that raised a ConvergenceWarning
    block: tuple[int, ...] | None

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "median": self.median,
            "slope": self.slope,
            "intercept": self.intercept,
            "not_converged": self.not_converged,
            "block": None if self.block is None else list(self.block),
        }


def log_spaced_sizes(n_min: int, n_max: int, n_points: int) -> np.ndarray:
    """``n_points`` integer sample sizes, log-spaced from n_min to n_max (distinct, increasing)."""
    n_min = _as_int("n_min", n_min, MIN_SAMPLES)
    n_max = _as_int("n_max", n_max, n_min + 1)
    n_points = _as_int("n_points", n_points, 2)
    sizes = np.unique(np.round(np.geomspace(n_min, n_max, n_points)).astype(int))
    return sizes


def amari_curves(
    A: Any,
    sampler: Callable[[int, int], np.ndarray],
    n_grid: Any,
    seeds: Sequence[int] = range(5),
    blocks: Sequence[Sequence[int] | None] = (None,),
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_ICA_TOL,
) -> list[AmariCurve]:
    """One ``AmariCurve`` per entry of ``blocks`` (None = the full Amari index), all read off the
    same fits ``fit_ica(sampler(n, seed), seed=seed).unmixing @ A`` for every n in ``n_grid`` and
    seed; median over seeds and least-squares slope of log median on log n."""
    A = as_mixing(A)
    k = A.shape[1]
    sizes = np.asarray(n_grid)
    if sizes.ndim != 1 or sizes.size < 2 or sizes.dtype.kind not in "iu":
        raise ValueError(
            f"n_grid must be a 1-d array of at least two int sample sizes, got {n_grid!r}"
        )
    if np.any(sizes < MIN_SAMPLES):
        raise ValueError(
            f"n_grid: every sample size must be at least {MIN_SAMPLES}, got {sizes.min()}"
        )
    seeds = [_as_int("seeds", s, 0, 2**32 - 1) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    blocks = [None if b is None else tuple(int(i) for i in b) for b in blocks]
    if not blocks:
        raise ValueError("blocks must hold at least one entry (None for the full index)")
    values = np.empty((len(blocks), len(seeds), sizes.size))
    not_converged = 0
    for a, s in enumerate(seeds):
        for b, n in enumerate(sizes):
            H = as_matrix("sampler(n, seed)", sampler(int(n), s))
            if H.shape != (int(n), A.shape[0]):
                raise ValueError(
                    f"sampler(n, seed) must return ({n}, {A.shape[0]}) samples, got {H.shape}"
                )
            fit = fit_ica(H, n_components=k, seed=s, max_iter=max_iter, tol=tol)
            not_converged += not fit.converged
            P = fit.unmixing @ A
            for c, block in enumerate(blocks):
                values[c, a, b] = amari_index(P) if block is None else block_amari_index(P, block)
    curves = []
    for c, block in enumerate(blocks):
        median = np.median(values[c], axis=0)
        slope, intercept = np.polyfit(
            np.log(sizes), np.log(np.maximum(median, np.finfo(np.float64).tiny)), 1
        )
        curves.append(
            AmariCurve(
                n=sizes.astype(np.int64),
                values=values[c],
                median=median,
                slope=float(slope),
                intercept=float(intercept),
                not_converged=not_converged,
                block=block,
            )
        )
    return curves


def amari_curve(
    A: Any,
    sampler: Callable[[int, int], np.ndarray],
    n_grid: Any,
    seeds: Sequence[int] = range(5),
    block: Sequence[int] | None = None,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_ICA_TOL,
) -> AmariCurve:
    """Amari index (full, or on ``block``) of ``fit_ica(sampler(n, seed), seed=seed).unmixing @ A``
    for every n in ``n_grid`` and seed; median over seeds and least-squares slope of log median on
    log n (about -1/2 when identifiable: FastICA is root-n consistent)."""
    return amari_curves(A, sampler, n_grid, seeds, blocks=(block,), max_iter=max_iter, tol=tol)[0]


# --------------------------------------------------------------------------------------------
# Certificates

T8_CLAIM = (
    "h = A s, independent sources, at most one Gaussian, A of full column rank => "
    "A identified up to permutation and scale of its columns"
)
T8_TWIN_CLAIM = (
    "g >= 2 Gaussian sources => for R orthogonal on the Gaussian block, A R s has the law "
    "of A s (equal covariance, two-sample test cannot separate), and A R != A up to "
    "permutation/scale"
)


def _group_dim(g: int) -> int:
    """dim O(g) = g (g - 1) / 2: the unidentified rotations of a g-dimensional Gaussian block."""
    return g * (g - 1) // 2


def check_t8_laws(A: Any, gaussian: Any, angle: float = math.pi / 4) -> Certificate:
    """T8 from known source laws (synthetic ground truth): with g = number of Gaussian sources,
    holds iff g <= 1; violated iff g >= 2, with the rotated twin ``A R`` and R as witness.
    dim = g (g - 1)/2 (the rotation group left unidentified); margin/tolerance: A's rank decision."""
    Af = as_matrix("A", A)
    mask = as_gaussian_mask(gaussian, Af.shape[1])
    dec = decide_rank(Af, name="A")
    k = Af.shape[1]
    g = int(mask.sum())
    details: dict[str, Any] = {
        "gaussian_count": g,
        "gaussian_indices": np.flatnonzero(mask).tolist(),
        "n_sources": k,
        **{f"rank_{k_}": v for k_, v in dec.summary().items()},
    }
    common = dict(
        theorem="T8", claim=T8_CLAIM, rank=dec.rank, margin=dec.margin, tolerance=dec.tolerance
    )
    if not dec.certified:
        return Certificate(
            verdict=Verdict.UNDECIDED,
            dim=None,
            details={**details, "reason": "rank of A not certified"},
            **common,
        )
    as_mixing(Af)  # certified but deficient: the theorem's hypothesis fails -> ValueError naming A
    if g <= 1:
        return Certificate(verdict=Verdict.HOLDS, dim=0, details=details, **common)
    twin, R = rotated_twin(Af, mask, angle=angle)
    return Certificate(
        verdict=Verdict.VIOLATED,
        dim=_group_dim(g),
        witness={"A": Af, "twin": twin, "R": R},
        details={
            **details,
            "angle": angle,
            "reason": f"{g} Gaussian sources: A R generates the law of A s",
        },
        **common,
    )


def check_t8(
    H: Any,
    A: Any = None,
    n_components: int | None = None,
    alpha: float = 0.01,
    max_skew: float = 0.25,
    max_excess_kurtosis: float = 0.5,
    seed: int = 0,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_ICA_TOL,
    max_amari: float | None = None,
) -> Certificate:
    """T8 from data H (n, d): is at most one recovered source Gaussian? and, with the planted A,
    how well is A recovered?

    The rows are split in two halves by a seeded permutation; FastICA fitted on the first half
    gives components whose Gaussianity is tested on the second (held-out, so the p-values are
    valid despite ICA's selection of non-Gaussian directions); see ``gaussianity``. Verdict:
      violated  : >= 2 components Gaussian within (max_skew, max_excess_kurtosis);
      holds     : otherwise, >= k - 1 components non-Gaussian (so at most one Gaussian) and the fit
                  converged (unconverged components need not be the sources, so a ConvergenceWarning
                  blocks holds; it does not block violated: a flat contrast on a Gaussian block is
                  its usual cause, and the Gaussianity evidence is held-out either way);
      undecided : otherwise (inconclusive statistics at this n, or a ConvergenceWarning).
    margin = K2_{(k-1)} / K2_crit, the (k-1)-th largest held-out K^2 over its Bonferroni critical
    value (> 1 iff k - 1 components are non-Gaussian); tolerance = alpha.
    Recovery uses FastICA on all rows: with A, ``P = W A``, its Amari index, and the estimated
    mixing columns aligned to A by the best permutation/sign (witness ``aligned_mixing``), per-column
    |cos|. With ``max_amari``, a holds verdict also needs ``Amari(P) <= max_amari`` (else undecided).
    """
    H = as_samples("H", H)
    n, d = H.shape
    if A is not None:
        A = as_mixing(A, d=d)
        if n_components is not None and _as_int("n_components", n_components, 1, d) != A.shape[1]:
            raise ValueError(
                f"n_components must equal the {A.shape[1]} columns of A, got {n_components}"
            )
        k = A.shape[1]
    elif n_components is None:
        k = _n_components_from_data(H)
    else:
        k = _as_int("n_components", n_components, 1, d)
    alpha = _as_level("alpha", alpha)
    seed = _as_int("seed", seed, 0, 2**32 - 1)
    if max_amari is not None:
        max_amari = _as_positive("max_amari", max_amari)
    order = np.random.default_rng(seed).permutation(n)
    fit_rows, test_rows = order[: n // 2], order[n // 2 :]
    fit_half = fit_ica(H[fit_rows], n_components=k, seed=seed, max_iter=max_iter, tol=tol)
    report = gaussianity(
        fit_half.sources(H[test_rows]),
        alpha=alpha,
        max_skew=max_skew,
        max_excess_kurtosis=max_excess_kurtosis,
    )
    fit_all = fit_ica(H, n_components=k, seed=seed, max_iter=max_iter, tol=tol)

    n_non, n_gauss = report.count("non-gaussian"), report.count("gaussian")
    k2_sorted = np.sort([c.k2 for c in report.components])[::-1]
    margin = math.inf if k == 1 else float(k2_sorted[k - 2] / report.k2_critical)
    reason = None
    if n_gauss >= 2:
        verdict = Verdict.VIOLATED
        reason = f"{n_gauss} recovered sources are Gaussian within the resolution band"
    elif not fit_half.converged:
        verdict, reason = (
            Verdict.UNDECIDED,
            "FastICA did not converge on the fit half (ConvergenceWarning)",
        )
    elif n_non >= k - 1:
        verdict = Verdict.HOLDS
    else:
        verdict = Verdict.UNDECIDED
        reason = (
            f"only {n_non} of the {k - 1} needed components are non-Gaussian at n = {report.n} held-out "
            f"samples, and fewer than two are Gaussian within the resolution band"
        )
    dim = (
        None
        if verdict is Verdict.UNDECIDED
        else (0 if verdict is Verdict.HOLDS else _group_dim(n_gauss))
    )
    witness: dict[str, Any] = {"unmixing": fit_all.unmixing, "mixing": fit_all.mixing}
    details: dict[str, Any] = {
        "n_samples": n,
        "n_components": k,
        "fit_rows": int(fit_rows.size),
        "test_rows": int(test_rows.size),
        "non_gaussian_count": n_non,
        "gaussian_count": n_gauss,
        "inconclusive_count": report.count("inconclusive"),
        "margin_meaning": "K2 of the (k-1)-th most non-Gaussian held-out component / Bonferroni critical K2",
        "gaussianity": report.summary(),
        "ica_fit_half": fit_half.summary(),
        "ica_all": fit_all.summary(),
        "reason": reason,
    }
    if A is not None:
        P = fit_all.unmixing @ A
        al = align_columns(fit_all.mixing, A)
        amari = amari_index(P)
        witness.update(planted_mixing=A, aligned_mixing=al.aligned, P=P)
        details["recovery"] = {
            "amari_index": amari,
            "column_cosines": al.cosines,
            "max_column_error": float(al.errors.max()),
            "permutation": al.permutation,
            "signs": al.signs,
            "max_amari": max_amari,
        }
        details["amari_index"] = amari
        details["max_column_error"] = float(al.errors.max())
        if max_amari is not None and verdict is Verdict.HOLDS and amari > max_amari:
            verdict, dim = Verdict.UNDECIDED, None
            details["reason"] = (
                f"Amari index {amari:.3g} above max_amari {max_amari:.3g} at n = {n}"
            )
    return Certificate(
        theorem="T8",
        verdict=verdict,
        claim=T8_CLAIM,
        dim=dim,
        rank=k,
        margin=margin,
        tolerance=alpha,
        witness=witness,
        details=details,
    )


def check_t8_twin(
    A: Any,
    gaussian: Any,
    sample_sources: Callable[[int, np.random.Generator], np.ndarray],
    n_samples: int = 4000,
    block: Any = None,
    angle: float = math.pi / 4,
    alpha: float = 1e-3,
    n_random: int = 8,
    seed: int = 0,
    control_sample_sources: Callable[[int, np.random.Generator], np.ndarray] | None = None,
    ica_sizes: Any = None,
    ica_seeds: Sequence[int] = range(7),
    min_error_ratio: float = 5.0,
) -> Certificate:
    """The T8 counterexample for g >= 2 Gaussian sources, re-verified by sampling.

    Builds ``B = A R`` (R orthogonal on the Gaussian block: ``block``, or a rotation by ``angle`` in
    the first Gaussian plane) and checks: (1) ``A A^T == B B^T`` to round-off (relative Frobenius
    residual <= 1e-12); (2) B is not A up to permutation/scale: ``Amari(A^+ B) = Amari(R) > 1e-8``;
    (3) independent samples ``A s`` and ``B s'`` (s, s' from ``sample_sources(n, rng)``) are not
    separated by ``projection_ks_test`` at level alpha (directions: rows of A^+ and ``n_random``
    random ones). With ``control_sample_sources`` (the same R on non-Gaussian sources) the same test
    must separate the control, else the verdict is undecided (the test lacks power at this n).
    With ``ica_sizes`` and a control: the Amari index on the Gaussian block (median over
    ``ica_seeds``) must stay at least ``min_error_ratio`` times the control block's at the largest
    size (the control falls as n^{-1/2}, the Gaussian block does not). Violated if (1) or (2) fails or the test separates the
    Gaussian twin. dim = g (g - 1)/2; margin = p / alpha for the twin test (> 1: not separated).
    """
    A = as_mixing(A)
    d, k = A.shape
    mask = as_gaussian_mask(gaussian, k)
    if mask.sum() < 2:
        raise NoGaussianPairError(
            f"gaussian: the twin needs at least two Gaussian sources, got {int(mask.sum())}"
        )
    n = _as_int("n_samples", n_samples, MIN_TEST_SAMPLES)
    alpha = _as_level("alpha", alpha)
    seed = _as_int("seed", seed, 0, 2**32 - 1)
    B, R = rotated_twin(A, mask, block=block, angle=angle)
    cov = A @ A.T
    cov_residual = float(np.linalg.norm(cov - B @ B.T) / np.linalg.norm(cov))
    twin_amari = amari_index(np.linalg.pinv(A) @ B)
    directions = np.linalg.pinv(A)

    def draw(sampler, rng, which):
        S = as_matrix(which, sampler(n, rng))
        if S.shape != (n, k):
            raise ValueError(
                f"{which}(n, rng) must return ({n}, {k}) source samples, got {S.shape}"
            )
        return S

    rng = np.random.default_rng([seed, 0])
    test = projection_ks_test(
        draw(sample_sources, rng, "sample_sources") @ A.T,
        draw(sample_sources, rng, "sample_sources") @ B.T,
        directions=directions,
        n_random=n_random,
        seed=seed,
    )
    details: dict[str, Any] = {
        "gaussian_indices": np.flatnonzero(mask).tolist(),
        "n_samples": n,
        "alpha": alpha,
        "covariance_residual": cov_residual,
        "twin_amari": twin_amari,
        "twin_test": test.summary(),
    }
    witness: dict[str, Any] = {"A": A, "twin": B, "R": R}
    ok = cov_residual <= 1e-12 and twin_amari > 1e-8 and not test.rejects(alpha)
    verdict = Verdict.HOLDS if ok else Verdict.VIOLATED
    reason = (
        None
        if ok
        else "covariance differs, twin is a permutation/scale of A, or the test separated the twin"
    )
    control = None
    if control_sample_sources is not None:
        rng_c = np.random.default_rng([seed, 1])
        control = projection_ks_test(
            draw(control_sample_sources, rng_c, "control_sample_sources") @ A.T,
            draw(control_sample_sources, rng_c, "control_sample_sources") @ B.T,
            directions=directions,
            n_random=n_random,
            seed=seed,
        )
        details["control_test"] = control.summary()
        if verdict is Verdict.HOLDS and not control.rejects(alpha):
            verdict, reason = (
                Verdict.UNDECIDED,
                "the test does not separate the non-Gaussian control either",
            )
    if ica_sizes is not None:
        idx = tuple(np.flatnonzero(mask).tolist())

        def sampler_for(fn):
            return lambda size, s: fn(size, np.random.default_rng([seed, 2, s])) @ A.T

        gauss_curve = amari_curve(
            A, sampler_for(sample_sources), np.asarray(ica_sizes), ica_seeds, block=idx
        )
        details["gaussian_block_curve"] = gauss_curve.summary()
        witness["gaussian_block_amari"] = gauss_curve.median
        if control_sample_sources is not None:
            ctrl_curve = amari_curve(
                A, sampler_for(control_sample_sources), np.asarray(ica_sizes), ica_seeds, block=idx
            )
            details["control_block_curve"] = ctrl_curve.summary()
            witness["control_block_amari"] = ctrl_curve.median
            ratio = float(gauss_curve.median[-1] / ctrl_curve.median[-1])
            details["block_error_ratio"] = ratio
            if verdict is Verdict.HOLDS and ratio < min_error_ratio:
                verdict, reason = (
                    Verdict.UNDECIDED,
                    (
                        f"Gaussian-block Amari only {ratio:.3g} x the control's "
                        f"at n = {int(gauss_curve.n[-1])}"
                    ),
                )
    details["reason"] = reason
    return Certificate(
        theorem="T8",
        verdict=verdict,
        claim=T8_TWIN_CLAIM,
        dim=_group_dim(int(mask.sum())),
        rank=k,
        margin=test.p_value / alpha,
        tolerance=alpha,
        witness=witness,
        details=details,
    )


T8_RATE_CLAIM = (
    "at most one Gaussian source => FastICA's Amari index falls as n^(-1/2): "
    "log-log slope of the median within slack of -1/2"
)


def check_t8_rate(
    A: Any,
    sampler: Callable[[int, int], np.ndarray],
    n_grid: Any,
    seeds: Sequence[int] = range(5),
    expected: float = -0.5,
    slack: float = 0.15,
) -> Certificate:
    """T8 consistency rate: the median Amari index over ``seeds`` at the sizes ``n_grid`` (samples of
    an identifiable model from ``sampler(n, seed)``) has a fitted log-log slope within ``slack``
    of ``expected`` (root-n consistency of FastICA). Holds within the slack (and every fit
    converged); violated when the slope is >= 0 (the error does not fall at all); undecided
    otherwise. margin = slack - |slope - expected|; witness: the sizes and the medians."""
    expected = float(expected)
    slack = _as_positive("slack", slack)
    curve = amari_curve(A, sampler, n_grid, seeds)
    gap = abs(curve.slope - expected)
    if curve.slope >= 0:
        verdict, reason = Verdict.VIOLATED, "the Amari index does not fall with n"
    elif curve.not_converged:
        verdict, reason = Verdict.UNDECIDED, f"{curve.not_converged} FastICA fits did not converge"
    elif gap > slack:
        verdict, reason = Verdict.UNDECIDED, "slope off -1/2 by more than the slack at these sizes"
    else:
        verdict, reason = Verdict.HOLDS, None
    return Certificate(
        theorem="T8",
        verdict=verdict,
        claim=T8_RATE_CLAIM,
        margin=slack - gap,
        tolerance=slack,
        witness={"n": curve.n.astype(np.float64), "median_amari": curve.median},
        details={**curve.summary(), "expected_slope": expected, "reason": reason},
    )
