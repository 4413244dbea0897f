"""What an experiment returns: a certificate (the paper's claim on this model: holds / violated /
undecided), the paper's metrics, the toolkit's certified counterpart, and the raw per-sample scores
the metrics were computed from (so anyone can recompute every metric)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from theory.certificate import Certificate, to_jsonable


@dataclasses.dataclass(frozen=True)
class ExperimentResult:
    """name: the CLI name; certificate: theorem "E1".."E7"; metrics: name -> value; counterpart:
    the certified counterpart's numbers; scores: condition -> channel -> scores (a list, or one
    list per seed); seconds: wall time."""

    name: str
    certificate: Certificate
    metrics: dict[str, Any]
    counterpart: dict[str, Any]
    scores: dict[str, Any]
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.name,
            "theorem": self.certificate.theorem,
            "verdict": self.certificate.verdict.value,
            "claim": self.certificate.claim,
            "model": self.certificate.model,
            "layer": self.certificate.layer,
            "metrics": to_jsonable(self.metrics),
            "counterpart": to_jsonable(self.counterpart),
            "scores": to_jsonable(self.scores),
            "seconds": self.seconds,
            "certificate": self.certificate.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())
