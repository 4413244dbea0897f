"""``run_experiment(name, model)``: one of the seven experiments on one model (E1-E7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from theory.validation import as_choice

from .logit_distance import run_logit_distance
from .multi_env import run_multi_env
from .nullspace import run_nullspace
from .orthogonal import run_alpha_sweep, run_orthogonal
from .result import ExperimentResult
from .setup import Setup, make_setup
from .spanning import run_spanning
from .vector_equivalence import run_vector_equivalence

EXPERIMENTS: dict[str, tuple[str, Callable[[Setup], ExperimentResult]]] = {
    "orthogonal": ("E1", run_orthogonal),
    "alpha-sweep": ("E2", run_alpha_sweep),
    "logit-distance": ("E3", run_logit_distance),
    "nullspace": ("E4", run_nullspace),
    "spanning": ("E5", run_spanning),
    "vector-equivalence": ("E6", run_vector_equivalence),
    "multi-env": ("E7", run_multi_env),
}
EXPERIMENT_NAMES = tuple(EXPERIMENTS)


def run_experiment(
    name: str,
    model: Any,
    layer: int | None = None,
    seed: int = 0,
    plus: Any = (),
    minus: Any = (),
    setup: Setup | None = None,
) -> ExperimentResult:
    """Experiment ``name`` (one of EXPERIMENT_NAMES) on ``model`` (trained zoo, planted zoo,
    checkpoint directory) at ``layer`` (default L/2), from ``seed``; ``setup`` reuses a set-up."""
    name = as_choice("name", name, EXPERIMENT_NAMES)
    if setup is None:
        setup = make_setup(model, layer, seed, plus=plus, minus=minus)
    return EXPERIMENTS[name][1](setup)
