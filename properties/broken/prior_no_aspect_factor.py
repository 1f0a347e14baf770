"""multibox_prior forgets the ``H / W`` factor in the anchor width.

Bug: normalised width ``s * sqrt(r)`` instead of ``s * sqrt(r) * H / W``. On a
non-square feature map the anchors' pixel aspect ratio is then ``r * W / H``,
not ``r``. PITFALLS.md, Box coding and anchors: d2l-en PR #442, d2l-zh PR #1190
and #1357 argued over exactly this factor; early d2l code had it wrong.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_prior.py::test_multibox_prior_shapes_in_contract_order",
    "test_multibox_prior.py::test_multibox_prior_matches_reference",
]

BUG = Edit("anchors.py", "s * math.sqrt(r) * height / width / 2", "s * math.sqrt(r) / 2")
globals().update(implementation(__name__, BUG))
