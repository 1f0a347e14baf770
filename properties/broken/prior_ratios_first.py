"""multibox_prior lists each pixel's anchor shapes in the wrong order.

Bug: the shapes come as ``(sizes[0], ratios[r])`` for every ratio first, then
``(sizes[k], ratios[0])`` for ``k = 1..n-1``: the same set of boxes, in a
different order, so anchor ``k`` of a pixel is not the one a trained head
expects. Ports that build the shape list "ratios, then sizes" ship this.
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_multibox_prior.py::test_multibox_prior_shapes_in_contract_order",
    "test_multibox_prior.py::test_multibox_prior_matches_reference",
]

BUG = Edit(
    "anchors.py",
    "[(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]",
    "[(sizes[0], r) for r in ratios] + [(s, ratios[0]) for s in sizes[1:]]",
)
globals().update(implementation(__name__, BUG))
