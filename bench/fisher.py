"""Benchmark: the T3 Jacobian engine against the naive dense Jacobian, in the same run.

Naive: ``jax.jacfwd`` of the flattened logits (N T V numbers) over all d directions at once, then a
dense SVD of the (N T V) x d matrix (scipy gesdd, singular values only, overwriting its copy).
Engine: ``theory.jacobian.local_spectrum(problem, v, "logits")`` (forward-mode tangents in chunks of
prompts and directions, thin-QR reduction of W_U^T, tall-skinny QR folding; no V dimension).

Reference size: d = 256, 2 layers, d_mlp = 1024, V = 4096, N = 32 prompts of T = 16 tokens (N T =
512), LayerNorm, steering at layer 0. Each measurement runs in a fresh subprocess (same interpreter,
same environment, same seeded model and prompts); peak memory is that process's peak resident set
size (``getrusage(RUSAGE_SELF).ru_maxrss``), reported in total and above the process's own
high-water mark after building the model (``baseline``). Wall times include JIT compilation (one
call, fresh process); the engine's steady-state time (best of three further calls) is also reported,
and the FLOP floor is the engine's counted FLOPs (XLA cost analysis of its compiled tangent and fold
maps, plus 2 m n^2 - 2 n^3 / 3 per Householder QR) over a float64 matmul rate measured in the same
run.

LAPACK runs single-threaded in every subprocess (``OPENBLAS_NUM_THREADS=1``, for both methods):
on a shared 2-core machine OpenBLAS's two threads spin against each other and slow QR and SVD down
several-fold; XLA's own matrix products still use every core.

Usage: ``python bench/fisher.py [--quick]``; results go to ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
REFERENCE = dict(d=256, n_layers=2, d_mlp=1024, V=4096, N=32, T=16, n_heads=4, layer=0)


# ---------------------------------------------------------------------------------------------
# worker side (one method, one size, fresh process)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _build(size: dict):
    import jax
    import numpy as np

    from synthetic.local_problems import transformer_problem
    from synthetic.transformer import TransformerConfig, init_params

    cfg = TransformerConfig(
        d_model=size["d"],
        n_layers=size["n_layers"],
        n_heads=size["n_heads"],
        d_mlp=size["d_mlp"],
        vocab_size=size["V"],
        n_ctx=max(size["T"], 16),
        norm="layernorm",
    )
    params = init_params(cfg, jax.random.key(0))
    tokens = np.random.default_rng(0).integers(0, size["V"], size=(size["N"], size["T"]))
    problem = transformer_problem(cfg, params, tokens, size["layer"])
    v = np.random.default_rng(1).standard_normal(size["d"])
    return problem, v


def _matmul_rate(n: int = 2048, repeats: int = 3) -> float:
    """float64 GEMM rate (FLOP/s) of XLA on this machine, best of ``repeats``."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    a = jnp.asarray(np.random.default_rng(0).standard_normal((n, n)))
    f = jax.jit(lambda x, y: x @ y)
    f(a, a).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        f(a, a).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2.0 * n**3 / best


