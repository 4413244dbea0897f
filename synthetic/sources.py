"""Independent source laws and mixed data ``h = A s`` with a planted mixing matrix (T8).

Every law has mean 0 and variance 1, so a source is fixed up to sign by its law and ICA's scale
ambiguity reduces to a sign. Samples are rows: ``S`` is (n_samples, k), ``H = S A^T`` is
(n_samples, d), i.e. ``h_i = A s_i``. Randomness only from a seed or a ``numpy.random.Generator``.

Laws (exact excess kurtosis ``kappa = E s^4 - 3`` in brackets):

- ``gaussian``      N(0, 1)                                              [0]
- ``laplace``       Laplace(0, b = 1/sqrt 2)                             [3]
- ``uniform``       U(-sqrt 3, sqrt 3)                                   [-6/5]
- ``bimodal``       1/2 N(-mu, sigma^2) + 1/2 N(mu, sigma^2), mu = 9/10, sigma^2 = 19/100
                    (a symmetric two-component Gaussian mixture)
                    [mu^4 + 6 mu^2 sigma^2 + 3 sigma^4 - 3 = -6561/5000]
- ``scale_mixture`` 9/10 N(0, 1/2) + 1/10 N(0, 11/2) (heavy tails)
                    [3 (9/10 * 1/4 + 1/10 * 121/4) - 3 = 27/4]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from theory.mixing import MIN_SAMPLES, as_mixing
from theory.validation import InputError, as_choice, as_generator, as_int, as_positive_int, as_real

Sampler = Callable[[np.random.Generator, int], np.ndarray]

_BIMODAL_MU = 0.9
_BIMODAL_SIGMA = math.sqrt(0.19)
_SCALE_SIGMAS = (math.sqrt(0.5), math.sqrt(5.5))
_SCALE_WEIGHT = 0.9


def _gaussian(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal(n)


def _laplace(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.laplace(0.0, 1.0 / math.sqrt(2.0), n)


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), n)


def _bimodal(rng: np.random.Generator, n: int) -> np.ndarray:
    signs = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return signs * _BIMODAL_MU + _BIMODAL_SIGMA * rng.standard_normal(n)


def _scale_mixture(rng: np.random.Generator, n: int) -> np.ndarray:
    sigma = np.where(rng.random(n) < _SCALE_WEIGHT, _SCALE_SIGMAS[0], _SCALE_SIGMAS[1])
    return sigma * rng.standard_normal(n)


@dataclasses.dataclass(frozen=True)
class SourceLaw:
    """A zero-mean, unit-variance law on R with its exact excess kurtosis."""

    name: str
    gaussian: bool
    excess_kurtosis: Fraction
    description: str
    sample: Sampler


LAWS: dict[str, SourceLaw] = {
    law.name: law
    for law in [
        SourceLaw("gaussian", True, Fraction(0), "N(0, 1)", _gaussian),
        SourceLaw("laplace", False, Fraction(3), "Laplace(0, 1/sqrt 2)", _laplace),
        SourceLaw("uniform", False, Fraction(-6, 5), "U(-sqrt 3, sqrt 3)", _uniform),
        SourceLaw(
            "bimodal",
            False,
            Fraction(-6561, 5000),
            "1/2 N(-9/10, 19/100) + 1/2 N(9/10, 19/100)",
            _bimodal,
        ),
        SourceLaw(
            "scale_mixture",
            False,
            Fraction(27, 4),
            "9/10 N(0, 1/2) + 1/10 N(0, 11/2)",
            _scale_mixture,
        ),
    ]
}
NON_GAUSSIAN_LAWS = tuple(name for name, law in LAWS.items() if not law.gaussian)


def validate_laws(laws: Any) -> tuple[str, ...]:
    """The law names as a tuple; InputError naming ``laws`` for an empty list or an unknown name."""
    if isinstance(laws, (str, bytes)) or not isinstance(laws, (Sequence, np.ndarray)):
        raise InputError(f"laws must be a sequence of law names, got {laws!r}")
    names = tuple(laws)
    if not names:
        raise InputError("laws must name at least one source law, got an empty sequence")
    return tuple(as_choice(f"laws[{i}]", name, LAWS) for i, name in enumerate(names))


def gaussian_mask(laws: Sequence[str]) -> np.ndarray:
    """Boolean (k,) array: True where the law is Gaussian (the exact count for T8)."""
    return np.array([LAWS[name].gaussian for name in validate_laws(laws)], dtype=bool)


def validate_n_samples(n_samples: Any, name: str = "n_samples") -> int:
    """An int >= MIN_SAMPLES (the held-out Gaussianity statistic needs MIN_SAMPLES / 2 per half)."""
    return as_int(name, n_samples, low=MIN_SAMPLES)


def sample_sources(laws: Sequence[str], n_samples: int, seed: Any = 0) -> np.ndarray:
    """S (n_samples, k): column j drawn i.i.d. from ``laws[j]``, columns independent."""
    names = validate_laws(laws)
    n = validate_n_samples(n_samples)
    rng = as_generator("seed", seed)
    return np.column_stack([LAWS[name].sample(rng, n) for name in names]).astype(np.float64)


def source_sampler(laws: Sequence[str]) -> Callable[[int, np.random.Generator], np.ndarray]:
    """``(n, rng) -> S`` for the laws (the form ``theory.independence.check_t8_twin`` takes)."""
    names = validate_laws(laws)
    return lambda n, rng: sample_sources(names, n, rng)


def validate_mixing(A: Any, k: int | None = None, name: str = "A") -> np.ndarray:
    """A (d, k) float64 matrix of certified full column rank k (``theory.rank.decide_rank``);
    InputError naming ``name`` otherwise."""
    return as_mixing(A, name=name, k=k)


def random_mixing(d: int, k: int, seed: Any = 0, max_condition: float = 10.0) -> np.ndarray:
    """A = U diag(sigma) V^T (d, k): U, V Haar-orthonormal, sigma uniform in [1, max_condition] with
    sigma_max = max_condition and sigma_min = 1 when k >= 2, so cond(A) = max_condition exactly."""
    d = as_positive_int("d", d)
    k = as_positive_int("k", k)
    if d < k:
        raise InputError(f"d must be at least k (full column rank needs d >= k), got d={d}, k={k}")
    max_condition = as_real("max_condition", max_condition, low=1.0)
    rng = as_generator("seed", seed)
    U, _ = np.linalg.qr(rng.standard_normal((d, k)))
    V, _ = np.linalg.qr(rng.standard_normal((k, k)))
    sigma = rng.uniform(1.0, max_condition, k)
    if k >= 2:
        sigma[:2] = (1.0, max_condition)
    return validate_mixing((U * sigma) @ V.T)


@dataclasses.dataclass(frozen=True)
class MixedData:
    """Samples ``H = S A^T`` (rows h_i = A s_i) with the sources and the planted mixing matrix."""

    H: np.ndarray  # (n, d)
    S: np.ndarray  # (n, k)
    A: np.ndarray  # (d, k)
    laws: tuple[str, ...]

    @property
    def gaussian(self) -> np.ndarray:
        return gaussian_mask(self.laws)


def mix(A: Any, laws: Sequence[str], n_samples: int, seed: Any = 0) -> MixedData:
    """Draw S from ``laws`` and return ``H = S A^T``; A must have one column per law and full
    column rank (InputError naming ``A`` otherwise)."""
    names = validate_laws(laws)
    A = validate_mixing(A, len(names))
    S = sample_sources(names, n_samples, seed)
    return MixedData(H=S @ A.T, S=S, A=A, laws=names)


def mixture_sampler(A: Any, laws: Sequence[str]) -> Callable[[int, int], np.ndarray]:
    """``(n, seed) -> H`` (n, d) for fixed A and laws: the form ``theory.amari_curves.amari_curve``
    takes."""
    names = validate_laws(laws)
    A = validate_mixing(A, len(names))
    return lambda n, seed: sample_sources(names, n, seed) @ A.T
