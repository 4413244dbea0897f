"""Benchmark: the T3 engine on checkpoints of real model shapes, loaded the way a user loads one.

Shapes (random init, float64, written by ``save_checkpoint`` and read by ``load_checkpoint``):

    gpt2-small  d 768, 12 layers, 12 heads, d_mlp 3072, V 50257 (tied), 1024 positions
    llama-768   d 768, 12 layers, 12 query / 4 key-value heads, SwiGLU 2048, V 32000 (untied)

For each: the logits-channel spectrum at layer 6 over N T = 64 positions (8 prompts of 8 tokens).
Each measurement runs in a fresh subprocess (peak RSS = that process's ``ru_maxrss``): checkpoint
load time and peak memory against the file size (goal: peak <= 2x); the engine's wall time (with
compilation) and steady time (a second call), its counted FLOPs over a float64 matmul rate measured
in the same process (the FLOP floor; goal <= 2x), and its peak RSS (goal <= 4 GiB). The naive method
(``jax.jacfwd`` of all N T V logits, then a dense SVD) would need N T V d 8 bytes for the Jacobian
alone; it is not run at full V, but at the largest V whose Jacobian fits in a quarter of the
available memory, same model otherwise, beside the engine at that V.

Usage: ``python bench/checkpoint_scale.py [--family gpt2-small|llama-768|all] [--quick]``;
results in ``bench/results/checkpoint_scale.{json,md}`` (git-ignored).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SHAPES = {
    "gpt2-small": dict(
        family="gpt2", d_model=768, n_layers=12, n_heads=12, d_mlp=3072, vocab_size=50257,
        n_ctx=1024,
    ),
    "llama-768": dict(
        family="llama", d_model=768, n_layers=12, n_heads=12, n_kv_heads=4, d_mlp=2048,
        vocab_size=32000, n_ctx=1024,
    ),
}  # fmt: skip
QUICK = dict(d_model=128, n_layers=4, n_heads=4, d_mlp=256, vocab_size=2048, n_ctx=64)
N, T, LAYER = 8, 8, 6


def _fisher():
    spec = importlib.util.spec_from_file_location("fisher", HERE / "fisher.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shape(name: str, quick: bool) -> dict:
    shape = dict(SHAPES[name])
    if quick:
        shape.update(QUICK, n_kv_heads=2 if shape["family"] == "llama" else None)
        shape = {k: v for k, v in shape.items() if v is not None}
    return shape


def write(name: str, quick: bool, directory: Path, vocab: int | None = None) -> dict:
    import jax

    from synthetic.checkpoint import save_checkpoint
    from synthetic.transformer import Transformer, TransformerConfig, init_params

    shape = _shape(name, quick)
    if vocab is not None:
        shape["vocab_size"] = vocab
    cfg = TransformerConfig(**shape)
    t = time.perf_counter()
    model = Transformer(cfg, init_params(cfg, jax.random.key(0)))
    save_checkpoint(model, directory)
    size = (directory / "model.safetensors").stat().st_size
    return {"write_s": time.perf_counter() - t, "file_mb": size / 2**20}


def load(directory: Path) -> dict:
    fisher = _fisher()
    base = fisher._rss_mb()
    t = time.perf_counter()
    from synthetic.checkpoint import load_checkpoint

    model = load_checkpoint(directory)
    seconds = time.perf_counter() - t
    return {
        "load_s": seconds,
        "load_peak_rss_mb": fisher._rss_mb(),
        "load_above_baseline_mb": fisher._rss_mb() - base,
        "n_layers": model.cfg.n_layers,
    }


def engine(directory: Path, out: Path | None = None) -> dict:
    import numpy as np

    from synthetic.checkpoint import load_checkpoint
    from synthetic.local_problems import transformer_problem
    from theory.jacobian import EngineOptions, local_spectrum

    fisher = _fisher()
    model = load_checkpoint(directory)
    layer = min(LAYER, model.cfg.n_layers)
    tokens = np.random.default_rng(0).integers(0, model.cfg.vocab_size, size=(N, T))
    problem = transformer_problem(model.cfg, model.params, tokens, layer)
    v = np.random.default_rng(1).standard_normal(model.cfg.d_model)
    options = EngineOptions(direction_chunk=64)
    base = fisher._rss_mb()
    t = time.perf_counter()
    spec = local_spectrum(problem, v, "logits", options=options)
    wall = time.perf_counter() - t
    t = time.perf_counter()
    spec = local_spectrum(problem, v, "logits", options=options)
    steady = time.perf_counter() - t
    peak = fisher._rss_mb()
    flops, tangent = fisher._engine_flops(problem, v, options)
    rate = fisher._matmul_rate()
    if out is not None:
        np.save(out, np.asarray(spec.singular_values[: model.cfg.d_model]))
    return {
        "layer": layer,
        "wall_s": wall,
        "steady_s": steady,
        "rank": spec.rank,
        "certified": spec.certified,
        "peak_rss_mb": peak,
        "above_model_mb": peak - base,
        "flops": flops,
        "matmul_flops_per_s": rate,
        "flop_floor_s": flops / rate,
        "over_flop_floor": steady / (flops / rate),
    }


def naive(directory: Path, out: Path) -> dict:
    """The naive way on the same problem as ``engine``: ``jax.jacfwd`` of all N T V logits
    (``theory.jacobian_dense``), then a dense SVD."""
    import numpy as np
    import scipy.linalg

    from synthetic.checkpoint import load_checkpoint
    from synthetic.local_problems import transformer_problem
    from theory.jacobian_dense import dense_jacobian

    fisher = _fisher()
    model = load_checkpoint(directory)
    layer = min(LAYER, model.cfg.n_layers)
    tokens = np.random.default_rng(0).integers(0, model.cfg.vocab_size, size=(N, T))
    problem = transformer_problem(model.cfg, model.params, tokens, layer)
    v = np.random.default_rng(1).standard_normal(model.cfg.d_model)
    base = fisher._rss_mb()
    t = time.perf_counter()
    dense = dense_jacobian(problem, v, "logits")
    jacobian_s = time.perf_counter() - t
    rows = int(dense.shape[0])
    s = scipy.linalg.svd(
        dense, compute_uv=False, overwrite_a=True, check_finite=False, lapack_driver="gesdd"
    )
    wall = time.perf_counter() - t
    np.save(out, s)
    return {
        "layer": layer,
        "wall_s": wall,
        "jacobian_s": jacobian_s,
        "rows": rows,
        "peak_rss_mb": fisher._rss_mb(),
        "above_model_mb": fisher._rss_mb() - base,
    }


def largest_naive_vocab(d: int) -> int:
    """The largest V whose dense (N T V, d) float64 Jacobian fits in a quarter of the available
    memory (the naive way's peak is about 2.5 times the Jacobian, plus the tangents)."""
    available = _fisher()._mem_available_mb() * 2**20
    return int(0.25 * available // (N * T * d * 8))


def _subprocess(job: str, *args: str) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, __file__, "--job", job, *args], env=env, capture_output=True, text=True
    )
    if run.returncode:
        raise RuntimeError(f"{job} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def naive_bytes(d: int, V: int) -> float:
    """The dense Jacobian alone: N T V rows of d float64."""
    return N * T * V * d * 8.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--family", default="gpt2-small", choices=[*SHAPES, "all"])
    p.add_argument("--quick", action="store_true", help="a small shape, to try the script")
    p.add_argument("--job", help=argparse.SUPPRESS)
    p.add_argument("--dir", help=argparse.SUPPRESS)
    p.add_argument("--name", help=argparse.SUPPRESS)
    p.add_argument("--vocab", type=int, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--no-naive", action="store_true", help="skip the naive run at reduced V")
    args = p.parse_args(argv)
    if args.job:  # worker side: one measurement, one JSON line
        directory = Path(args.dir)
        jobs = {
            "write": lambda: write(args.name, args.quick, directory, args.vocab),
            "load": lambda: load(directory),
            "engine": lambda: engine(directory, Path(args.out) if args.out else None),
            "naive": lambda: naive(directory, Path(args.out)),
        }
        job = jobs[args.job]
        print(json.dumps(job()))
        return 0
    names = list(SHAPES) if args.family == "all" else [args.family]
    quick = ["--quick"] if args.quick else []
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        shape = _shape(name, args.quick)
        with tempfile.TemporaryDirectory() as tmp:
            row = {"name": name, "shape": shape}
            print(f"{name}: writing the checkpoint", file=sys.stderr)
            row.update(_subprocess("write", "--dir", tmp, "--name", name, *quick))
            print(f"{name}: loading it", file=sys.stderr)
            row.update(_subprocess("load", "--dir", tmp))
            print(f"{name}: the engine at layer {LAYER}, N T = {N * T}", file=sys.stderr)
            row["engine"] = _subprocess("engine", "--dir", tmp)
        row["naive_jacobian_gb"] = naive_bytes(shape["d_model"], shape["vocab_size"]) / 1e9
        if not args.no_naive:
            vocab = min(largest_naive_vocab(shape["d_model"]), shape["vocab_size"])
            with tempfile.TemporaryDirectory() as tmp:
                print(f"{name}: naive and engine at V = {vocab}", file=sys.stderr)
                _subprocess("write", "--dir", tmp, "--name", name, "--vocab", str(vocab), *quick)
                sv_n, sv_e = Path(tmp) / "sv_naive.npy", Path(tmp) / "sv_engine.npy"
                cmp = {"vocab": vocab, "jacobian_gb": naive_bytes(shape["d_model"], vocab) / 1e9}
                cmp["naive"] = _subprocess("naive", "--dir", tmp, "--out", str(sv_n))
                cmp["engine"] = _subprocess("engine", "--dir", tmp, "--out", str(sv_e))
                import numpy as np

                a, b = np.load(sv_n), np.load(sv_e)
                k = min(len(a), len(b))
                cmp["max_rel_sv_difference"] = float(np.max(np.abs(a[:k] - b[:k])) / a[0])
            row["naive_at_reduced_v"] = cmp
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    (RESULTS / "checkpoint_scale.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "| shape | file MiB | load s | load RSS above interpreter MiB (x file) | engine wall s | "
        "steady s | "
        "FLOP floor s | steady / floor | engine peak RSS MiB | naive Jacobian GB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        e = r["engine"]
        lines.append(
            f"| {r['name']} | {r['file_mb']:.0f} | {r['load_s']:.1f} | "
            f"{r['load_above_baseline_mb']:.0f} "
            f"({r['load_above_baseline_mb'] / r['file_mb']:.2f}) | {e['wall_s']:.1f} | "
            f"{e['steady_s']:.1f} "
            f"| {e['flop_floor_s']:.1f} | {e['over_flop_floor']:.2f} | {e['peak_rss_mb']:.0f} | "
            f"{r['naive_jacobian_gb']:.1f} |"
        )
    naive_rows = [r for r in rows if "naive_at_reduced_v" in r]
    if naive_rows:
        lines += [
            "",
            "Naive (jax.jacfwd of every logit, dense SVD) beside the engine, same model at the "
            "largest V whose Jacobian fits in a quarter of the available memory:",
            "",
            "| shape | V | Jacobian GB | naive wall s | naive peak RSS MiB | engine wall s | "
            "engine steady s | engine peak RSS MiB | naive / engine steady | max s.v. diff / s_1 |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in naive_rows:
            c = r["naive_at_reduced_v"]
            nv, en = c["naive"], c["engine"]
            lines.append(
                f"| {r['name']} | {c['vocab']} | {c['jacobian_gb']:.1f} | {nv['wall_s']:.1f} | "
                f"{nv['peak_rss_mb']:.0f} | {en['wall_s']:.1f} | {en['steady_s']:.1f} | "
                f"{en['peak_rss_mb']:.0f} | {nv['wall_s'] / en['steady_s']:.1f} | "
                f"{c['max_rel_sv_difference']:.1e} |"
            )
    (RESULTS / "checkpoint_scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
