"""Python-side overhead of a forward pass on tiny-ln: the compiled kernel alone, ``forward(params,
cfg, tokens, steering)`` (checks the params tree on every call) and ``model(tokens, steering)`` (a
pytree checked once, at construction). Same process, same inputs; reports microseconds per call and
the overhead above the kernel.

    python bench/forward_overhead.py [--calls N]
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np

from synthetic.transformer import _forward_jit, forward
from synthetic.zoo import load_model, make_prompts
from theory.steering import Steering


def per_call_us(fn, calls: int) -> float:
    for _ in range(5):
        jax.block_until_ready(fn())
    best = float("inf")
    for _ in range(5):  # best of 5 repeats: the least disturbed by other work on the machine
        t = time.perf_counter()
        for _ in range(calls):
            jax.block_until_ready(fn())
        best = min(best, (time.perf_counter() - t) / calls * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    model = load_model("tiny-ln", 0)
    tokens = make_prompts(model, 1, 8, 0)
    v = np.random.default_rng(0).standard_normal(model.cfg.d_model)
    steer = Steering(1, v)
    tok = jax.numpy.asarray(tokens, dtype=jax.numpy.int32)
    rows = {
        "kernel (compiled, unsteered)": lambda: _forward_jit(
            model.params, model.cfg, tok, 0, None, None, None
        ),
        "kernel (compiled, steered)": lambda: _forward_jit(
            model.params, model.cfg, tok, 1, steer.vector, steer.alpha, None
        ),
        "forward(params, cfg, tokens)": lambda: forward(model.params, model.cfg, tokens),
        "forward(params, cfg, tokens, steering)": lambda: forward(
            model.params, model.cfg, tokens, steer
        ),
        "model(tokens)": lambda: model(tokens),
        "model(tokens, steering)": lambda: model(tokens, steer),
    }
    out = {name: per_call_us(fn, args.calls) for name, fn in rows.items()}
    print(json.dumps({k: round(x, 1) for k, x in out.items()}, indent=1))
    for kind, kernel in (
        ("unsteered", out["kernel (compiled, unsteered)"]),
        ("steered", out["kernel (compiled, steered)"]),
    ):
        suffix = "" if kind == "unsteered" else ", steering"
        f = out[f"forward(params, cfg, tokens{suffix})"] - kernel
        m = out[f"model(tokens{suffix})"] - kernel
        print(
            f"{kind}: overhead above the kernel: forward {f:.0f} us, model {m:.0f} us "
            f"(ratio {f / m:.1f}x)"
        )


if __name__ == "__main__":
    main()
