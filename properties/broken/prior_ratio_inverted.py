"""multibox_prior inverts the aspect ratio (height / width instead of width / height).

Bug: width ``s / sqrt(r) * H / W`` and height ``s * sqrt(r)``: a ratio-2
anchor comes out tall instead of wide. Conventions differ between codebases
(SSD's ``ar`` is w/h, some Faster R-CNN ports use h/w), so copying a formula
across them flips every non-square anchor.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_prior.py::test_multibox_prior_shapes_in_contract_order",
    "test_multibox_prior.py::test_multibox_prior_matches_reference",
]

BUG = Edit(
    "anchors.py",
    "(s * math.sqrt(r) * height / width / 2, s / math.sqrt(r) / 2)",
    "(s / math.sqrt(r) * height / width / 2, s * math.sqrt(r) / 2)",
)
globals().update(implementation(__name__, BUG))
