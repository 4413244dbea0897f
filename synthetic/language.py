"""A synthetic language with known latent variables: a trait y in {+1, -1}, a topic k and a genre g.

Sequence layout (length ``n_ctx`` = 2 + P + 1 + C, every sequence the same length)::

    BOS  G_g  p_1 .. p_P  SEP  c_1 .. c_C
              \\_prompt_/        \\_continuation_/

Generative process (every choice independent unless stated, all from one seed):

- y uniform on {+1, -1}, k uniform on the ``n_topics`` topics, g uniform on the ``n_genres`` genres;
  the genre's marker token G_g is written at position 1.
- m, the number of cues, uniform on ``cue_counts``; their positions a uniformly drawn m-subset of
  the genre's cue region (genre 0: the whole prompt, genre 1: its first half, genre 2: its second
  half). Each cue is one of the ``n_cues`` pairs (i uniform) written as C+_i when it agrees with y
  (probability 1 - ``cue_noise``) and as C-_i otherwise (read the signs the other way for y = -1).
- every other prompt position is a filler token (uniform on the fillers) with the genre's
  probability ``filler_rate[g]``, else a token of topic k (uniform on its ``topic_size`` tokens).
- each continuation token is, independently: a token of the trait's family S_y (uniform) with
  probability ``rho``, of the other family S_{-y} with probability ``rho_bar``, else a topic-k
  token.

So the trait shows only in sparse, noisy cues of the prompt and shapes which family (S+ or S-)
appears in the continuation: to predict the continuation a model must carry the trait from the cues
across positions to SEP and beyond. ``log_prob`` gives log p(x) exactly (the latents summed out) and
``trait_posterior`` p(y = +1 | prompt); the language's entropy per predicted token is
E[-log p(x)] / (n_ctx - 1), estimated by ``entropy`` over sampled sequences. A contrastive pair is a
prompt and the same prompt with the trait flipped (every cue replaced by its partner);
environments are the sequences of one topic or of one genre.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from scipy.special import logsumexp, xlogy

from theory.validation import InputError, as_int, as_positive_int, as_seed

__all__ = ["Batch", "LANGUAGE", "Language", "ENVIRONMENT_KINDS"]

ENVIRONMENT_KINDS = ("topic", "genre")


@dataclasses.dataclass(frozen=True)
class Batch:
    """Sequences and their latents: tokens (N, n_ctx) int64, trait (N,) in {+1, -1}, topic (N,),
    genre (N,)."""

    tokens: np.ndarray
    trait: np.ndarray
    topic: np.ndarray
    genre: np.ndarray


@dataclasses.dataclass(frozen=True)
class Language:
    """Sizes and rates of the language (module docstring); token ids are laid out in that order:
    BOS, SEP, genre markers, cues C+ then C-, S+, S-, topics (topic k: a block of ``topic_size``),
    fillers."""

    n_genres: int = 3
    n_cues: int = 4
    family_size: int = 6
    n_topics: int = 4
    topic_size: int = 8
    n_fillers: int = 7
    prompt_len: int = 12
    cont_len: int = 9
    cue_counts: tuple[int, ...] = (1, 2, 3)
    cue_noise: float = 0.03
    filler_rate: tuple[float, ...] = (0.1, 0.4, 0.7)
    rho: float = 0.5
    rho_bar: float = 0.05

    def __post_init__(self) -> None:
        for name in ("n_cues", "family_size", "n_topics", "topic_size", "n_fillers", "cont_len"):
            as_positive_int(f"Language.{name}", getattr(self, name))
        as_int("Language.n_genres", self.n_genres, low=1, high=3)
        as_int("Language.prompt_len", self.prompt_len, low=2)
        if len(self.filler_rate) != self.n_genres:
            raise InputError("Language.filler_rate must give one rate per genre")
        if not self.cue_counts or max(self.cue_counts) > self.prompt_len // 2:
            raise InputError("Language.cue_counts must be non-empty and fit half the prompt")
        if not (0 <= self.cue_noise < 0.5 and self.rho + self.rho_bar < 1 and self.rho > 0):
            raise InputError("need 0 <= cue_noise < 1/2, rho > 0 and rho + rho_bar < 1")

    # token ids -------------------------------------------------------------------------------
    BOS = 0
    SEP = 1

    @property
    def genre_markers(self) -> np.ndarray:
        return 2 + np.arange(self.n_genres)

    @property
    def cues_plus(self) -> np.ndarray:
        return 2 + self.n_genres + np.arange(self.n_cues)

    @property
    def cues_minus(self) -> np.ndarray:
        return self.cues_plus + self.n_cues

    @property
    def plus(self) -> np.ndarray:
        """S+: the continuation family of y = +1."""
        return 2 + self.n_genres + 2 * self.n_cues + np.arange(self.family_size)

    @property
    def minus(self) -> np.ndarray:
        """S-: the continuation family of y = -1."""
        return self.plus + self.family_size

    def topic_tokens(self, k: int) -> np.ndarray:
        start = int(self.minus[-1]) + 1 + k * self.topic_size
        return start + np.arange(self.topic_size)

    @property
    def fillers(self) -> np.ndarray:
        return int(self.minus[-1]) + 1 + self.n_topics * self.topic_size + np.arange(self.n_fillers)

    @property
    def vocab_size(self) -> int:
        return int(self.fillers[-1]) + 1

    @property
    def n_ctx(self) -> int:
        return 3 + self.prompt_len + self.cont_len

    @property
    def prompt_end(self) -> int:
        """Length of the prompt including BOS, the marker and SEP: generation starts here; the last
        prompt token (SEP) sits at ``prompt_end - 1``."""
        return 3 + self.prompt_len

    def cue_region(self, g: int) -> np.ndarray:
        """Prompt offsets (0..P-1) where genre g places its cues."""
        P = self.prompt_len
        return [np.arange(P), np.arange(P // 2), np.arange(P // 2, P)][g]

    # sampling --------------------------------------------------------------------------------
    def sample(
        self,
        n: int,
        seed: Any,
        trait: int | None = None,
        topic: int | None = None,
        genre: int | None = None,
    ) -> Batch:
        """``n`` sequences drawn from ``numpy.random.default_rng(seed)``; ``trait``/``topic``/
        ``genre`` fix that latent (an environment), None draws it."""
        n = as_positive_int("n", n)
        rng = np.random.default_rng(as_seed("seed", seed))
        y = self._latent(rng, n, "trait", trait, (1, -1))
        k = self._latent(rng, n, "topic", topic, tuple(range(self.n_topics)))
        g = self._latent(rng, n, "genre", genre, tuple(range(self.n_genres)))
        tokens = np.empty((n, self.n_ctx), dtype=np.int64)
        tokens[:, 0], tokens[:, 1] = self.BOS, self.genre_markers[g]
        tokens[:, 2 + self.prompt_len] = self.SEP
        P, fillers = self.prompt_len, self.fillers
        rates = np.asarray(self.filler_rate)[g]
        topic_tok = self.topic_tokens(0)[0] + k[:, None] * self.topic_size
        body = np.where(
            rng.random((n, P)) < rates[:, None],
            rng.choice(fillers, size=(n, P)),
            topic_tok + rng.integers(0, self.topic_size, size=(n, P)),
        )
        m = rng.choice(np.asarray(self.cue_counts), size=n)
        for i in range(n):
            where = rng.choice(self.cue_region(int(g[i])), size=int(m[i]), replace=False)
            agree = rng.random(m[i]) >= self.cue_noise
            pair = rng.integers(0, self.n_cues, size=m[i])
            positive = agree == (y[i] > 0)
            body[i, where] = np.where(positive, self.cues_plus[pair], self.cues_minus[pair])
        tokens[:, 2 : 2 + P] = body
        u = rng.random((n, self.cont_len))
        own = np.where(y[:, None] > 0, self.plus[0], self.minus[0])
        other = np.where(y[:, None] > 0, self.minus[0], self.plus[0])
        fam = rng.integers(0, self.family_size, size=(n, self.cont_len))
        tokens[:, self.prompt_end :] = np.where(
            u < self.rho,
            own + fam,
            np.where(
                u < self.rho + self.rho_bar,
                other + fam,
                topic_tok + rng.integers(0, self.topic_size, size=(n, self.cont_len)),
            ),
        )
        return Batch(tokens, y, k, g)

    @staticmethod
    def _latent(rng, n: int, name: str, value: Any, choices: tuple[int, ...]) -> np.ndarray:
        if value is None:
            return rng.choice(np.asarray(choices), size=n)
        value = as_int(name, value)
        if value not in choices:
            raise InputError(f"{name} must be one of {choices}, got {value}")
        return np.full(n, value, dtype=np.int64)

    def flip(self, tokens: Any, continuation: bool = False) -> np.ndarray:
        """The contrastive partner: every cue C+_i <-> C-_i (the same prompt with the trait
        flipped); with ``continuation`` also every S+_j <-> S-_j, which maps a sequence of trait y
        to one of trait -y with the same probability. Every other token is kept."""
        tokens = np.array(tokens, dtype=np.int64)
        swaps = [(self.cues_plus, self.cues_minus)]
        if continuation:
            swaps.append((self.plus, self.minus))
        out = tokens.copy()
        for plus, minus in swaps:
            for a, b in zip(plus, minus, strict=True):
                out[tokens == a], out[tokens == b] = b, a
        return out

    def prompts(self, batch: Batch) -> np.ndarray:
        """The prompt part (through SEP) of each sequence: (N, prompt_end)."""
        return batch.tokens[:, : self.prompt_end]

    # exact probabilities ---------------------------------------------------------------------
    def _cue_sign(self, tokens: np.ndarray) -> np.ndarray:
        return np.isin(tokens, self.cues_plus).astype(int) - np.isin(tokens, self.cues_minus)

    def _log_joint(self, tokens: np.ndarray, prompt_only: bool) -> np.ndarray:
        """log p(x, y, k) for y in (+1, -1) and every topic k: (N, 2, n_topics); -inf where x is
        impossible."""
        tokens = np.asarray(tokens)
        N, P = tokens.shape[0], self.prompt_len
        g = np.searchsorted(self.genre_markers, tokens[:, 1])
        body = tokens[:, 2 : 2 + P]
        sign = self._cue_sign(body)
        is_cue = sign != 0
        m = is_cue.sum(1)
        out = np.full((N, 2, self.n_topics), -np.inf)
        rates = np.asarray(self.filler_rate)[g]
        is_filler = np.isin(body, self.fillers)
        cont = tokens[:, self.prompt_end :]
        with np.errstate(divide="ignore"):
            for gi in range(self.n_genres):
                region = np.zeros(P, bool)
                region[self.cue_region(gi)] = True
                rows = g == gi
                ok = rows & np.all(~is_cue | region, axis=1) & np.isin(m, self.cue_counts)
                # log C(|region|, m): the uniform choice of the cue positions
                log_comb = np.log([max(math.comb(int(region.sum()), j), 1) for j in range(P + 1)])
                positions = np.where(ok, -log_comb[m], -np.inf)
                positions += np.log(1.0 / len(self.cue_counts)) - m * np.log(self.n_cues)
                for yi, y in enumerate((1, -1)):
                    agree = (sign == y).sum(1)
                    cue_lp = agree * np.log1p(-self.cue_noise) + xlogy(m - agree, self.cue_noise)
                    for k in range(self.n_topics):
                        topic = np.isin(body, self.topic_tokens(k))
                        fill_lp = np.where(
                            is_filler,
                            np.log(rates[:, None] / self.n_fillers),
                            np.where(
                                topic, np.log((1 - rates[:, None]) / self.topic_size), -np.inf
                            ),
                        )
                        fill_lp = np.where(is_cue, 0.0, fill_lp).sum(1)
                        lp = positions + cue_lp + fill_lp
                        if not prompt_only:
                            lp = lp + self._cont_log_prob(cont, y, k)
                        out[rows, yi, k] = lp[rows]
        prior = -np.log(2) - np.log(self.n_topics) - np.log(self.n_genres)
        valid = (
            (tokens[:, 0] == self.BOS)
            & np.isin(tokens[:, 1], self.genre_markers)
            & (tokens[:, 2 + P] == self.SEP)
        )
        out[~valid] = -np.inf
        return out + prior

    def _cont_log_prob(self, cont: np.ndarray, y: int, k: int) -> np.ndarray:
        own, other = (self.plus, self.minus) if y > 0 else (self.minus, self.plus)
        rest = 1 - self.rho - self.rho_bar
        with np.errstate(divide="ignore"):
            lp = np.where(
                np.isin(cont, own),
                np.log(self.rho / self.family_size),
                np.where(
                    np.isin(cont, other),
                    np.log(self.rho_bar / self.family_size),
                    np.where(
                        np.isin(cont, self.topic_tokens(k)),
                        np.log(rest / self.topic_size),
                        -np.inf,
                    ),
                ),
            )
        return lp.sum(1)

    def log_prob(self, tokens: Any) -> np.ndarray:
        """log p(x) of whole sequences (N, n_ctx), the latents summed out exactly."""
        tokens = self._check(tokens, self.n_ctx)
        return logsumexp(self._log_joint(tokens, False).reshape(len(tokens), -1), axis=1)

    def trait_posterior(self, prompts: Any) -> np.ndarray:
        """p(y = +1 | prompt) for prompts (N, prompt_end) (or whole sequences: only the prompt is
        read)."""
        prompts = np.asarray(prompts)
        if prompts.ndim != 2 or prompts.shape[1] < self.prompt_end:
            raise InputError(f"prompts must have shape (N, >= {self.prompt_end})")
        full = np.zeros((prompts.shape[0], self.n_ctx), dtype=np.int64)
        full[:, : self.prompt_end] = prompts[:, : self.prompt_end]
        joint = logsumexp(self._log_joint(full, True), axis=2)  # (N, 2)
        return np.exp(joint[:, 0] - logsumexp(joint, axis=1))

    def bayes_accuracy(self, batch: Batch) -> float:
        """Accuracy of the Bayes rule sign(p(+|prompt) - 1/2) on ``batch``: the ceiling of any
        probe of the trait read from the prompt."""
        post = self.trait_posterior(batch.tokens)
        guess = np.where(post > 0.5, 1, np.where(post < 0.5, -1, 0))
        return float(np.mean(np.where(guess == 0, 0.5, guess == batch.trait)))

    def entropy(self, n: int = 20_000, seed: int = 0) -> tuple[float, float]:
        """(H, standard error): E[-log p(x)] / (n_ctx - 1) nats per predicted token, over ``n``
        sampled sequences; the lowest mean next-token loss any model can reach."""
        nll = -self.log_prob(self.sample(n, seed).tokens) / (self.n_ctx - 1)
        return float(nll.mean()), float(nll.std(ddof=1) / np.sqrt(n))

    def _check(self, tokens: Any, length: int) -> np.ndarray:
        tokens = np.asarray(tokens)
        if tokens.ndim != 2 or tokens.shape[1] != length or tokens.dtype.kind not in "iu":
            raise InputError(f"tokens must be an int array of shape (N, {length})")
        return tokens


LANGUAGE = Language()
