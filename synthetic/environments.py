"""Environments for T6 on the toy transformers: prompt distributions over disjoint token families.

Environment e draws its prompts uniformly from the e-th of ``n_families`` disjoint slices of the
vocabulary (a seeded permutation), so each environment sees the model through different inputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from synthetic.local_problems import local_problem, steered_behaviour
from synthetic.trait_model import TraitModel
from theory.rerun import rerun_ratio
from theory.validation import InputError, as_int, as_positive_int


def family_prompts(
    model: TraitModel, family: int, n_families: int, n_prompts: int, length: int, seed: int = 0
) -> np.ndarray:
    """(n_prompts, length) token ids drawn from token family ``family`` of ``n_families``."""
    n_families = as_positive_int("n_families", n_families)
    V = model.cfg.vocab_size
    if n_families > V:
        raise InputError(f"n_families must be at most the vocabulary size {V}, got {n_families}")
    family = as_int("family", family, low=0, high=n_families - 1)
    n_prompts, length = as_positive_int("n_prompts", n_prompts), as_positive_int("length", length)
    if length > model.cfg.n_ctx:
        raise InputError(f"length must be at most n_ctx = {model.cfg.n_ctx}, got {length}")
    tokens = np.array_split(np.random.default_rng(seed).permutation(V), n_families)[family]
    return np.random.default_rng([seed, family]).choice(tokens, size=(n_prompts, length))


def environment_problems(
    model: TraitModel,
    layer: int,
    n_envs: int,
    n_prompts: int = 4,
    length: int = 6,
    seed: int = 0,
    alphas: Sequence[float] = (1.0, 2.0),
    n_families: int | None = None,
) -> list:
    """One LocalProblem per environment (token family), same model, layer and strengths."""
    n_envs = as_positive_int("n_envs", n_envs)
    n_families = n_envs if n_families is None else n_families
    out = []
    for e in range(n_envs):
        p = local_problem(
            model,
            layer,
            prompts=family_prompts(model, e, n_families, n_prompts, length, seed),
            alphas=alphas,
        )
        out.append(
            dataclasses.replace(
                p, meta={**p.meta, "environment": e, "n_families": n_families, "seed": seed}
            )
        )
    return out


def reverify_environments(
    model: TraitModel,
    problems: Sequence,
    v: np.ndarray,
    u: np.ndarray,
    channel: str,
    eps: float = 1e-4,
    seed: int = 0,
) -> float:
    """``rerun_ratio`` over the environments: B_e runs the whole model on environment e's
    prompts."""
    runs = []
    for p in problems:
        prompts = family_prompts(
            model,
            p.meta["environment"],
            p.meta["n_families"],
            p.n_prompts,
            p.length,
            p.meta["seed"],
        )
        runs.append(
            lambda x, p=p, prompts=prompts: steered_behaviour(
                model, p.meta["layer"], prompts, x, channel, p.alphas
            )
        )
    return rerun_ratio(runs, v, u, eps, seed)
