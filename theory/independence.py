"""Statistical independence (T8 of docs/theorems.md): ICA identifiability and its Gaussian
counterexample.

Model: ``h = A s`` with A (d x k) of full column rank and s in R^k with independent components.
Samples are rows: H (n, d) with ``H = S A^T``.

- Comon (1994) / Darmois-Skitovich: if at most one component of s is Gaussian, the law of h fixes A
  up to a permutation and a scaling of its columns; FastICA's estimate then converges, with Amari
  index ``O(n^{-1/2})``.
- If g >= 2 components are Gaussian, then for every orthogonal R acting on the Gaussian block only,
  ``A R s`` has exactly the law of ``A s`` (the standard Gaussian density ``exp(-|x|^2/2)`` is
  rotation invariant), so the columns of A on that block are identified only as a subspace:
  the unidentified set is the group O(g), of dimension ``g (g - 1) / 2``.

This module holds T8's certificates; the tools they use live in one module per job and are
re-exported here: ``theory.mixing`` (the model's input checks), ``theory.amari`` (Amari index,
column matching), ``theory.ica`` (FastICA), ``theory.gaussianity`` (normality tests, Bonferroni),
``theory.rotations`` (block rotations, the rotated twin and its exact re-verification),
``theory.two_sample`` (projection KS test), ``theory.amari_curves`` (error against sample size),
and the counterexample's certificate ``check_t8_twin`` in ``theory.independence_twin``. Data,
masks and samplers are arguments; the source laws and generators live in ``synthetic.sources``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .amari import Alignment, align_columns, amari_index, block_amari_index, match_rows
from .amari_curves import AmariCurve, amari_curve, amari_curves, log_spaced_sizes
from .certificate import Certificate, Verdict, min_margin, ratio_margin
from .gaussianity import (
    ComponentGaussianity,
    GaussianityReport,
    as_family_level,
    gaussianity,
    sorted_margins,
)
from .ica import (
    DEFAULT_ICA_TOL,
    DEFAULT_MAX_ITER,
    MAX_SEED,
    IcaFit,
    fit_ica,
    n_components_from_data,
)
from .independence_twin import T8_TWIN_CLAIM, check_t8_twin
from .mixing import (
    MIN_SAMPLES,
    MIN_TEST_SAMPLES,
    NoGaussianPairError,
    as_gaussian_mask,
    as_mixing,
    as_samples,
)
from .rank import decide_rank
from .rotations import (
    TwinCheck,
    TwinMaker,
    embed_block_rotation,
    gaussian_block_rotation,
    plane_rotation,
    rotated_twin,
    rotation_group_dim,
    verify_twin,
)
from .two_sample import TwoSampleTest, projection_ks_test
from .validation import (
    InputError,
    as_int,
    as_matrix,
    as_positive_int,
    as_positive_real,
    as_real,
)

__all__ = [
    "DEFAULT_ICA_TOL",
    "DEFAULT_MAX_ITER",
    "MIN_SAMPLES",
    "MIN_TEST_SAMPLES",
    "T8_CLAIM",
    "T8_RATE_CLAIM",
    "T8_TWIN_CLAIM",
    "Alignment",
    "AmariCurve",
    "ComponentGaussianity",
    "GaussianityReport",
    "IcaFit",
    "NoGaussianPairError",
    "TwinCheck",
    "TwinMaker",
    "TwoSampleTest",
    "align_columns",
    "amari_curve",
    "amari_curves",
    "amari_index",
    "as_gaussian_mask",
    "as_mixing",
    "as_samples",
    "block_amari_index",
    "check_t8",
    "check_t8_laws",
    "check_t8_rate",
    "check_t8_twin",
    "embed_block_rotation",
    "fit_ica",
    "gaussian_block_rotation",
    "gaussianity",
    "log_spaced_sizes",
    "match_rows",
    "n_components_from_data",
    "plane_rotation",
    "projection_ks_test",
    "rotated_twin",
    "rotation_group_dim",
    "verify_twin",
]

T8_CLAIM = (
    "h = A s, independent sources, at most one Gaussian, A of full column rank => "
    "A identified up to permutation and scale of its columns"
)
T8_RATE_CLAIM = (
    "at most one Gaussian source => FastICA's Amari index falls as n^(-1/2): "
    "log-log slope of the median within slack of -1/2"
)


def check_t8_laws(
    A: Any, gaussian: Any, angle: float = math.pi / 4, make_twin: TwinMaker = rotated_twin
) -> Certificate:
    """T8 from known source laws (synthetic ground truth): with g = number of Gaussian sources,
    holds iff g <= 1; violated iff g >= 2, with the twin ``B = A R`` and R from ``make_twin`` as
    witness. The twin is re-verified exactly (``verify_twin``: same covariance, ``A^+ B`` the
    identity off the Gaussian block, not a permutation/scale of A); one that fails makes the
    verdict undecided. dim = g (g - 1)/2 (the rotation group left unidentified).
    margin: A's rank decision (``RankDecision.margin``), with a twin also ``TwinCheck.margin``.
    ``angle`` (default pi/4) rotates the first Gaussian plane: pi/4 mixes the two Gaussian columns
    equally (that block of ``A^+ B`` has entries +-1/sqrt(2)), the farthest from a permutation."""
    Af = as_matrix("A", A)
    mask = as_gaussian_mask(gaussian, Af.shape[1])
    angle = as_real("angle", angle)
    dec = decide_rank(Af, name="A")
    g = int(mask.sum())
    details: dict[str, Any] = {
        "gaussian_count": g,
        "gaussian_indices": np.flatnonzero(mask).tolist(),
        "n_sources": Af.shape[1],
        "rank_decision": dec.summary(),
    }
    common: dict[str, Any] = dict(
        theorem="T8",
        claim=T8_CLAIM,
        rank=dec.rank,
        tolerance=dec.tolerance,
        d=Af.shape[0],
        singular_values=dec.singular_values,
        ambiguous=dec.ambiguous,
    )
    if not dec.certified:
        return Certificate(
            verdict=Verdict.UNDECIDED,
            margin=dec.margin,
            reason="rank of A not certified",
            details=details,
            **common,
        )
    as_mixing(Af)  # certified but deficient: the theorem's hypothesis fails -> InputError naming A
    if g <= 1:
        return Certificate(
            verdict=Verdict.HOLDS, dim=0, margin=dec.margin, details=details, **common
        )
    twin, R = make_twin(Af, mask, angle=angle)
    check = verify_twin(Af, twin, mask)
    ok = check.ok
    return Certificate(
        verdict=Verdict.VIOLATED if ok else Verdict.UNDECIDED,
        dim=rotation_group_dim(g) if ok else None,
        margin=min_margin(dec.margin, check.margin),
        witness={"A": Af, "twin": twin, "R": R},
        residual=check.covariance_residual,
        residual_tolerance=check.tolerance,
        reason=(
            f"{g} Gaussian sources: A R generates the law of A s"
            if ok
            else f"the twin failed its exact re-verification: {check.failure}"
        ),
        details={**details, "angle": angle, "twin_check": check.summary()},
        **common,
    )


def _source_count(H: np.ndarray, A: Any, n_components: Any) -> tuple[np.ndarray | None, int]:
    """The planted A (checked against H) and the number k of sources."""
    d = H.shape[1]
    k = None if n_components is None else as_int("n_components", n_components, low=1, high=d)
    if A is None:
        return None, n_components_from_data(H) if k is None else k
    A = as_mixing(A, d=d)
    if k is not None and k != A.shape[1]:
        raise InputError(f"n_components must equal the {A.shape[1]} columns of A, got {k}")
    return A, A.shape[1]


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
    valid despite ICA's selection of non-Gaussian directions) at the Bonferroni level
    ``alpha / k`` (``gaussianity``). Verdict:
      violated  : >= 2 components Gaussian within (max_skew, max_excess_kurtosis);
      holds     : otherwise, >= k - 1 components non-Gaussian (so at most one Gaussian) and the fit
                  converged (unconverged components need not be the sources, so a ConvergenceWarning
                  blocks holds; it does not block violated: a flat contrast on a Gaussian block is
                  its usual cause, and the Gaussianity evidence is held-out either way);
      undecided : otherwise (inconclusive statistics at this n, or a ConvergenceWarning).
    margin: holds, ``level / p`` of the (k-1)-th most non-Gaussian component (a test that must
    reject; None for k = 1); violated, the smallest ``gaussian_margin`` of the Gaussian components.
    tolerance = alpha / k. Recovery uses FastICA on all rows: with A, ``P = W A``, its Amari index
    (``residual``), and the estimated mixing columns aligned to A by the best permutation/sign
    (witness ``aligned_mixing``), per-column |cos|. With ``max_amari``, a holds verdict also needs
    ``Amari(P) <= max_amari`` (else undecided), with margin ``max_amari / Amari(P)``.
    """
    H = as_samples("H", H)
    n, d = H.shape
    A, k = _source_count(H, A, n_components)
    alpha = as_family_level("alpha", alpha)
    max_skew = as_positive_real("max_skew", max_skew)
    max_excess_kurtosis = as_positive_real("max_excess_kurtosis", max_excess_kurtosis)
    seed = as_int("seed", seed, low=0, high=MAX_SEED)
    max_iter = as_positive_int("max_iter", max_iter)
    tol = as_positive_real("tol", tol)
    max_amari = None if max_amari is None else as_positive_real("max_amari", max_amari)
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
    margin: float | None
    reason = ""
    if n_gauss >= 2:
        verdict = Verdict.VIOLATED
        margin = float(sorted_margins(report, "gaussian")[n_gauss - 1])
        reason = f"{n_gauss} recovered sources are Gaussian within the resolution band"
    else:
        margin = None if k == 1 else float(sorted_margins(report, "non-gaussian")[k - 2])
        if not fit_half.converged:
            verdict = Verdict.UNDECIDED
            reason = "FastICA did not converge on the fit half (ConvergenceWarning)"
        elif n_non >= k - 1:
            verdict = Verdict.HOLDS
        else:
            verdict = Verdict.UNDECIDED
            reason = (
                f"only {n_non} of the {k - 1} needed components are non-Gaussian at "
                f"n = {report.n} held-out samples, and fewer than two are Gaussian within the "
                "resolution band"
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
        "gaussianity": report.summary(),
        "ica_fit_half": fit_half.summary(),
        "ica_all": fit_all.summary(),
    }
    amari = None
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
        if max_amari is not None and verdict is Verdict.HOLDS:
            margin = min_margin(margin, ratio_margin(max_amari, amari))
            if amari > max_amari:
                verdict = Verdict.UNDECIDED
                reason = f"Amari index {amari:.3g} above max_amari {max_amari:.3g} at n = {n}"
    dims = {Verdict.HOLDS: 0, Verdict.VIOLATED: rotation_group_dim(n_gauss)}
    return Certificate(
        theorem="T8",
        verdict=verdict,
        claim=T8_CLAIM,
        dim=dims.get(verdict),
        rank=k,
        d=d,
        margin=margin,
        tolerance=report.level,
        residual=amari,
        residual_tolerance=max_amari,
        witness=witness,
        reason=reason,
        details=details,
    )


