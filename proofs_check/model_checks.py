"""Certificates of the theorems on zoo models, as ``steerid local|twin|recover`` report them.

Each function loads a model, builds its local problems (``synthetic``), runs the theorem's check
(``theory``) and, where the check names a common null direction, re-runs that witness through the
whole model (``theory.rerun.rerun_ratio``): the ratio becomes the certificate's ``residual``, held
to ``RERUN_LIMIT``; a witness that does not survive makes the verdict ``undecided``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from synthetic.cross_layer import (
    layer_problems,
    propagation_transfers,
    reverify_null_direction,
)
from synthetic.environments import environment_problems, reverify_environments
from synthetic.local_problems import steering_vector, zoo_local
from synthetic.zoo import make_prompts, resolve_model
from theory.certificate import Certificate, Verdict, min_margin, ratio_margin
from theory.cross_layer import check_t9
from theory.environments import check_t6_local
from theory.jacobian import CHANNELS
from theory.local import spectrum_certificate, twin_search
from theory.rerun import RERUN_LIMIT
from theory.validation import as_bool, as_choice, as_positive_int

NOT_SURVIVED = "the common null direction did not survive a re-run through the model"


def local_certificate(
    name: Any,
    layer: int,
    channel: str,
    n_prompts: int = 8,
    length: int = 8,
    seed: int = 0,
    tol: float | None = None,
    plus: Sequence[Any] = (),
    minus: Sequence[Any] = (),
    texts: Sequence[str] | None = None,
) -> Certificate:
    """``steerid local``: the T3 spectrum certificate (rank, null space, symmetries) of model
    ``name`` (zoo name, checkpoint directory or TraitModel) at ``layer`` for one channel."""
    channel = as_choice("channel", channel, CHANNELS)
    z = zoo_local(name, layer, n_prompts, length, seed, plus=plus, minus=minus, texts=texts)
    return spectrum_certificate(z.problem, z.vector, channel, tol=tol, seed=seed)


def twin_certificate(
    name: Any,
    layer: int,
    channel: str,
    n_prompts: int = 8,
    length: int = 8,
    seed: int = 0,
    target_cosine: float = 0.0,
    max_steps: int = 60,
    plus: Sequence[Any] = (),
    minus: Sequence[Any] = (),
    texts: Sequence[str] | None = None,
) -> Certificate:
    """``steerid twin``: a level-set walk from v to a far member of its class; the verdict is gated
    on the witness's re-run through the whole model (``forward`` with a ``Steering``)."""
    channel = as_choice("channel", channel, CHANNELS)
    z = zoo_local(name, layer, n_prompts, length, seed, plus=plus, minus=minus, texts=texts)
    return twin_search(
        z.problem,
        z.vector,
        channel,
        target_cosine=target_cosine,
        max_steps=max_steps,
        verify=z.verifier(channel),
    )


def gate_on_rerun(cert: Certificate, ratio: float, model: str) -> Certificate:
    """``cert`` with its witness's re-run ratio as ``residual`` (tolerance ``RERUN_LIMIT``); a ratio
    above the limit (or NaN) turns the verdict into ``undecided``."""
    survived = bool(ratio <= RERUN_LIMIT)
    rerun = ratio_margin(RERUN_LIMIT, ratio) if survived else 0.0
    return cert.replace(
        verdict=cert.verdict if survived else Verdict.UNDECIDED,
        margin=min_margin(cert.margin, rerun) if survived else cert.margin,
        residual=ratio,
        residual_tolerance=RERUN_LIMIT,
        model=model,
        reason=cert.reason if survived else NOT_SURVIVED,
    )


def cross_layer_certificate(
    name: str,
    layers: Sequence[int],
    channel: str,
    n_prompts: int = 4,
    seed: int = 0,
    propagate: bool = False,
    tol: float | None = None,
    alphas: Sequence[float] = (1.0, 2.0),
    length: int = 6,
    plus: Sequence[Any] = (),
    minus: Sequence[Any] = (),
) -> Certificate:
    """T9 for model ``name``: the concept-plus-noise vector v steered at ``layers`` (T_j = I,
    or the propagation Jacobians with ``propagate``); a common null direction, when found, is
    re-run through the whole model at every layer and the verdict gated on it."""
    model = resolve_model(name, seed, plus, minus)
    n_prompts = as_positive_int("n_prompts", n_prompts)
    propagate = as_bool("propagate", propagate)
    prompts = make_prompts(model, n_prompts, length, seed)
    problems = layer_problems(model, layers, prompts, alphas)
    layers = [int(p.meta["layer"]) for p in problems]
    v = steering_vector(model, seed)
    transfers = propagation_transfers(model, layers, prompts) if propagate else None
    cert = check_t9(problems, v, channel, transfers, tol).replace(model=model.name)
    if "common_null_direction" not in cert.witness:
        return cert
    u = np.asarray(cert.witness["common_null_direction"])
    ts = transfers if transfers is not None else [np.eye(v.size)] * len(layers)
    ratio = reverify_null_direction(model, layers, prompts, v, u, ts, channel, alphas, seed=seed)
    return gate_on_rerun(cert, ratio, model.name)


def environments_certificate(
    name: str,
    layer: int,
    n_envs: int,
    channel: str = "trait",
    n_prompts: int = 4,
    seed: int = 0,
    tol: float | None = None,
    n_families: int | None = None,
    plus: Sequence[Any] = (),
    minus: Sequence[Any] = (),
) -> Certificate:
    """T6 on model ``name``: v = steering_vector(model) observed in the first ``n_envs`` of
    ``n_families`` (default n_envs) token-family environments; a common null direction is re-run
    through the whole model in every environment and the verdict gated on it."""
    model = resolve_model(name, seed, plus, minus)
    problems = environment_problems(
        model, layer, n_envs, n_prompts, seed=seed, n_families=n_families
    )
    v = steering_vector(model, seed)
    cert = check_t6_local(problems, v, channel, tol).replace(model=model.name)
    if "common_null_direction" not in cert.witness:
        return cert
    u = np.asarray(cert.witness["common_null_direction"])
    return gate_on_rerun(
        cert, reverify_environments(model, problems, v, u, channel, seed=seed), model.name
    )
