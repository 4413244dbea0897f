"""The engine's prompt chunks spread over every local device (a one-dimensional mesh over prompts).

With D devices each step takes D chunks of prompts, one per device (``jax.sharding``: the stream is
laid out along the mesh axis "prompts"), and each device folds its chunks into its own square-root
factor R_j; at the end one QR of the stacked [R_1; ...; R_D] gives R with

    R^T R = sum_j R_j^T R_j = J^T J,

so the singular values are those of the one-device run up to round-off. Several host (CPU) devices
compute the same per-device factors in turns (``_per_device_factor``). The trait channel's
gradient rows split by prompt, so reverse mode gives device j the chunks j, j + D, ... of prompts
and concatenates their rows in prompt order (``sharded_trait_rows``): the same rows as one device.
Nothing else changes: a host with one device (the CPU) runs the plain loop, and a multi-GPU host
runs this one unchanged (a multi-host job started with ``jax.distributed`` builds the same mesh
over every process's devices; that set-up is not tested).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from .jacobian_kernels import _chunks, _fold_logits, _fold_probs, _tangents, _trait_grad

AXIS = "prompts"


def prompt_mesh(n_devices: int | None = None) -> Mesh:
    """A one-dimensional mesh over the first ``n_devices`` local devices (None: all)."""
    devices = jax.devices()
    n = len(devices) if n_devices is None else n_devices
    return Mesh(np.asarray(devices[:n]), (AXIS,))


def _local_fold(r, fn, h, weights, mask, alpha, v, eye, r_u, w_u, b_u, channel, dc, pc):
    """One device's fold: the tangents of its prompts folded into its factor r[0] (1, k, d)."""
    y, cols = _tangents(fn, h, mask, alpha, v, eye, dc)
    if channel == "logits":
        return _fold_logits(r[0], cols, weights, r_u)[None]
    return _fold_probs(r[0], cols, y, weights, w_u, b_u, pc)[None]


_local_fold_jit = jax.jit(_local_fold, static_argnames=("channel", "dc", "pc"))


@functools.partial(
    jax.jit, static_argnames=("mesh", "channel", "direction_chunk", "position_chunk")
)
def _sharded_fold(
    r, fn, h, weights, mask, alpha, v, eye, r_u, w_u, b_u, *, mesh, channel, direction_chunk,
    position_chunk,
):  # fmt: skip
    """Each device: tangents of its prompts, folded into its own factor r[j] (D, k, d)."""

    def local(r, fn, h, weights, mask, alpha, v, eye, r_u, w_u, b_u):
        return _local_fold(
            r, fn, h, weights, mask, alpha, v, eye, r_u, w_u, b_u, channel, direction_chunk,
            position_chunk,
        )  # fmt: skip

    shard, rep = P(AXIS), P()
    return jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(shard, rep, shard, shard, rep, rep, rep, rep, rep, rep, rep),
        out_specs=shard,
        check_vma=False,
    )(r, fn, h, weights, mask, alpha, v, eye, r_u, w_u, b_u)


def sharded_factor(
    problem: Any,
    vec: Any,
    channel: str,
    args: dict,
    r_u: Any,
    chunk: int,
    opt: Any,
    mesh: Mesh,
    *,
    in_turns: bool | None = None,
) -> np.ndarray:
    """The logits/probs square-root factor with chunks of ``chunk`` prompts per device.

    ``in_turns``: the devices fold in turns (``_per_device_factor``) rather than as one
    ``shard_map`` program; None takes turns on host (CPU) devices only."""
    n_dev = mesh.devices.size
    d, N = problem.d, problem.n_prompts
    if in_turns is None:
        in_turns = mesh.devices.flat[0].platform == "cpu"
    if in_turns:
        return _per_device_factor(problem, vec, channel, args, r_u, chunk, opt, mesh)
    # each device's running factor stays d x d (tall-skinny QR after every chunk)
    r = jax.device_put(jnp.zeros((n_dev, d, d)), NamedSharding(mesh, P(AXIS)))
    stream_sharding = NamedSharding(mesh, P(AXIS))
    eye = jnp.eye(d)
    step = chunk * n_dev
    for alpha in problem.alphas:
        for idx, w in _chunks(N, step):  # padded with weight-0 repeats: one shape per step
            h = jax.device_put(jnp.asarray(problem.stream[idx]), stream_sharding)
            weights = jax.device_put(jnp.asarray(w), stream_sharding)
            r = _sharded_fold(
                r, args["fn"], h, weights, args["mask"], alpha, vec, eye, r_u, args["w_u"],
                args["b_u"], mesh=mesh, channel=channel, direction_chunk=opt.direction_chunk,
                position_chunk=opt.position_chunk,
            )  # fmt: skip
    stacked = np.asarray(r).reshape(n_dev * d, d)
    return scipy.linalg.qr(stacked, mode="r")[0][:d]


def _per_device_factor(
    problem: Any, vec: Any, channel: str, args: dict, r_u: Any, chunk: int, opt: Any, mesh: Mesh
) -> np.ndarray:
    """``sharded_factor`` on several CPU devices: the same chunks and per-device factors, but the
    devices take their turns (each fold committed to its device and finished before the next
    starts). Running the SPMD program on two host devices at once deadlocked in XLA's CPU runtime
    in about a third of the runs (jax 0.10, tests/test_sharding.py), so host devices are
    serialised; accelerators keep ``shard_map``."""
    devices = list(mesh.devices.flat)
    n_dev, d, N = len(devices), problem.d, problem.n_prompts
    rs = [jax.device_put(jnp.zeros((1, d, d)), dev) for dev in devices]
    eye = jnp.eye(d)
    step = chunk * n_dev
    for alpha in problem.alphas:
        for idx, w in _chunks(N, step):
            for j, dev in enumerate(devices):
                part = idx[j * chunk : (j + 1) * chunk]
                put = lambda x, dev=dev: jax.device_put(x, dev)
                rs[j] = _local_fold_jit(
                    rs[j], args["fn"], put(jnp.asarray(problem.stream[part])),
                    put(jnp.asarray(w[j * chunk : (j + 1) * chunk])), args["mask"], alpha, vec,
                    eye, r_u, args["w_u"], args["b_u"], channel=channel,
                    dc=opt.direction_chunk, pc=opt.position_chunk,
                )  # fmt: skip
                rs[j].block_until_ready()
    stacked = np.concatenate([np.asarray(r) for r in rs]).reshape(n_dev * d, d)
    return scipy.linalg.qr(stacked, mode="r")[0][:d]


def sharded_trait_rows(
    problem: Any, vec: Any, args: dict, chunk: int, devices: list[Any]
) -> np.ndarray:
    """The reverse-mode trait rows d s_i / d v, (|A| N, d) in (alpha, prompt) order, with chunk k
    of ``chunk`` prompts computed on device k mod D. Accelerators run their chunks concurrently
    (asynchronous dispatch); host devices take turns, as in ``_per_device_factor``."""
    on_host = devices[0].platform == "cpu"
    pending = []
    for alpha in problem.alphas:
        for k, (idx, w) in enumerate(_chunks(problem.n_prompts, chunk)):
            dev = devices[k % len(devices)]
            g = _trait_grad(
                args["fn"], jax.device_put(jnp.asarray(problem.stream[idx]), dev),
                jax.device_put(jnp.asarray(w), dev), args["mask"], alpha, vec, args["w_u"],
                args["b_u"], args["plus"], args["minus"],
            )  # fmt: skip
            if on_host:
                g.block_until_ready()
            pending.append((g, w))
    return np.concatenate([np.asarray(g)[w > 0] for g, w in pending], axis=0)