def check_t8_rate(
    A: Any,
    sampler: Callable[[int, int], np.ndarray],
    n_grid: Any,
    seeds: Sequence[int] = range(5),
    expected: float = -0.5,
    slack: float = 0.15,
) -> Certificate:
    """T8 consistency rate: the median Amari index over ``seeds`` at the sizes ``n_grid`` (samples
    of an identifiable model from ``sampler(n, seed)``) has a fitted log-log slope within ``slack``
    of ``expected`` < 0 (root-n consistency of FastICA). Holds within the slack (and every fit
    converged), margin ``slack / |slope - expected|``; violated when the slope is >= 0 (the error
    does not fall at all), margin ``(slope - expected) / |expected|`` (>= 1 iff slope >= 0);
    undecided otherwise. residual = |slope - expected|; witness: the sizes and the medians."""
    expected = as_real("expected", expected, high=0.0, high_open=True)
    slack = as_positive_real("slack", slack)
    curve = amari_curve(A, sampler, n_grid, seeds)
    gap = abs(curve.slope - expected)
    margin = ratio_margin(slack, gap)
    if curve.slope >= 0:
        verdict, reason = Verdict.VIOLATED, "the Amari index does not fall with n"
        margin = (curve.slope - expected) / -expected
    elif curve.not_converged:
        verdict, reason = Verdict.UNDECIDED, f"{curve.not_converged} FastICA fits did not converge"
    elif gap > slack:
        verdict, reason = (
            Verdict.UNDECIDED,
            f"slope off {expected} by more than the slack at these sizes",
        )
    else:
        verdict, reason = Verdict.HOLDS, ""
    return Certificate(
        theorem="T8",
        verdict=verdict,
        claim=T8_RATE_CLAIM,
        margin=margin,
        tolerance=slack,
        residual=gap,
        residual_tolerance=slack,
        witness={"n": curve.n.astype(np.float64), "median_amari": curve.median},
        reason=reason,
        details={**curve.summary(), "expected_slope": expected},
    )
