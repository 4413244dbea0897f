"""Checkpoints of the gpt2, llama and qwen2 families: the forward equals transformers' on committed
fixtures (float64, <= 1e-10 relative), steered and unsteered; save/load round trips; every bad
checkpoint is a CheckpointError naming the file and the key or tensor."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jax
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from synthetic.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_tokenizer,
    prompt_token_ids,
    save_checkpoint,
    tensor_names,
    trait_token_ids,
)
from synthetic.transformer import Transformer, TransformerConfig, init_params
from synthetic.zoo import load_model
from theory.steering import Steering

FIXTURES = Path(__file__).parent / "fixtures" / "checkpoints"
FAMILIES = ("gpt2", "llama", "qwen2")
PARITY = 1e-10  # relative: max |ours - reference| / max |reference|


def relative_error(ours, reference) -> float:
    return float(np.abs(np.asarray(ours) - reference).max() / np.abs(reference).max())


@pytest.fixture(scope="module", params=FAMILIES)
def family(request):
    directory = FIXTURES / request.param
    return request.param, load_checkpoint(directory), dict(np.load(directory / "reference.npz"))


def test_unsteered_logits_match_transformers(family):
    name, model, ref = family
    assert model.cfg.family == name
    assert relative_error(model(ref["tokens"]), ref["logits"]) <= PARITY


def test_steering_at_every_layer_matches_a_pre_hook_on_that_block(family):
    """Steering(l, v, alpha) = adding alpha v to the input of decoder block l (l = L: final
    norm)."""
    _, model, ref = family
    v, alpha = ref["steer_vector"], float(ref["steer_alpha"])
    for l in range(model.cfg.n_layers + 1):
        z = model(ref["tokens"], Steering(l, v, alpha))
        assert relative_error(z, ref[f"steered_logits_l{l}"]) <= PARITY, l
        # and the steering really moved the logits, so the comparison is not vacuous
        assert relative_error(ref[f"steered_logits_l{l}"], ref["logits"]) > 1e-3


def test_steering_on_some_positions_matches_the_masked_pre_hook(family):
    _, model, ref = family
    z = model(ref["tokens"], Steering(1, ref["steer_vector"], float(ref["steer_alpha"]), (2, 5)))
    assert relative_error(z, ref["steered_positions_logits"]) <= PARITY


@pytest.mark.parametrize("name", ["llama", "qwen2"])
def test_transformers_float32_casts_are_what_limits_the_unmodified_reference(name):
    """transformers' Llama/Qwen2 compute RMSNorm and the rotary angles in float32 even in a float64
    model: its unmodified output differs from the float64 forward at the float32 level, not more."""
    model = load_checkpoint(FIXTURES / name)
    ref = np.load(FIXTURES / name / "reference.npz")
    err = relative_error(model(ref["tokens"]), ref["logits_float32_casts"])
    assert 1e-10 < err < 1e-5


def test_family_options_read_from_the_config():
    gpt2 = load_checkpoint(FIXTURES / "gpt2").cfg
    assert (gpt2.norm, gpt2.activation, gpt2.tie_embeddings) == ("layernorm", "gelu_new", True)
    llama = load_checkpoint(FIXTURES / "llama").cfg
    assert (llama.norm, llama.n_heads, llama.n_kv_heads, llama.tie_embeddings) == (
        "rmsnorm",
        4,
        2,
        False,
    )
    qwen2 = load_checkpoint(FIXTURES / "qwen2").cfg
    assert qwen2.rope_theta == 1e6 and qwen2.tie_embeddings
    assert "b" in load_checkpoint(FIXTURES / "qwen2").params["blocks"][0]["attn"]["q"]


@pytest.mark.parametrize(
    "cfg",
    [
        TransformerConfig(16, 2, 4, 24, 40, 12, family="gpt2"),
        TransformerConfig(
            16, 2, 4, 24, 40, 12, family="gpt2", activation="gelu", tie_embeddings=False
        ),
        TransformerConfig(16, 2, 4, 24, 40, 12, family="llama", n_kv_heads=2),
        TransformerConfig(16, 1, 4, 24, 40, 12, family="llama", n_kv_heads=1, tie_embeddings=True),
        TransformerConfig(16, 2, 4, 24, 40, 12, family="qwen2", n_kv_heads=4, rope_theta=1e6),
    ],
    ids=["gpt2", "gpt2-untied-erf", "llama", "llama-mqa-tied", "qwen2-mha"],
)
def test_save_then_load_is_the_same_model(cfg, tmp_path):
    model = Transformer(cfg, init_params(cfg, jax.random.key(3)))
    back = load_checkpoint(save_checkpoint(model, tmp_path / "ckpt"))
    assert back.cfg == cfg
    leaves = jax.tree_util.tree_leaves(model.params)
    assert all(np.array_equal(a, b) for a, b in zip(leaves, jax.tree_util.tree_leaves(back.params)))
    tokens = np.arange(10) % cfg.vocab_size
    np.testing.assert_array_equal(back(tokens), model(tokens))


def test_a_toy_layernorm_model_saves_as_gpt2_with_erf_gelu(tmp_path):
    zoo = load_model("tiny-ln")
    back = load_checkpoint(save_checkpoint(zoo, tmp_path / "tiny"))
    assert back.cfg.family == "gpt2" and back.cfg.activation == "gelu"
    tokens = np.arange(12)
    np.testing.assert_array_equal(back(tokens), zoo(tokens))


def test_a_toy_rmsnorm_model_has_no_family_to_save_as(tmp_path):
    with pytest.raises(ValueError, match="rmsnorm"):
        save_checkpoint(load_model("tiny-rms"), tmp_path / "x")


def test_tokenizer_turns_words_into_trait_token_ids():
    tok = load_tokenizer(FIXTURES / "gpt2")
    assert tok is not None and tok.get_vocab_size() == 40
    ids = trait_token_ids(FIXTURES / "gpt2", "plus", ["good", "happy"])
    assert [tok.id_to_token(i) for i in ids] == ["good", "happy"]
    assert trait_token_ids(FIXTURES / "gpt2", "plus", [3, 4]) == (3, 4)
    assert load_tokenizer(FIXTURES / "llama") is None
    with pytest.raises(ValueError, match="no tokenizer.json"):
        trait_token_ids(FIXTURES / "llama", "plus", ["good"])
    with pytest.raises(ValueError, match="not one"):
        trait_token_ids(FIXTURES / "gpt2", "minus", ["good bad"])


def test_tensor_names_cover_every_parameter_once():
    for name in FAMILIES:
        cfg = load_checkpoint(FIXTURES / name).cfg
        names = [n for _, n, _ in tensor_names(cfg)]
        stored = load_file(FIXTURES / name / "model.safetensors")
        assert len(set(names)) == len(names)
        assert set(names) == set(stored) - {"lm_head.weight"} or set(names) == set(stored)


def test_sharded_checkpoint_loads_like_the_single_file(tmp_path):
    directory = tmp_path / "sharded"
    shutil.copytree(FIXTURES / "llama", directory)
    tensors = load_file(directory / "model.safetensors")
    (directory / "model.safetensors").unlink()
    names = sorted(tensors)
    shards = {
        "model-00001-of-00002.safetensors": names[::2],
        "model-00002-of-00002.safetensors": names[1::2],
    }
    weight_map = {}
    for file, part in shards.items():
        save_file({n: tensors[n] for n in part}, directory / file)
        weight_map.update({n: file for n in part})
    (directory / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    ref = np.load(directory / "reference.npz")
    assert relative_error(load_checkpoint(directory)(ref["tokens"]), ref["logits"]) <= PARITY


# ---------------------------------------------------------------------------------------------
# bad checkpoints: each a CheckpointError (a ValueError) naming the file and the key or tensor


def _copy(tmp_path, family="llama") -> Path:
    directory = tmp_path / family
    shutil.copytree(FIXTURES / family, directory)
    return directory


def _edit_config(directory: Path, **changes) -> None:
    config = json.loads((directory / "config.json").read_text())
    config.update(changes)
    (directory / "config.json").write_text(json.dumps(config))


def _edit_tensors(directory: Path, edit) -> None:
    tensors = load_file(directory / "model.safetensors")
    edit(tensors)
    save_file(tensors, directory / "model.safetensors")


def _missing_config(d):
    (d / "config.json").unlink()


def _missing_weights(d):
    (d / "model.safetensors").unlink()


def _truncated(d):
    data = (d / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(data[: len(data) // 2])


def _corrupt_header(d):
    (d / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}xxxxxx")


def _bad_json(d):
    (d / "config.json").write_text("{model_type: llama")


BAD = {
    "missing config": (_missing_config, "config.json", "not found"),
    "missing weights": (_missing_weights, "model.safetensors", "missing"),
    "unknown model_type": (
        lambda d: _edit_config(d, model_type="mistral"),
        "config.json",
        "mistral",
    ),
    "config not json": (_bad_json, "config.json", "JSON"),
    "missing key": (lambda d: _edit_config(d, hidden_size=None), "config.json", "hidden_size"),
    "tensor missing": (
        lambda d: _edit_tensors(d, lambda t: t.pop("model.layers.1.mlp.up_proj.weight")),
        "model.layers.1.mlp.up_proj.weight",
        "missing",
    ),
    "tensor wrong shape": (
        lambda d: _edit_tensors(d, lambda t: t.update({"model.norm.weight": np.ones(17)})),
        "model.norm.weight",
        r"\(16,\)",
    ),
    "tensor unexpected": (
        lambda d: _edit_tensors(d, lambda t: t.update({"model.extra.weight": np.ones(3)})),
        "model.extra.weight",
        "not parameters",
    ),
    "non-finite weights": (
        lambda d: _edit_tensors(
            d, lambda t: t["model.layers.0.self_attn.q_proj.weight"].__setitem__((0, 0), np.nan)
        ),
        "q_proj",
        "NaN",
    ),
    "truncated safetensors": (_truncated, "model.safetensors", "safetensors"),
    "corrupt safetensors": (_corrupt_header, "model.safetensors", "safetensors"),
    "rope scaling": (
        lambda d: _edit_config(
            d, rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 1e4}
        ),
        "config.json",
        "linear",
    ),
    "attention bias on llama": (
        lambda d: _edit_config(d, attention_bias=True),
        "config.json",
        "attention_bias",
    ),
    "head_dim": (lambda d: _edit_config(d, head_dim=8), "config.json", "head_dim"),
    "one layer more than stored": (
        lambda d: _edit_config(d, num_hidden_layers=3),
        "config.json",
        "3 layers, but the weights hold no tensor of layer 2",
    ),
    # refused from the stored names, before 10^13 tensor names are listed (that ran out of memory)
    "10^12 layers": (
        lambda d: _edit_config(d, num_hidden_layers=10**12),
        "config.json",
        "1000000000000 layers",
    ),
    "kv heads do not divide": (
        lambda d: _edit_config(d, num_key_value_heads=3),
        "config.json",
        "n_kv_heads",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_checkpoint_is_named(case, tmp_path):
    make_bad, where, what = BAD[case]
    directory = _copy(tmp_path)
    make_bad(directory)
    with pytest.raises(CheckpointError, match=what) as err:
        load_checkpoint(directory)
    assert where in str(err.value)


def test_qwen2_sliding_window_and_gpt2_layer_scaling_are_refused(tmp_path):
    qwen = _copy(tmp_path, "qwen2")
    _edit_config(qwen, use_sliding_window=True)
    with pytest.raises(CheckpointError, match="use_sliding_window"):
        load_checkpoint(qwen)
    gpt = _copy(tmp_path, "gpt2")
    _edit_config(gpt, scale_attn_by_inverse_layer_idx=True)
    with pytest.raises(CheckpointError, match="scale_attn_by_inverse_layer_idx"):
        load_checkpoint(gpt)


def test_a_tied_checkpoint_whose_lm_head_differs_is_refused(tmp_path):
    directory = _copy(tmp_path, "qwen2")
    _edit_tensors(directory, lambda t: t.update({"lm_head.weight": np.ones((40, 16))}))
    with pytest.raises(CheckpointError, match="lm_head.weight"):
        load_checkpoint(directory)


def test_not_a_directory(tmp_path):
    with pytest.raises(CheckpointError, match="not a directory"):
        load_checkpoint(tmp_path / "nothing")
    with pytest.raises(ValueError, match="path"):
        load_checkpoint(3)


# ---------------------------------------------------------------------------------------------
# the CLI on checkpoint directories


@pytest.mark.parametrize("name, null_dim", [("gpt2", 1), ("llama", 0), ("qwen2", 0)])
def test_cli_local_on_a_checkpoint_reports_the_family_symmetry(name, null_dim, capsys):
    """LayerNorm's all-ones direction is the one local symmetry of the GPT-2 fixture's logits at
    layer 1; RMSNorm has none, so the Llama and Qwen2 classes are {0}."""
    from proofs_check.cli import main

    code = main(
        ["local", "--model", str(FIXTURES / name), "--layer", "1", "--channel", "logits", "--json"]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["verdict"] == "holds"
    assert payload["null_dim"] == null_dim
    assert payload["model"] == str(FIXTURES / name)


def test_cli_trait_channel_with_words_from_the_tokenizer(capsys):
    from proofs_check.cli import main

    args = ["local", "--model", str(FIXTURES / "gpt2"), "--layer", "1", "--json"]
    code = main([*args, "--plus", "good,happy,joy", "--minus", "bad,sad,fear"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["channel"] == "trait" and payload["rank"] >= 1


@pytest.mark.parametrize(
    "case", ["unknown model_type", "tensor wrong shape", "truncated safetensors"]
)
def test_cli_bad_checkpoint_is_one_line_and_exit_2(case, tmp_path):
    import subprocess
    import sys

    make_bad, where, _ = BAD[case]
    directory = _copy(tmp_path)
    make_bad(directory)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "proofs_check.cli",
            "local",
            "--model",
            str(directory),
            "--channel",
            "logits",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and where in lines[0]


def test_cli_trait_channel_without_token_sets_is_bad_input(capsys):
    from proofs_check.cli import main

    assert main(["local", "--model", str(FIXTURES / "llama"), "--layer", "1"]) == 2
    assert "plus" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["recover", "multi-env", "--layer", "1", "--envs", "2", "--channel", "logits"],
        ["recover", "cross-layer", "--layers", "0,1", "--channel", "logits", "--prompts", "2"],
    ],
    ids=["multi-env", "cross-layer"],
)
def test_cli_recover_runs_on_a_checkpoint(args, capsys):
    """T6 and T9 on the Llama fixture: RMSNorm has no symmetry, so over the logits channel the
    stacked environments (or layers) identify v: class {v}, dimension 0."""
    from proofs_check.cli import main

    code = main([*args, "--model", str(FIXTURES / "llama"), "--json"])
    payload = json.loads(capsys.readouterr().out)
    cert = payload["certificates"]["condition"]
    assert code == 0 and cert["model"] == str(FIXTURES / "llama")
    assert cert["verdict"] == "holds" and cert["dim"] == 0 and cert["d"] == 16


def test_prompts_given_as_text_are_the_tokenizers_ids():
    texts = ["the cat is very good", "a dog was not sad"]
    ids = prompt_token_ids(FIXTURES / "gpt2", texts)
    tok = load_tokenizer(FIXTURES / "gpt2")
    assert ids.shape == (2, 5) and ids.dtype == np.int64
    assert [" ".join(tok.id_to_token(int(i)) for i in row) for row in ids] == texts


@pytest.mark.parametrize(
    "directory, texts, message",
    [
        ("gpt2", ["the cat", "a dog was"], "different token lengths"),
        ("gpt2", [""], "no tokens"),
        ("gpt2", "the cat", "list of strings"),
        ("gpt2", [], "list of strings"),
        ("gpt2", ["the cat", 3], "must all be strings"),
        ("llama", ["the cat"], "no tokenizer.json"),
    ],
)
def test_bad_text_prompts_are_named(directory, texts, message):
    with pytest.raises(ValueError, match=message):
        prompt_token_ids(FIXTURES / directory, texts)


def test_cli_local_on_text_prompts_matches_the_same_token_ids(capsys):
    """`--text` prompts give the certificate of the token ids they encode to."""
    from proofs_check.cli import main
    from proofs_check.model_checks import local_certificate

    texts = ["the cat is very good", "a dog was not sad", "the sky was very dark"]
    args = ["local", "--model", str(FIXTURES / "gpt2"), "--layer", "1", "--channel", "logits"]
    code = main([*args, *[f"--text={t}" for t in texts], "--json"])
    payload = json.loads(capsys.readouterr().out)
    cert = local_certificate(FIXTURES / "gpt2", 1, "logits", texts=texts)
    assert code == 0 and payload["rank"] == cert.rank
    np.testing.assert_allclose(payload["singular_values"], cert.singular_values)
    assert main([*args, "--text", "the cat", "--text", "a dog was"]) == 2
    assert "different token lengths" in capsys.readouterr().err
    assert main(["local", "--model", "tiny-ln", "--text", "the cat"]) == 2
    assert "checkpoint directory" in capsys.readouterr().err
