"""``LocalProblem``: a model cut at a hook point, the input of the T3 engine (``theory.jacobian``).

A pure ``downstream`` map takes the stream there, h (N, T, d), to the final normalised stream
y (N, T, d), and the unembedding gives ``z = y W_U + b``. The behaviour of a steering vector v is
``B(v) = (obs(downstream(h + alpha Pi_P v) W_U + b))_{alpha in A}``.

``downstream`` must treat prompts independently (row i of the output depends only on row i of the
input), be pure and jittable. Wrap it in ``jax.tree_util.Partial(fn, params)`` so that the
parameters are runtime arguments of the compiled code (one compilation per shape, not per model).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from theory.validation import InputError

from .validation import as_choice, as_float_array, as_int_tuple, as_real_tuple, as_vector

CHANNELS = ("logits", "probs", "trait")


def as_channel(channel: Any) -> str:
    """One of ``CHANNELS``."""
    return as_choice("channel", channel, CHANNELS)


def _as_partial(fn: Any) -> jax.tree_util.Partial:
    if isinstance(fn, jax.tree_util.Partial):
        return fn
    return jax.tree_util.Partial(fn)


def _tokens(name: str, xs: Any, vocab: int) -> tuple[int, ...]:
    return as_int_tuple(name, xs, low=0, high=vocab - 1, nonempty=False, distinct=True)


@dataclasses.dataclass(frozen=True, eq=False)
class LocalProblem:
    """A model cut at a hook point: what the local theory (T3) needs to know about it.

    downstream : pure jittable map, stream at the hook (n, T, d) -> final normalised stream
                 (n, T, d), prompts independent; a ``jax.tree_util.Partial`` keeps its parameters
                 out of the compiled constants.
    stream     : (N, T, d) unsteered stream at the hook (N >= 1 prompts).
    w_u        : (d, V) unembedding; ``b_u`` (V,) its bias or None.
    positions  : steered positions P (None: all T).
    alphas     : strengths A (non-empty, finite).
    plus/minus : disjoint token sets S+ and S- of the trait score (the trait channel needs them);
                 each lists a token at most once (a repeated token is an InputError).
    meta       : JSON-safe labels copied into certificates (e.g. model name, layer).
    """

    downstream: Callable[[Any], Any]
    stream: np.ndarray
    w_u: np.ndarray
    b_u: np.ndarray | None = None
    positions: Sequence[int] | None = None
    alphas: Sequence[float] = (1.0,)
    plus: Sequence[int] = ()
    minus: Sequence[int] = ()
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not callable(self.downstream):
            raise InputError(
                "downstream must be a callable (n, T, d) -> (n, T, d), got "
                f"{type(self.downstream).__name__}"
            )
        if self.stream is not None and np.ndim(self.stream) == 3 and np.shape(self.stream)[0] == 0:
            raise InputError(
                f"stream is an empty prompt set (N = 0, shape {np.shape(self.stream)}); "
                "need at least one prompt"
            )
        stream = as_float_array("stream", self.stream, 3)
        N, T, d = stream.shape
        w_u = as_float_array("w_u", self.w_u, 2)
        if w_u.shape[0] != d:
            raise InputError(
                f"w_u must have shape (d, V) with d = {d} (the stream width), got {w_u.shape}"
            )
        V = w_u.shape[1]
        b_u = None if self.b_u is None else as_vector("b_u", self.b_u, V, "w_u")
        positions = None
        if self.positions is not None:
            positions = as_int_tuple("positions", self.positions, low=0, high=T - 1, distinct=True)
            positions = tuple(sorted(positions))
        alphas = as_real_tuple("alphas", self.alphas)
        plus, minus = _tokens("plus", self.plus, V), _tokens("minus", self.minus, V)
        if set(plus) & set(minus):
            raise InputError(
                "plus and minus must be disjoint token sets, both hold "
                f"{sorted(set(plus) & set(minus))}"
            )
        for arr in (stream, w_u) + ((b_u,) if b_u is not None else ()):
            arr.setflags(write=False)
        fn = _as_partial(self.downstream)
        try:
            out = jax.eval_shape(fn, jax.ShapeDtypeStruct(stream.shape, jnp.float64))
        except Exception as exc:
            raise InputError(
                f"downstream failed on a stream of shape {stream.shape}: {exc}"
            ) from None
        if getattr(out, "shape", None) != stream.shape:
            raise InputError(
                f"downstream must map (N, T, d) = {stream.shape} to the same shape, got "
                f"{getattr(out, 'shape', out)}"
            )
        for name, value in (
            ("downstream", fn),
            ("stream", stream),
            ("w_u", w_u),
            ("b_u", b_u),
            ("positions", positions),
            ("alphas", alphas),
            ("plus", plus),
            ("minus", minus),
            ("meta", dict(self.meta or {})),
        ):
            object.__setattr__(self, name, value)

    # -- shapes -------------------------------------------------------------------------------
    @property
    def n_prompts(self) -> int:
        return int(self.stream.shape[0])

    @property
    def length(self) -> int:
        return int(self.stream.shape[1])

    @property
    def d(self) -> int:
        return int(self.stream.shape[2])

    @property
    def vocab(self) -> int:
        return int(self.w_u.shape[1])

    @property
    def mask(self) -> np.ndarray:
        """(T,) indicator of the steered positions P."""
        m = np.zeros(self.length) if self.positions is not None else np.ones(self.length)
        if self.positions is not None:
            m[list(self.positions)] = 1.0
        return m

    def n_rows(self, channel: str) -> int:
        """Rows M of the full Jacobian: N |A| T V for logits/probs, N |A| for trait."""
        per = 1 if as_channel(channel) == "trait" else self.length * self.vocab
        return self.n_prompts * len(self.alphas) * per

    def vector(self, v: Any, name: str = "v") -> np.ndarray:
        """v as a finite float64 (d,) vector, or ValueError naming ``name``."""
        arr = as_float_array(name, v, 1)
        if arr.shape[0] != self.d:
            raise InputError(
                f"{name} must have length d = {self.d} (the stream width), got {arr.shape[0]}"
            )
        return arr

    def jax_args(self, channel: str) -> dict[str, Any]:
        """The arrays the compiled kernels take (``theory.jacobian_kernels``), for ``channel``."""
        if as_channel(channel) == "trait" and (not self.plus or not self.minus):
            raise InputError(
                "the trait channel needs non-empty token sets plus (S+) and minus (S-)"
            )
        b = np.zeros(self.vocab) if self.b_u is None else self.b_u
        return dict(
            fn=self.downstream,
            h=jnp.asarray(self.stream),
            mask=jnp.asarray(self.mask),
            w_u=jnp.asarray(self.w_u),
            b_u=jnp.asarray(b),
            plus=jnp.asarray(self.plus or (0,), dtype=jnp.int32),
            minus=jnp.asarray(self.minus or (0,), dtype=jnp.int32),
        )

    _args = jax_args  # the engine's former private name
