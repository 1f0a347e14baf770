"""multibox_target lets padding label rows claim anchors.

Bug: the rows with class < 0 are not filtered out before the assignment, so a
padding row (conventionally ``(-1, -1, -1, -1, -1)``, a zero-area box) wins
greedy rounds, takes anchors from real objects, and its anchors get class
``-1 + 1 = 0`` with mask 1 and offsets towards the padding box. This is the
chapter's own ``multibox_target`` (a deliberate departure, CONTRACT.md §8).
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_target.py::test_multibox_target_ignores_padding",
    "test_multibox_target.py::test_multibox_target_matches_reference",
]

BUG = Edit("matching.py", "rows = lab[b][real[b]]", "rows = lab[b]")
globals().update(implementation(__name__, BUG))
