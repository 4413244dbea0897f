"""T2a/T2b on the toy transformers: LayerNorm models are blind to v -> v + c 1 at every layer and
channel, and over two or more positions that is their whole logits-channel null space; RMSNorm
models have none. Each norm is also (almost: up to its eps) blind to rescaling its own input, but
that direction is the stream itself, different at every position: with one position it shows as a
near-zero singular value, with two it is gone."""

from __future__ import annotations

import numpy as np

from synthetic.local_problems import local_problem, steered_behaviour, steering_vector
from synthetic.zoo import load_model, make_prompts
from theory.certificate import Certificate, Verdict
from theory.jacobian import CHANNELS, local_spectrum

from ..registry import NUMERIC, check

SHIFT = 5.0  # c in v -> v + c 1


def shift_differences(name: str, seed: int) -> dict[str, float]:
    """max over layers of |B(v + c 1) - B(v)| / |B(v) - B(0)|, per channel, by running the model."""
    model = load_model(name, seed)
    prompts = make_prompts(model, 4, 6, seed)
    v = steering_vector(model, seed)
    ones = np.ones(model.cfg.d_model)
    out = {}
    for channel in CHANNELS:
        worst = 0.0
        for layer in range(model.cfg.n_layers + 1):
            b_v = steered_behaviour(model, layer, prompts, v, channel, alphas=(1.0, 2.0))
            b_s = steered_behaviour(
                model, layer, prompts, v + SHIFT * ones, channel, alphas=(1.0, 2.0)
            )
            b_0 = steered_behaviour(model, layer, prompts, 0 * v, channel, alphas=(1.0, 2.0))
            worst = max(worst, float(np.linalg.norm(b_s - b_v) / np.linalg.norm(b_v - b_0)))
        out[channel] = worst
    return out


def logits_null_spaces(name: str, seed: int) -> dict[str, dict]:
    """Logits-channel spectra at layer 1 for one prompt of one position and of two positions."""
    model = load_model(name, seed)
    v = steering_vector(model, seed)
    d = model.cfg.d_model
    ones = np.ones(d) / np.sqrt(d)
    out = {}
    for T in (1, 2, 6):
        spec = local_spectrum(
            local_problem(model, 1, prompts=make_prompts(model, 1, T, seed)), v, "logits"
        )
        s = spec.singular_values
        nonzero = s[: spec.rank]
        out[f"T={T}"] = {
            "null_dim": spec.null_dim,
            "certified": spec.certified,
            "ones_in_null_space": float(np.linalg.norm(spec.null_basis.T @ ones))
            if spec.null_dim
            else 0.0,
            "smallest_nonzero_relative": float(nonzero[-1] / s[0]) if nonzero.size else 0.0,
            "null_basis": spec.null_basis,
        }
    return out


def rescaling_gone(spaces: dict) -> bool:
    """The norm's rescaling direction (the stream at the one position) is nearly null with one
    position (up to the norm's eps) and gone with two: the smallest nonzero singular value grows
    more than a hundredfold."""
    one, two = (
        spaces["T=1"]["smallest_nonzero_relative"],
        spaces["T=2"]["smallest_nonzero_relative"],
    )
    return one < 1e-3 and two > 100 * one


T2A_CLAIM = "LayerNorm model: B(v + c1) = B(v) at every layer and channel; logits null space = span(1) over >= 2 positions"


@check(
    "T2a", NUMERIC, "tiny-ln: v + 5*1 steers like v at every layer and channel; null space span(1)"
)
def numeric_t2a(seed: int = 0) -> Certificate:
    diffs = shift_differences("tiny-ln", seed)
    spaces = logits_null_spaces("tiny-ln", seed)
    two, six = spaces["T=2"], spaces["T=6"]
    invariant = max(diffs.values()) <= 1e-12
    span_one = all(
        sp["null_dim"] == 1 and sp["certified"] and abs(sp["ones_in_null_space"] - 1) <= 1e-10
        for sp in (two, six)
    )
    ok = invariant and span_one and rescaling_gone(spaces)
    return Certificate(
        theorem="T2a",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim=T2A_CLAIM,
        dim=two["null_dim"],
        margin=max(diffs.values()),
        tolerance=1e-12,
        witness={"shift_direction": np.ones(32), "null_basis_two_positions": two["null_basis"]},
        details={
            "max_relative_change_per_channel": diffs,
            **{
                f"{k}_{f}": val[f]
                for k, val in spaces.items()
                for f in ("null_dim", "ones_in_null_space", "smallest_nonzero_relative")
            },
        },
    )


T2B_CLAIM = "RMSNorm model: B(v + c1) != B(v); logits null space {0} over >= 2 positions"


@check("T2b", NUMERIC, "tiny-rms: v + 5*1 steers differently (re-run), logits null space {0}")
def numeric_t2b(seed: int = 0) -> Certificate:
    diffs = shift_differences("tiny-rms", seed)
    spaces = logits_null_spaces("tiny-rms", seed)
    differs = min(diffs.values()) > 1e-3
    trivial = all(spaces[k]["null_dim"] == 0 and spaces[k]["certified"] for k in ("T=2", "T=6"))
    ok = differs and trivial and rescaling_gone(spaces)
    return Certificate(
        theorem="T2b",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim=T2B_CLAIM,
        dim=spaces["T=2"]["null_dim"],
        margin=min(diffs.values()),
        witness={"shift_direction": np.ones(32)},
        details={
            "min_relative_change_per_channel": diffs,
            **{
                f"{k}_{f}": val[f]
                for k, val in spaces.items()
                for f in ("null_dim", "smallest_nonzero_relative")
            },
        },
    )
