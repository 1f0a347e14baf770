"""Hypothesis profiles of the suite.

- ``dev``: fast and random, for the edit-test loop (the default locally).
- ``ci``: derandomized (the same examples on every run), no deadline, enough
  examples to mean something; chosen automatically when ``CI`` is set.
- ``thorough``: many examples, for a nightly run or before a release.
- ``selftest``: small and derandomized, used when the suite runs against the
  deliberately broken implementations. It does not shrink: the self-test only
  needs to know that a test fails, and shrinking the failing examples was
  nearly all of its time. To see a minimal failing example of a broken module,
  run it with another profile.

Pick one with ``HYPOTHESIS_PROFILE=NAME`` or ``pytest --hypothesis-profile=NAME``.
No profile has a deadline: a jitted implementation compiles on first call.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

PROFILES = ("dev", "ci", "thorough", "selftest")

_common = dict(
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def register_profiles() -> None:
    """Register the suite's profiles (idempotent)."""
    settings.register_profile("dev", max_examples=40, **_common)
    settings.register_profile("ci", max_examples=100, derandomize=True, database=None, **_common)
    settings.register_profile("thorough", max_examples=1000, **_common)
    settings.register_profile(
        "selftest",
        max_examples=60,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        **_common,
    )


def default_profile() -> str:
    """``$HYPOTHESIS_PROFILE`` if set, else ``ci`` when ``$CI`` is set, else ``dev``."""
    name = os.environ.get("HYPOTHESIS_PROFILE")
    if name:
        return name
    return "ci" if os.environ.get("CI") else "dev"
