"""T2a/T2b on the toy transformers: LayerNorm models are blind to v -> v + c 1 at every layer and
channel, and over two or more positions that is their whole logits-channel null space; RMSNorm
models have none. Each norm is also (almost: up to its eps) blind to rescaling its own input, but
that direction is the stream itself, different at every position: with one position it shows as a
near-zero singular value, with two it is gone."""

from __future__ import annotations

import tempfile
from typing import Any

import jax
import numpy as np

from synthetic.checkpoint import save_checkpoint
from synthetic.local_problems import local_problem, steered_behaviour, steering_vector
from synthetic.trait_model import TraitModel
from synthetic.transformer import Transformer, TransformerConfig, init_params
from synthetic.zoo import load_model, make_prompts, resolve_model
from theory.certificate import Certificate, Verdict
from theory.jacobian import CHANNELS, local_spectrum
from theory.norm_symmetry import check_t2a, check_t2b, ones_overlap, shift_change

from ..registry import NUMERIC, check

SHIFT = 5.0  # c in v -> v + c 1


def shift_runs(name: Any, seed: int) -> tuple[dict, np.ndarray]:
    """Behaviour maps v -> B(v) of model ``name`` (a zoo name or a TraitModel; 4 prompts of 6
    tokens, alpha in {1, 2}), one per hook point and channel, each running the whole model; and the
    steering vector v."""
    model = resolve_model(name, seed)
    prompts = make_prompts(model, 4, 6, seed)
    runs = {
        f"layer {layer} {channel}": (
            lambda x, layer=layer, channel=channel: steered_behaviour(
                model, layer, prompts, x, channel, alphas=(1.0, 2.0)
            )
        )
        for channel in CHANNELS
        for layer in range(model.cfg.n_layers + 1)
    }
    return runs, steering_vector(model, seed)


def shift_differences(name: str, seed: int) -> dict[str, float]:
    """max over layers of |B(v + c 1) - B(v)| / |B(v) - B(0)|, per channel, by running the model."""
    runs, v = shift_runs(name, seed)
    out: dict[str, float] = {}
    for key, run in runs.items():
        channel = key.split()[-1]
        out[channel] = max(out.get(channel, 0.0), shift_change(run, v, SHIFT))
    return out


def logits_null_spaces(name: Any, seed: int) -> dict[str, dict]:
    """Logits-channel spectra at layer 1 for one prompt of one, two and six positions."""
    model = resolve_model(name, seed)
    v = steering_vector(model, seed)
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
            "ones_in_null_space": ones_overlap(spec.null_basis),
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


def _with_spectra(cert: Certificate, ok: bool, spaces: dict, claim: str) -> Certificate:
    """The re-run shift certificate, narrowed by the null-space evidence: the verdict holds only if
    both hold; a spectrum that is not certified leaves it undecided."""
    certified = all(sp["certified"] for sp in spaces.values())
    verdict = cert.verdict
    if verdict is Verdict.HOLDS and not ok:
        verdict = Verdict.VIOLATED
    if not certified:
        verdict = Verdict.UNDECIDED
    flat = {
        f"{k}_{f}": val[f]
        for k, val in spaces.items()
        for f in ("null_dim", "ones_in_null_space", "smallest_nonzero_relative")
    }
    return cert.replace(
        verdict=verdict,
        claim=claim,
        dim=spaces["T=2"]["null_dim"],
        witness={**cert.witness, "null_basis_two_positions": spaces["T=2"]["null_basis"]},
        details={**cert.details, **flat},
    )


T2A_CLAIM = (
    "LayerNorm model: B(v + c1) = B(v) at every layer and channel; "
    "logits null space = span(1) over >= 2 positions"
)


@check(
    "T2a", NUMERIC, "tiny-ln: v + 5*1 steers like v at every layer and channel; null space span(1)"
)
def numeric_t2a(seed: int = 0) -> Certificate:
    return _t2a_on("tiny-ln", seed)


def _t2a_on(model: Any, seed: int) -> Certificate:
    runs, v = shift_runs(model, seed)
    spaces = logits_null_spaces(model, seed)
    span_one = all(
        sp["null_dim"] == 1 and abs(sp["ones_in_null_space"] - 1) <= 1e-10
        for sp in (spaces["T=2"], spaces["T=6"])
    )
    ok = span_one and rescaling_gone(spaces)
    return _with_spectra(check_t2a(runs, v, SHIFT), ok, spaces, T2A_CLAIM)


T2B_CLAIM = "RMSNorm model: B(v + c1) != B(v); logits null space {0} over >= 2 positions"


@check("T2b", NUMERIC, "tiny-rms: v + 5*1 steers differently (re-run), logits null space {0}")
def numeric_t2b(seed: int = 0) -> Certificate:
    return _t2b_on("tiny-rms", seed)


def _t2b_on(model: Any, seed: int) -> Certificate:
    runs, v = shift_runs(model, seed)
    spaces = logits_null_spaces(model, seed)
    ok = all(spaces[k]["null_dim"] == 0 for k in ("T=2", "T=6")) and rescaling_gone(spaces)
    return _with_spectra(check_t2b(runs, v, SHIFT), ok, spaces, T2B_CLAIM)


# The same statements about the model families: a random-init checkpoint of each family, written by
# save_checkpoint and read back (so the loader is part of what is checked), with trait sets S+ =
# {0, 1, 2} and S- = {3, 4, 5}.
FAMILY_SHAPE: dict[str, Any] = dict(
    d_model=32, n_layers=2, n_heads=4, d_mlp=64, vocab_size=64, n_ctx=16
)


def family_checkpoint(family: str, seed: int) -> TraitModel:
    """A random-init ``family`` model (FAMILY_SHAPE; 2 key/value heads for llama and qwen2) saved
    as a Hugging Face checkpoint and loaded back as a TraitModel."""
    kv: dict[str, Any] = {} if family == "gpt2" else {"n_kv_heads": 2}
    cfg = TransformerConfig(**FAMILY_SHAPE, family=family, **kv)
    model = Transformer(cfg, init_params(cfg, jax.random.key(seed)))
    with tempfile.TemporaryDirectory() as tmp:
        save_checkpoint(model, tmp)
        loaded = load_model(tmp, seed, plus=(0, 1, 2), minus=(3, 4, 5))
    return TraitModel(
        f"random {family} checkpoint", loaded.cfg, loaded.params, loaded.plus, loaded.minus, seed
    )


@check("T2a", NUMERIC, "gpt2 checkpoint (random init): v + 5*1 steers like v; null space span(1)")
def numeric_t2a_gpt2(seed: int = 0) -> Certificate:
    return _t2a_on(family_checkpoint("gpt2", seed), seed)


@check("T2b", NUMERIC, "llama checkpoint (random init): v + 5*1 steers differently; null space {0}")
def numeric_t2b_llama(seed: int = 0) -> Certificate:
    return _t2b_on(family_checkpoint("llama", seed), seed)


@check("T2b", NUMERIC, "qwen2 checkpoint (random init): v + 5*1 steers differently; null space {0}")
def numeric_t2b_qwen2(seed: int = 0) -> Certificate:
    return _t2b_on(family_checkpoint("qwen2", seed), seed)
