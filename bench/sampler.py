"""Tokens per second of the jit-compiled sampler against transformers' ``generate`` on the same
model.

The model is ``trained-gpt2`` written with ``save_checkpoint`` and loaded by
``transformers.AutoModelForCausalLM`` (torch, float64 like the toolkit's analysis). Both sample
``--new`` tokens after a batch of the language's prompts at temperature 0.8, steered with the CAA
vector at layer L/2 (the toolkit: ``synthetic.sampler``; transformers: a forward pre-hook on block
L/2 adding v to the newest position, which with the key/value cache is the same intervention).
Compilation is timed apart; the steady time is the best of ``--reps`` runs. Without torch only the
toolkit's numbers are reported. Writes bench/results/sampler.md.

    python bench/sampler.py [--batch 8,128] [--new 9] [--reps 10]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from proofs_check.experiments.setup import make_setup
from synthetic.checkpoint import save_checkpoint
from synthetic.sampler import sample_continuations


def time_ours(setup, prompts, n_new, reps):
    v = setup.v
    run = lambda s: sample_continuations(setup.model, prompts, n_new, s, setup.layer, v, 1.0, 0.8)
    t0 = time.perf_counter()
    run(0)
    first = time.perf_counter() - t0
    best = min(_timed(lambda s=s: run(s)) for s in range(1, reps + 1))
    return first, best


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_transformers(setup, prompts, n_new, reps):
    import torch
    from transformers import AutoModelForCausalLM

    with tempfile.TemporaryDirectory() as tmp:
        save_checkpoint(setup.model, tmp)
        model = AutoModelForCausalLM.from_pretrained(tmp, torch_dtype=torch.float64).eval()
    v = torch.tensor(setup.v, dtype=torch.float64)

    def hook(module, args, kwargs):
        h = args[0] if args else kwargs["hidden_states"]
        h = h.clone()
        h[:, -1] += v
        if args:
            return (h, *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": h}

    model.transformer.h[setup.layer].register_forward_pre_hook(hook, with_kwargs=True)
    ids = torch.tensor(prompts)
    mask = torch.ones_like(ids)

    def run(seed):
        torch.manual_seed(seed)
        with torch.no_grad():
            model.generate(
                ids, attention_mask=mask, do_sample=True, temperature=0.8, top_k=0,
                max_new_tokens=n_new, min_new_tokens=n_new, pad_token_id=0,
            )  # fmt: skip

    t0 = time.perf_counter()
    run(0)
    first = time.perf_counter() - t0
    best = min(_timed(lambda s=s: run(s)) for s in range(1, reps + 1))
    return first, best, torch.__version__


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", default="8,128", help="comma-separated batch sizes")
    ap.add_argument("--new", type=int, default=9)
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    from synthetic.language import LANGUAGE

    setup = make_setup("trained-gpt2")
    lines = [
        "# Sampler: tokens per second",
        "",
        f"trained-gpt2 (d = 64, 4 layers), {args.new} new tokens after {LANGUAGE.prompt_end} "
        f"prompt tokens, steered at layer {setup.layer}, float64, temperature 0.8; "
        f"{platform.machine()}, best of {args.reps} runs after a first (compiling) call.",
        "",
        "| batch | sampler | first call (s) | steady (s) | tokens / s | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for batch in (int(b) for b in args.batch.split(",")):
        prompts = LANGUAGE.prompts(LANGUAGE.sample(batch, 77))
        tokens = batch * args.new
        first, best = time_ours(setup, prompts, args.new, args.reps)
        row = f"| {batch} | steerid (jit, cached, fori_loop) | {first:.2f} | {best:.4f} | "
        try:
            tf_first, tf_best, version = time_transformers(setup, prompts, args.new, args.reps)
        except ImportError:
            lines.append(row + f"{tokens / best:,.0f} | no baseline (torch not installed) |")
            continue
        lines.append(row + f"{tokens / best:,.0f} | {tf_best / best:.1f}x |")
        lines.append(
            f"| {batch} | transformers generate (torch {version}) | {tf_first:.2f} | "
            f"{tf_best:.4f} | {tokens / tf_best:,.0f} | 1 |"
        )
    text = "\n".join(lines) + "\n"
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "sampler.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
