"""The one result type: a certificate that a theorem's claim holds, fails, or cannot be decided here.

A certificate carries the theorem id, the verdict, the class dimension and the rank it rests on, the
margin (singular-value gap or residual) and tolerance of the decision, a witness anyone can re-check
by running the model on it, and JSON-safe details. ``to_json``/``from_json`` round-trip exactly:
floats are written with ``repr`` precision, arrays as nested lists, non-finite floats as strings.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


class Verdict(str, enum.Enum):
    """Outcome of a check: the claim holds, is violated (a counterexample exists), or is undecided."""

    HOLDS = "holds"
    VIOLATED = "violated"
    UNDECIDED = "undecided"


_NONFINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def _encode_float(x: float) -> float | str:
    if math.isfinite(x):
        return float(x)
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _decode_float(x: Any) -> float | None:
    if x is None:
        return None
    return _NONFINITE[x] if isinstance(x, str) else float(x)


def plain(obj: Any) -> Any:
    """Python data with numpy scalars and arrays turned into floats, ints, bools and lists
    (non-finite floats stay floats; ``to_jsonable`` encodes them)."""
    if isinstance(obj, enum.Enum):
        return obj.value
    if (
        isinstance(obj, np.ndarray)
        or hasattr(obj, "__array__")
        and not isinstance(obj, (str, bytes))
    ):
        return plain(np.asarray(obj).tolist())
    if isinstance(obj, (np.floating, float)):
        return float(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    raise TypeError(f"cannot serialise {type(obj).__name__} in a certificate")


def _map_floats(obj: Any, f) -> Any:
    """Apply f to every float of plain data (dicts, lists, scalars)."""
    if isinstance(obj, dict):
        return {k: _map_floats(v, f) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_map_floats(v, f) for v in obj]
    return f(obj) if isinstance(obj, float) else obj


def to_jsonable(obj: Any) -> Any:
    """JSON-safe data (arrays -> nested lists, non-finite floats -> "Infinity"/"-Infinity"/"NaN")."""
    return _map_floats(plain(obj), _encode_float)


def _freeze_witness(witness: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, value in (witness or {}).items():
        arr = np.array(value, dtype=np.float64)  # a copy, so the certificate cannot change later
        arr.setflags(write=False)
        out[str(name)] = arr
    return out


@dataclasses.dataclass(frozen=True)
class Certificate:
    """Result of one theorem check.

    theorem   : id from THEORY.md ("T1", "T1a", ..., "T9").
    verdict   : holds / violated / undecided.
    claim     : the one-line statement that was checked.
    dim       : dimension of the equivalence class (None where it does not apply).
    rank      : rank the verdict rests on (None where it does not apply).
    margin    : what the verdict rests on (rank-gap ratio, or residual); see ``details``.
    tolerance : tolerance of the decision (None where exact).
    witness   : named float64 arrays that anyone can re-check against the model.
    details   : JSON-safe extra evidence (singular values, residuals, exact expressions as strings).
    """

    theorem: str
    verdict: Verdict
    claim: str = ""
    dim: int | None = None
    rank: int | None = None
    margin: float | None = None
    tolerance: float | None = None
    witness: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", Verdict(self.verdict))
        object.__setattr__(self, "witness", _freeze_witness(self.witness))
        object.__setattr__(self, "details", plain(dict(self.details)))
        for name in ("margin", "tolerance"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, float(value))
        for name in ("dim", "rank"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, int(value))

    @property
    def ok(self) -> bool:
        """True unless the claim was violated (undecided is not a failure of the theorem)."""
        return self.verdict is not Verdict.VIOLATED

    def to_dict(self) -> dict[str, Any]:
        return {
            "theorem": self.theorem,
            "verdict": self.verdict.value,
            "claim": self.claim,
            "dim": self.dim,
            "rank": self.rank,
            "margin": None if self.margin is None else _encode_float(self.margin),
            "tolerance": None if self.tolerance is None else _encode_float(self.tolerance),
            "witness": {k: to_jsonable(v) for k, v in self.witness.items()},
            "witness_shapes": {k: list(v.shape) for k, v in self.witness.items()},
            "details": _encode_details(self.details),
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Certificate:
        witness = {}
        shapes = data.get("witness_shapes", {})
        for k, v in data.get("witness", {}).items():
            arr = np.array(_decode_nested(v), dtype=np.float64)
            witness[k] = arr.reshape(shapes[k]) if k in shapes else arr  # (0, n) needs its shape
        return cls(
            theorem=data["theorem"],
            verdict=Verdict(data["verdict"]),
            claim=data.get("claim", ""),
            dim=data.get("dim"),
            rank=data.get("rank"),
            margin=_decode_float(data.get("margin")),
            tolerance=_decode_float(data.get("tolerance")),
            witness=witness,
            details=_decode_details(data.get("details", {})),
        )

    @classmethod
    def from_json(cls, text: str) -> Certificate:
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Certificate):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())


_FLOAT_TAG = "__float__"


def _encode_details(v: Any) -> Any:
    """Details as JSON: a non-finite float becomes {"__float__": "Infinity"} so that no string a
    check stored can be mistaken for it."""
    return _map_floats(v, lambda x: x if math.isfinite(x) else {_FLOAT_TAG: _encode_float(x)})


def _decode_details(v: Any) -> Any:
    """Inverse of ``_encode_details``."""
    if isinstance(v, dict):
        if set(v) == {_FLOAT_TAG}:
            return _NONFINITE[v[_FLOAT_TAG]]
        return {k: _decode_details(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_decode_details(x) for x in v]
    return v


def _decode_nested(v: Any) -> Any:
    if isinstance(v, list):
        return [_decode_nested(x) for x in v]
    return _decode_float(v)