def _engine_flops(problem, v, options) -> float:
    """FLOPs of one ``square_root_factor(problem, v, "logits")``: XLA's count for one direction
    chunk of the tangent map (no loop, so nothing is hidden in a while body) times the number of
    chunks, XLA's count of the fold's products, and 2 m n^2 - 2 n^3/3 per Householder QR."""
    import jax.numpy as jnp

    from theory import jacobian as J

    def flops(compiled) -> float:
        ca = compiled.cost_analysis()
        ca = ca[0] if isinstance(ca, (list, tuple)) else ca
        return float(ca["flops"])

    d, N, T, V = problem.d, problem.n_prompts, problem.length, problem.vocab
    k = min(V, d)
    chunk = options.prompt_chunk or J._default_prompt_chunk(problem, k)
    n_chunks = -(-N // chunk) * len(problem.alphas)
    dc = min(options.direction_chunk, d)
    args = problem._args("logits")
    h = jnp.asarray(problem.stream[:chunk])
    tangent = flops(
        J._tangents.lower(
            args["fn"], h, args["mask"], 1.0, jnp.asarray(v), jnp.eye(d)[:dc], dc
        ).compile()
    )
    tangent *= d / dc
    cols = jnp.zeros((d, chunk, T, d))
    fold = flops(
        J._fold_logits.lower(jnp.zeros((d, d)), cols, jnp.ones(chunk), jnp.zeros((k, d))).compile()
    )
    qr = lambda m, n: 2.0 * m * n * n - 2.0 * n**3 / 3.0
    per_chunk = tangent + fold + qr(d + chunk * T * k, d)
    total = (
        n_chunks * per_chunk + qr(V, d) + 22.0 * d**3
    )  # + thin QR of W_U^T + final SVD (estimate)
    return total, n_chunks * tangent


def worker(method: str, size: dict, out: Path) -> dict:
    import numpy as np
    import scipy.linalg

    problem, v = _build(size)
    base = _rss_mb()
    res: dict = {"method": method, "size": size, "baseline_rss_mb": base}
    if method == "naive":
        import jax
        import jax.numpy as jnp

        fn, h, w_u = problem.downstream, jnp.asarray(problem.stream), jnp.asarray(problem.w_u)
        flat_logits = lambda x: (fn(h + x) @ w_u).reshape(-1)  # steering at every position
        t0 = time.perf_counter()
        compiled = jax.jit(jax.jacfwd(flat_logits)).lower(jnp.asarray(v)).compile()
        t1 = time.perf_counter()
        jac = compiled(jnp.asarray(v)).block_until_ready()
        t2 = time.perf_counter()
        dense = np.array(jac)  # one host copy, then free XLA's buffer
        del jac
        s = scipy.linalg.svd(
            dense, compute_uv=False, overwrite_a=True, check_finite=False, lapack_driver="gesdd"
        )
        t3 = time.perf_counter()
        res.update(
            wall_s=t3 - t0,
            compile_s=t1 - t0,
            jacobian_s=t2 - t1,
            svd_s=t3 - t2,
            rows=int(dense.shape[0]),
        )
        del dense
    else:
        from theory.jacobian import EngineOptions, local_spectrum

        options = EngineOptions(
            prompt_chunk=size.get("prompt_chunk"), direction_chunk=size.get("direction_chunk", 64)
        )
        t0 = time.perf_counter()
        spec = local_spectrum(problem, v, "logits", options=options)
        t1 = time.perf_counter()
        steady = []
        for _ in range(
            size.get("repeats", 3)
        ):  # best of 3: the machine is shared, spikes are not the engine
            t = time.perf_counter()
            spec = local_spectrum(problem, v, "logits", options=options)
            steady.append(time.perf_counter() - t)
        s = spec.singular_values[: min(problem.d, problem.n_rows("logits"))]
        res.update(
            wall_s=t1 - t0,
            steady_s=min(steady),
            steady_all_s=steady,
            rank=spec.rank,
            certified=spec.certified,
        )
    res["peak_rss_mb"] = _rss_mb()
    res["peak_above_baseline_mb"] = res["peak_rss_mb"] - base
    if method == "engine":
        res["flops"], res["tangent_flops"] = _engine_flops(problem, v, options)
        res["matmul_flops_per_s"] = _matmul_rate()
        res["flop_floor_s"] = res["flops"] / res["matmul_flops_per_s"]
        res["tangent_floor_s"] = res["tangent_flops"] / res["matmul_flops_per_s"]
    path = out / f"sv_{method}_{size['N']}x{size['T']}_V{size['V']}.npy"
    np.save(path, np.asarray(s))
    res["singular_values_file"] = str(path)
    return res


# ---------------------------------------------------------------------------------------------
# driver side


def _mem_available_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("inf")


def naive_estimate_mb(size: dict) -> float:
    """Rough (conservative) peak of the naive way: the (N T V) x d Jacobian about 2.5 times (XLA's
    output and its transpose, the host copy for LAPACK), plus d tangent copies of MLP
    activations."""
    M = size["N"] * size["T"] * size["V"]
    return (
        (2.5 * M * size["d"] + 2.0 * size["d"] * size["N"] * size["T"] * size["d_mlp"]) * 8 / 2**20
    )


def run(method: str, size: dict, timeout: float = 1800.0) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        method,
        "--size",
        json.dumps(size),
    ]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        return {
            "method": method,
            "size": size,
            "failed": True,
            "returncode": proc.returncode,
            "stderr_tail": proc.stderr[-2000:],
            "process_s": time.perf_counter() - t,
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fmt(x, spec=".3g"):
    return "-" if x is None else format(x, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", choices=("naive", "engine"))
    ap.add_argument("--size")
    ap.add_argument(
        "--quick", action="store_true", help="reference N = 8 instead of 32, shorter scaling"
    )
    args = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.worker:
        res = worker(args.worker, json.loads(args.size), RESULTS)
        print(json.dumps(res))
        return 0

    import numpy as np

    ref = dict(REFERENCE, N=8) if args.quick else dict(REFERENCE)
    report: dict = {"reference": ref, "notes": []}
    lines = []

    # 1. the naive way at the reference size, or the largest size that fits
    naive_size = dict(ref)
    while naive_estimate_mb(naive_size) > 0.8 * _mem_available_mb() and naive_size["N"] > 1:
        report["notes"].append(
            f"naive estimated at {naive_estimate_mb(naive_size):.0f} MiB for N = "
            f"{naive_size['N']}, "
            f"more than 80% of the {_mem_available_mb():.0f} MiB available: halving N"
        )
        naive_size["N"] //= 2
    naive = run("naive", naive_size)
    while naive.get("failed") and naive_size["N"] > 1:
        report["notes"].append(
            f"naive failed at N = {naive_size['N']} (return code {naive['returncode']}): halving N"
        )
        naive_size["N"] //= 2
        naive = run("naive", naive_size)
    engine = run("engine", naive_size)
    report["naive"], report["engine"] = naive, engine
    if naive_size != ref:
        report["engine_reference"] = run("engine", ref)

    if not naive.get("failed") and not engine.get("failed"):
        s_naive = np.load(naive["singular_values_file"])
        s_engine = np.load(engine["singular_values_file"])
        agreement = float(
            np.max(np.abs(np.sort(s_naive)[::-1] - np.sort(s_engine)[::-1])) / s_naive.max()
        )
        report["comparison"] = {
            "size": naive_size,
            "speedup_incl_compile": naive["wall_s"] / engine["wall_s"],
            "speedup_steady": naive["wall_s"] / engine["steady_s"],
            "memory_ratio_peak": naive["peak_rss_mb"] / engine["peak_rss_mb"],
            "memory_ratio_above_baseline": naive["peak_above_baseline_mb"]
            / max(engine["peak_above_baseline_mb"], 1.0),
            "engine_over_flop_floor": engine["steady_s"] / engine["flop_floor_s"],
            "singular_value_agreement": agreement,
        }
        c = report["comparison"]
        lines += [
            f"## Naive vs engine, logits channel: d={naive_size['d']}, "
            f"layers={naive_size['n_layers']}, "
            f"d_mlp={naive_size['d_mlp']}, V={naive_size['V']}, "
            f"N*T={naive_size['N'] * naive_size['T']} "
            f"(N={naive_size['N']}, T={naive_size['T']}), steering at layer {naive_size['layer']}",
            "",
            "| method | wall s (incl. compile) | steady s | peak RSS MiB | above baseline MiB |",
            "|---|---|---|---|---|",
            f"| naive (jacfwd + dense SVD) | {naive['wall_s']:.2f} (compile "
            f"{naive['compile_s']:.2f}, "
            f"jacobian {naive['jacobian_s']:.2f}, SVD {naive['svd_s']:.2f}) | - | "
            f"{naive['peak_rss_mb']:.0f} "
            f"| {naive['peak_above_baseline_mb']:.0f} |",
            f"| engine (local_spectrum) | {engine['wall_s']:.2f} | {engine['steady_s']:.2f} | "
            f"{engine['peak_rss_mb']:.0f} | {engine['peak_above_baseline_mb']:.0f} |",
            "",
            f"- speed-up: {c['speedup_incl_compile']:.2f}x including compilation, "
            f"{c['speedup_steady']:.2f}x against the engine's steady state",
            f"- peak memory ratio: {c['memory_ratio_peak']:.1f}x (total RSS), "
            f"{c['memory_ratio_above_baseline']:.1f}x (above baseline)",
            f"- engine FLOPs {engine['flops'] / 1e9:.1f} GFLOP, of which the d tangent passes "
            f"{engine['tangent_flops'] / 1e9:.1f} GFLOP; float64 matmul rate "
            f"{engine['matmul_flops_per_s'] / 1e9:.1f} GFLOP/s; FLOP floor "
            f"{engine['flop_floor_s']:.2f} s "
            f"(tangent passes alone {engine['tangent_floor_s']:.2f} s); engine steady / floor = "
            f"{c['engine_over_flop_floor']:.2f} (/ tangent floor = "
            f"{engine['steady_s'] / engine['tangent_floor_s']:.2f})",
            "- singular values: max |s_naive - s_engine| / s_max = "
            f"{c['singular_value_agreement']:.2e}",
            "",
        ]
    else:
        lines += ["naive or engine failed: see report JSON", ""]

    # 2. scaling of the engine over N*T and over V
    base = dict(ref)
    nts = [2, 4, 8, 16, 32] if not args.quick else [2, 4, 8]
    vs = [1024, 2048, 4096, 8192] if not args.quick else [1024, 4096]
    report["scaling_nt"] = [run("engine", dict(base, N=n)) for n in nts]
    report["scaling_v"] = [run("engine", dict(base, N=8, V=V)) for V in vs]
    lines += [
        "## Engine scaling (logits channel; steady-state seconds: best of three calls after the "
        "first)",
        "",
        "| N*T | V | steady s | wall s (incl. compile) | s per position (steady) | peak RSS MiB | "
        "FLOP floor s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["scaling_nt"] + report["scaling_v"]:
        if r.get("failed"):
            lines.append(
                f"| {r['size']['N'] * r['size']['T']} | {r['size']['V']} | failed | | | | |"
            )
            continue
        nt = r["size"]["N"] * r["size"]["T"]
        lines.append(
            f"| {nt} | {r['size']['V']} | {r['steady_s']:.2f} | {r['wall_s']:.2f} | "
            f"{r['steady_s'] / nt * 1e3:.2f} ms | {r['peak_rss_mb']:.0f} | {r['flop_floor_s']:.2f} "
            "|"
        )
    text = "\n".join(lines)
    (RESULTS / "fisher.json").write_text(json.dumps(report, indent=1))
    (RESULTS / "fisher.md").write_text(text + "\n")
    print(text)
    for note in report["notes"]:
        print("note:", note)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
