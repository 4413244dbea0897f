"""How many inputs the fuzzing tests try, and where they say how many they tried.

``STEERID_FUZZ_SCALE`` (default 1) multiplies every fuzzing test's example count (``make fuzz``
runs a longer campaign than the suite); ``STEERID_FUZZ_REPORT``, when set, names a file to which
each fuzzing module appends one JSON line of its counters when its tests are done."""

from __future__ import annotations

import json
import os

import pytest

SCALE = int(os.environ.get("STEERID_FUZZ_SCALE", "1"))
if SCALE < 1:
    raise ValueError(f"STEERID_FUZZ_SCALE must be a positive integer, got {SCALE}")


def examples(n: int) -> int:
    """The example count of a fuzzing test that tries ``n`` inputs in the suite."""
    return n * SCALE


def counts_reporter(module: str, counts: dict[str, int]):
    """A module-scoped autouse fixture that appends ``counts`` to the report file at teardown."""

    @pytest.fixture(scope="module", autouse=True)
    def _report():
        yield
        path = os.environ.get("STEERID_FUZZ_REPORT")
        if path:
            with open(path, "a") as f:
                f.write(json.dumps({"module": module, "scale": SCALE, **counts}) + "\n")

    return _report
