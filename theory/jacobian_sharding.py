"""The engine's prompt chunks spread over every local device (a one-dimensional mesh over prompts).

With D devices each step takes D chunks of prompts, one per device (``jax.sharding``: the stream is
laid out along the mesh axis "prompts"), and each device folds its chunks into its own square-root
factor R_j; at the end one QR of the stacked [R_1; ...; R_D] gives R with

    R^T R = sum_j R_j^T R_j = J^T J,

so the singular values are those of the one-device run up to round-off. The trait channel (one
backward pass over all prompts) is not spread. Nothing else changes: a
host with one device (the CPU) runs the plain loop, and a multi-GPU host or a multi-host job started
with ``jax.distributed`` runs this one unchanged.
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

from .jacobian_kernels import _fold_logits, _fold_probs, _tangents

AXIS = "prompts"


def prompt_mesh(n_devices: int | None = None) -> Mesh:
    """A one-dimensional mesh over the first ``n_devices`` local devices (None: all)."""
    devices = jax.devices()
    n = len(devices) if n_devices is None else n_devices
    return Mesh(np.asarray(devices[:n]), (AXIS,))


@functools.partial(
    jax.jit, static_argnames=("mesh", "channel", "direction_chunk", "position_chunk")
)
def _sharded_fold(
    r, fn, h, weights, mask, alpha, v, eye, r_u, w_u, b_u, *, mesh, channel, direction_chunk,
    position_chunk,
):  # fmt: skip
    """Each device: tangents of its prompts, folded into its own factor r[j] (D, k, d)."""

    def local(r, fn, h, weights, mask, alpha, v, eye, r_u, w_u, b_u):
        y, cols = _tangents(fn, h, mask, alpha, v, eye, direction_chunk)
        if channel == "logits":
            return _fold_logits(r[0], cols, weights, r_u)[None]
        return _fold_probs(r[0], cols, y, weights, w_u, b_u, position_chunk)[None]

    shard, rep = P(AXIS), P()
    return jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(shard, rep, shard, shard, rep, rep, rep, rep, rep, rep, rep),
        out_specs=shard,
        check_vma=False,
    )(r, fn, h, weights, mask, alpha, v, eye, r_u, w_u, b_u)


def sharded_factor(
    problem: Any, vec: Any, channel: str, args: dict, r_u: Any, chunk: int, opt: Any, mesh: Mesh
) -> np.ndarray:
    """The logits/probs square-root factor with chunks of ``chunk`` prompts per device."""
    n_dev = mesh.devices.size
    d, N = problem.d, problem.n_prompts
    # each device's running factor stays d x d (tall-skinny QR after every chunk)
    r = jax.device_put(jnp.zeros((n_dev, d, d)), NamedSharding(mesh, P(AXIS)))
    stream_sharding = NamedSharding(mesh, P(AXIS))
    eye = jnp.eye(d)
    step = chunk * n_dev
    for alpha in problem.alphas:
        for start in range(0, N, step):
            idx = np.arange(start, min(start + step, N))
            w = np.ones(step)
            if idx.size < step:  # pad with weight-0 repeats: every step has one shape
                w[idx.size :] = 0.0
                idx = np.concatenate([idx, np.full(step - idx.size, idx[0])])
            h = jax.device_put(jnp.asarray(problem.stream[idx]), stream_sharding)
            weights = jax.device_put(jnp.asarray(w), stream_sharding)
            r = _sharded_fold(
                r, args["fn"], h, weights, args["mask"], alpha, vec, eye, r_u, args["w_u"],
                args["b_u"], mesh=mesh, channel=channel, direction_chunk=opt.direction_chunk,
                position_chunk=opt.position_chunk,
            )  # fmt: skip
    stacked = np.asarray(r).reshape(n_dev * d, d)
    return scipy.linalg.qr(stacked, mode="r")[0][:d]
