"""The one result type: a certificate that a theorem's claim holds, fails, or cannot be decided
here.

A certificate carries the theorem id, the verdict, the class dimension and the rank it rests on, the
margin of the decision (one orientation for every check, see ``Certificate``), its tolerance, a
witness anyone can re-check by running the model on it, the typed evidence the CLI and report print
(ambient dimension, spectrum, re-run residual, cosine, subject), and JSON-safe extra details.
``to_json``/``from_json`` round-trip exactly: floats are written with ``repr`` precision, arrays as
nested lists, and every non-finite float, wherever it sits, as ``{"__float__": "Infinity"}``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, overload

import numpy as np

from theory.validation import InputError


class Verdict(str, enum.Enum):  # noqa: UP042  (str mixin keeps `verdict == "holds"` working)
    """Outcome of a check: the claim holds, is violated (a counterexample exists), or is
    undecided."""

    HOLDS = "holds"
    VIOLATED = "violated"
    UNDECIDED = "undecided"


class CosineRange(NamedTuple):
    """T1b: cosines to v over the class fill (inf, sup], or [inf, sup] when ``inf_attained``."""

    inf: float
    sup: float
    inf_attained: bool


_NONFINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}
_FLOAT_TAG = "__float__"


def _tag_float(x: float) -> Any:
    """A finite float as itself; a non-finite one as ``{"__float__": "Infinity" | "-Infinity" |
    "NaN"}``."""
    if math.isfinite(x):
        return float(x)
    return {_FLOAT_TAG: "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")}


def plain(obj: Any) -> Any:
    """Python data with numpy scalars and arrays, and any array-like (``__array__``: a JAX array),
    turned into floats, ints, bools and lists (non-finite floats stay floats; ``to_jsonable``
    encodes them)."""
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (str, bytes)):
        return obj if isinstance(obj, str) else obj.decode()
    if isinstance(obj, np.ndarray) or hasattr(obj, "__array__"):
        return plain(np.asarray(obj).tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if obj is None or isinstance(obj, int):
        return obj
    raise TypeError(f"cannot serialise {type(obj).__name__} in a certificate")


def _map_floats(obj: Any, f: Callable[[float], Any]) -> Any:
    """Apply f to every float of plain data (dicts, lists, scalars)."""
    if isinstance(obj, dict):
        return {k: _map_floats(v, f) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_map_floats(v, f) for v in obj]
    return f(obj) if isinstance(obj, float) else obj


def to_jsonable(obj: Any) -> Any:
    """JSON-safe data: arrays -> nested lists, non-finite floats -> ``{"__float__": ...}``."""
    return _map_floats(plain(obj), _tag_float)


def from_jsonable(obj: Any) -> Any:
    """Inverse of ``to_jsonable`` for the floats: ``{"__float__": "Infinity"}`` -> inf."""
    if isinstance(obj, dict):
        if set(obj) == {_FLOAT_TAG}:
            return _NONFINITE[obj[_FLOAT_TAG]]
        return {k: from_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_jsonable(v) for v in obj]
    return obj


def _frozen_array(value: Any) -> np.ndarray:
    arr = np.array(value, dtype=np.float64)  # a copy, so the certificate cannot change later
    arr.setflags(write=False)
    return arr


def _freeze_witness(witness: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    return {str(name): _frozen_array(value) for name, value in (witness or {}).items()}


# typed fields, by how they are normalised and serialised
_FLOATS = ("margin", "tolerance", "residual", "residual_tolerance", "cosine")
_INTS = ("dim", "rank", "d", "layer")
_STRINGS = ("model", "channel")
_ARRAYS = ("singular_values", "ambiguous")


@dataclasses.dataclass(frozen=True)
class Certificate:
    """Result of one theorem check.

    theorem   : id ("T1", "T1a", ..., "T9"; experiments "E1".."E7").
    verdict   : holds / violated / undecided.
    claim     : the one-line statement that was checked.
    dim       : dimension of the equivalence class (None where it does not apply).
    rank      : rank the verdict rests on (None where it does not apply).
    margin    : how many times the evidence clears the edge of its decision, the same orientation
                for every check: the smallest, over the gates the verdict passed, of (evidence /
                threshold) oriented so that bigger is safer (a kept singular value over the top of
                the grey band, a tolerance over a residual, a spark over 2k + 1, ...). A decided
                verdict (holds / violated) has margin >= 1, which construction enforces; below 1
                the check is undecided. None: an exact proof, or no numeric decision was made.
    tolerance : threshold of the main decision (rank cut-off tau, a residual tolerance, a level).
    witness   : named float64 arrays that anyone can re-check against the model.
    d         : ambient dimension of the steering vectors.
    singular_values, ambiguous : the spectrum the rank rests on, and its values in the grey band.
    residual, residual_tolerance : the witness's re-run residual and the tolerance it was held to.
    cosine    : cosine of the witness to v (twins).
    cosine_range : T1b's range of cosines over the class.
    model, layer, channel : the subject of a model check.
    symmetries : names of exact symmetries found in the null space.
    reason    : why a witness is absent or a verdict undecided, in words ("" when nothing to say).
    details   : JSON-safe extra evidence for people (never read by the toolkit's own code).
    """

    theorem: str
    verdict: Verdict
    claim: str = ""
    dim: int | None = None
    rank: int | None = None
    margin: float | None = None
    tolerance: float | None = None
    witness: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    d: int | None = None
    singular_values: np.ndarray | None = None
    ambiguous: np.ndarray | None = None
    residual: float | None = None
    residual_tolerance: float | None = None
    cosine: float | None = None
    cosine_range: CosineRange | None = None
    model: str | None = None
    layer: int | None = None
    channel: str | None = None
    symmetries: tuple[str, ...] = ()
    reason: str = ""
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)
        set_("verdict", Verdict(self.verdict))
        set_("witness", _freeze_witness(self.witness))
        set_("details", plain(dict(self.details)))
        set_("symmetries", tuple(str(s) for s in self.symmetries))
        for name in _FLOATS:
            value = getattr(self, name)
            if value is not None:
                set_(name, float(value))
        for name in _INTS:
            value = getattr(self, name)
            if value is not None:
                set_(name, int(value))
        for name in _STRINGS:
            value = getattr(self, name)
            if value is not None:
                set_(name, str(value))
        for name in _ARRAYS:
            value = getattr(self, name)
            if value is not None:
                set_(name, _frozen_array(value).ravel())
        if self.cosine_range is not None:
            inf, sup, attained = self.cosine_range
            set_("cosine_range", CosineRange(float(inf), float(sup), bool(attained)))
        if self.verdict is not Verdict.UNDECIDED and self.margin is not None:
            if math.isnan(self.margin) or self.margin < 1.0:
                raise ValueError(
                    f"{self.theorem}: a {self.verdict.value} verdict needs margin >= 1 (its "
                    "evidence "
                    f"clears the decision's edge), got {self.margin!r}"
                )

    @property
    def ok(self) -> bool:
        """True unless the claim was violated (undecided is not a failure of the theorem)."""
        return self.verdict is not Verdict.VIOLATED

    def replace(self, **changes: Any) -> Certificate:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "witness":
                out["witness"] = {k: to_jsonable(v) for k, v in value.items()}
                out["witness_shapes"] = {k: list(v.shape) for k, v in value.items()}
            elif f.name == "cosine_range":
                out[f.name] = None if value is None else to_jsonable(value._asdict())
            else:
                out[f.name] = to_jsonable(value)
        return out

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> Certificate:
        data: dict[str, Any] = from_jsonable(dict(mapping))
        shapes = data.pop("witness_shapes", {})
        witness = {}
        for k, v in data.pop("witness", {}).items():
            arr = np.array(v, dtype=np.float64)
            witness[k] = arr.reshape(shapes[k]) if k in shapes else arr  # (0, n) needs its shape
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise InputError(f"certificate JSON has unknown fields {sorted(unknown)}")
        cr = data.get("cosine_range")
        if cr is not None:
            data["cosine_range"] = CosineRange(cr["inf"], cr["sup"], cr["inf_attained"])
        return cls(witness=witness, **data)

    @classmethod
    def from_json(cls, text: str) -> Certificate:
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Certificate):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())


@overload
def min_margin(first: float, /, *rest: float | None) -> float: ...
@overload
def min_margin(*margins: float | None) -> float | None: ...
def min_margin(*margins: float | None) -> float | None:
    """The margin of a verdict that passed several gates: the smallest of theirs (None ignored)."""
    known = [float(m) for m in margins if m is not None]
    return min(known) if known else None


def ratio_margin(threshold: float, evidence: float) -> float:
    """``threshold / evidence`` for a 'small is good' quantity held to ``threshold`` (a residual
    under a tolerance): >= 1 iff evidence <= threshold; infinite when evidence is 0."""
    if evidence < 0 or threshold < 0:
        raise ValueError(
            f"ratio_margin needs non-negative numbers, got {threshold!r}, {evidence!r}"
        )
    if evidence == 0:
        return math.inf
    return threshold / evidence


def verdict_from(ok: bool, margin: float | None) -> Verdict:
    """HOLDS if ``ok`` else VIOLATED, when the evidence clears its edge (margin None or >= 1);
    UNDECIDED otherwise."""
    if margin is not None and not margin >= 1.0:
        return Verdict.UNDECIDED
    return Verdict.HOLDS if ok else Verdict.VIOLATED
