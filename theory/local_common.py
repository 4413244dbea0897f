"""What the T3 certificates share: the exact LayerNorm symmetry, the certificate's subject (typed
fields), and the checks of the arguments every T3 function takes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from theory.validation import InputError

from .jacobian import EngineOptions, LocalProblem, LocalSpectrum

LAYERNORM_MEAN = "layernorm-mean"


def ones_direction(d: int) -> np.ndarray:
    """The unit all-ones vector 1 / sqrt(d)."""
    return np.ones(d) / math.sqrt(d)


def exact_symmetries(spec: LocalSpectrum) -> tuple[list[str], float]:
    """Exact symmetries seen in the null space, and |J 1|/(sqrt(d) s_max): "layernorm-mean" when
    the all-ones direction is mapped to zero (|R 1/sqrt(d)| <= tau, the rank's zero threshold)."""
    s_max = float(spec.singular_values[0]) if spec.d else 0.0
    image = spec.norm_of_image(ones_direction(spec.d))
    found = [LAYERNORM_MEAN] if spec.null_dim and image <= spec.decision.tolerance else []
    return found, (image / s_max if s_max > 0 else 0.0)


def subject(problem: LocalProblem, channel: str) -> dict[str, Any]:
    """The typed subject fields of a T3 certificate: model, layer (from ``problem.meta`` when
    present), channel and d."""
    meta = problem.meta
    return dict(model=meta.get("model"), layer=meta.get("layer"), channel=channel, d=problem.d)


def labels(problem: LocalProblem) -> dict[str, Any]:
    """The problem's labels for a certificate's details (people only)."""
    return {k: problem.meta[k] for k in ("model", "layer", "seed", "norm") if k in problem.meta}


def as_problem(problem: Any) -> LocalProblem:
    """A ``LocalProblem``."""
    if not isinstance(problem, LocalProblem):
        raise InputError(f"problem must be a LocalProblem, got {type(problem).__name__}")
    return problem


def as_options(options: Any) -> EngineOptions | None:
    """None or an ``EngineOptions``."""
    if options is not None and not isinstance(options, EngineOptions):
        raise InputError(f"options must be an EngineOptions or None, got {type(options).__name__}")
    return options


def as_map(name: str, fn: Any) -> Callable | None:
    """None or a callable (a behaviour map to re-run a witness through)."""
    if fn is not None and not callable(fn):
        raise InputError(f"{name} must be a callable or None, got {type(fn).__name__}")
    return fn
