"""remove_small_boxes keeps only boxes whose sides are strictly larger than min_size.

Bug: ``>`` for ``>=``, as torchvision's own docstring says it ("indices of the boxes that
have both sides larger than min_size") while its code keeps ``>=``: a box exactly
``min_size`` wide is dropped, and ``min_size = 0`` drops every degenerate box. The contract
follows the code (CONTRACT.md §3.6).
"""

from __future__ import annotations

from properties.broken._mutate import Edit, implementation

CAUGHT_BY: list[str] = [
    "test_clipping.py::test_remove_small_boxes_matches_reference_and_known_values",
    "test_clipping.py::test_remove_small_boxes_keep_mask_is_membership",
]

BUG = Edit(
    "clipping.py",
    "(b[..., 2] - b[..., 0] >= m) & (b[..., 3] - b[..., 1] >= m)",
    "(b[..., 2] - b[..., 0] > m) & (b[..., 3] - b[..., 1] > m)",
)
globals().update(implementation(__name__, BUG))
