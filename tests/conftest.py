"""Hypothesis profiles: ``dev`` (fast, random) and ``ci`` (more examples, derandomised).

``ci`` sets no per-example deadline: JAX compiles a function the first time a shape is seen, which
makes the first example of a test slow in a way that says nothing about the code under test."""

import os

from hypothesis import Phase, settings

import theory  # noqa: F401  (float64 everywhere)

settings.register_profile("dev", max_examples=25)
# ci: no deadline, because CI machines are shared and a test's first example pays for JAX
# compilation (seconds); derandomized, so a failure reproduces on the next run
settings.register_profile("ci", max_examples=100, derandomize=True, deadline=None)
# triage: the first failing example as found, without shrinking it
settings.register_profile(
    "triage", max_examples=100, derandomize=True, deadline=None, phases=[Phase.generate]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
